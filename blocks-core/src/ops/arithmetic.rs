//! Elementwise `+ - * /` with NumPy broadcasting, with scalars on either side,
//! and negation, each with its backward.

use ndarray::{ArrayD, Zip};

use super::broadcast::{broadcast_shape, sum_to_shape};
use crate::autograd::pool;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

#[derive(Clone, Copy)]
enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
        }
    }

    fn grad_fn(self) -> &'static str {
        match self {
            BinaryOp::Add => "AddBackward0",
            BinaryOp::Sub => "SubBackward0",
            BinaryOp::Mul => "MulBackward0",
            BinaryOp::Div => "DivBackward0",
        }
    }
}

fn binary<E: Element>(
    op: BinaryOp,
    a: &TensorBase<E>,
    b: &TensorBase<E>,
) -> Result<TensorBase<E>, ShapeError> {
    let data = {
        let (x, y) = (a.data(), b.data());
        broadcast_shape(op.name(), x.shape(), y.shape())?;
        let same_shape = match op {
            BinaryOp::Add => pool::zip_map(&x, &y, |x, y| x + y),
            BinaryOp::Sub => pool::zip_map(&x, &y, |x, y| x - y),
            BinaryOp::Mul => pool::zip_map(&x, &y, |x, y| x * y),
            BinaryOp::Div => pool::zip_map(&x, &y, |x, y| x / y),
        };
        same_shape.unwrap_or_else(|| match op {
            BinaryOp::Add => &*x + &*y,
            BinaryOp::Sub => &*x - &*y,
            BinaryOp::Mul => &*x * &*y,
            BinaryOp::Div => &*x / &*y,
        })
    };
    Ok(TensorBase::from_op(data, op.grad_fn(), &[a, b], move |grad, ctx| {
        let (needs_a, needs_b) = (ctx.needs(0), ctx.needs(1));
        let (grad_a, grad_b) = match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let sub = matches!(op, BinaryOp::Sub);
                match (needs_a, needs_b) {
                    (true, true) => {
                        let grad_b = if sub { pool::map(&grad, |g| -g) } else { pool::map(&grad, |g| g) };
                        (Some(grad), Some(grad_b))
                    }
                    (true, false) => (Some(grad), None),
                    (false, true) => (None, Some(if sub { -grad } else { grad })),
                    (false, false) => (None, None),
                }
            }
            BinaryOp::Mul => {
                let grad_a = needs_a.then(|| {
                    let y = ctx.input(1);
                    pool::zip_map(&grad, &y, |g, y| g * y).unwrap_or_else(|| &grad * &*y)
                });
                let grad_b = needs_b.then(|| grad * &*ctx.input(0));
                (grad_a, grad_b)
            }
            BinaryOp::Div => {
                let y = ctx.input(1);
                // d(x/y)/dy = -x / y^2
                let grad_b = needs_b.then(|| -(&grad * &*ctx.input(0)) / (&*y * &*y));
                let grad_a = needs_a.then(|| grad / &*y);
                (grad_a, grad_b)
            }
        };
        vec![
            grad_a.map(|g| sum_to_shape(g, ctx.input(0).shape())),
            grad_b.map(|g| sum_to_shape(g, ctx.input(1).shape())),
        ]
    }))
}

impl<E: Element> TensorBase<E> {
    /// `self + other` with broadcasting, or an error naming both shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let a = Tensor::ones([2, 3]);
    /// assert!(a.try_add(&Tensor::ones([3])).is_ok());
    /// assert!(a.try_add(&Tensor::ones([2])).is_err());
    /// ```
    pub fn try_add(&self, other: &Self) -> Result<Self, ShapeError> {
        binary(BinaryOp::Add, self, other)
    }

