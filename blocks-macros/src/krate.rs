//! The path to the `blocks` facade in generated code.
//!
//! Generated code names everything by absolute path from the facade, so it
//! compiles whatever the user has in scope. `sequential!` is a `macro_rules`
//! wrapper in the facade that hands its `$crate` to the proc macro, so it
//! works under any name. `#[derive(Module)]` names `::blocks`; a renamed
//! dependency, or a crate that re-exports blocks to users who do not depend
//! on it directly, names the path with `#[module(crate = "path::to::blocks")]`
//! (as thiserror and serde do).

use proc_macro2::TokenStream;
use quote::quote;

/// `::blocks`: the facade's path when the derive is not told another.
pub fn facade() -> TokenStream {
    quote!(::blocks)
}
