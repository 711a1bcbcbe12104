//! Channel concatenation, `torch.cat((a, b, ...), dim=1)`, on typed images:
//! the result's channels are the sum of the parts', checked when the
//! program is built (Inception's four paths, DenseNet's growing input).

use crate::nn::Images;
use crate::{Element, TensorBase};

/// Parts to concatenate on the channel dimension: a tuple of 1 to 8
/// `&Images<C, E>` of any channel counts, whose sum is [`CHANNELS`](Self::CHANNELS).
/// Implemented for those tuples only.
///
/// ```
/// use blocks_core::nn::{ChannelParts, Images};
/// use blocks_core::Tensor;
/// let (a, b) = (Images::<2>::new(Tensor::ones([1, 2, 3, 3])), Images::<5>::new(Tensor::ones([1, 5, 3, 3])));
/// fn channels<P: ChannelParts<f32>>(_: &P) -> usize {
///     P::CHANNELS
/// }
/// assert_eq!(channels(&(&a, &b)), 7);
/// ```
pub trait ChannelParts<E: Element> {
    /// The channels of the parts, added up.
    const CHANNELS: usize;

    /// The parts' tensors, in order.
    fn tensors(&self) -> Vec<&TensorBase<E>>;
}

macro_rules! channel_parts {
    ($($c:ident $index:tt),+) => {
        impl<'a, E: Element, $(const $c: usize),+> ChannelParts<E> for ($(&'a Images<$c, E>,)+) {
            const CHANNELS: usize = 0 $(+ $c)+;

            fn tensors(&self) -> Vec<&TensorBase<E>> {
                vec![$(&**self.$index),+]
            }
        }
    };
}

channel_parts!(A 0);
channel_parts!(A 0, B 1);
channel_parts!(A 0, B 1, C 2);
channel_parts!(A 0, B 1, C 2, D 3);
channel_parts!(A 0, B 1, C 2, D 3, F 4);
channel_parts!(A 0, B 1, C 2, D 3, F 4, G 5);
channel_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6);
channel_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);

impl<const C: usize, E: Element> Images<C, E> {
    /// The parts concatenated on the channel dimension, as
    /// `torch.cat((p1, p2, p3, p4), dim=1)` (d2l's Inception block): `C`
    /// must be the sum of the parts' channels, which is checked when the
    /// program is built (`cargo build`, `cargo test`, `cargo run`; not by
    /// `cargo check`). The gradient flows to every part (`CatBackward0`).
    ///
    /// # Panics
    ///
    /// When the parts differ in batch size or spatial sizes (run-time
    /// values), naming `cat` and the shapes.
    ///
    /// ```
    /// use blocks_core::nn::Images;
    /// use blocks_core::Tensor;
    /// let p1 = Images::<64>::new(Tensor::ones([1, 64, 4, 4]));
    /// let p2 = Images::<128>::new(Tensor::ones([1, 128, 4, 4]));
    /// let p3 = Images::<32>::new(Tensor::ones([1, 32, 4, 4]));
    /// let p4 = Images::<32>::new(Tensor::ones([1, 32, 4, 4]));
    /// let y = Images::<256>::cat((&p1, &p2, &p3, &p4));
    /// assert_eq!(y.shape(), vec![1, 256, 4, 4]);
    /// ```
    ///
    /// Channels that do not add up fail the build:
    ///
    /// ```compile_fail,E0080
    /// use blocks_core::nn::Images;
    /// use blocks_core::Tensor;
    /// let a = Images::<64>::new(Tensor::ones([1, 64, 4, 4]));
    /// let b = Images::<32>::new(Tensor::ones([1, 32, 4, 4]));
    /// let y = Images::<128>::cat((&a, &b)); // 64 + 32 is not 128
    /// ```
    #[track_caller]
    pub fn cat<P: ChannelParts<E>>(parts: P) -> Self {
        const {
            assert!(
                P::CHANNELS == C,
                "Images::<C>::cat: the parts' channels do not add up to C (the sizes are in the instance below)"
            );
        }
        let tensors = parts.tensors();
        Images::trusted(TensorBase::cat(&tensors, 1))
    }
}
