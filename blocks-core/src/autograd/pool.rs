//! A small per-thread cache of array storage, so that a training loop that
//! makes arrays of the same sizes every step reuses them instead of going
//! back to the allocator (and zeroing fresh memory) each time.
//!
//! Storage comes back here when a tensor's node is dropped, when backward has
//! added a gradient into an existing one, and on `zero_grad`. It is handed out
//! by [`scratch`], whose contents are stale: callers overwrite every element
//! (a matrix product with `beta = 0`, a map, a copy). Buffers are matched by
//! exact length, most recently returned first (still warm in cache), and the
//! cache is bounded in count and bytes per thread.

use std::any::Any;
use std::cell::RefCell;

use ndarray::{ArrayD, Dimension, IxDyn, Zip};

use crate::Element;
use crate::threading::in_parts;

/// Arrays smaller than this go straight back to the allocator: for them
/// malloc is as fast as a look-up here.
const MIN_LEN: usize = 256;
/// At most this many buffers per thread and element type...
const MAX_BUFFERS: usize = 48;
/// ...holding at most this many bytes.
const MAX_BYTES: usize = 64 << 20;

struct Pool<E> {
    buffers: Vec<Vec<E>>,
    bytes: usize,
}

impl<E> Default for Pool<E> {
    fn default() -> Self {
        Pool { buffers: Vec::new(), bytes: 0 }
    }
}

impl<E> Pool<E> {
    fn take(&mut self, len: usize) -> Option<Vec<E>> {
        let index = self.buffers.iter().rposition(|buffer| buffer.len() == len)?;
        let buffer = self.buffers.remove(index);
        self.bytes -= buffer.capacity() * size_of::<E>();
        Some(buffer)
    }

    fn put(&mut self, buffer: Vec<E>) {
        let bytes = buffer.capacity() * size_of::<E>();
        if bytes > MAX_BYTES {
            return;
        }
        while self.buffers.len() >= MAX_BUFFERS || self.bytes + bytes > MAX_BYTES {
            let oldest = self.buffers.remove(0);
            self.bytes -= oldest.capacity() * size_of::<E>();
        }
        self.bytes += bytes;
        self.buffers.push(buffer);
    }
}

#[derive(Default)]
struct Pools {
    f32: Pool<f32>,
    f64: Pool<f64>,
}

thread_local! {
    static POOLS: RefCell<Pools> = RefCell::new(Pools::default());
}

/// Runs `f` on this thread's pool for `E`, if there is one and it is free.
fn with_pool<E: Element, R>(f: impl FnOnce(&mut Pool<E>) -> R) -> Option<R> {
    POOLS
        .try_with(|pools| {
            let mut pools = pools.try_borrow_mut().ok()?;
            let Pools { f32, f64 } = &mut *pools;
            if let Some(pool) = (f32 as &mut dyn Any).downcast_mut::<Pool<E>>() {
                return Some(f(pool));
            }
            (f64 as &mut dyn Any).downcast_mut::<Pool<E>>().map(f)
        })
        .ok()
        .flatten()
}

/// Storage for `len` elements whose values are unspecified (stale values of
/// an earlier array, or zeros): the caller must overwrite all of them.
pub(crate) fn scratch<E: Element>(len: usize) -> Vec<E> {
    if len >= MIN_LEN
        && let Some(buffer) = with_pool(|pool: &mut Pool<E>| pool.take(len)).flatten()
    {
        return buffer;
    }
    vec![E::zero(); len]
}

/// An array of `shape` filled with `value`, on recycled storage when possible.
pub(crate) fn full<E: Element>(shape: IxDyn, value: E) -> ArrayD<E> {
    let mut values = scratch(shape.size());
    values.fill(value);
    ArrayD::from_shape_vec(shape, values).expect("length is the product of the shape")
}

/// `f` applied to every element of `x`, into new (possibly recycled) storage;
/// long arrays in parts on several threads.
pub(crate) fn map<E: Element>(x: &ArrayD<E>, f: impl Fn(E) -> E + Sync) -> ArrayD<E> {
    match x.as_slice() {
        Some(values) => {
            let mut out = scratch(values.len());
            let zip = Zip::from(&mut out[..]).and(values);
            in_parts(zip, values.len(), |zip| zip.split(), |zip| zip.for_each(|o, &v| *o = f(v)));
            ArrayD::from_shape_vec(x.raw_dim(), out).expect("same length")
        }
        None => x.mapv(f),
    }
}

