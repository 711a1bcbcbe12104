//! Emitting `impl Module`, `impl Display`, `impl Takes` and the inherent
//! `forward` (the door every run goes through) for a checked [`Struct`].
//!
//! Each field's registration is emitted with `quote_spanned!` at the field's
//! type, so a field that is not a block, a Parameter or a buffer is a
//! compile error on that type, worded by the `on_unimplemented` messages of
//! `blocks::__private::Field` and `BufferField`.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericArgument, GenericParam, Ident, LitStr, PathArguments, Type, WhereClause};

use crate::ast::{Kind, Struct};
use crate::attr::{self, StructAttrs};
use crate::errors::Errors;
use crate::{chained, krate, valid};

/// `#[derive(Module)]`: the impls, or the user's mistakes as errors (with a
/// stand-in impl so that the mistakes are all the user sees).
pub fn derive(input: &DeriveInput) -> TokenStream {
    let checked = Struct::from_syn(input).and_then(|s| valid::check(&s).map(|()| s));
    match checked {
        Ok(s) => expand(&s, &facade(&s.attrs)),
        Err(error) => {
            // The struct's own `crate = "..."` still applies, if it parses.
            let attrs = attr::struct_attrs(&input.attrs, &mut Errors::default());
            let mut out = error.to_compile_error();
            out.extend(stand_in(input, &facade(&attrs)));
            out
        }
    }
}

/// `crate = "..."` if given, else `::blocks`.
fn facade(attrs: &StructAttrs) -> TokenStream {
    match &attrs.krate {
        Some(path) => path.to_token_stream(),
        None => krate::facade(),
    }
}

fn expand(s: &Struct, facade: &TokenStream) -> TokenStream {
    let ident = s.ident;
    let (impl_generics, ty_generics, _) = s.generics.split_for_impl();
    let self_ty = quote!(#ident #ty_generics);
    // A block writing `impl Module` itself registers its fields itself.
    let where_clause = match s.attrs.manual {
        Some(_) => block_bounds(s.generics, &self_ty),
        None => where_clause(s, &self_ty, facade),
    };
    let type_name = s.type_name();
    let visits: Vec<TokenStream> = s.fields.iter().filter_map(|f| visit_field(f, facade)).collect();
    let visitor = if visits.is_empty() { quote!(_) } else { quote!(__visitor) };
    let call = match (&s.attrs.keeps_width, &s.attrs.chain) {
        (Some(flag), _) => keeps_width(s, flag, &where_clause, facade),
        (None, Some(flag)) => chained::forward(s, flag, &where_clause, facade),
        (None, None) => takes(s, &where_clause, facade),
    };
    let to_element = crate::to_element::to_element(s, facade);
    let quiet = quiet(s, facade);
    let module_body = match (&s.attrs.transparent, s.inner()) {
        (Some(_), Some(inner)) => {
            let member = &inner.member;
            quote! {
                fn type_name(&self) -> ::std::string::String {
                    #facade::nn::Module::type_name(&self.#member)
                }

                fn extra_repr(&self) -> ::std::string::String {
                    #facade::nn::Module::extra_repr(&self.#member)
                }

                fn visit<'__m>(&'__m self, __visitor: &mut dyn #facade::nn::Visitor<'__m>) {
                    #facade::nn::Module::visit(&self.#member, __visitor)
                }

                fn core(&self) -> ::core::option::Option<&dyn #facade::nn::Module> {
                    ::core::option::Option::Some(&self.#member)
                }
            }
        }
        _ => {
            let extra_repr = s.attrs.extra_repr.as_ref().map(|path| {
                quote! {
                    fn extra_repr(&self) -> ::std::string::String {
                        #path(self)
                    }
                }
            });
            quote! {
                fn type_name(&self) -> ::std::string::String {
                    ::std::string::String::from(#type_name)
                }

                #extra_repr

                fn visit<'__m>(&'__m self, #visitor: &mut dyn #facade::nn::Visitor<'__m>) {
                    #(#visits)*
                }
            }
        }
    };
    let module = if s.attrs.manual.is_some() {
        TokenStream::new()
    } else {
        quote! {
            #[automatically_derived]
            #quiet
            impl #impl_generics #facade::nn::Module for #self_ty #where_clause {
                #module_body
            }

            #to_element
        }
    };
    quote! {
        #module

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Display for #self_ty #where_clause {
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #facade::nn::fmt_module(self, __f)
            }
        }

        #call

        #[automatically_derived]
        impl #impl_generics #self_ty #where_clause {
            /// Runs the block on `input`, like PyTorch's `net(X)`, hooks
            /// included: its `Forward` input (checked by the compiler), or
            /// for a block with one `Forward` impl also what feeds into it
            /// (a plain `Tensor` for a typed input, checked at run time,
            /// naming the block).
            #[allow(dead_code)]
            #[track_caller]
            pub fn forward<__G, __I>(
                &self,
                input: &__G,
            ) -> <Self as #facade::nn::Call<__G, __I, <Self as #facade::nn::Takes>::Inputs>>::Out
            where
                Self: #facade::nn::Takes + #facade::nn::Call<__G, __I, <Self as #facade::nn::Takes>::Inputs>,
            {
                #facade::nn::Call::call(self, input)
            }
        }
    }
}

