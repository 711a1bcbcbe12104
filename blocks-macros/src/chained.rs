//! `#[module(chain)]`: the block's `Forward` is its block fields run in
//! declaration order, like an `nn.Sequential` whose keys are the field names.
//!
//! The fields are checked by `sequential!`'s chain check ([`chain_check`],
//! one link per field, spanned at the field's type), so a field that cannot
//! take what the field before it gives is one compile error on that field,
//! in a chain's words ("but the block before it gives 256"). The steps that
//! run go through `__private::nested`, whose type is known only once the
//! check holds, so they add no second error. `Input` is what the first field
//! takes (`Entry`), `Output` what the last field gives (`StepOut`, by kinds
//! alone, without the check, so the impl's types add none either).

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
    let (impl_generics, ty_generics, _) = s.generics.split_for_impl();
    let fields: Vec<_> = s.chained().collect();
    let Some(first) = fields.first() else { return TokenStream::new() };
    let first_ty = first.ty;
    // A block generic over its element type `E` takes a plain tensor of `E`
    // when its first field takes every kind.
    let element = match crate::to_element::element_param(s.generics) {
        Some(element) => quote!(#element),
        None => quote!(f32),
    };
    let input = quote_spanned!(first_ty.span()=> <#first_ty as #facade::__private::Entry<#element>>::Input);
    let links: Vec<Link> = fields
        .iter()
        .map(|field| {
            let member = &field.member;
            Link::new(field.ty, quote!(&__net.#member))
        })
        .collect();
    let check = chain_check(facade, &links);
    let mut given = input.clone();
    let mut steps = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let (ty, member) = (field.ty, &field.member);
        let key = LitStr::new(&field.key(), field.key_span());
        let arg = if index == 0 { quote!(__input) } else { quote!(&__x) };
        steps.push(quote! {
            let __x = #facade::__private::within_field(#key, &__net.#member, #arg);
        });
        given = quote_spanned!(ty.span()=> <#ty as #facade::nn::StepOut<#given>>::Out);
    }
    // The header at `chain`; the signature names the types themselves, not
    // `Self::Input`, which a hand-written `impl Forward` beside this one
    // (a conflicting impl, reported once) would make ambiguous.
    let header =
        quote_spanned!(chain.span()=> impl #impl_generics #facade::nn::Forward for #ident #ty_generics);
    quote! {
        #[automatically_derived]
        #header #where_clause {
            type Input = #input;
            type Output = #given;

            #[track_caller]
            fn forward(&self, __input: &#input) -> #given {
                let __net = #facade::__private::nested(self, |__net| #check);
                #(#steps)*
                __x
            }
        }
    }
}