/// `f` applied to the elements of `x` and `y` pairwise, into new (possibly
/// recycled) storage, when both have the same shape in row-major layout;
/// `None` otherwise (broadcasting is left to the caller). Long arrays in
/// parts on several threads.
pub(crate) fn zip_map<E: Element>(
    x: &ArrayD<E>,
    y: &ArrayD<E>,
    f: impl Fn(E, E) -> E + Sync,
) -> Option<ArrayD<E>> {
    if x.shape() != y.shape() {
        return None;
    }
    let (xs, ys) = (x.as_slice()?, y.as_slice()?);
    let mut out = scratch(xs.len());
    let zip = Zip::from(&mut out[..]).and(xs).and(ys);
    in_parts(zip, xs.len(), |zip| zip.split(), |zip| zip.for_each(|o, &a, &b| *o = f(a, b)));
    Some(ArrayD::from_shape_vec(x.raw_dim(), out).expect("same length"))
}

/// A copy of `x` in row-major layout, on recycled storage when possible.
pub(crate) fn copy<E: Element>(x: &ArrayD<E>) -> ArrayD<E> {
    match x.as_slice() {
        Some(values) => {
            let mut out = scratch(values.len());
            out.copy_from_slice(values);
            ArrayD::from_shape_vec(x.raw_dim(), out).expect("same length")
        }
        None => x.to_owned(),
    }
}

/// Gives the storage of `array`, no longer needed, back for reuse.
pub(crate) fn recycle<E: Element>(array: ArrayD<E>) {
    if array.len() >= MIN_LEN {
        recycle_vec(array.into_raw_vec_and_offset().0);
    }
}

/// Gives `buffer`, no longer needed, back for reuse.
pub(crate) fn recycle_vec<E: Element>(buffer: Vec<E>) {
    if buffer.len() >= MIN_LEN {
        let _ = with_pool(|pool: &mut Pool<E>| pool.put(buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_buffer_of_the_same_length_is_handed_out_again() {
        let buffer = vec![1.5f32; 1000];
        let address = buffer.as_ptr();
        recycle_vec(buffer);
        let again: Vec<f32> = scratch(1000);
        assert_eq!(again.as_ptr(), address);
        assert_eq!(scratch::<f32>(1000), vec![0.0; 1000], "an empty pool gives zeros");
    }

    #[test]
    fn buffers_of_another_length_or_type_are_not_reused() {
        recycle_vec(vec![2.0f64; 700]);
        assert_eq!(scratch::<f64>(701), vec![0.0; 701]);
        assert_eq!(scratch::<f32>(700), vec![0.0; 700]);
        assert_eq!(scratch::<f64>(700), vec![2.0; 700]);
    }

    #[test]
    fn the_pool_is_bounded() {
        for _ in 0..2 * MAX_BUFFERS {
            recycle_vec(vec![0.0f32; MIN_LEN]);
        }
        let count = with_pool(|pool: &mut Pool<f32>| pool.buffers.len()).unwrap();
        assert!(count <= MAX_BUFFERS);
        recycle_vec(vec![0.0f32; MAX_BYTES / 4 + 1]);
        let bytes = with_pool(|pool: &mut Pool<f32>| pool.bytes).unwrap();
        assert!(bytes <= MAX_BYTES);
    }

    #[test]
    fn map_zip_map_and_full_fill_every_element() {
        recycle_vec(vec![9.0f32; 300]);
        let x = ArrayD::from_shape_vec(IxDyn(&[3, 100]), vec![-1.0f32; 300]).unwrap();
        assert!(map(&x, |v| v * 2.0).iter().all(|&v| v == -2.0));
        recycle_vec(vec![9.0f32; 300]);
        assert!(full(IxDyn(&[300]), 0.5f32).iter().all(|&v| v == 0.5));
        recycle_vec(vec![9.0f32; 300]);
        let sum = zip_map(&x, &x, |a, b| a + b).unwrap();
        assert!(sum.shape() == [3, 100] && sum.iter().all(|&v| v == -2.0));
        let row = ArrayD::from_shape_vec(IxDyn(&[100]), vec![1.0f32; 100]).unwrap();
        assert!(zip_map(&x, &row, |a, b| a + b).is_none(), "broadcasting is the caller's");
    }
}
