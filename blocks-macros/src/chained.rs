//! `#[module(chain)]`: the block's `Forward` is its block fields run in
//! declaration order, like an `nn.Sequential` whose keys are the field names.
//!
//! The fields are checked by `sequential!`'s chain check ([`chain_check`],
//! one link per field, spanned at the field's type), so a field that cannot
//! take what the field before it gives is one compile error on that field,
//! in a chain's words ("but the block before it gives 256"). The steps that
//! run go through `__private::nested`, whose type is known only once the
//! check holds, so they add no second error. The block takes what its first
//! field takes (`Forward<G>` for every `G` the fields run on in turn, and
//! the first field's `Takes`), and gives what its last field gives.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, WhereClause};

use crate::ast::Struct;
use crate::chain::{Link, chain_check};

/// `impl Forward` for a chained struct (at least one chained field and no
/// type parameter but one element type `E: Element`, checked by `valid`;
/// const parameters are fine). The check and the steps are written over
/// `E` itself: every block of either element type takes what its element
/// type gives.
pub fn forward(
    s: &Struct,
    chain: &Ident,
    where_clause: &Option<WhereClause>,
    facade: &TokenStream,
) -> TokenStream {
    let ident = s.ident;
    let (_, ty_generics, _) = s.generics.split_for_impl();
    let fields: Vec<_> = s.chained().collect();
    let Some(first) = fields.first() else { return TokenStream::new() };
    let first_ty = first.ty;
    let input = quote!(__G);
    let links: Vec<Link> = fields
        .iter()
        .map(|field| {
            let member = &field.member;
            Link::new(field.ty, quote!(&__net.#member))
        })
        .collect();
    let check = chain_check(facade, &links);
    let mut clause = where_clause.clone().unwrap_or_else(|| syn::parse_quote!(where));
    clause.predicates.push(syn::parse_quote!(#input: #facade::nn::HookValue));
    let mut given = input.clone();
    let mut steps = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let (ty, member) = (field.ty, &field.member);
        let key = LitStr::new(&field.key(), field.key_span());
        let arg = if index == 0 { quote!(__input) } else { quote!(&__x) };
        steps.push(quote! {
            let __x = #facade::__private::within_field(#key, &__net.#member, #arg);
        });
        clause
            .predicates
            .push(syn::parse_quote_spanned!(ty.span()=> #ty: #facade::nn::Forward<#given> + 'static));
        given = quote_spanned!(ty.span()=> <#ty as #facade::nn::Forward<#given>>::Output);
        clause.predicates.push(syn::parse_quote!(#given: #facade::nn::HookValue));
    }
    let mut generics = s.generics.clone();
    generics.params.push(syn::parse_quote!(#input));
    let (impl_generics, _, _) = generics.split_for_impl();
    let (plain_impl_generics, _, _) = s.generics.split_for_impl();
    // The header at `chain`, so that an `impl Forward` written beside this
    // one (a conflicting impl) is reported there.
    let header = quote_spanned!(chain.span()=> impl #impl_generics #facade::nn::Forward<#input> for #ident #ty_generics);
    quote! {
        #[automatically_derived]
        #header #clause {
            type Output = #given;

            #[track_caller]
            fn forward(&self, __input: &#input) -> #given {
                let __net = #facade::__private::nested(self, |__net| #check);
                #(#steps)*
                __x
            }
        }

        #[automatically_derived]
        impl #plain_impl_generics #facade::nn::Takes for #ident #ty_generics #where_clause {
            type Inputs = <#first_ty as #facade::nn::Takes>::Inputs;
        }
    }
}
