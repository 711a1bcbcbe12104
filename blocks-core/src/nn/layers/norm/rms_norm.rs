//! `nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)` (PyTorch 2.4+).

use crate::nn::Hooks;
use crate::nn::{Forward, Parameter, TrainingFlag};
use crate::optim::pyrepr::{boolean, float};
use crate::{Element, ShapeError, Tensor, TensorBase};

/// Scales the trailing dims `normalized_shape` by the inverse of their root
/// mean square, `x / sqrt(mean(x²) + eps) · weight`, like
/// `nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)`;
/// `eps = None` means the element type's machine epsilon
/// (`torch.finfo(x.dtype).eps`). It keeps the kind it is given.
///
/// ```
/// use blocks_core::nn::{Module, ModuleExt, RMSNorm};
/// use blocks_core::Tensor;
/// let norm = RMSNorm::new([2]);
/// assert_eq!(norm.to_string(), "RMSNorm((2,), eps=None, elementwise_affine=True)");
/// let y = norm.forward(&Tensor::from_vec(vec![3.0, 4.0], [1, 2]));
/// let rms = (12.5f32 + f32::EPSILON).sqrt();
/// assert_eq!(y.to_vec(), vec![3.0 / rms, 4.0 / rms]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct RMSNorm<E: Element = f32> {
    #[module(skip)]
    normalized_shape: Vec<usize>,
    #[module(skip)]
    eps: Option<f64>,
    weight: Option<Parameter<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl RMSNorm {
    /// A layer over the trailing dims `normalized_shape`, `eps = None`, weight 1.
    ///
    /// ```
    /// let norm = blocks_core::nn::RMSNorm::new([2, 3]);
    /// assert_eq!(norm.weight().unwrap().shape(), vec![2, 3]);
    /// ```
    pub fn new(normalized_shape: impl AsRef<[usize]>) -> Self {
        Self::with_options(normalized_shape, None, true)
    }

    /// A layer with the given `eps` (`None`: machine epsilon) and with or
    /// without the learnable `weight` (`elementwise_affine`).
    ///
    /// ```
    /// let norm = blocks_core::nn::RMSNorm::with_options([4], Some(1e-6), false);
    /// assert!(norm.weight().is_none());
    /// assert_eq!(norm.to_string(), "RMSNorm((4,), eps=1e-06, elementwise_affine=False)");
    /// ```
    pub fn with_options(
        normalized_shape: impl AsRef<[usize]>,
        eps: Option<f64>,
        elementwise_affine: bool,
    ) -> Self {
        let normalized_shape = normalized_shape.as_ref().to_vec();
        RMSNorm {
            weight: elementwise_affine.then(|| Parameter::new(Tensor::ones(normalized_shape.clone()))),
            normalized_shape,
            eps,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }
}

impl<E: Element> RMSNorm<E> {
    /// The trailing dims it normalizes over.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RMSNorm::new([16]).normalized_shape(), [16]);
    /// ```
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }

    /// The `eps` given (`None`: the element type's machine epsilon).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RMSNorm::new([16]).eps(), None);
    /// ```
    pub fn eps(&self) -> Option<f64> {
        self.eps
    }

    /// The learnable scale, if any.
    ///
    /// ```
    /// assert!(blocks_core::nn::RMSNorm::new([3]).weight().is_some());
    /// ```
    pub fn weight(&self) -> Option<&Parameter<E>> {
        self.weight.as_ref()
    }

    /// `rms_norm` on `x`, or an error when its trailing dims are not `normalized_shape`.
    fn try_norm(&self, x: &TensorBase<E>) -> Result<TensorBase<E>, ShapeError> {
        let shape = x.shape();
        let d = self.normalized_shape.len();
        if shape.len() < d || shape[shape.len() - d..] != *self.normalized_shape {
            let dims = self.normalized_shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
            return Err(ShapeError::new(format!(
                "rms_norm: Given normalized_shape={:?}, expected input with shape [*, {dims}], but got input of size {shape:?}",
                self.normalized_shape
            )));
        }
        let eps = self.eps.map_or(E::epsilon(), E::of);
        let dims: Vec<isize> = (1..=d as isize).map(|i| -i).collect();
        let inv_rms = x.powi(2).try_mean_dim(&dims, true)?.add_scalar(eps).sqrt().rdiv_scalar(E::one());
        let y = x.try_mul(&inv_rms)?;
        match &self.weight {
            Some(weight) => y.try_mul(weight),
            None => Ok(y),
        }
    }

    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        let dims: Vec<String> = self.normalized_shape.iter().map(usize::to_string).collect();
        let shape =
            if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
        let eps = self.eps.map_or("None".to_string(), float);
        format!("{shape}, eps={eps}, elementwise_affine={}", boolean(self.weight.is_some()))
    }
}

/// Keeps the kind it is given, of its own element type.
impl<E: Element, K: crate::nn::TensorKind<Elem = E>> Forward<K> for RMSNorm<E> {
    type Output = K;

    #[track_caller]
    fn forward(&self, input: &K) -> K {
        let output = crate::nn::path::or_panic(self.try_norm(input.tensor()));
        crate::nn::keep_kind(self, input, output)
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::{RMSNorm, ToElement};
    use crate::{Tensor64, gradcheck_module};

    #[test]
    fn gradcheck_over_two_dims() {
        let norm = RMSNorm::with_options([2, 3], Some(1e-3), true).to_f64();
        crate::nn::init::normal_(norm.weight().unwrap(), 1.0, 0.5);
        let x = Tensor64::randn([4, 2, 3]).requires_grad_(true);
        gradcheck_module(&norm, |xs| norm.forward(&xs[0]).tanh().sum(), &[x]).unwrap();
    }
}