/// The block's `Takes`: [`OneInput`] for a block with one hand-written
/// `Forward` impl (its `forward` also takes what feeds into that input),
/// `AnyInput` with `#[module(any_input)]`.
fn takes(s: &Struct, where_clause: &Option<WhereClause>, facade: &TokenStream) -> TokenStream {
    let ident = s.ident;
    let (impl_generics, ty_generics, _) = s.generics.split_for_impl();
    let inputs = match (&s.attrs.input, &s.attrs.any_input) {
        (Some(input), _) => quote!(Typed<#input>),
        (None, Some(_)) => quote!(AnyInput),
        (None, None) => quote!(OneInput),
    };
    let quiet = quiet(s, facade);
    quote! {
        #[automatically_derived]
        #quiet
        impl #impl_generics #facade::nn::Takes for #ident #ty_generics #where_clause {
            type Inputs = #facade::nn::#inputs;
        }
    }
}

/// `#[diagnostic::do_not_recommend]` for the block's `Module` and `Takes`
/// impls when their where clauses cannot fail (a struct without type
/// parameters, or a layer of the blocks crate itself, `crate = "crate"`),
/// so that an error about another type does not list every block.
fn quiet(s: &Struct, facade: &TokenStream) -> TokenStream {
    let own_crate = facade.to_string() == "crate";
    if own_crate || s.generics.type_params().next().is_none() {
        quote!(#[diagnostic::do_not_recommend])
    } else {
        TokenStream::new()
    }
}

/// `#[module(keeps_width)]`: the block takes every tensor kind and gives back
/// the kind it was given, running its `Forward<Tensor>` on the tensor
/// inside. A missing or other `Forward` is reported at the flag (the
/// `KeepsWidth` error): where the struct is defined for a plain one, where
/// the block is used for a generic one.
fn keeps_width(
    s: &Struct,
    flag: &Ident,
    where_clause: &Option<WhereClause>,
    facade: &TokenStream,
) -> TokenStream {
    let ident = s.ident;
    let (impl_generics, ty_generics, _) = s.generics.split_for_impl();
    // A plain struct is checked where it is defined, through a constant:
    // without the forward, its `Takes` is an error the compiler reports
    // once, at the flag, and not again where the block is used (each
    // forward below names it). A constant cannot name a struct's generic
    // parameters: a generic one is checked where it is used.
    let flagged = Ident::new(&ident.to_string(), flag.span());
    let inputs = if s.generics.params.is_empty() {
        quote_spanned!(flag.span()=>
            <#facade::__private::KeptIf<{ <#flagged as #facade::nn::KeepsWidth>::HOLDS }>
                as #facade::__private::KeptInputs>::Inputs
        )
    } else {
        quote!(#facade::nn::AnyInput)
    };
    // Every kind at once, only for a block that keeps the width: one
    // marked without that forward has no other (nor one conflicting with a
    // typed forward of its own).
    let mut generics = s.generics.clone();
    generics.params.push(syn::parse_quote_spanned!(flag.span()=> __K: #facade::__private::KeptKind<Self>));
    let (kind_generics, _, _) = generics.split_for_impl();
    let body = quote_spanned!(flag.span()=> <__K as #facade::__private::KeptKind<Self>>::keep(self, __x));
    let mut out = quote! {
        #[automatically_derived]
        impl #kind_generics #facade::nn::Forward<__K> for #ident #ty_generics #where_clause {
            type Output = __K;

            #[track_caller]
            fn forward(&self, __x: &__K) -> __K {
                #body
            }
        }
    };
    out.extend(quote! {
        #[automatically_derived]
        impl #impl_generics #facade::nn::Takes for #ident #ty_generics #where_clause {
            type Inputs = #inputs;
        }
    });
    out
}

/// The registration of one field, spanned at its type; nothing for skipped fields.
fn visit_field(field: &crate::ast::Field, facade: &TokenStream) -> Option<TokenStream> {
    let member = &field.member;
    let key = LitStr::new(&field.key(), field.key_span());
    let ty = field.ty;
    let span = ty.span();
    match field.kind() {
        Kind::Registered => match tensor_ident(ty) {
            // Written as a tensor type: registered through `Probe`, which
            // picks `ProbeTensor` for a real tensor, whose error is the
            // plain-tensor one, reported at the `Tensor` token.
            Some(tensor) => {
                let register = Ident::new("register", tensor.span());
                Some(quote_spanned! {span=>
                    {
                        #[allow(unused_imports)]
                        use #facade::__private::{ProbeField as _, ProbeTensor as _};
                        (&&#facade::__private::Probe::<#ty, Self>::new()).#register(&self.#member, #key, __visitor);
                    }
                })
            }
            None => Some(quote_spanned! {span=>
                <#ty as #facade::__private::Field<Self>>::visit_field(&self.#member, #key, __visitor);
            }),
        },
        Kind::Buffer => Some(quote_spanned! {span=>
            <#ty as #facade::__private::BufferField>::visit_buffer(&self.#member, #key, __visitor);
        }),
        Kind::Flatten => Some(quote_spanned! {span=>
            <#ty as #facade::__private::FlattenField>::visit_items(&self.#member, __visitor);
        }),
        Kind::Skip => None,
    }
}

/// The user's where clause, plus for a generic struct: `Self: Send + Sync +
/// 'static` (what `Module` asks of every block) and a bound per field whose
/// type mentions a type parameter.
fn where_clause(s: &Struct, self_ty: &TokenStream, facade: &TokenStream) -> Option<WhereClause> {
    let mut clause = block_bounds(s.generics, self_ty)?;
    let params = type_params(s.generics);
    for field in &s.fields {
        let ty = field.ty;
        if !mentions(ty, &params) {
            continue;
        }
        let span = ty.span();
        if s.attrs.transparent.is_some() && field.kind() == Kind::Registered {
            clause.predicates.push(syn::parse_quote_spanned!(span=> #ty: #facade::nn::Module));
        }
        match field.kind() {
            Kind::Registered if tensor_ident(ty).is_some() => {}
            Kind::Registered => clause
                .predicates
                .push(syn::parse_quote_spanned!(span=> #ty: #facade::__private::Field<#self_ty>)),
            Kind::Buffer => {
                clause.predicates.push(syn::parse_quote_spanned!(span=> #ty: #facade::__private::BufferField))
            }
            Kind::Flatten => clause
                .predicates
                .push(syn::parse_quote_spanned!(span=> #ty: #facade::__private::FlattenField)),
            Kind::Skip => {}
        }
    }
    Some(clause)
}

/// The user's where clause, plus `Self: Send + Sync + 'static` for a generic
/// struct (a non-generic one gets the plain error if it is not).
fn block_bounds(generics: &syn::Generics, self_ty: &TokenStream) -> Option<WhereClause> {
    let mut clause = generics.where_clause.clone();
    if !generics.params.is_empty() {
        clause
            .get_or_insert_with(|| syn::parse_quote!(where))
            .predicates
            .push(syn::parse_quote!(#self_ty: ::core::marker::Send + ::core::marker::Sync + 'static));
    }
    clause
}

/// The `Tensor` in a field type written `Tensor`, `Tensor64`,
/// `TensorBase<..>` or an `Option` of one (any path to them).
fn tensor_ident(ty: &Type) -> Option<&Ident> {
    fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
        match ty {
            Type::Path(path) => path.path.segments.last(),
            _ => None,
        }
    }
    fn is_tensor(ident: &Ident) -> bool {
        ident == "Tensor" || ident == "Tensor64" || ident == "TensorBase"
    }
    let last = last_segment(ty)?;
    if is_tensor(&last.ident) {
        return Some(&last.ident);
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(inner)] if last.ident == "Option" => {
            last_segment(inner).map(|s| &s.ident).filter(|ident| is_tensor(ident))
        }
        _ => None,
    }
}

/// The struct's type parameters.
fn type_params(generics: &syn::Generics) -> HashSet<Ident> {
    generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `ty` names one of `params` anywhere in it.
pub(crate) fn mentions(ty: &Type, params: &HashSet<Ident>) -> bool {
    fn walk(tokens: TokenStream, params: &HashSet<Ident>) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(ident) => params.contains(&ident),
            TokenTree::Group(group) => walk(group.stream(), params),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), params)
}

/// An `impl Module` that is never called, emitted beside the errors of a
/// failed derive so that uses of the type do not pile more errors on them.
fn stand_in(input: &DeriveInput, facade: &TokenStream) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    let where_clause = block_bounds(&input.generics, &quote!(#ident #ty_generics));
    quote! {
        #[automatically_derived]
        impl #impl_generics #facade::nn::Module for #ident #ty_generics #where_clause {
            fn type_name(&self) -> ::std::string::String {
                ::core::unreachable!()
            }

            fn visit<'__m>(&'__m self, _: &mut dyn #facade::nn::Visitor<'__m>) {
                ::core::unreachable!()
            }
        }
    }
}
