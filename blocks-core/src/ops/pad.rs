//! Padding the last two dims of images: `pad2d` with a constant
//! (ConstantPadNdBackward0) and `reflection_pad2d` (ReflectionPad2DBackward0),
//! the padding given as PyTorch gives it: `[left, right, top, bottom]`, a
//! negative one cropping.

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::{Element, ShapeError, TensorBase};

/// The padded sizes `(planes, h, w, oh, ow)` of `shape`, checked (a
/// negative padding crops; the output against the allocation limit).
fn padded<E: Element>(
    op: &str,
    shape: &[usize],
    padding: [isize; 4],
    min_dims: usize,
) -> Result<[usize; 5], ShapeError> {
    let fail = |why: String| ShapeError::new(format!("{op}: input {shape:?}, padding {padding:?}: {why}"));
    if shape.len() < min_dims {
        return Err(fail(format!("expected an input of at least {min_dims} dims")));
    }
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let planes: usize = shape[..shape.len() - 2].iter().product();
    // PyTorch crops first (narrow), then pads: what the crops leave must not be negative.
    let grown = |size: usize, a: isize, b: isize| -> Result<usize, ShapeError> {
        let size = isize::try_from(size).map_err(|_| fail("the input is too large".into()))?;
        let cropped = size.checked_add(a.min(0)).and_then(|s| s.checked_add(b.min(0)));
        match cropped {
            Some(c) if c >= 0 => {}
            Some(_) => return Err(fail("narrow(): length must be non-negative.".into())),
            None => return Err(fail("the padded size overflows".into())),
        }
        let out = size.checked_add(a).and_then(|s| s.checked_add(b));
        out.and_then(|o| usize::try_from(o).ok()).ok_or_else(|| fail("the padded size overflows".into()))
    };
    let (oh, ow) = (grown(h, padding[2], padding[3])?, grown(w, padding[0], padding[1])?);
    checked_alloc::<E>(op, "the output", &[planes, oh, ow])
        .map_err(|error| fail(error.to_string().replacen(&format!("{op}: "), "", 1)))?;
    Ok([planes, h, w, oh, ow])
}

/// Where an axis padded by `before` starts copying: the first source index
/// (past what a negative padding crops) and the first output index.
fn start(before: isize) -> (usize, usize) {
    (before.min(0).unsigned_abs(), before.max(0).unsigned_abs())
}

impl<E: Element> TensorBase<E> {
    /// `self` with `value` added around its last two dims, `padding` being
    /// `[left, right, top, bottom]`, like
    /// `torch.nn.functional.pad(input, padding, mode='constant', value=value)`
    /// (ConstantPadNdBackward0).
    ///
    /// # Panics
    /// On an input of fewer than 2 dims or a padded size too large (see [`try_pad2d`](Self::try_pad2d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0], [1, 2]);
    /// assert_eq!(x.pad2d([1, 0, 0, 1], 9.0).to_vec(), vec![9.0, 1.0, 2.0, 9.0, 9.0, 9.0]);
    /// ```
    #[track_caller]
    pub fn pad2d(&self, padding: [isize; 4], value: E) -> Self {
        or_panic(self.try_pad2d(padding, value))
    }

