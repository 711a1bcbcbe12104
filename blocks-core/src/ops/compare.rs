//! Comparisons that produce masks, and the ops that consume them: `where_`,
//! `masked_fill`; plus `clamp`.
//!
//! A mask is a tensor of the same element type holding 0 and 1 (PyTorch
//! returns `torch.bool`), with no gradient. Ops that take a mask treat every
//! nonzero value as true, so a mask can be combined with arithmetic
//! (`&a * &b` is "and") and counted with `sum` or `mean`.

use ndarray::{IxDyn, Zip};

use super::broadcast::{broadcast_shape, sum_to_shape};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

mod sealed {
    pub trait Sealed {}
}

/// The right-hand side of a comparison: a scalar (`x.gt(0.5)`) or a tensor
/// that broadcasts with `self` (`x.lt(&y)`).
///
/// Implemented for the element type, `&TensorBase<E>` and `TensorBase<E>`; it
/// cannot be implemented outside this crate.
///
/// ```
/// use blocks_core::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
/// assert_eq!(x.gt(1.5).to_vec(), vec![0.0, 1.0, 1.0]);
/// assert_eq!(x.gt(&Tensor::full([1], 2.5)).to_vec(), vec![0.0, 0.0, 1.0]);
/// ```
pub trait CompareOperand<E: Element>: sealed::Sealed {
    /// The 0/1 mask of `predicate(lhs, rhs)` elementwise; `op` names the comparison in errors.
    #[doc(hidden)]
    fn compare(
        &self,
        op: &str,
        lhs: &TensorBase<E>,
        predicate: fn(E, E) -> bool,
    ) -> Result<TensorBase<E>, ShapeError>;
}

impl<E: Element> sealed::Sealed for E {}
impl<E: Element> sealed::Sealed for &TensorBase<E> {}
impl<E: Element> sealed::Sealed for TensorBase<E> {}

fn indicator<E: Element>(condition: bool) -> E {
    if condition { E::one() } else { E::zero() }
}

impl<E: Element> CompareOperand<E> for E {
    fn compare(
        &self,
        _: &str,
        lhs: &TensorBase<E>,
        predicate: fn(E, E) -> bool,
    ) -> Result<TensorBase<E>, ShapeError> {
        let rhs = *self;
        Ok(TensorBase::from_array(lhs.data().mapv(|x| indicator(predicate(x, rhs)))))
    }
}

impl<E: Element> CompareOperand<E> for &TensorBase<E> {
    fn compare(
        &self,
        op: &str,
        lhs: &TensorBase<E>,
        predicate: fn(E, E) -> bool,
    ) -> Result<TensorBase<E>, ShapeError> {
        let (x, y) = (lhs.data(), self.data());
        let shape = IxDyn(&broadcast_shape(op, x.shape(), y.shape())?);
        let x = x.broadcast(shape.clone()).expect("shapes broadcast");
        let y = y.broadcast(shape).expect("shapes broadcast");
        let mask = Zip::from(&x).and(&y).map_collect(|&a, &b| indicator(predicate(a, b)));
        Ok(TensorBase::from_array(mask))
    }
}

impl<E: Element> CompareOperand<E> for TensorBase<E> {
    fn compare(
        &self,
        op: &str,
        lhs: &TensorBase<E>,
        predicate: fn(E, E) -> bool,
    ) -> Result<TensorBase<E>, ShapeError> {
        (&self).compare(op, lhs, predicate)
    }
}

macro_rules! comparisons {
    ($($name:ident, $try_name:ident, $op:tt, $torch:literal, $example:literal, $expected:literal;)*) => {
        impl<E: Element> TensorBase<E> {
            $(
                #[doc = concat!("The mask of `self ", stringify!($op), " other` (1 where true, else 0), like `",
                    $torch, "`; no gradient.")]
                ///
                /// `other` is a scalar or a tensor that broadcasts with `self`;
                /// panics naming both shapes if it does not.
                ///
                /// ```
                /// use blocks_core::Tensor;
                /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
                #[doc = concat!("assert_eq!(x.", stringify!($name), "(2.0).to_vec(), vec!", $example, ");")]
                /// let y = Tensor::from_vec(vec![2.0, 2.0, 2.0], [3]);
                #[doc = concat!("assert_eq!(x.", stringify!($name), "(&y).to_vec(), vec!", $example, ");")]
                /// ```
                #[track_caller]
                pub fn $name(&self, other: impl CompareOperand<E>) -> Self {
                    or_panic(self.$try_name(other))
                }

                #[doc = concat!("Like [`", stringify!($name), "`](Self::", stringify!($name),
                    "), returning an error when the shapes do not broadcast.")]
                ///
                /// ```
                /// use blocks_core::Tensor;
                #[doc = concat!("assert!(Tensor::zeros([2, 3]).", stringify!($try_name), "(&Tensor::zeros([2])).is_err());")]
                #[doc = concat!("assert_eq!(Tensor::zeros([2]).", stringify!($try_name), "(0.0).unwrap().to_vec(), vec!",
                    $expected, ");")]
                /// ```
                pub fn $try_name(&self, other: impl CompareOperand<E>) -> Result<Self, ShapeError> {
                    other.compare(stringify!($name), self, |a, b| a $op b)
                }
            )*
        }
    };
}