    /// `self - other` with broadcasting, or an error naming both shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// assert_eq!(Tensor::ones([2]).try_sub(&Tensor::ones([1])).unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn try_sub(&self, other: &Self) -> Result<Self, ShapeError> {
        binary(BinaryOp::Sub, self, other)
    }

    /// `self * other` elementwise with broadcasting, or an error naming both shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let y = Tensor::full([2], 3.0).try_mul(&Tensor::full([2], 2.0)).unwrap();
    /// assert_eq!(y.to_vec(), vec![6.0, 6.0]);
    /// ```
    pub fn try_mul(&self, other: &Self) -> Result<Self, ShapeError> {
        binary(BinaryOp::Mul, self, other)
    }

    /// `self / other` elementwise with broadcasting, or an error naming both shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let y = Tensor::full([2], 3.0).try_div(&Tensor::full([2], 2.0)).unwrap();
    /// assert_eq!(y.to_vec(), vec![1.5, 1.5]);
    /// ```
    pub fn try_div(&self, other: &Self) -> Result<Self, ShapeError> {
        binary(BinaryOp::Div, self, other)
    }

    /// `self + value` (AddBackward0).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([1]).add_scalar(2.0).to_vec(), vec![3.0]);
    /// ```
    pub fn add_scalar(&self, value: E) -> Self {
        let data = pool::map(&self.data(), |x| x + value);
        TensorBase::from_op(data, "AddBackward0", &[self], |grad, _| vec![Some(grad)])
    }

    /// `self * value` (MulBackward0).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([1]).mul_scalar(2.0).to_vec(), vec![2.0]);
    /// ```
    pub fn mul_scalar(&self, value: E) -> Self {
        let data = pool::map(&self.data(), |x| x * value);
        TensorBase::from_op(data, "MulBackward0", &[self], move |grad, _| {
            vec![Some(grad.mapv_into(|g| g * value))]
        })
    }

    /// `self / value` (DivBackward0).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([1]).div_scalar(2.0).to_vec(), vec![0.5]);
    /// ```
    pub fn div_scalar(&self, value: E) -> Self {
        let data = pool::map(&self.data(), |x| x / value);
        TensorBase::from_op(data, "DivBackward0", &[self], move |grad, _| {
            vec![Some(grad.mapv_into(|g| g / value))]
        })
    }

    /// `value - self` (RsubBackward1).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([1]).rsub_scalar(3.0).to_vec(), vec![2.0]);
    /// ```
    pub fn rsub_scalar(&self, value: E) -> Self {
        let data = pool::map(&self.data(), |x| value - x);
        TensorBase::from_op(data, "RsubBackward1", &[self], |grad, _| vec![Some(-grad)])
    }

    /// `value / self` (DivBackward0 of PyTorch's `reciprocal() * value`: MulBackward0).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::full([1], 4.0).rdiv_scalar(2.0).to_vec(), vec![0.5]);
    /// ```
    pub fn rdiv_scalar(&self, value: E) -> Self {
        let data = pool::map(&self.data(), |x| value / x);
        TensorBase::from_op(data, "MulBackward0", &[self], move |mut grad, ctx| {
            let x = ctx.input(0);
            Zip::from(&mut grad).and(&*x).for_each(|g, &x| *g = -*g * value / (x * x));
            vec![Some(grad)]
        })
    }

    /// `-self` (NegBackward0).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([1]).neg().to_vec(), vec![-1.0]);
    /// ```
    pub fn neg(&self) -> Self {
        let data = pool::map(&self.data(), |x| -x);
        TensorBase::from_op(data, "NegBackward0", &[self], |grad, _| vec![Some(-grad)])
    }

    /// Whether `op` applied in place to `self` must be recorded in the graph.
    /// Panics with PyTorch's message when `self` is a leaf that requires grad.
    #[track_caller]
    fn in_place_records(&self, other_requires_grad: bool) -> bool {
        let records = crate::is_grad_enabled() && (self.requires_grad() || other_requires_grad);
        if records && self.is_leaf() && self.requires_grad() {
            panic!("a leaf Variable that requires grad is being used in an in-place operation.");
        }
        records
    }

    /// Applies `f` to the data in place (outside the graph).
    fn update_in_place(&mut self, f: impl FnOnce(&mut ArrayD<E>)) {
        self.update_data(f);
    }
}

