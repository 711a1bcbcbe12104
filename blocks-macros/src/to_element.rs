//! Emitting `ToElement` (`net.to_f64()`, PyTorch's `net.double()`) for a
//! derived block generic over its element type: `struct Net<E: Element = f32>`.
//!
//! A struct that is not generic over an element type cannot change its
//! fields' types, so it gets nothing; neither does a struct with other type
//! parameters (their blocks' element types are not known here). Fields whose
//! type names the element type are converted (`ToElement::convert`, an
//! error on the field's type if it has no float64 form); the others, skipped
//! fields and training flags included, are cloned, which inside a conversion
//! copies (ties kept).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, Ident, TypeParamBound};

use crate::ast::{Kind, Struct};

/// `impl ToElement` for `s`, or nothing when it is not generic over exactly
/// one element type (a type parameter bounded by `Element`) alone.
pub fn to_element(s: &Struct, facade: &TokenStream) -> TokenStream {
    let Some(element) = element_param(s.generics) else { return TokenStream::new() };
    let ident = s.ident;
    let (impl_generics, ty_generics, where_clause) = s.generics.split_for_impl();
    let target = Ident::new("__F", element.span());
    let converted_args = s.generics.params.iter().map(|param| match param {
        GenericParam::Type(t) if t.ident == *element => quote!(#target),
        GenericParam::Type(t) => {
            let ident = &t.ident;
            quote!(#ident)
        }
        GenericParam::Lifetime(l) => {
            let lifetime = &l.lifetime;
            quote!(#lifetime)
        }
        GenericParam::Const(c) => {
            let ident = &c.ident;
            quote!(#ident)
        }
    });
    let as_ty = quote!(#ident<#(#converted_args),*>);
    let params = std::iter::once(element.clone()).collect();
    let fields = s.fields.iter().map(|field| {
        let member = &field.member;
        let ty = field.ty;
        let value = match field.kind() {
            Kind::Registered | Kind::Buffer if crate::expand::mentions(ty, &params) => {
                quote_spanned! {ty.span()=>
                    <#ty as #facade::nn::ToElement>::convert::<#target>(&self.#member)
                }
            }
            Kind::Skip if crate::expand::mentions(ty, &params) => quote_spanned! {ty.span()=>
                ::core::default::Default::default()
            },
            _ => quote_spanned! {ty.span()=> ::core::clone::Clone::clone(&self.#member) },
        };
        quote!(#member: #value)
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #facade::nn::ToElement for #ident #ty_generics #where_clause {
            type As<#target: #facade::Element> = #as_ty;

            fn convert<#target: #facade::Element>(&self) -> #as_ty {
                #ident { #(#fields),* }
            }
        }
    }
}

/// The struct's one type parameter, if it is bounded by `Element` (any path
/// ending in `Element`) and there is no other type parameter.
fn element_param(generics: &syn::Generics) -> Option<&Ident> {
    let mut types = generics.type_params();
    let param = types.next()?;
    if types.next().is_some() {
        return None;
    }
    let bounded = |bound: &TypeParamBound| match bound {
        TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Element"),
        _ => false,
    };
    let in_where = generics.where_clause.iter().flat_map(|w| &w.predicates).any(|p| match p {
        syn::WherePredicate::Type(t) => {
            matches!(&t.bounded_ty, syn::Type::Path(p) if p.path.is_ident(&param.ident))
                && t.bounds.iter().any(bounded)
        }
        _ => false,
    });
    (param.bounds.iter().any(bounded) || in_where).then_some(&param.ident)
}