comparisons! {
    gt, try_gt, >, "torch.gt", "[0.0, 0.0, 1.0]", "[0.0, 0.0]";
    ge, try_ge, >=, "torch.ge", "[0.0, 1.0, 1.0]", "[1.0, 1.0]";
    lt, try_lt, <, "torch.lt", "[1.0, 0.0, 0.0]", "[0.0, 0.0]";
    le, try_le, <=, "torch.le", "[1.0, 1.0, 0.0]", "[1.0, 1.0]";
    eq, try_eq, ==, "torch.eq", "[0.0, 1.0, 0.0]", "[1.0, 1.0]";
    ne, try_ne, !=, "torch.ne", "[1.0, 0.0, 1.0]", "[0.0, 0.0]";
}

/// Whether a mask value counts as true.
fn is_set<E: Element>(m: E) -> bool {
    m != E::zero()
}

impl<E: Element> TensorBase<E> {
    /// `a` where `mask` is nonzero, else `b`, with all three broadcast
    /// together, like `torch.where(mask, a, b)` (WhereBackward0).
    ///
    /// The gradient flows to `a` where the mask is set and to `b` elsewhere;
    /// the mask gets none. Panics naming the shapes if they do not broadcast.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0, 2.0, -3.0], [3]);
    /// let y = Tensor::where_(&x.gt(0.0), &x, &Tensor::zeros([1]));
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn where_(mask: &Self, a: &Self, b: &Self) -> Self {
        or_panic(Self::try_where(mask, a, b))
    }

    /// Like [`where_`](Self::where_), returning an error when the shapes do not broadcast.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::try_where(&Tensor::ones([3]), &Tensor::ones([2]), &Tensor::ones([1])).unwrap_err();
    /// assert!(error.to_string().starts_with("where: condition [3], input [2] and other [1]"));
    /// ```
    pub fn try_where(mask: &Self, a: &Self, b: &Self) -> Result<Self, ShapeError> {
        let data = {
            let (m, x, y) = (mask.data(), a.data(), b.data());
            let shape = broadcast_shape("where", x.shape(), y.shape())
                .and_then(|shape| broadcast_shape("where", m.shape(), &shape))
                .map_err(|_| {
                    ShapeError::new(format!(
                        "where: condition {:?}, input {:?} and other {:?} cannot be broadcast together",
                        m.shape(),
                        x.shape(),
                        y.shape()
                    ))
                })?;
            let shape = IxDyn(&shape);
            let m = m.broadcast(shape.clone()).expect("shapes broadcast");
            let x = x.broadcast(shape.clone()).expect("shapes broadcast");
            let y = y.broadcast(shape).expect("shapes broadcast");
            Zip::from(&m).and(&x).and(&y).map_collect(|&m, &x, &y| if is_set(m) { x } else { y })
        };
        Ok(TensorBase::from_op(data, "WhereBackward0", &[a, b, mask], |grad, ctx| {
            let a_shape = ctx.input(0).shape().to_vec();
            let b_shape = ctx.input(1).shape().to_vec();
            let mask = ctx.input(2);
            let mask = mask.broadcast(grad.raw_dim()).expect("the mask broadcasts to the output");
            let (mut for_a, mut for_b) = match (ctx.needs(0), ctx.needs(1)) {
                (true, true) => (Some(grad.clone()), Some(grad)),
                (true, false) => (Some(grad), None),
                (false, true) => (None, Some(grad)),
                (false, false) => (None, None),
            };
            if let Some(g) = for_a.as_mut() {
                Zip::from(g).and(&mask).for_each(|g, &m| {
                    if !is_set(m) {
                        *g = E::zero();
                    }
                });
            }
            if let Some(g) = for_b.as_mut() {
                Zip::from(g).and(&mask).for_each(|g, &m| {
                    if is_set(m) {
                        *g = E::zero();
                    }
                });
            }
            vec![for_a.map(|g| sum_to_shape(g, &a_shape)), for_b.map(|g| sum_to_shape(g, &b_shape)), None]
        }))
    }

