//! The convolution's two layout changes between the NCHW tensors users see
//! and the channels-outer matrices its products work on, cut into runs of
//! planes by size, one per thread (each plane is a copy, so the result is
//! the same on any number of threads).

use ndarray::{Array2, Array3, ArrayD};

use crate::Element;
use crate::autograd::pool;
use crate::threading::for_row_parts;

/// `[channels, n · positions]` reordered to `[n, channels, positions]`, with
/// `bias[channel]` added to every value of its channel when given.
///
/// ```text
/// let y = channels_first(&product, n, oh * ow, Some(&bias), get_num_threads());
/// ```
pub(crate) fn channels_first<E: Element>(
    m: &Array2<E>,
    n: usize,
    positions: usize,
    bias: Option<&[E]>,
    threads: usize,
) -> Array3<E> {
    let channels = m.nrows();
    let m = m.as_standard_layout();
    let source = m.as_slice().expect("standard layout");
    // Every element is written below.
    let mut out = pool::scratch(n * channels * positions);
    if positions > 0 {
        for_row_parts(&mut out, positions, positions, threads, |first, planes| {
            for (index, plane) in planes.chunks_exact_mut(positions).enumerate() {
                let (img, ch) = ((first + index) / channels, (first + index) % channels);
                let from = &source[(ch * n + img) * positions..][..positions];
                match bias {
                    Some(bias) => plane.iter_mut().zip(from).for_each(|(o, &v)| *o = v + bias[ch]),
                    None => plane.copy_from_slice(from),
                }
            }
        });
    }
    Array3::from_shape_vec((n, channels, positions), out).expect("n × channels × positions")
}

/// `[n, channels, positions]` (any layout) reordered to `[channels, n · positions]`.
///
/// ```text
/// let dy = channels_outer(&grad, n, out_channels, oh * ow, get_num_threads());
/// ```
pub(crate) fn channels_outer<E: Element>(
    g: &ArrayD<E>,
    n: usize,
    channels: usize,
    positions: usize,
    threads: usize,
) -> Array2<E> {
    let g = g.as_standard_layout();
    let source = g.as_slice().expect("standard layout");
    // Every element is written below.
    let mut out = pool::scratch(n * channels * positions);
    if positions > 0 {
        for_row_parts(&mut out, positions, positions, threads, |first, planes| {
            for (index, plane) in planes.chunks_exact_mut(positions).enumerate() {
                let (ch, img) = ((first + index) / n, (first + index) % n);
                plane.copy_from_slice(&source[(img * channels + ch) * positions..][..positions]);
            }
        });
    }
    Array2::from_shape_vec((channels, n * positions), out).expect("channels × (n · positions)")
}
