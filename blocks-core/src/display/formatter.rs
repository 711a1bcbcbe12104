//! PyTorch's `_Formatter`: how one element is written, and the width that
//! every element of a tensor is padded to.
//!
//! The choice between the three styles is PyTorch's, made once per tensor
//! from its nonzero finite values (converted to `f64`, as PyTorch converts to
//! double before comparing):
//!
//! - *integer mode* when every such value is a whole number: `2.`, `-1.`;
//! - *scientific mode* when the largest magnitude is over `1e8`, when the
//!   largest over the smallest is over `1000`, or (outside integer mode) when
//!   the smallest is under `1e-4`: `1.0000e+10`;
//! - otherwise fixed point with four decimals: `0.1234`.
//!
//! A mask printed as PyTorch's `torch.bool` tensor has a fourth style of its
//! own: `True` and `False`, padded to the longer of the two present.

/// Digits after the point, PyTorch's default `precision=4`.
pub(super) const PRECISION: usize = 4;

/// The style and common width chosen for the elements of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Formatter {
    /// Values are a mask's 0 and nonzero, written `False` and `True`.
    bool_mode: bool,
    int_mode: bool,
    sci_mode: bool,
    max_width: usize,
}

impl Formatter {
    /// Chooses the style and width for `values` (all elements of the tensor,
    /// or the summarized ones when the tensor is summarized).
    pub(super) fn new(values: impl IntoIterator<Item = f64>) -> Self {
        let mut formatter = Formatter { bool_mode: false, int_mode: true, sci_mode: false, max_width: 1 };
        let nonzero_finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite() && *v != 0.0).collect();
        if nonzero_finite.is_empty() {
            return formatter;
        }
        let (min, max) = nonzero_finite
            .iter()
            .map(|v| v.abs())
            .fold((f64::INFINITY, 0.0f64), |(min, max), v| (min.min(v), max.max(v)));
        formatter.int_mode = nonzero_finite.iter().all(|v| *v == v.ceil());
        let wide_range = max / min > 1000.0 || max > 1.0e8;
        formatter.sci_mode = if formatter.int_mode { wide_range } else { wide_range || min < 1.0e-4 };
        for &value in &nonzero_finite {
            let width = if formatter.sci_mode {
                scientific(value).len()
            } else if formatter.int_mode {
                fixed(value, 0).len() + 1
            } else {
                fixed(value, PRECISION).len()
            };
            formatter.max_width = formatter.max_width.max(width);
        }
        formatter
    }

    /// The style of a mask shown as `torch.bool`: every value is `True`
    /// (nonzero) or `False`, padded to the longest one present, as PyTorch
    /// pads `str(value)` of a bool tensor.
    pub(super) fn booleans(values: impl IntoIterator<Item = f64>) -> Self {
        let any_false = values.into_iter().any(|v| v == 0.0);
        Formatter {
            bool_mode: true,
            int_mode: false,
            sci_mode: false,
            max_width: if any_false { 5 } else { 4 },
        }
    }

    /// The width every element is right-aligned to.
    pub(super) fn width(&self) -> usize {
        self.max_width
    }

    /// One element, right-aligned to [`width`](Self::width) (longer strings,
    /// such as `nan` among integers, are left as they are).
    pub(super) fn format(&self, value: f64) -> String {
        let text = if self.bool_mode {
            (if value != 0.0 { "True" } else { "False" }).to_string()
        } else if self.sci_mode {
            scientific(value)
        } else if self.int_mode {
            let mut text = fixed(value, 0);
            if value.is_finite() {
                text.push('.');
            }
            text
        } else {
            fixed(value, PRECISION)
        };
        format!("{text:>width$}", width = self.max_width)
    }
}

/// Python's `"{:.Nf}".format(value)`: correctly rounded, `nan`, `inf`, `-inf`.
fn fixed(value: f64, precision: usize) -> String {
    match non_finite(value) {
        Some(text) => text.to_string(),
        None => format!("{value:.precision$}"),
    }
}

/// Python's `"{:.4e}".format(value)`: `1.2346e+05`, with a sign and at least
/// two digits in the exponent.
fn scientific(value: f64) -> String {
    if let Some(text) = non_finite(value) {
        return text.to_string();
    }
    let rust = format!("{value:.PRECISION$e}");
    let (mantissa, exponent) = rust.split_once('e').expect("Rust's LowerExp always writes an exponent");
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

fn non_finite(value: f64) -> Option<&'static str> {
    if value.is_nan() {
        Some("nan")
    } else if value == f64::INFINITY {
        Some("inf")
    } else if value == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_number_formats() {
        assert_eq!(scientific(123456.0), "1.2346e+05");
        assert_eq!(scientific(-1e-5), "-1.0000e-05");
        assert_eq!(scientific(1e100), "1.0000e+100");
        assert_eq!(scientific(0.0), "0.0000e+00");
        assert_eq!(fixed(0.125, 2), "0.12");
        assert_eq!(fixed(-0.0, 0), "-0");
        assert_eq!(fixed(f64::NAN, 4), "nan");
        assert_eq!(fixed(f64::NEG_INFINITY, 4), "-inf");
    }

    #[test]
    fn chooses_pytorch_modes() {
        let f = Formatter::new([1.0, -2.0, 0.0]);
        assert_eq!((f.int_mode, f.sci_mode, f.width()), (true, false, 3));
        let f = Formatter::new([0.5, 1e-5]);
        assert_eq!((f.int_mode, f.sci_mode, f.width()), (false, true, 10));
        let f = Formatter::new([1.0, 1e9]);
        assert_eq!((f.int_mode, f.sci_mode), (true, true));
        let f = Formatter::new([f64::NAN, f64::INFINITY]);
        assert_eq!((f.int_mode, f.sci_mode, f.width()), (true, false, 1));
        let f = Formatter::booleans([1.0, 0.0]);
        assert_eq!((f.format(1.0), f.format(0.0)), (" True".to_string(), "False".to_string()));
        assert_eq!(Formatter::booleans([1.0]).width(), 4);
    }
}
