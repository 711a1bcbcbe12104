//! Emitting the structural maps of a derived block: `DeepCopy`
//! (`net.deep_copy()`, PyTorch's `copy.deepcopy(net)`) for every struct whose
//! fields have it, and `MapElement` (`net.to_f64()`, PyTorch's
//! `net.double()`) for a struct generic over its element type:
//! `struct Net<E: Element = f32>`.
//!
//! Both build the struct anew, field by field, passing on the call's
//! `Mapper` (which keeps ties). A struct that is not generic over an element
//! type cannot change its fields' types, so it gets no `MapElement`; neither
//! does a struct with other type parameters (their blocks' element types
//! are not known here). In `MapElement`, fields whose type names the element
//! type are converted (an error on the field's type if it has no float64
//! form); the other registered fields are deep-copied, and skipped fields
//! cloned.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, Ident, TypeParamBound, WherePredicate};

use crate::ast::{Kind, Struct};

/// `impl DeepCopy` for `s`: each registered field deep-copied, each skipped
/// field cloned. The field types are bounds of the impl (under `for<'__a>`,
/// so that a concrete type without a deep copy is no error: the struct then
/// simply has none, as a struct holding a block written by hand).
pub fn deep_copy(s: &Struct, facade: &TokenStream) -> TokenStream {
    let ident = s.ident;
    let mut generics = s.generics.clone();
    let predicates = s.fields.iter().map(|field| -> WherePredicate {
        let ty = field.ty;
        match field.kind() {
            Kind::Skip => syn::parse_quote!(for<'__a> #ty: ::core::clone::Clone),
            _ => syn::parse_quote!(for<'__a> #ty: #facade::nn::DeepCopy),
        }
    });
    generics.make_where_clause().predicates.extend(predicates.collect::<Vec<_>>());
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let fields = s.fields.iter().map(|field| {
        let member = &field.member;
        let ty = field.ty;
        let value = match field.kind() {
            Kind::Skip => quote_spanned! {ty.span()=> ::core::clone::Clone::clone(&self.#member) },
            _ => quote_spanned! {ty.span()=>
                <#ty as #facade::nn::DeepCopy>::deep_copy_with(&self.#member, __mapper)
            },
        };
        quote!(#member: #value)
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #facade::nn::DeepCopy for #ident #ty_generics #where_clause {
            fn deep_copy_with(&self, __mapper: &mut #facade::nn::Mapper) -> Self {
                #ident { #(#fields),* }
            }
        }
    }
}

/// `impl MapElement` for `s`, or nothing when it is not generic over exactly
/// one element type (a type parameter bounded by `Element`) alone.
pub fn to_element(s: &Struct, facade: &TokenStream) -> TokenStream {
    let deep_copy = deep_copy(s, facade);
    if s.element_free() {
        // Settings only: the same block in every element type.
        let ident = s.ident;
        let (impl_generics, ty_generics, where_clause) = s.generics.split_for_impl();
        return quote! {
            #deep_copy

            #[automatically_derived]
            impl #impl_generics #facade::nn::MapElement for #ident #ty_generics #where_clause {
                type As<__F: #facade::Element> = Self;

                fn map_element<__F: #facade::Element>(&self, __mapper: &mut #facade::nn::Mapper) -> Self {
                    #facade::nn::DeepCopy::deep_copy_with(self, __mapper)
                }
            }
        };
    }
    let Some(element) = element_param(s.generics) else { return deep_copy };
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
                    <#ty as #facade::nn::MapElement>::map_element::<#target>(&self.#member, __mapper)
                }
            }
            Kind::Skip if crate::expand::mentions(ty, &params) => quote_spanned! {ty.span()=>
                ::core::default::Default::default()
            },
            Kind::Skip => quote_spanned! {ty.span()=> ::core::clone::Clone::clone(&self.#member) },
            _ => quote_spanned! {ty.span()=>
                <#ty as #facade::nn::DeepCopy>::deep_copy_with(&self.#member, __mapper)
            },
        };
        quote!(#member: #value)
    });
    quote! {
        #deep_copy

        #[automatically_derived]
        impl #impl_generics #facade::nn::MapElement for #ident #ty_generics #where_clause {
            type As<#target: #facade::Element> = #as_ty;

            fn map_element<#target: #facade::Element>(&self, __mapper: &mut #facade::nn::Mapper) -> #as_ty {
                #ident { #(#fields),* }
            }
        }
    }
}

/// The struct's one type parameter, if it is bounded by `Element` (any path
/// ending in `Element`) and there is no other type parameter.
pub fn element_param(generics: &syn::Generics) -> Option<&Ident> {
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
