//! The path to the `blocks` facade in generated code.
//!
//! Generated code names everything by absolute path from the facade, so it
//! compiles whatever the user has in scope. The facade's name is read from
//! the user's Cargo.toml with `proc-macro-crate`, so renaming the dependency
//! (`nn = { package = "blocks", ... }`) needs nothing more; a crate that
//! re-exports blocks to users who do not depend on it directly can name the
//! path itself with `#[module(crate = "their_crate::blocks")]`.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

/// `::blocks`, or `::whatever_the_user_named_it`.
pub fn facade() -> TokenStream {
    match crate_name("blocks") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        // Inside the facade itself (its doc tests and examples too, which
        // proc-macro-crate cannot tell apart): the facade has
        // `extern crate self as blocks`, so `::blocks` works there as well.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::blocks),
    }
}
