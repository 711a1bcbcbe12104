//! PyTorch's nested brackets (`_tensor_str_with_formatter`), written straight
//! into the output without recursion and without building sub-strings.
//!
//! The walk keeps one counter per open dimension (which of its shown
//! sub-tensors comes next) and one running offset into the values, so its
//! memory is linear in the rank and independent of the values; separators and
//! indents are written piece by piece. A tensor of rank 100,000 holding one
//! value prints with a few hundred kilobytes, on a thread of any stack size.

use std::fmt::{self, Write};

use super::EDGE_ITEMS;
use super::formatter::Formatter;
use crate::Element;

/// The values of a nonempty tensor in row-major order, with its shape and
/// the strides (in elements) of that order.
pub(super) struct Values<'a, E> {
    pub(super) data: &'a [E],
    pub(super) shape: &'a [usize],
    pub(super) strides: Vec<usize>,
    /// Whether long dimensions are cut to their edge items around `...`.
    pub(super) summarize: bool,
}

impl<'a, E: Element> Values<'a, E> {
    /// The row-major view of `data` (a standard-layout array's slice) with `shape`.
    pub(super) fn new(data: &'a [E], shape: &'a [usize], summarize: bool) -> Self {
        let mut strides = vec![0; shape.len()];
        let mut stride = 1usize;
        for (s, &len) in strides.iter_mut().zip(shape).rev() {
            *s = stride;
            stride = stride.saturating_mul(len);
        }
        Values { data, shape, strides, summarize }
    }

    /// How many entries a dimension of `len` shows, `...` included.
    fn shown_count(&self, len: usize) -> usize {
        if self.summarize && len > 2 * EDGE_ITEMS { 2 * EDGE_ITEMS + 1 } else { len }
    }

    /// The index shown at position `k` of a dimension of `len`, `None` for its `...`.
    fn shown_at(&self, len: usize, k: usize) -> Option<usize> {
        if self.summarize && len > 2 * EDGE_ITEMS {
            match k.cmp(&EDGE_ITEMS) {
                std::cmp::Ordering::Less => Some(k),
                std::cmp::Ordering::Equal => None,
                std::cmp::Ordering::Greater => Some(len - (2 * EDGE_ITEMS + 1) + k),
            }
        } else {
            Some(k)
        }
    }

    /// PyTorch's `get_summarized_data`: the values that stay visible (all of
    /// them when not summarizing), which alone decide the formatting.
    pub(super) fn visible(&self) -> Vec<f64> {
        if !self.summarize {
            return self.data.iter().map(|v| v.as_f64()).collect();
        }
        // An odometer over the visible indices of every dimension (`...` skipped).
        let cut = |len: usize| len > 2 * EDGE_ITEMS;
        let count = |len: usize| if cut(len) { 2 * EDGE_ITEMS } else { len };
        let index =
            |len: usize, j: usize| if cut(len) && j >= EDGE_ITEMS { len - 2 * EDGE_ITEMS + j } else { j };
        let mut counters = vec![0usize; self.shape.len()];
        let mut offset = 0usize;
        let mut out = Vec::new();
        loop {
            out.push(self.data[offset].as_f64());
            let mut d = self.shape.len();
            loop {
                if d == 0 {
                    return out;
                }
                d -= 1;
                let len = self.shape[d];
                offset -= index(len, counters[d]) * self.strides[d];
                counters[d] += 1;
                if counters[d] < count(len) {
                    offset += index(len, counters[d]) * self.strides[d];
                    break;
                }
                counters[d] = 0;
            }
        }
    }

    /// The bracketed values, rows indented by `indent` (+1 per level).
    pub(super) fn write<W: Write>(&self, out: &mut W, indent: usize, formatter: &Formatter) -> fmt::Result {
        let ndim = self.shape.len();
        match ndim {
            0 => return out.write_str(&formatter.format(self.data[0].as_f64())),
            1 => return self.write_row(out, 0, indent, formatter),
            _ => {}
        }
        // counters[level]: the next shown position of the open dimension `level`.
        let mut counters: Vec<usize> = Vec::with_capacity(ndim - 1);
        let mut offset = 0usize;
        out.write_char('[')?;
        counters.push(0);
        while let Some(&k) = counters.last() {
            let level = counters.len() - 1;
            let len = self.shape[level];
            if k == self.shown_count(len) {
                out.write_char(']')?;
                counters.pop();
                if let Some(&parent_k) = counters.last() {
                    let parent = counters.len() - 1;
                    let index = self.shown_at(self.shape[parent], parent_k - 1).unwrap_or(0);
                    offset -= index * self.strides[parent];
                }
                continue;
            }
            if k > 0 {
                out.write_char(',')?;
                repeat(out, '\n', ndim - level - 1)?;
                repeat(out, ' ', indent + level + 1)?;
            }
            counters[level] = k + 1;
            match self.shown_at(len, k) {
                None => out.write_str("...")?,
                Some(i) if level + 2 == ndim => {
                    self.write_row(out, offset + i * self.strides[level], indent + level + 1, formatter)?;
                }
                Some(i) => {
                    offset += i * self.strides[level];
                    out.write_char('[')?;
                    counters.push(0);
                }
            }
        }
        Ok(())
    }

    /// PyTorch's `_vector_str`: the last dimension from `offset`, wrapped to the line width.
    fn write_row<W: Write>(
        &self,
        out: &mut W,
        offset: usize,
        indent: usize,
        formatter: &Formatter,
    ) -> fmt::Result {
        let len = *self.shape.last().expect("a row has a dimension");
        let stride = *self.strides.last().expect("a row has a dimension");
        // Each element takes its width plus ", ".
        let per_line = (super::LINE_WIDTH.saturating_sub(indent) / (formatter.width() + 2)).max(1);
        out.write_char('[')?;
        for k in 0..self.shown_count(len) {
            if k > 0 && k % per_line == 0 {
                out.write_str(",\n")?;
                repeat(out, ' ', indent + 1)?;
            } else if k > 0 {
                out.write_str(", ")?;
            }
            match self.shown_at(len, k) {
                Some(i) => out.write_str(&formatter.format(self.data[offset + i * stride].as_f64()))?,
                None => out.write_str(" ...")?,
            }
        }
        out.write_char(']')
    }
}

/// Writes `c` `count` times, in pieces, allocating nothing.
fn repeat<W: Write>(out: &mut W, c: char, count: usize) -> fmt::Result {
    const SPACES: &str = "                                                                ";
    const NEWLINES: &str = "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n";
    let block = if c == ' ' { SPACES } else { NEWLINES };
    let mut left = count;
    while left > 0 {
        let n = left.min(block.len());
        out.write_str(&block[..n])?;
        left -= n;
    }
    Ok(())
}

/// A sink that remembers the length of its last line, for PyTorch's rule
/// of where the suffixes (`dtype=`, `requires_grad=True`) go.
pub(super) struct Lines<W> {
    pub(super) out: W,
    /// Bytes written since the last newline (or the start).
    pub(super) last_line: usize,
}

impl<W: Write> Write for Lines<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.write_str(s)?;
        match s.rfind('\n') {
            Some(newline) => self.last_line = s.len() - newline - 1,
            None => self.last_line += s.len(),
        }
        Ok(())
    }
}