macro_rules! binary_operators {
    ($trait:ident, $method:ident, $try:ident, $scalar:ident, $assign_trait:ident, $assign:ident) => {
        impl<E: Element> std::ops::$trait<&TensorBase<E>> for &TensorBase<E> {
            type Output = TensorBase<E>;
            #[track_caller]
            fn $method(self, rhs: &TensorBase<E>) -> TensorBase<E> {
                or_panic(self.$try(rhs))
            }
        }
        impl<E: Element> std::ops::$trait<TensorBase<E>> for &TensorBase<E> {
            type Output = TensorBase<E>;
            #[track_caller]
            fn $method(self, rhs: TensorBase<E>) -> TensorBase<E> {
                or_panic(self.$try(&rhs))
            }
        }
        impl<E: Element> std::ops::$trait<&TensorBase<E>> for TensorBase<E> {
            type Output = TensorBase<E>;
            #[track_caller]
            fn $method(self, rhs: &TensorBase<E>) -> TensorBase<E> {
                or_panic(self.$try(rhs))
            }
        }
        impl<E: Element> std::ops::$trait<TensorBase<E>> for TensorBase<E> {
            type Output = TensorBase<E>;
            #[track_caller]
            fn $method(self, rhs: TensorBase<E>) -> TensorBase<E> {
                or_panic(self.$try(&rhs))
            }
        }
        impl<E: Element> std::ops::$trait<E> for &TensorBase<E> {
            type Output = TensorBase<E>;
            fn $method(self, rhs: E) -> TensorBase<E> {
                self.$scalar(rhs)
            }
        }
        impl<E: Element> std::ops::$trait<E> for TensorBase<E> {
            type Output = TensorBase<E>;
            fn $method(self, rhs: E) -> TensorBase<E> {
                self.$scalar(rhs)
            }
        }
        /// In place: on data outside the graph, as PyTorch does; when the
        /// operation must be recorded, the handle is rebound to the result
        /// (PyTorch's gradient for `x /= 2` on a non-leaf). On a leaf that
        /// requires grad, with recording on, it panics with PyTorch's message.
        impl<E: Element> std::ops::$assign_trait<&TensorBase<E>> for TensorBase<E> {
            #[track_caller]
            fn $assign(&mut self, rhs: &TensorBase<E>) {
                if self.in_place_records(rhs.requires_grad()) || self.same(rhs) {
                    *self = or_panic(self.$try(rhs));
                } else {
                    let rhs = rhs.data();
                    let shape = self.shape();
                    let result = broadcast_shape(stringify!($assign), &shape, rhs.shape());
                    match result {
                        Ok(out) if out == shape => {
                            self.update_in_place(|data| std::ops::$assign_trait::$assign(data, &*rhs))
                        }
                        _ => panic!(
                            "{}: output with shape {shape:?} doesn't match the broadcast shape of {shape:?} and {:?}",
                            stringify!($assign),
                            rhs.shape()
                        ),
                    }
                }
            }
        }
        impl<E: Element> std::ops::$assign_trait<TensorBase<E>> for TensorBase<E> {
            #[track_caller]
            fn $assign(&mut self, rhs: TensorBase<E>) {
                std::ops::$assign_trait::$assign(self, &rhs)
            }
        }
        impl<E: Element> std::ops::$assign_trait<E> for TensorBase<E> {
            #[track_caller]
            fn $assign(&mut self, rhs: E) {
                if self.in_place_records(false) {
                    *self = self.$scalar(rhs);
                } else {
                    self.update_in_place(|data| std::ops::$assign_trait::$assign(data, rhs));
                }
            }
        }
    };
}

binary_operators!(Add, add, try_add, add_scalar, AddAssign, add_assign);
binary_operators!(Sub, sub, try_sub, sub_scalar, SubAssign, sub_assign);
binary_operators!(Mul, mul, try_mul, mul_scalar, MulAssign, mul_assign);
binary_operators!(Div, div, try_div, div_scalar, DivAssign, div_assign);

impl<E: Element> TensorBase<E> {
    /// `self - value` (SubBackward0).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([1]).sub_scalar(3.0).to_vec(), vec![-2.0]);
    /// ```
    pub fn sub_scalar(&self, value: E) -> Self {
        let data = pool::map(&self.data(), |x| x - value);
        TensorBase::from_op(data, "SubBackward0", &[self], |grad, _| vec![Some(grad)])
    }
}

impl<E: Element> std::ops::Neg for &TensorBase<E> {
    type Output = TensorBase<E>;
    fn neg(self) -> TensorBase<E> {
        TensorBase::neg(self)
    }
}

impl<E: Element> std::ops::Neg for TensorBase<E> {
    type Output = TensorBase<E>;
    fn neg(self) -> TensorBase<E> {
        TensorBase::neg(&self)
    }
}

macro_rules! scalar_on_the_left {
    ($($t:ty),*) => {$(
        impl std::ops::Add<&TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn add(self, rhs: &TensorBase<$t>) -> TensorBase<$t> { rhs.add_scalar(self) }
        }
        impl std::ops::Add<TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn add(self, rhs: TensorBase<$t>) -> TensorBase<$t> { rhs.add_scalar(self) }
        }
        impl std::ops::Sub<&TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn sub(self, rhs: &TensorBase<$t>) -> TensorBase<$t> { rhs.rsub_scalar(self) }
        }
        impl std::ops::Sub<TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn sub(self, rhs: TensorBase<$t>) -> TensorBase<$t> { rhs.rsub_scalar(self) }
        }
        impl std::ops::Mul<&TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn mul(self, rhs: &TensorBase<$t>) -> TensorBase<$t> { rhs.mul_scalar(self) }
        }
        impl std::ops::Mul<TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn mul(self, rhs: TensorBase<$t>) -> TensorBase<$t> { rhs.mul_scalar(self) }
        }
        impl std::ops::Div<&TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn div(self, rhs: &TensorBase<$t>) -> TensorBase<$t> { rhs.rdiv_scalar(self) }
        }
        impl std::ops::Div<TensorBase<$t>> for $t {
            type Output = TensorBase<$t>;
            fn div(self, rhs: TensorBase<$t>) -> TensorBase<$t> { rhs.rdiv_scalar(self) }
        }
    )*};
}

scalar_on_the_left!(f32, f64);