    /// Like [`pad2d`](Self::pad2d), returning an error on sizes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input of fewer than 2 dims, a negative
    /// padding that crops more than there is (PyTorch's `narrow(): length
    /// must be non-negative.`), or a padded size that overflows or is over
    /// the allocation limit.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([3]).try_pad2d([1, 1, 1, 1], 0.0).is_err());
    /// let err = blocks_core::Tensor::zeros([2, 3]).try_pad2d([-2, -2, 0, 0], 0.0).unwrap_err();
    /// assert!(err.to_string().ends_with("narrow(): length must be non-negative."));
    /// ```
    pub fn try_pad2d(&self, padding: [isize; 4], value: E) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let [planes, h, w, oh, ow] = padded::<E>("pad2d", &shape, padding, 2)?;
        let [left, right, top, bottom] = padding;
        // What is copied: source rows/columns from `from`, to output ones from `to`, `len` of them.
        let (row_from, row_to) = start(top);
        let rows = h - row_from - bottom.min(0).unsigned_abs();
        let (col_from, col_to) = start(left);
        let cols = w - col_from - right.min(0).unsigned_abs();
        let mut out = vec![value; planes * oh * ow];
        if rows > 0 && cols > 0 {
            let x = self.data();
            let x = x.as_standard_layout();
            let xs = x.as_slice().expect("standard layout");
            for (plane, to) in xs.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)) {
                for y in 0..rows {
                    let source = &plane[(y + row_from) * w + col_from..][..cols];
                    to[(y + row_to) * ow + col_to..][..cols].copy_from_slice(source);
                }
            }
        }
        let mut out_shape = shape[..shape.len() - 2].to_vec();
        out_shape.extend([oh, ow]);
        let data = ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("padded size");
        Ok(TensorBase::from_op(data, "ConstantPadNdBackward0", &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let gs = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); planes * h * w];
            if rows > 0 && cols > 0 {
                for (plane, g) in dx.chunks_exact_mut(h * w).zip(gs.chunks_exact(oh * ow)) {
                    for y in 0..rows {
                        let source = &g[(y + row_to) * ow + col_to..][..cols];
                        plane[(y + row_from) * w + col_from..][..cols].copy_from_slice(source);
                    }
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }

    /// `self` with its last two dims mirrored at the edges (the edge itself
    /// not repeated), `padding` being `[left, right, top, bottom]`, like
    /// `torch.nn.functional.pad(input, padding, mode='reflect')` on 3-D or
    /// 4-D input (ReflectionPad2DBackward0).
    ///
    /// # Panics
    /// On an input that is not 3-D or 4-D, or a padding not smaller than
    /// the size it mirrors (see [`try_reflection_pad2d`](Self::try_reflection_pad2d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 1, 3]);
    /// assert_eq!(x.reflection_pad2d([2, 1, 0, 0]).to_vec(), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0]);
    /// let cropped = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 1, 3]);
    /// assert_eq!(cropped.reflection_pad2d([-1, 1, 0, 0]).to_vec(), vec![2.0, 3.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn reflection_pad2d(&self, padding: [isize; 4]) -> Self {
        or_panic(self.try_reflection_pad2d(padding))
    }

    /// Like [`reflection_pad2d`](Self::reflection_pad2d), returning an error on sizes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input that is not 3-D or 4-D, or, in
    /// PyTorch's words, a padding size not less than the corresponding input dimension.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([1, 2, 2]).try_reflection_pad2d([2, 2, 0, 0]).unwrap_err();
    /// assert!(err.to_string().contains("Padding size should be less than the corresponding input dimension"));
    /// ```
    pub fn try_reflection_pad2d(&self, padding: [isize; 4]) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let fail = |why: String| {
            ShapeError::new(format!("reflection_pad2d: input {shape:?}, padding {padding:?}: {why}"))
        };
        if shape.len() != 3 && shape.len() != 4 {
            return Err(fail("expected a 3-D (unbatched) or 4-D (batched) input".into()));
        }
        let [left, right, top, bottom] = padding;
        let (last, h, w) = (shape.len() - 1, shape[shape.len() - 2], shape[shape.len() - 1]);
        let too_large = |a: isize, b: isize, size: usize| {
            (a >= 0 && a.unsigned_abs() >= size) || (b >= 0 && b.unsigned_abs() >= size)
        };
        if too_large(left, right, w) {
            return Err(fail(format!(
                "Argument #4: Padding size should be less than the corresponding input dimension, but got: \
                 padding ({left}, {right}) at dimension {last} of input {shape:?}"
            )));
        }
        if too_large(top, bottom, h) {
            return Err(fail(format!(
                "Argument #6: Padding size should be less than the corresponding input dimension, but got: \
                 padding ({top}, {bottom}) at dimension {} of input {shape:?}",
                last - 1
            )));
        }
        // Each padding is below its size here, so these sums fit.
        let (out_h, out_w) =
            (h as i128 + top as i128 + bottom as i128, w as i128 + left as i128 + right as i128);
        if out_h < 1 || out_w < 1 {
            return Err(fail(format!(
                "Calculated output H: {out_h} W: {out_w} must be >= 1 in every dimension (input H: {h}, W: {w})"
            )));
        }
        let [planes, h, w, oh, ow] = padded::<E>("reflection_pad2d", &shape, padding, 3)?;
        // The source of each output index along one axis (a negative padding starts inside).
        let source = |o: usize, pad: isize, size: usize| {
            let i = o as isize - pad;
            let i = if i < 0 { -i } else { i };
            let max = size as isize - 1;
            (if i > max { 2 * max - i } else { i }) as usize
        };
        let rows: Vec<usize> = (0..oh).map(|o| source(o, top, h)).collect();
        let cols: Vec<usize> = (0..ow).map(|o| source(o, left, w)).collect();
        let mut out = Vec::with_capacity(planes * oh * ow);
        {
            let x = self.data();
            let x = x.as_standard_layout();
            for plane in x.as_slice().expect("standard layout").chunks_exact(h * w) {
                for &r in &rows {
                    out.extend(cols.iter().map(|&c| plane[r * w + c]));
                }
            }
        }
        let mut out_shape = shape[..shape.len() - 2].to_vec();
        out_shape.extend([oh, ow]);
        let data = ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("padded size");
        Ok(TensorBase::from_op(data, "ReflectionPad2DBackward0", &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let gs = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); planes * h * w];
            for (plane, g) in dx.chunks_exact_mut(h * w).zip(gs.chunks_exact(oh * ow)) {
                for (&r, g_row) in rows.iter().zip(g.chunks_exact(ow)) {
                    for (&c, &g) in cols.iter().zip(g_row) {
                        plane[r * w + c] += g;
                    }
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    #[test]
    fn pads_gradcheck_in_float64() {
        let values = (0..2 * 3 * 4 * 5).map(|i| ((i * 13) % 17) as f64 / 4.0 - 2.0).collect();
        let x = Tensor64::from_vec(values, [2, 3, 4, 5]).requires_grad_(true);
        for padding in
            [[1, 2, 0, 3], [4, 0, 3, 1], [0, 0, 0, 0], [-1, 2, 0, -2], [2, -3, -1, 1], [-1, -1, -2, -1]]
        {
            let f = |t: &[Tensor64]| {
                let y = t[0].pad2d(padding, 0.5);
                (&y * &y).sum()
            };
            gradcheck(f, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("constant {padding:?}: {e}"));
            let f = |t: &[Tensor64]| {
                let y = t[0].reflection_pad2d(padding);
                (&y * &y).sum()
            };
            gradcheck(f, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("reflect {padding:?}: {e}"));
        }
        assert_eq!(x.pad2d([1, 1, 1, 1], 0.0).grad_fn(), Some("ConstantPadNdBackward0"));
        assert_eq!(x.reflection_pad2d([1, 1, 1, 1]).grad_fn(), Some("ReflectionPad2DBackward0"));
        let err = x.try_reflection_pad2d([0, 0, 4, 0]).unwrap_err().to_string();
        assert!(err.ends_with("but got: padding (4, 0) at dimension 2 of input [2, 3, 4, 5]"), "{err}");
    }

    #[test]
    fn hostile_sizes_are_errors_not_overflows() {
        let x = Tensor64::zeros([1, 1, 2, 2]);
        assert!(x.try_pad2d([isize::MAX, 1, 0, 0], 0.0).is_err());
        assert!(x.try_pad2d([isize::MIN, 1, 0, 0], 0.0).is_err());
        assert!(x.try_pad2d([1 << 40, 0, 1 << 40, 0], 0.0).is_err());
        assert!(x.try_pad2d([-3, 0, 0, 0], 0.0).is_err());
        assert!(x.try_pad2d([-1, -2, 0, 0], 0.0).is_err());
        assert!(x.try_reflection_pad2d([isize::MAX, 0, 0, 0]).is_err());
        assert!(x.try_reflection_pad2d([isize::MIN, 0, 0, 0]).is_err());
        assert!(x.try_reflection_pad2d([0, 0, -1, -1]).is_err());
    }

    /// The plain definition: output (i, j) is the input at (i - top, j - left)
    /// when that is inside it, else the value.
    #[test]
    fn negative_padding_crops_as_its_definition() {
        let values: Vec<f64> = (0..3 * 4 * 5).map(|i| i as f64).collect();
        let x = Tensor64::from_vec(values.clone(), [3, 4, 5]);
        for padding in [[-1, 2, 0, -2], [2, -1, -3, 1], [-2, -3, 0, 0], [0, 0, -4, 0], [-1, -1, -1, -1]] {
            let y = x.pad2d(padding, 7.0);
            let [l, r, t, b] = padding;
            let (oh, ow) = ((4 + t + b) as usize, (5 + l + r) as usize);
            assert_eq!(y.shape(), vec![3, oh, ow], "{padding:?}");
            let mut expected = Vec::new();
            for p in 0..3 {
                for i in 0..oh as isize {
                    for j in 0..ow as isize {
                        let (si, sj) = (i - t, j - l);
                        let inside = (0..4).contains(&si) && (0..5).contains(&sj);
                        expected.push(if inside { values[p * 20 + (si * 5 + sj) as usize] } else { 7.0 });
                    }
                }
            }
            assert_eq!(y.to_vec(), expected, "{padding:?}");
        }
        let err = x.try_reflection_pad2d([-3, -2, 0, 0]).unwrap_err().to_string();
        assert!(
            err.ends_with("Calculated output H: 4 W: 0 must be >= 1 in every dimension (input H: 4, W: 5)"),
            "{err}"
        );
    }
}
