//! Printing tensors exactly as PyTorch does (`torch._tensor_str` with the
//! default print options: precision 4, threshold 1000, edge items 3, line
//! width 80).
//!
//! ```
//! use blocks_core::Tensor;
//! let x = Tensor::arange(1.0, 6.0, 1.0);
//! let centered = &x - x.mean().item();
//! assert_eq!(centered.to_string(), "tensor([-2., -1.,  0.,  1.,  2.])");
//! let m = Tensor::from_vec(vec![0.1234, -0.5, 1.0, 2.25], [2, 2]);
//! assert_eq!(format!("{m}"), "tensor([[ 0.1234, -0.5000],\n        [ 1.0000,  2.2500]])");
//! ```

mod formatter;
mod layout;

use std::fmt::{self, Write};

use crate::{Element, TensorBase};
use formatter::Formatter;
use layout::{Lines, Values};

/// Elements above which a tensor is summarized with `...` (`threshold=1000`).
const THRESHOLD: usize = 1000;
/// Items shown at each end of a summarized dimension (`edgeitems=3`).
const EDGE_ITEMS: usize = 3;
/// Characters per line before a row or the suffixes wrap (`linewidth=80`).
const LINE_WIDTH: usize = 80;
/// What every tensor's printout starts with; its length is the indent.
const PREFIX: &str = "tensor(";

/// Prints like PyTorch's `print(t)`, values, `dtype=`, `requires_grad=True`
/// and `grad_fn=<...>` included. The printout is written straight into the
/// formatter: memory stays linear in the tensor whatever its rank.
///
/// ```
/// use blocks_core::{Tensor, Tensor64};
/// let x = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
/// assert_eq!(x.to_string(), "tensor([1., 2.], requires_grad=True)");
/// assert_eq!((&x * 0.5).sum().to_string(), "tensor(1.5000, grad_fn=<SumBackward0>)");
/// assert_eq!(Tensor64::ones([1]).to_string(), "tensor([1.], dtype=torch.float64)");
/// ```
impl<E: Element> fmt::Display for TensorBase<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_repr(f)
    }
}

/// The same as [`Display`](fmt::Display), as PyTorch's `repr(t)` equals `str(t)`.
///
/// ```
/// let x = blocks_core::Tensor::from_vec(vec![0.5, -1.0], [2]);
/// assert_eq!(format!("{x:?}"), "tensor([ 0.5000, -1.0000])");
/// ```
impl<E: Element> fmt::Debug for TensorBase<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_repr(f)
    }
}

impl<E: Element> TensorBase<E> {
    /// The printout of this tensor as a module parameter, like `print(nn.Parameter(t))`.
    ///
    /// ```
    /// let w = blocks_core::Tensor::from_vec(vec![-0.3457], [1]).requires_grad_(true);
    /// assert_eq!(w.parameter_repr(), "Parameter containing:\ntensor([-0.3457], requires_grad=True)");
    /// ```
    pub fn parameter_repr(&self) -> String {
        format!("Parameter containing:\n{self}")
    }

    /// PyTorch's printout of this mask (the 0/1 result of a comparison) as
    /// the `torch.bool` tensor that PyTorch's comparison gives: nonzero
    /// values are `True`, zeros `False`; no dtype or grad suffix, as PyTorch
    /// prints none for a nonempty bool tensor.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    /// let b = Tensor::from_vec(vec![1.0, 0.0, 3.0], [3]);
    /// assert_eq!(a.eq(&a).mask_repr(), "tensor([True, True, True])");
    /// assert_eq!(a.eq(&b).mask_repr(), "tensor([ True, False,  True])");
    /// ```
    pub fn mask_repr(&self) -> String {
        let mut text = String::new();
        let mut out = Lines { out: &mut text, last_line: 0 };
        let data = self.data();
        let mut suffixes = Vec::new();
        if data.is_empty() {
            if data.ndim() != 1 {
                suffixes.push(format!("size={}", python_tuple(data.shape())));
            }
            suffixes.push("dtype=torch.bool".to_string());
        }
        write_body(&mut out, &data, Style::Bool)
            .and_then(|()| add_suffixes(&mut out, &suffixes))
            .expect("writing to a String cannot fail");
        text
    }

    /// PyTorch's `_str_intern` for a dense CPU tensor.
    fn write_repr<W: Write>(&self, out: W) -> fmt::Result {
        let mut out = Lines { out, last_line: 0 };
        let mut suffixes = Vec::new();
        {
            let data = self.data();
            // Like NumPy, an empty tensor's shape is shown unless it is `(0,)`.
            if data.is_empty() && data.ndim() != 1 {
                suffixes.push(format!("size={}", python_tuple(data.shape())));
            }
            write_body(&mut out, &data, Style::Numbers)?;
        }
        if E::DTYPE != "float32" {
            suffixes.push(format!("dtype=torch.{}", E::DTYPE));
        }
        if let Some(name) = self.grad_fn() {
            suffixes.push(format!("grad_fn=<{name}>"));
        } else if self.requires_grad() {
            suffixes.push("requires_grad=True".to_string());
        }
        add_suffixes(&mut out, &suffixes)
    }
}

/// How the values are written: as numbers, or as a mask's `True`/`False`.
#[derive(Clone, Copy)]
enum Style {
    Numbers,
    Bool,
}

/// `tensor(` and PyTorch's `_tensor_str`: the bracketed values, `[]` when empty.
fn write_body<E: Element, W: Write>(
    out: &mut Lines<W>,
    data: &ndarray::ArrayD<E>,
    style: Style,
) -> fmt::Result {
    out.write_str(PREFIX)?;
    if data.is_empty() {
        return out.write_str("[]");
    }
    let data = data.as_standard_layout();
    let slice = data.as_slice().expect("a standard-layout array is one slice");
    let values = Values::new(slice, data.shape(), data.len() > THRESHOLD);
    let formatter = match style {
        Style::Numbers => Formatter::new(values.visible()),
        Style::Bool => Formatter::booleans(values.visible()),
    };
    values.write(out, PREFIX.len(), &formatter)
}

/// PyTorch's `_add_suffixes`: `, suffix` after the values, or on a new line
/// indented under the values when the line would get too long; then `)`.
fn add_suffixes<W: Write>(out: &mut Lines<W>, suffixes: &[String]) -> fmt::Result {
    // PyTorch counts two more than the last line's length (`len - rfind + 1`,
    // with `rfind` giving -1 when there is no newline); the rule depends on it.
    let mut last_line_len = out.last_line + 2;
    let indent = PREFIX.len();
    for suffix in suffixes {
        if last_line_len + suffix.len() + 2 > LINE_WIDTH {
            out.write_str(",\n")?;
            for _ in 0..indent {
                out.write_char(' ')?;
            }
            last_line_len = indent + suffix.len();
        } else {
            out.write_str(", ")?;
            last_line_len += suffix.len() + 2;
        }
        out.write_str(suffix)?;
    }
    out.write_char(')')
}

/// A shape as Python prints a tuple: `(0, 3)`, `(0,)`, `()`.
fn python_tuple(shape: &[usize]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}
