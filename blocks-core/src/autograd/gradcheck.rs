//! `gradcheck`: compares autograd's gradients with central finite differences,
//! like `torch.autograd.gradcheck`.

use std::fmt;

use ndarray::ArrayD;

use crate::{Tensor64, no_grad};

/// Tolerances and step of [`gradcheck_with`]; the defaults are PyTorch's.
///
/// ```
/// let options = blocks_core::GradcheckOptions::default();
/// assert_eq!((options.eps, options.atol, options.rtol), (1e-6, 1e-5, 1e-3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradcheckOptions {
    /// The finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numerical value).
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-5, rtol: 1e-3 }
    }
}

/// One Jacobian entry where autograd and finite differences disagree.
///
/// ```
/// use blocks_core::{gradcheck, Tensor64};
/// // A function whose recorded gradient is wrong: detach hides x from the graph.
/// let x = Tensor64::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
/// let error = gradcheck(|xs| &xs[0] + &(&xs[0] * 2.0).detach(), &[x]).unwrap_err();
/// assert_eq!(error.mismatches[0].analytical, 1.0);
/// assert!((error.mismatches[0].numerical - 3.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Which input tensor.
    pub input: usize,
    /// Row-major index of the element of that input.
    pub input_element: usize,
    /// Row-major index of the output element.
    pub output_element: usize,
    /// d output / d input from finite differences.
    pub numerical: f64,
    /// d output / d input from backward.
    pub analytical: f64,
}

/// The mismatches that made [`gradcheck`] fail; its message lists each with both values.
///
/// ```
/// use blocks_core::{gradcheck, Tensor64};
/// let x = Tensor64::ones([1]).requires_grad_(true);
/// let message = gradcheck(|xs| xs[0].detach(), &[x]).unwrap_err().to_string();
/// assert!(message.starts_with("gradcheck: Jacobian mismatch"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckError {
    /// Every entry that differs beyond the tolerances.
    pub mismatches: Vec<Mismatch>,
    /// The tolerances that were used.
    pub options: GradcheckOptions,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let GradcheckOptions { atol, rtol, .. } = self.options;
        writeln!(
            f,
            "gradcheck: Jacobian mismatch in {} entries (atol {atol:e}, rtol {rtol:e}):",
            self.mismatches.len()
        )?;
        for m in &self.mismatches {
            writeln!(
                f,
                "  input {} element {} -> output element {}: numerical {:.6e}, analytical {:.6e}",
                m.input, m.input_element, m.output_element, m.numerical, m.analytical
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the gradients of `f` at `inputs` against central differences with
/// PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3), in float64.
///
/// Only inputs with `requires_grad` are checked. `f` is called with fresh
/// leaves holding the (perturbed) values, so it must be a pure function of them.
///
/// ```
/// use blocks_core::{gradcheck, Tensor64};
/// let x = Tensor64::from_vec(vec![0.5, -1.5, 2.0], [3]).requires_grad_(true);
/// let w = Tensor64::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
/// assert!(gradcheck(|t| (&t[0] * &t[1]).relu().sum(), &[x, w]).is_ok());
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor64]) -> Result<(), GradcheckError>
where
    F: Fn(&[Tensor64]) -> Tensor64,
{
    gradcheck_with(f, inputs, GradcheckOptions::default())
}

/// [`gradcheck`] with chosen step and tolerances.
///
/// ```
/// use blocks_core::{gradcheck_with, GradcheckOptions, Tensor64};
/// let x = Tensor64::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
/// let loose = GradcheckOptions { eps: 1e-4, ..Default::default() };
/// assert!(gradcheck_with(|t| (&t[0] * &t[0]).sum(), &[x], loose).is_ok());
/// ```
pub fn gradcheck_with<F>(f: F, inputs: &[Tensor64], options: GradcheckOptions) -> Result<(), GradcheckError>
where
    F: Fn(&[Tensor64]) -> Tensor64,
{
    let values: Vec<ArrayD<f64>> = inputs.iter().map(Tensor64::to_array).collect();
    let checked: Vec<bool> = inputs.iter().map(Tensor64::requires_grad).collect();
    let numerical = numerical_jacobians(&f, &values, &checked, options.eps);
    let analytical = analytical_jacobians(&f, &values, &checked);
    compare(&numerical, &analytical, options)
}

