//! Procedural macros for blocks: `#[derive(Module)]` and `sequential!`.
//!
//! Use them through the `blocks` crate (`use blocks::prelude::*`), whose
//! documentation has runnable examples. Layout: `ast` is the model of a
//! derive input, `attr` parses `#[module(...)]`, `valid` checks the model,
//! `expand` emits the impls; `sequential` is the function-like macro
//! behind the facade's `sequential!`.

#![forbid(unsafe_code)]

mod ast;
mod attr;
mod chain;
mod chained;
mod errors;
mod expand;
mod krate;
mod sequential;
mod to_element;
mod valid;

use proc_macro::TokenStream;

/// Makes a struct a block, like subclassing `nn.Module`: generates
/// `impl Module` (parameters, buffers and children reported in field order,
/// under the field names), `impl Display` (PyTorch's repr), and from the
/// its `Takes` (one `Forward` impl, or `AnyInput` with `#[module(any_input)]`)
/// and an inherent `forward` that takes its `Forward` input or, for a block
/// with one `impl Forward<Input>`, what feeds into it (a plain `Tensor`,
/// checked at run time), like `net(X)`, and runs through `blocks::nn::run`,
/// hooks included (a typed argument of the wrong size is a compile error at
/// the call: "`Net` takes 4 input features, but the argument has 5"). (So a derived
/// block's forward is written as `impl Forward<Input>`, not as an inherent
/// `fn forward`.)
///
/// Fields are registered by type: a block (anything implementing `Module`,
/// also `Box<M>`, `Box<dyn Module>`, and `Vec<M>` or `[M; N]` as PyTorch's
/// `nn.ModuleList`), a `Parameter`, or an `Option` of either (absent when
/// `None`), a `TrainingFlag` (the block's own `self.training`, set by
/// `train()`/`eval()` on any ancestor), and `Hooks` (the block's own forward
/// hooks, PyTorch's `_forward_hooks`: a block gets hooks with a field
/// `hooks: Hooks`). Any other field needs an attribute,
/// or it is a compile error on its type:
///
/// - `#[module(buffer)]` on a `Tensor` or `Option<Tensor>`: saved with the
///   model, never trained (PyTorch's `register_buffer`);
/// - `#[module(skip)]`: plain data, neither trained nor saved;
/// - `#[module(rename = "fc1")]`: the field's key (no dots, not empty);
/// - `#[module(flatten)]` on a `Vec` or array of blocks: its blocks are
///   registered at the struct's level, keyed `0`, `1`, ... (PyTorch's
///   `add_module(str(idx), module)`; one such field, no numeric keys beside).
///
/// On the struct: `#[module(name = "MLP")]` sets the printed class name (the
/// struct's name by default); `#[module(chain)]` writes the block's
/// `Forward` as its block fields run in declaration order (each checked
/// against the one before it, the error on the field that does not fit);
/// `#[module(keeps_width)]` makes a layer whose
/// forward keeps the width (its `impl Forward<Tensor>` giving a `Tensor`)
/// take every tensor kind and give back the kind it was given, as `ReLU` does;
/// `#[module(any_input)]` says the block's `Forward` is generic over what it
/// takes (`impl<K: FeedsInto<Batch<20>, Self>> Forward<K>`), so it takes every
/// such kind in a chain and in a `Box<dyn Block>`;
/// `#[module(input = "Batch<IN, E>")]` is `any_input` with the block's own
/// input named, so that a chain and a call word a mismatch in their terms,
/// naming the block ("takes 128 input features, but the block before it
/// gives 256");
/// `#[module(extra_repr = "Self::settings")]` names a `fn(&Self) -> String`
/// giving PyTorch's `extra_repr` (the settings in the printout);
/// `#[module(transparent)]` makes a typed front over its one block field
/// (`Linear<I, O>` over `DynLinear`: the field's name, printout and members);
/// `#[module(manual)]` is for a block that writes `impl Module` itself (the
/// derive then writes only `Takes`, `forward` and `Display`);
/// `#[module(crate = "path::to::blocks")]` names
/// the facade's path (`::blocks` by default) for a dependency renamed in
/// Cargo.toml or a crate that re-exports it.
///
/// Every struct whose fields have a deep copy also gets `DeepCopy`:
/// `net.deep_copy()` is PyTorch's `copy.deepcopy(net)`, built field by field.
/// A struct generic over its element type (`struct Net<E: Element = f32>`
/// with fields such as `Linear<20, 256, E>`, `Parameter<E>`) also gets
/// `MapElement`: `net.to_f64()` is the model in float64 (PyTorch's
/// `net.double()`). A struct that is not generic cannot change its fields'
/// types, so it gets no conversion (`.to_f64()` on it is an error saying
/// so): add `<E: Element = f32>` to it.
///
/// Examples: see `blocks::Module`.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

/// What `blocks::sequential![a, b, c]` expands to, as
/// `sequential_impl!{ $crate; a, b, c }`: the blocks run in order, like
/// `nn.Sequential(a, b, c)`, with the compiler checking that each block takes
/// what the one before it gives (a width mismatch is an error on the block
/// that does not fit). The path before the `;` names the `blocks` facade, so
/// a renamed dependency needs nothing more.
///
/// Any number of blocks, a trailing comma allowed. Named entries
/// (`sequential![hidden: a, act: b]`, PyTorch's `OrderedDict` form) key the
/// blocks by name and reach them as `net.hidden`; name every block or none,
/// each name once.
///
/// Examples: see `blocks::sequential`.
#[proc_macro]
pub fn sequential_impl(input: TokenStream) -> TokenStream {
    sequential::expand(input.into()).into()
}
