//! How [`RandomCrop`](super::RandomCrop) fills the padding around an image,
//! torchvision's `padding_mode`: a constant, the edge repeated, or the image
//! mirrored without or with its edge.

/// torchvision's `padding_mode` for [`RandomCrop`](super::RandomCrop).
///
/// ```
/// use blocks_core::data::{PaddingMode, RandomCrop, Transform, TransformRng};
/// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 1, 3]);
/// // A crop of the whole padded image draws nothing: the padding as it is.
/// let crop = |mode| RandomCrop::new([1, 7]).padding_sides([2, 0, 2, 0]).padding_mode(mode);
/// let row = |mode| crop(mode).apply(&x, &mut TransformRng::new(0)).to_vec();
/// assert_eq!(row(PaddingMode::Constant), vec![0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
/// assert_eq!(row(PaddingMode::Edge), vec![1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]);
/// assert_eq!(row(PaddingMode::Reflect), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
/// assert_eq!(row(PaddingMode::Symmetric), vec![2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaddingMode {
    /// The crop's `fill` value (`"constant"`, the default).
    #[default]
    Constant,
    /// The nearest edge pixel repeated (`"edge"`).
    Edge,
    /// The image mirrored about its edge pixel, which is not repeated
    /// (`"reflect"`: `[1, 2, 3]` padded by 2 is `[3, 2, 1, 2, 3, 2, 1]`);
    /// the padding must be shorter than the side.
    Reflect,
    /// The image mirrored with its edge pixel repeated (`"symmetric"`:
    /// `[2, 1, 1, 2, 3, 3, 2]`); the padding must not be longer than the side.
    Symmetric,
}

impl PaddingMode {
    /// torchvision's name of the mode.
    ///
    /// ```
    /// assert_eq!(blocks_core::data::PaddingMode::Symmetric.name(), "symmetric");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Constant => "constant",
            PaddingMode::Edge => "edge",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Symmetric => "symmetric",
        }
    }

    /// Why `padding` on a side of `len` pixels cannot be filled in this
    /// mode, in torchvision's words, or `None` when it can.
    pub(crate) fn refuses(self, padding: usize, len: usize) -> Option<String> {
        match self {
            PaddingMode::Constant => None,
            _ if len == 0 && padding > 0 => Some(format!("{} padding of an empty side", self.name())),
            PaddingMode::Edge => None,
            PaddingMode::Reflect if padding >= len => Some(format!(
                "Padding size should be less than the corresponding input dimension, but got: padding {padding} \
                 on a side of {len} (reflect)"
            )),
            PaddingMode::Symmetric if padding > len => Some(format!(
                "Padding size should not be larger than the corresponding input dimension, but got: padding \
                 {padding} on a side of {len} (symmetric)"
            )),
            PaddingMode::Reflect | PaddingMode::Symmetric => None,
        }
    }

    /// The pixel of a side of `len` that position `at` of the padded side
    /// shows, where the image starts at `before`; `None` for the constant.
    /// The padding was checked by [`refuses`](Self::refuses).
    pub(crate) fn source(self, at: usize, before: usize, len: usize) -> Option<usize> {
        let inside = at.checked_sub(before).filter(|&i| i < len);
        if inside.is_some() || self == PaddingMode::Constant {
            return inside;
        }
        let after = at >= before; // past the image's end (`at - before >= len`)
        let last = len - 1;
        Some(match (self, after) {
            (PaddingMode::Edge, false) => 0,
            (PaddingMode::Edge, true) => last,
            (PaddingMode::Reflect, false) => before - at,
            (PaddingMode::Reflect, true) => 2 * last - (at - before),
            (_, false) => before - at - 1,
            (_, true) => 2 * len - 1 - (at - before),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PaddingMode;

    /// Each position of `[1, 2, 3, 4]` padded by `pad` on both sides (the
    /// expected rows below are torchvision's `F.pad(x, [pad, 0, pad, 0], padding_mode=...)`).
    fn padded(mode: PaddingMode, pad: usize) -> Vec<Option<usize>> {
        (0..4 + 2 * pad).map(|at| mode.source(at, pad, 4).map(|i| i + 1)).collect()
    }

    #[test]
    fn every_mode_fills_as_torchvision_pads() {
        assert_eq!(
            padded(PaddingMode::Constant, 2),
            [None, None, Some(1), Some(2), Some(3), Some(4), None, None]
        );
        let values = |mode, pad| padded(mode, pad).into_iter().map(Option::unwrap).collect::<Vec<_>>();
        assert_eq!(values(PaddingMode::Edge, 5), [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4]);
        assert_eq!(values(PaddingMode::Reflect, 3), [4, 3, 2, 1, 2, 3, 4, 3, 2, 1]);
        assert_eq!(values(PaddingMode::Symmetric, 4), [4, 3, 2, 1, 1, 2, 3, 4, 4, 3, 2, 1]);
    }

    #[test]
    fn refuses_what_torchvision_refuses() {
        assert!(PaddingMode::Reflect.refuses(4, 4).is_some());
        assert!(PaddingMode::Reflect.refuses(3, 4).is_none());
        assert!(PaddingMode::Symmetric.refuses(5, 4).is_some());
        assert!(PaddingMode::Symmetric.refuses(4, 4).is_none());
        assert!(PaddingMode::Edge.refuses(100, 1).is_none());
        assert!(PaddingMode::Edge.refuses(1, 0).is_some());
        assert!(PaddingMode::Constant.refuses(100, 0).is_none());
        assert!(PaddingMode::Reflect.refuses(0, 1).is_none(), "no padding fits any side");
    }
}

#[cfg(test)]
mod crop_tests {
    use super::PaddingMode;
    use crate::Tensor;
    use crate::data::{RandomCrop, Transform, TransformRng};

    #[test]
    fn a_crop_refuses_a_reflection_as_long_as_the_side() {
        let crop = RandomCrop::new([2, 2]).padding(3).padding_mode(PaddingMode::Reflect);
        let error = crop.try_apply(&Tensor::ones([1, 3, 3]), &mut TransformRng::new(0)).unwrap_err();
        assert!(error.to_string().starts_with("RandomCrop: Padding size should be less than"), "{error}");
        let fits = RandomCrop::new([2, 2]).padding(2).padding_mode(PaddingMode::Reflect);
        assert_eq!(fits.apply(&Tensor::ones([1, 3, 3]), &mut TransformRng::new(0)).to_vec(), vec![1.0; 4]);
    }
}