/// The entries of two sets of Jacobians (per input: per input element, per
/// output element) that differ beyond the tolerances.
pub(crate) fn compare(
    numerical: &[Vec<Vec<f64>>],
    analytical: &[Vec<Vec<f64>>],
    options: GradcheckOptions,
) -> Result<(), GradcheckError> {
    let mut mismatches = Vec::new();
    for (input, (num, ana)) in numerical.iter().zip(analytical).enumerate() {
        for (input_element, (num_row, ana_row)) in num.iter().zip(ana).enumerate() {
            for (output_element, (&n, &a)) in num_row.iter().zip(ana_row).enumerate() {
                let close = (a - n).abs() <= options.atol + options.rtol * n.abs();
                if !close {
                    mismatches.push(Mismatch {
                        input,
                        input_element,
                        output_element,
                        numerical: n,
                        analytical: a,
                    });
                }
            }
        }
    }
    if mismatches.is_empty() { Ok(()) } else { Err(GradcheckError { mismatches, options }) }
}

/// Fresh leaves holding `values`, requiring grad where `checked` says so.
pub(crate) fn leaves(values: &[ArrayD<f64>], checked: &[bool]) -> Vec<Tensor64> {
    values.iter().zip(checked).map(|(v, &c)| Tensor64::from_array(v.clone()).requires_grad_(c)).collect()
}

/// For each checked input: one row per input element, holding d output[k] / d input[j].
fn numerical_jacobians<F>(f: &F, values: &[ArrayD<f64>], checked: &[bool], eps: f64) -> Vec<Vec<Vec<f64>>>
where
    F: Fn(&[Tensor64]) -> Tensor64,
{
    let evaluate = |values: &[ArrayD<f64>]| -> Vec<f64> {
        no_grad(|| f(&leaves(values, &vec![false; values.len()])).to_vec())
    };
    let mut jacobians = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        if !checked[i] {
            jacobians.push(Vec::new());
            continue;
        }
        let mut rows = Vec::with_capacity(value.len());
        for j in 0..value.len() {
            let mut shifted = values.to_vec();
            let original = *shifted[i].iter().nth(j).expect("element exists");
            *shifted[i].iter_mut().nth(j).expect("element exists") = original + eps;
            let plus = evaluate(&shifted);
            *shifted[i].iter_mut().nth(j).expect("element exists") = original - eps;
            let minus = evaluate(&shifted);
            rows.push(plus.iter().zip(&minus).map(|(p, m)| (p - m) / (2.0 * eps)).collect());
        }
        jacobians.push(rows);
    }
    jacobians
}

/// The same Jacobians from backward, one output element at a time.
fn analytical_jacobians<F>(f: &F, values: &[ArrayD<f64>], checked: &[bool]) -> Vec<Vec<Vec<f64>>>
where
    F: Fn(&[Tensor64]) -> Tensor64,
{
    let inputs = leaves(values, checked);
    let output = f(&inputs);
    let output_len = output.numel();
    let mut jacobians: Vec<Vec<Vec<f64>>> = values
        .iter()
        .zip(checked)
        .map(|(v, &c)| if c { vec![vec![0.0; output_len]; v.len()] } else { Vec::new() })
        .collect();
    if !output.requires_grad() {
        return jacobians;
    }
    let output_shape = output.shape();
    for k in 0..output_len {
        let mut seed = vec![0.0; output_len];
        seed[k] = 1.0;
        let seed = Tensor64::from_vec(seed, &output_shape);
        inputs.iter().for_each(Tensor64::zero_grad);
        output.backward_with_options(Some(&seed), true);
        for (i, input) in inputs.iter().enumerate() {
            if let Some(grad) = input.grad() {
                for (j, g) in grad.to_vec().into_iter().enumerate() {
                    jacobians[i][j][k] = g;
                }
            }
        }
    }
    jacobians
}
