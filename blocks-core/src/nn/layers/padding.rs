//! Padding blocks for images: `nn.ZeroPad2d`, `nn.ConstantPad2d` and
//! `nn.ReflectionPad2d`, the padding as PyTorch gives it, `(left, right,
//! top, bottom)`. They keep the channels, so `Images<C>` stay `Images<C>`.

use crate::nn::{Forward, Hooks, TensorKind, keep_kind};
use crate::optim::pyrepr::float;
use crate::{Element, TensorBase};

/// The padding of the last two dims, `(left, right, top, bottom)`: one
/// number for all four sides, or four, printed as PyTorch prints it; a
/// negative side crops, as PyTorch allows.
///
/// ```
/// use blocks_core::nn::Padding2d;
/// assert_eq!(Padding2d::from(1).to_string(), "(1, 1, 1, 1)");
/// assert_eq!(Padding2d::from([1, 2, 0, 3]).sides(), [1, 2, 0, 3]);
/// assert_eq!(Padding2d::from((-1, 2, 0, -2)).to_string(), "(-1, 2, 0, -2)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Padding2d([isize; 4]);

impl Padding2d {
    /// `[left, right, top, bottom]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Padding2d::from((1, 2, 3, 4)).sides(), [1, 2, 3, 4]);
    /// ```
    pub fn sides(self) -> [isize; 4] {
        self.0
    }
}

/// `from` as a side: a `usize` beyond `isize::MAX` becomes `isize::MAX`
/// (refused by the allocation limit when the layer runs).
trait Side: Copy {
    fn side(self) -> isize;
}

macro_rules! sides {
    ($($t:ty),*) => {$(
        impl Side for $t {
            fn side(self) -> isize {
                isize::try_from(self).unwrap_or(isize::MAX)
            }
        }

        impl From<$t> for Padding2d {
            fn from(p: $t) -> Self {
                Padding2d([p.side(); 4])
            }
        }

        impl From<[$t; 4]> for Padding2d {
            fn from(sides: [$t; 4]) -> Self {
                Padding2d(sides.map(Side::side))
            }
        }

        impl From<($t, $t, $t, $t)> for Padding2d {
            fn from((l, r, t, b): ($t, $t, $t, $t)) -> Self {
                Padding2d([l.side(), r.side(), t.side(), b.side()])
            }
        }
    )*};
}

sides!(i32, isize, usize);

impl std::fmt::Display for Padding2d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [l, r, t, b] = self.0;
        write!(f, "({l}, {r}, {t}, {b})")
    }
}

/// Zeros around images, like `nn.ZeroPad2d(padding)`; a negative side crops.
///
/// ```
/// use blocks_core::nn::{Images, ZeroPad2d};
/// use blocks_core::Tensor;
/// let pad = ZeroPad2d::new((1, 2, 0, 1));
/// assert_eq!(pad.to_string(), "ZeroPad2d((1, 2, 0, 1))");
/// let y: Images<3> = pad.forward(&Images::<3>::new(Tensor::ones([2, 3, 4, 4])));
/// assert_eq!(y.shape(), vec![2, 3, 5, 7]);
/// let crop = ZeroPad2d::new((-1, 2, 0, -2));
/// assert_eq!(crop.forward(&Tensor::ones([1, 1, 4, 4])).shape(), vec![1, 1, 2, 5]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct ZeroPad2d {
    #[module(skip)]
    padding: Padding2d,
    hooks: Hooks,
}

impl ZeroPad2d {
    /// Zeros on each side as `padding` says.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ZeroPad2d::new(2).padding().sides(), [2; 4]);
    /// ```
    pub fn new(padding: impl Into<Padding2d>) -> Self {
        ZeroPad2d { padding: padding.into(), hooks: Hooks::new() }
    }

    /// The padding, `(left, right, top, bottom)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ZeroPad2d::new([0, 1, 2, 3]).padding().sides(), [0, 1, 2, 3]);
    /// ```
    pub fn padding(&self) -> Padding2d {
        self.padding
    }