    /// `self` with `value` wherever `mask` is nonzero, like
    /// `x.masked_fill(mask, value)` (MaskedFillBackward0).
    ///
    /// `self` and `mask` broadcast together. The filled positions get no
    /// gradient. Panics naming both shapes if they do not broadcast.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let scores = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// let causal = Tensor::from_vec(vec![0.0, 1.0, 0.0, 0.0], [2, 2]);
    /// let masked = scores.masked_fill(&causal, f32::NEG_INFINITY);
    /// assert_eq!(masked.to_vec(), vec![1.0, f32::NEG_INFINITY, 3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn masked_fill(&self, mask: &Self, value: E) -> Self {
        or_panic(self.try_masked_fill(mask, value))
    }

    /// Like [`masked_fill`](Self::masked_fill), returning an error when the shapes do not broadcast.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// assert!(Tensor::zeros([2, 3]).try_masked_fill(&Tensor::zeros([2]), 1.0).is_err());
    /// ```
    pub fn try_masked_fill(&self, mask: &Self, value: E) -> Result<Self, ShapeError> {
        let data = {
            let (x, m) = (self.data(), mask.data());
            let shape = IxDyn(&broadcast_shape("masked_fill", x.shape(), m.shape())?);
            let x = x.broadcast(shape.clone()).expect("shapes broadcast");
            let m = m.broadcast(shape).expect("shapes broadcast");
            Zip::from(&x).and(&m).map_collect(|&x, &m| if is_set(m) { value } else { x })
        };
        Ok(TensorBase::from_op(data, "MaskedFillBackward0", &[self, mask], |mut grad, ctx| {
            let shape = ctx.input(0).shape().to_vec();
            {
                let mask = ctx.input(1);
                let mask = mask.broadcast(grad.raw_dim()).expect("the mask broadcasts to the output");
                Zip::from(&mut grad).and(&mask).for_each(|g, &m| {
                    if is_set(m) {
                        *g = E::zero();
                    }
                });
            }
            vec![Some(sum_to_shape(grad, &shape)), None]
        }))
    }

    /// Limits every value to `[min, max]`, like `torch.clamp(x, min, max)` (ClampBackward1).
    ///
    /// Either bound may be `None`. As in PyTorch, the result is
    /// `min(max(x, min), max)` (so all values become `max` when `min > max`),
    /// NaN stays NaN, and the gradient is 1 where `min <= x <= max` (bounds
    /// included) and 0 elsewhere. Panics when both bounds are `None`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0, 0.5, 3.0], [3]).requires_grad_(true);
    /// let y = x.clamp(Some(0.0), Some(1.0));
    /// assert_eq!(y.to_vec(), vec![0.0, 0.5, 1.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0]);
    /// assert_eq!(x.clamp(None, Some(0.0)).to_vec(), vec![-2.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn clamp(&self, min: Option<E>, max: Option<E>) -> Self {
        assert!(min.is_some() || max.is_some(), "clamp: At least one of 'min' or 'max' must not be None");
        let data = self.data().mapv(|x| {
            let mut y = x;
            if let Some(low) = min
                && (low.is_nan() || y < low)
            {
                y = low;
            }
            if let Some(high) = max
                && (high.is_nan() || y > high)
            {
                y = high;
            }
            y
        });
        TensorBase::from_op(data, "ClampBackward1", &[self], move |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                let inside = min.is_none_or(|low| x >= low) && max.is_none_or(|high| x <= high);
                if !inside {
                    *g = E::zero();
                }
            });
            vec![Some(grad)]
        })
    }
}

#[cfg(test)]
mod mask_gradchecks {
    use crate::{Tensor64, gradcheck};

    fn t(shape: &[usize], seed: f64) -> Tensor64 {
        let n: usize = shape.iter().product();
        Tensor64::from_vec((0..n).map(|i| (i as f64 * 0.91 + seed).sin()).collect(), shape)
            .requires_grad_(true)
    }

    #[test]
    fn where_and_masked_fill_pass_gradcheck_with_broadcast_masks() {
        let mask = Tensor64::from_vec(vec![1.0, 0.0, 1.0], [3]);
        gradcheck(|x| Tensor64::where_(&mask, &x[0], &x[1]), &[t(&[2, 3], 0.1), t(&[2, 1], 0.5)]).unwrap();
        let column = Tensor64::from_vec(vec![0.0, 1.0], [2, 1, 1]);
        gradcheck(|x| Tensor64::where_(&column, &x[0], &x[1]), &[t(&[3, 4], 0.2), t(&[4], 0.7)]).unwrap();
        let causal = Tensor64::ones([3, 3]).triu(1);
        gradcheck(|x| x[0].masked_fill(&causal, -1e9).softmax(-1), &[t(&[2, 3, 3], 0.3)]).unwrap();
        let wide = Tensor64::from_vec(vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0], [2, 1, 3]);
        gradcheck(|x| x[0].masked_fill(&wide, 0.5), &[t(&[4, 3], 0.4)]).unwrap();
        let from_comparison = t(&[2, 3], 0.0).gt(0.0);
        gradcheck(|x| x[0].masked_fill(&from_comparison, 0.0), &[t(&[2, 3], 0.9)]).unwrap();
    }
}
