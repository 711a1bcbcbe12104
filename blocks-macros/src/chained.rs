//! `#[module(chain)]`: the block's `Forward` is its block fields run in
//! declaration order, like an `nn.Sequential` whose keys are the field names.
//!
//! Each step is emitted at the field's type, so a field that cannot take what
//! the field before it gives is a compile error on that field (the width
//! message of `SameWidth`, the channel message of `SameChannels`). `Input`
//! is what the first field takes (`Entry`), `Output` what the last field
//! gives (`Gives`).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type, WhereClause};

use crate::ast::Struct;
use crate::sequential::spanned_call;

/// `impl Forward` for a chained struct (at least one chained field and no
/// type parameters, checked by `valid`; const parameters are fine).
pub fn forward(
    s: &Struct,
    chain: &Ident,
    where_clause: &Option<WhereClause>,
    facade: &TokenStream,
) -> TokenStream {
    let ident = s.ident;
    let (impl_generics, ty_generics, _) = s.generics.split_for_impl();
    let fields: Vec<_> = s.chained().collect();
    let Some(first) = fields.first() else { return TokenStream::new() };
    let first_ty = first.ty;
    let input = quote_spanned!(first_ty.span()=> <#first_ty as #facade::__private::Entry>::Input);
    // The output is named through `Gives`, which holds whether or not a
    // field fits, so that the only error is the step's, at the field.
    let mut given = input.clone();
    let mut steps = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let (ty, member) = (field.ty, &field.member);
        let span = ty.span();
        let key = LitStr::new(&field.key(), field.key_span());
        let arg = if index == 0 { quote!(__input) } else { quote!(&__x) };
        let (first_token, last_token) = ends(ty);
        let run =
            spanned_call(quote!(#facade::nn::run), quote!(&self.#member, #arg), first_token, last_token);
        steps.push(quote_spanned! {span=>
            let __x = #facade::__private::within_field(#key, || #run);
        });
        given = quote_spanned!(span=> <#ty as #facade::__private::Gives<#given>>::Out);
    }
    // The header at `chain`, so that a hand-written `impl Forward` is
    // reported as conflicting with the flag; the signature names the types
    // themselves, not `Self::Input`, which that conflict makes ambiguous.
    let header =
        quote_spanned!(chain.span()=> impl #impl_generics #facade::nn::Forward for #ident #ty_generics);
    quote! {
        #[automatically_derived]
        #header #where_clause {
            type Input = #input;
            type Output = #given;

            #[track_caller]
            fn forward(&self, __input: &#input) -> #given {
                #(#steps)*
                __x
            }
        }
    }
}

/// The spans of the first and last tokens of `ty`.
fn ends(ty: &Type) -> (Span, Span) {
    let tokens: Vec<TokenTree> = ty.to_token_stream().into_iter().collect();
    let first = tokens.first().map_or_else(|| ty.span(), TokenTree::span);
    let last = match tokens.last() {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(other) => other.span(),
        None => first,
    };
    (first, last)
}
