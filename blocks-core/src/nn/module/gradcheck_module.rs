//! `gradcheck_module`: [`gradcheck`](crate::gradcheck) of a whole model in
//! float64, with respect to its inputs and every parameter, as PyTorch users
//! check a module with `gradcheck` over `torch.func.functional_call`.

use ndarray::ArrayD;

use crate::autograd::gradcheck::{GradcheckError, GradcheckOptions, compare, leaves};
use crate::nn::{Module, Parameter};
use crate::{Tensor64, no_grad};

/// Compares the gradients backward gives `f`'s inputs (those that require
/// grad) and every float64 parameter of `module` that requires grad with
/// central finite differences of `f`, which runs the model; PyTorch's
/// tolerances. A model is put in float64 with
/// [`to_f64`](crate::nn::ToElement::to_f64). In a [`Mismatch`](crate::Mismatch),
/// `input` counts the inputs first, then the parameters in
/// [`parameters_of::<f64>`](crate::nn::ModuleExt::parameters_of) order.
///
/// Each finite difference runs the model again (twice per value), so keep
/// the model and inputs small. The model is run as it is (a BatchNorm in
/// training mode normalizes with each batch's statistics and updates its
/// running statistics every time, which the output does not depend on);
/// parameters are restored exactly after each step.
///
/// # Errors
///
/// [`GradcheckError`] listing every Jacobian entry that differs.
///
/// ```
/// use blocks_core::nn::{Linear, ToElement};
/// use blocks_core::{gradcheck_module, Tensor64};
/// let net = Linear::<3, 2>::new().to_f64();
/// let x = Tensor64::rand([4, 3]).requires_grad_(true);
/// gradcheck_module(&net, |xs| net.forward(&xs[0]).tanh().sum(), &[x]).unwrap();
/// ```
pub fn gradcheck_module<M, F>(module: &M, f: F, inputs: &[Tensor64]) -> Result<(), GradcheckError>
where
    M: Module + ?Sized,
    F: Fn(&[Tensor64]) -> Tensor64,
{
    gradcheck_module_with(module, f, inputs, GradcheckOptions::default())
}

/// [`gradcheck_module`] with other tolerances and step.
///
/// # Errors
///
/// As [`gradcheck_module`].
///
/// ```
/// use blocks_core::nn::{Linear, ToElement};
/// use blocks_core::{gradcheck_module_with, GradcheckOptions, Tensor64};
/// let net = Linear::<2, 1>::new().to_f64();
/// let options = GradcheckOptions { eps: 1e-7, ..Default::default() };
/// gradcheck_module_with(&net, |xs| net.forward(&xs[0]).sum(), &[Tensor64::rand([3, 2])], options).unwrap();
/// ```
pub fn gradcheck_module_with<M, F>(
    module: &M,
    f: F,
    inputs: &[Tensor64],
    options: GradcheckOptions,
) -> Result<(), GradcheckError>
where
    M: Module + ?Sized,
    F: Fn(&[Tensor64]) -> Tensor64,
{
    let parameters: Vec<Parameter<f64>> =
        crate::nn::module::module_trait::named_parameters_of(module.as_dyn())
            .into_iter()
            .map(|(_, p)| p)
            .collect();
    let values: Vec<ArrayD<f64>> = inputs.iter().map(Tensor64::to_array).collect();
    let checked: Vec<bool> = inputs.iter().map(Tensor64::requires_grad).collect();
    let evaluate = |values: &[ArrayD<f64>]| -> Vec<f64> {
        no_grad(|| f(&leaves(values, &vec![false; values.len()])).to_vec())
    };

    // Finite differences: each input value, then each parameter value.
    let mut numerical = Vec::with_capacity(inputs.len() + parameters.len());
    for (i, value) in values.iter().enumerate() {
        if !checked[i] {
            numerical.push(Vec::new());
            continue;
        }
        let rows = (0..value.len())
            .map(|j| {
                let mut shifted = values.clone();
                central_difference(
                    |v| {
                        *shifted[i].iter_mut().nth(j).expect("element exists") = v;
                        evaluate(&shifted)
                    },
                    value.iter().nth(j).copied().expect("element exists"),
                    options.eps,
                )
            })
            .collect();
        numerical.push(rows);
    }
    for parameter in &parameters {
        if !parameter.requires_grad() {
            numerical.push(Vec::new());
            continue;
        }
        let original = parameter.to_array();
        let rows = (0..original.len())
            .map(|j| {
                let at = original.iter().nth(j).copied().expect("element exists");
                let row = central_difference(
                    |v| {
                        *parameter.data_mut().iter_mut().nth(j).expect("element exists") = v;
                        evaluate(&values)
                    },
                    at,
                    options.eps,
                );
                *parameter.data_mut().iter_mut().nth(j).expect("element exists") = at;
                row
            })
            .collect();
        numerical.push(rows);
    }

    // Backward, one output element at a time.
    let leaves = leaves(&values, &checked);
    let output = f(&leaves);
    let output_len = output.numel();
    let tensors: Vec<&Tensor64> = leaves.iter().chain(parameters.iter().map(|p| p.tensor())).collect();
    let mut analytical: Vec<Vec<Vec<f64>>> = tensors
        .iter()
        .map(|t| if t.requires_grad() { vec![vec![0.0; output_len]; t.numel()] } else { Vec::new() })
        .collect();
    if output.requires_grad() {
        let shape = output.shape();
        for k in 0..output_len {
            let mut seed = vec![0.0; output_len];
            seed[k] = 1.0;
            tensors.iter().for_each(|t| t.zero_grad());
            output.backward_with_options(Some(&Tensor64::from_vec(seed, &shape)), true);
            for (i, tensor) in tensors.iter().enumerate() {
                if let Some(grad) = tensor.grad().filter(|_| tensor.requires_grad()) {
                    for (j, g) in grad.to_vec().into_iter().enumerate() {
                        analytical[i][j][k] = g;
                    }
                }
            }
        }
        tensors.iter().for_each(|t| t.zero_grad());
    }
    compare(&numerical, &analytical, options)
}

/// `(run(at + eps) - run(at - eps)) / 2 eps`, element by element.
fn central_difference(mut run: impl FnMut(f64) -> Vec<f64>, at: f64, eps: f64) -> Vec<f64> {
    let plus = run(at + eps);
    let minus = run(at - eps);
    plus.iter().zip(&minus).map(|(p, m)| (p - m) / (2.0 * eps)).collect()
}
