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

use std::fmt;
use std::iter;

use ndarray::{ArrayViewD, Axis};

use crate::{Element, TensorBase};
use formatter::Formatter;

/// Elements above which a tensor is summarized with `...` (`threshold=1000`).
const THRESHOLD: usize = 1000;
/// Items shown at each end of a summarized dimension (`edgeitems=3`).
const EDGE_ITEMS: usize = 3;
/// Characters per line before a row or the suffixes wrap (`linewidth=80`).
const LINE_WIDTH: usize = 80;
/// What every tensor's printout starts with; its length is the indent.
const PREFIX: &str = "tensor(";

/// Prints like PyTorch's `print(t)`, values, `dtype=`, `requires_grad=True`
/// and `grad_fn=<...>` included.
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
        f.write_str(&self.repr())
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
        f.write_str(&self.repr())
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
        format!("Parameter containing:\n{}", self.repr())
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
        let indent = PREFIX.len();
        let data = self.data();
        if data.is_empty() {
            let mut suffixes = Vec::new();
            if data.ndim() != 1 {
                suffixes.push(format!("size={}", python_tuple(data.shape())));
            }
            suffixes.push("dtype=torch.bool".to_string());
            return add_suffixes(format!("{PREFIX}[]"), &suffixes, indent);
        }
        let body = tensor_str(data.view(), indent, Style::Bool);
        add_suffixes(format!("{PREFIX}{body}"), &[], indent)
    }

    /// PyTorch's `_str_intern` for a dense CPU tensor.
    fn repr(&self) -> String {
        let indent = PREFIX.len();
        let mut suffixes = Vec::new();
        let body = {
            let data = self.data();
            if data.is_empty() {
                // Like NumPy, the shape is shown unless it is `(0,)`.
                if data.ndim() != 1 {
                    suffixes.push(format!("size={}", python_tuple(data.shape())));
                }
                "[]".to_string()
            } else {
                tensor_str(data.view(), indent, Style::Numbers)
            }
        };
        if E::DTYPE != "float32" {
            suffixes.push(format!("dtype=torch.{}", E::DTYPE));
        }
        if let Some(name) = self.grad_fn() {
            suffixes.push(format!("grad_fn=<{name}>"));
        } else if self.requires_grad() {
            suffixes.push("requires_grad=True".to_string());
        }
        add_suffixes(format!("{PREFIX}{body}"), &suffixes, indent)
    }
}

/// How the values are written: as numbers, or as a mask's `True`/`False`.
#[derive(Clone, Copy)]
enum Style {
    Numbers,
    Bool,
}

/// PyTorch's `_tensor_str`: the bracketed values of a nonempty tensor.
fn tensor_str<E: Element>(view: ArrayViewD<'_, E>, indent: usize, style: Style) -> String {
    let summarize = view.len() > THRESHOLD;
    let values = if summarize {
        let mut values = Vec::new();
        summarized_values(&view, &mut values);
        values
    } else {
        view.iter().map(|v| v.as_f64()).collect()
    };
    let formatter = match style {
        Style::Numbers => Formatter::new(values),
        Style::Bool => Formatter::booleans(values),
    };
    nested_str(&view, indent, summarize, &formatter)
}

/// PyTorch's `get_summarized_data`: the values that stay visible when the
/// tensor is summarized, which alone decide the formatting.
fn summarized_values<E: Element>(view: &ArrayViewD<'_, E>, out: &mut Vec<f64>) {
    if view.ndim() == 0 {
        out.extend(view.iter().map(|v| v.as_f64()));
        return;
    }
    for i in shown_indices(view.len_of(Axis(0)), true).into_iter().flatten() {
        summarized_values(&view.index_axis(Axis(0), i), out);
    }
}

/// The indices along a dimension of length `len`, with `None` where PyTorch
/// puts `...` (only when summarizing a dimension longer than twice the edge items).
fn shown_indices(len: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && len > 2 * EDGE_ITEMS {
        (0..EDGE_ITEMS).map(Some).chain(iter::once(None)).chain((len - EDGE_ITEMS..len).map(Some)).collect()
    } else {
        (0..len).map(Some).collect()
    }
}

/// PyTorch's `_tensor_str_with_formatter`: a scalar, a row, or nested rows
/// separated by `dim - 1` newlines.
fn nested_str<E: Element>(
    view: &ArrayViewD<'_, E>,
    indent: usize,
    summarize: bool,
    formatter: &Formatter,
) -> String {
    match view.ndim() {
        0 => formatter.format(view.iter().next().expect("a 0-d tensor has one value").as_f64()),
        1 => vector_str(view, indent, summarize, formatter),
        ndim => {
            let slices: Vec<String> = shown_indices(view.len_of(Axis(0)), summarize)
                .into_iter()
                .map(|index| match index {
                    Some(i) => nested_str(&view.index_axis(Axis(0), i), indent + 1, summarize, formatter),
                    None => "...".to_string(),
                })
                .collect();
            let separator = format!(",{}{}", "\n".repeat(ndim - 1), " ".repeat(indent + 1));
            format!("[{}]", slices.join(&separator))
        }
    }
}

/// PyTorch's `_vector_str`: one row, wrapped to the line width.
fn vector_str<E: Element>(
    view: &ArrayViewD<'_, E>,
    indent: usize,
    summarize: bool,
    formatter: &Formatter,
) -> String {
    // Each element takes its width plus ", ".
    let element_length = formatter.width() + 2;
    let elements_per_line = (LINE_WIDTH.saturating_sub(indent) / element_length).max(1);
    let data: Vec<String> = shown_indices(view.len(), summarize)
        .into_iter()
        .map(|index| match index {
            Some(i) => formatter.format(view[[i]].as_f64()),
            None => " ...".to_string(),
        })
        .collect();
    let lines: Vec<String> = data.chunks(elements_per_line).map(|line| line.join(", ")).collect();
    format!("[{}]", lines.join(&format!(",\n{}", " ".repeat(indent + 1))))
}

/// PyTorch's `_add_suffixes`: `, suffix` after the values, or on a new line
/// indented under the values when the line would get too long.
fn add_suffixes(mut text: String, suffixes: &[String], indent: usize) -> String {
    // PyTorch counts two more than the last line's length (`len - rfind + 1`,
    // with `rfind` giving -1 when there is no newline); the rule depends on it.
    let mut last_line_len = match text.rfind('\n') {
        Some(newline) => text.len() - newline + 1,
        None => text.len() + 2,
    };
    for suffix in suffixes {
        if last_line_len + suffix.len() + 2 > LINE_WIDTH {
            text.push_str(",\n");
            text.push_str(&" ".repeat(indent));
            last_line_len = indent + suffix.len();
        } else {
            text.push_str(", ");
            last_line_len += suffix.len() + 2;
        }
        text.push_str(suffix);
    }
    text.push(')');
    text
}

/// A shape as Python prints a tuple: `(0, 3)`, `(0,)`, `()`.
fn python_tuple(shape: &[usize]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}
