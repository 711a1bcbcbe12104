//! `Vec<M>` and `[M; N]` as blocks: PyTorch's `nn.ModuleList`, children
//! `0`, `1`, ... (so a field `blocks` gives keys `blocks.0.weight`).

use crate::nn::{Module, Visitor};

/// A list of blocks, like `nn.ModuleList`: child `i` is element `i`.
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, module_repr};
/// let layers = vec![Linear::<2, 2>::new(), Linear::<2, 2>::new()];
/// let names: Vec<String> = layers.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias"]);
/// assert!(module_repr(&layers).starts_with("ModuleList(\n  (0): Linear("));
/// ```
#[diagnostic::do_not_recommend]
impl<M: Module> Module for Vec<M> {
    fn type_name(&self) -> String {
        "ModuleList".into()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        visit_list(self, visitor);
    }
}

/// A fixed number of blocks, like an `nn.ModuleList` of `N` blocks.
///
/// ```
/// use blocks_core::nn::{Module, ModuleExt, ReLU, module_repr};
/// let acts = [ReLU, ReLU];
/// assert_eq!(module_repr(&acts), "ModuleList(\n  (0-1): 2 x ReLU()\n)"); // as PyTorch folds repeats
/// ```
#[diagnostic::do_not_recommend]
impl<M: Module, const N: usize> Module for [M; N] {
    fn type_name(&self) -> String {
        "ModuleList".into()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        visit_list(self, visitor);
    }
}

fn visit_list<'m, M: Module>(blocks: &'m [M], visitor: &mut dyn Visitor<'m>) {
    for (index, block) in blocks.iter().enumerate() {
        visitor.child(&index.to_string(), block);
    }
}
