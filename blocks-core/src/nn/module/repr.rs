//! PyTorch's printout of a module tree (`nn.Module.__repr__`).

use std::fmt;

use crate::nn::Module;
use crate::nn::ModuleExt;

/// Writes PyTorch's repr of `module`: one-line leaves such as
/// `Linear(in_features=20, out_features=256, bias=True)`, children indented
/// two spaces as `(name): ...`. `#[derive(Module)]` makes `Display` call it.
///
/// ```
/// use blocks_core::nn::{module_repr, Linear, ReLU, Sequential};
/// let net = Sequential::new((Linear::<20, 256>::new(), ReLU));
/// assert_eq!(
///     module_repr(&net),
///     "Sequential(\n  (0): Linear(in_features=20, out_features=256, bias=True)\n  (1): ReLU()\n)"
/// );
/// ```
pub fn module_repr(module: &dyn Module) -> String {
    let extra = module.extra_repr();
    let extra_lines: Vec<&str> = if extra.is_empty() { Vec::new() } else { extra.split('\n').collect() };
    let children: Vec<(String, String)> =
        module.named_children().into_iter().map(|(name, child)| (name, module_repr(child))).collect();
    let children = if module.type_name() == "ModuleList" { repeats_folded(children) } else { children };
    let child_lines: Vec<String> = children
        .into_iter()
        .map(|(name, repr)| format!("({name}): {}", indent_after_first_line(&repr, 2)))
        .collect();
    let mut out = format!("{}(", module.type_name());
    if extra_lines.len() == 1 && child_lines.is_empty() {
        out.push_str(extra_lines[0]);
    } else if !extra_lines.is_empty() || !child_lines.is_empty() {
        let lines: Vec<&str> =
            extra_lines.iter().copied().chain(child_lines.iter().map(String::as_str)).collect();
        out.push_str("\n  ");
        out.push_str(&lines.join("\n  "));
        out.push('\n');
    }
    out.push(')');
    out
}

/// [`module_repr`] into a formatter, for `Display` impls.
///
/// ```
/// use std::fmt;
/// struct Mine(blocks_core::nn::ReLU);
/// impl fmt::Display for Mine {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         blocks_core::nn::fmt_module(&self.0, f)
///     }
/// }
/// assert_eq!(Mine(blocks_core::nn::ReLU).to_string(), "ReLU()");
/// ```
pub fn fmt_module(module: &dyn Module, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&module_repr(module))
}

/// PyTorch's `_addindent`: every line but the first gets `spaces` more.
fn indent_after_first_line(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    let mut lines = text.split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(line);
    }
    out
}

/// `nn.ModuleList`'s printout: a run of children that print the same is
/// one entry, `(0-2): 3 x Linear(...)`, as PyTorch's `ModuleList.__repr__`.
fn repeats_folded(children: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String, String, usize)> = Vec::new();
    for (name, repr) in children {
        match runs.last_mut() {
            Some((_, last, last_repr, count)) if *last_repr == repr => {
                *last = name;
                *count += 1;
            }
            _ => runs.push((name.clone(), name, repr, 1)),
        }
    }
    runs.into_iter()
        .map(|(first, last, repr, count)| match count {
            1 => (first, repr),
            _ => (format!("{first}-{last}"), format!("{count} x {repr}")),
        })
        .collect()
}
