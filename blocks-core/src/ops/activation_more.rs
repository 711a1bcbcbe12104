//! The activations beyond relu/sigmoid/tanh: gelu (exact and tanh
//! approximation), leaky_relu, silu, elu and softplus, each with PyTorch's
//! formula at special points and its grad_fn name.

use ndarray::Zip;

use crate::{Element, TensorBase};

/// Which GELU formula to use, like the `approximate` argument of `torch.nn.GELU`.
///
/// ```
/// use blocks_core::GeluApproximate;
/// assert_eq!(GeluApproximate::default(), GeluApproximate::None);
/// assert_eq!(GeluApproximate::Tanh.as_str(), "tanh");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GeluApproximate {
    /// The exact `x · Φ(x)` with the error function (`approximate='none'`, the default).
    #[default]
    None,
    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (`approximate='tanh'`).
    Tanh,
}

impl GeluApproximate {
    /// PyTorch's spelling of the setting (`"none"` or `"tanh"`), as in the module's repr.
    ///
    /// ```
    /// assert_eq!(blocks_core::GeluApproximate::None.as_str(), "none");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            GeluApproximate::None => "none",
            GeluApproximate::Tanh => "tanh",
        }
    }
}

/// `√(2/π)`, the tanh approximation's `kBeta`.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation (`kKappa`).
const GELU_KAPPA: f64 = 0.044715;

/// The error function, from the `libm` crate (a port of musl's, accurate to an ulp or so).
fn erf<E: Element>(x: E) -> E {
    E::of(libm::erf(x.as_f64()))
}

impl<E: Element> TensorBase<E> {
    /// The Gaussian error linear unit, like `torch.nn.functional.gelu(x, approximate=...)`
    /// (GeluBackward0).
    ///
    /// `GeluApproximate::None` computes `x · ½(1 + erf(x/√2))` exactly;
    /// `GeluApproximate::Tanh` uses PyTorch's tanh formula.
    ///
    /// ```
    /// use blocks_core::{GeluApproximate, Tensor64};
    /// let x = Tensor64::from_vec(vec![0.0, 1.0], [2]);
    /// let y = x.gelu(GeluApproximate::None).to_vec();
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_344_746_068_543).abs() < 1e-15);
    /// ```
    pub fn gelu(&self, approximate: GeluApproximate) -> Self {
        let half = E::of(0.5);
        let (beta, kappa) = (E::of(SQRT_2_OVER_PI), E::of(GELU_KAPPA));
        let data = match approximate {
            GeluApproximate::None => {
                let inv_sqrt2 = E::of(std::f64::consts::FRAC_1_SQRT_2);
                self.data().mapv(|x| x * half * (E::one() + erf(x * inv_sqrt2)))
            }
            GeluApproximate::Tanh => {
                self.data().mapv(|x| half * x * (E::one() + (beta * (x + kappa * x * x * x)).tanh()))
            }
        };
        TensorBase::from_op(data, "GeluBackward0", &[self], move |mut grad, ctx| {
            let x = ctx.input(0);
            match approximate {
                GeluApproximate::None => {
                    let inv_sqrt2 = E::of(std::f64::consts::FRAC_1_SQRT_2);
                    let inv_sqrt_2pi =
                        E::of(0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2);
                    Zip::from(&mut grad).and(&*x).for_each(|g, &x| {
                        let cdf = half * (E::one() + erf(x * inv_sqrt2));
                        let pdf = (-half * x * x).exp() * inv_sqrt_2pi;
                        *g *= cdf + x * pdf;
                    });
                }
                GeluApproximate::Tanh => {
                    let three = E::of(3.0);
                    Zip::from(&mut grad).and(&*x).for_each(|g, &x| {
                        let x_sq = x * x;
                        let t = (beta * (x + kappa * x_sq * x)).tanh();
                        let left_derivative = half * (E::one() + t);
                        let right_derivative =
                            half * x * (E::one() - t * t) * beta * (E::one() + three * kappa * x_sq);
                        *g *= left_derivative + right_derivative;
                    });
                }
            }
            vec![Some(grad)]
        })
    }

    /// `x` where `x > 0`, else `negative_slope · x`, like
    /// `torch.nn.functional.leaky_relu` (LeakyReluBackward0; PyTorch's default slope is 0.01).
    ///
    /// At `x = 0` the gradient is `negative_slope`, as in PyTorch.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![-2.0, 0.0, 3.0], [3]);
    /// assert_eq!(x.leaky_relu(0.1).to_vec(), vec![-0.2, 0.0, 3.0]);
    /// ```
    pub fn leaky_relu(&self, negative_slope: E) -> Self {
        let data = self.data().mapv(|x| if x > E::zero() { x } else { x * negative_slope });
        TensorBase::from_op(data, "LeakyReluBackward0", &[self], move |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                if x <= E::zero() {
                    *g *= negative_slope;
                }
            });
            vec![Some(grad)]
        })
    }

    /// `x · sigmoid(x)`, like `torch.nn.functional.silu` (SiluBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![0.0, 1.0], [2]);
    /// assert_eq!(x.silu().to_vec(), vec![0.0, 1.0 / (1.0 + (-1.0f64).exp())]);
    /// ```
    pub fn silu(&self) -> Self {
        let data = self.data().mapv(|x| x / (E::one() + (-x).exp()));
        TensorBase::from_op(data, "SiluBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                let s = E::one() / (E::one() + (-x).exp());
                *g *= s * (E::one() + x * (E::one() - s));
            });
            vec![Some(grad)]
        })
    }

    /// `x` where `x > 0`, else `alpha · (eˣ − 1)`, like `torch.nn.functional.elu`
    /// (EluBackward0; PyTorch's default alpha is 1).
    ///
    /// At `x = 0` the value is 0 and the gradient `alpha`, as in PyTorch.
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![-1.0, 0.0, 2.0], [3]);
    /// assert_eq!(x.elu(1.0).to_vec(), vec![(-1.0f64).exp_m1(), 0.0, 2.0]);
    /// ```
    pub fn elu(&self, alpha: E) -> Self {
        let data = self.data().mapv(|x| if x > E::zero() { x } else { alpha * x.exp_m1() });
        TensorBase::from_op(data, "EluBackward0", &[self], move |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                if x <= E::zero() {
                    *g *= alpha * x.exp();
                }
            });
            vec![Some(grad)]
        })
    }

    /// `log(1 + e^(beta·x)) / beta`, and `x` itself where `beta · x > threshold`,
    /// like `torch.nn.functional.softplus(x, beta, threshold)` (SoftplusBackward0;
    /// PyTorch's defaults are beta 1, threshold 20).
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![0.0, 30.0], [2]);
    /// assert_eq!(x.softplus(1.0, 20.0).to_vec(), vec![std::f64::consts::LN_2, 30.0]);
    /// ```
    pub fn softplus(&self, beta: E, threshold: E) -> Self {
        let data =
            self.data().mapv(|x| if x * beta > threshold { x } else { (x * beta).exp().ln_1p() / beta });
        TensorBase::from_op(data, "SoftplusBackward0", &[self], move |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                if x * beta <= threshold {
                    let z = (x * beta).exp();
                    *g *= z / (z + E::one());
                }
            });
            vec![Some(grad)]
        })
    }
}