    /// PyTorch's `extra_repr`: the padding tuple.
    fn settings(&self) -> String {
        self.padding.to_string()
    }
}

/// `x` padded with `value` (`ConstantPadNdBackward0`).
#[track_caller]
fn constant<E: Element>(x: &TensorBase<E>, padding: Padding2d, value: f64) -> TensorBase<E> {
    crate::nn::path::or_panic(x.try_pad2d(padding.sides(), E::of(value)))
}

impl<K: TensorKind> Forward<K> for ZeroPad2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, constant(x.tensor(), self.padding, 0.0))
    }
}

/// A constant around images, like `nn.ConstantPad2d(padding, value)`; a
/// negative side crops.
///
/// ```
/// use blocks_core::nn::ConstantPad2d;
/// use blocks_core::Tensor;
/// let pad = ConstantPad2d::new(1, 3.5);
/// assert_eq!(pad.to_string(), "ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)");
/// assert_eq!(pad.forward(&Tensor::zeros([1, 1, 1, 1])).to_vec()[..2], [3.5, 3.5]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct ConstantPad2d {
    #[module(skip)]
    padding: Padding2d,
    #[module(skip)]
    value: f64,
    hooks: Hooks,
}

impl ConstantPad2d {
    /// `value` on each side as `padding` says.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConstantPad2d::new(1, -1.0).value(), -1.0);
    /// ```
    pub fn new(padding: impl Into<Padding2d>, value: f64) -> Self {
        ConstantPad2d { padding: padding.into(), value, hooks: Hooks::new() }
    }

    /// The padding, `(left, right, top, bottom)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConstantPad2d::new(1, 0.5).padding().sides(), [1; 4]);
    /// ```
    pub fn padding(&self) -> Padding2d {
        self.padding
    }

    /// The value padded with.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConstantPad2d::new(1, 0.5).value(), 0.5);
    /// ```
    pub fn value(&self) -> f64 {
        self.value
    }

    /// PyTorch's `extra_repr` (the value as a Python float).
    fn settings(&self) -> String {
        format!("padding={}, value={}", self.padding, float(self.value))
    }
}

impl<K: TensorKind> Forward<K> for ConstantPad2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, constant(x.tensor(), self.padding, self.value))
    }
}

/// Images mirrored at their edges, like `nn.ReflectionPad2d(padding)`
/// (each side's padding smaller than the size it mirrors; a negative one crops).
///
/// ```
/// use blocks_core::nn::ReflectionPad2d;
/// use blocks_core::Tensor;
/// let pad = ReflectionPad2d::new((2, 0, 0, 0));
/// assert_eq!(pad.to_string(), "ReflectionPad2d((2, 0, 0, 0))");
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 1, 3]);
/// assert_eq!(pad.forward(&x).to_vec(), vec![3.0, 2.0, 1.0, 2.0, 3.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct ReflectionPad2d {
    #[module(skip)]
    padding: Padding2d,
    hooks: Hooks,
}

impl ReflectionPad2d {
    /// Mirrored rows and columns on each side as `padding` says.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ReflectionPad2d::new(1).to_string(), "ReflectionPad2d((1, 1, 1, 1))");
    /// ```
    pub fn new(padding: impl Into<Padding2d>) -> Self {
        ReflectionPad2d { padding: padding.into(), hooks: Hooks::new() }
    }

    /// The padding, `(left, right, top, bottom)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ReflectionPad2d::new(1).padding().sides(), [1; 4]);
    /// ```
    pub fn padding(&self) -> Padding2d {
        self.padding
    }

    /// PyTorch's `extra_repr`: the padding tuple.
    fn settings(&self) -> String {
        self.padding.to_string()
    }
}

impl<K: TensorKind> Forward<K> for ReflectionPad2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_reflection_pad2d(self.padding.sides())))
    }
}
