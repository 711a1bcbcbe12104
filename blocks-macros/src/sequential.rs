//! `sequential![a, b, c]`: a `Sequential` over the blocks, with the chain
//! checked by the compiler block by block.
//!
//! Starting from a plain tensor (every block takes one), each block must be
//! a `Module` and take what the block before it gives; the check for block
//! `i` is emitted at block `i`'s expression, so the compiler's error (the
//! width message of `SameWidth`, or `FeedsInto`'s for a `Scalar`) points at
//! the block that does not fit.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Expr, Token};

use crate::krate;

/// The most blocks one `Sequential` holds (its tuple impls go up to 12).
const MAX_BLOCKS: usize = 12;

/// Expands `sequential![...]`, or the user's mistake as an error.
pub fn expand(input: TokenStream) -> TokenStream {
    match parse(input) {
        Ok(blocks) => emit(&blocks, &krate::facade()),
        Err(error) => error.to_compile_error(),
    }
}

fn parse(input: TokenStream) -> syn::Result<Vec<Expr>> {
    let blocks: Vec<Expr> =
        Punctuated::<Expr, Token![,]>::parse_terminated.parse2(input)?.into_iter().collect();
    if blocks.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "a Sequential needs at least one block: sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()]",
        ));
    }
    if let Some(extra) = blocks.get(MAX_BLOCKS) {
        return Err(Error::new_spanned(
            extra,
            format!(
                "a Sequential holds at most {MAX_BLOCKS} blocks, and this is block {}; nest the rest in an inner sequential![...], which counts as one block",
                MAX_BLOCKS + 1
            ),
        ));
    }
    Ok(blocks)
}

fn emit(blocks: &[Expr], facade: &TokenStream) -> TokenStream {
    let given = format_ident!("__given", span = Span::mixed_site());
    let names: Vec<_> =
        (0..blocks.len()).map(|i| format_ident!("__block{}", i, span = Span::mixed_site())).collect();
    let steps = blocks.iter().zip(&names).map(|(block, name)| {
        let (first, last) = ends(block);
        // `block(expr, PhantomData)`, the Module check, and `feed(&block,
        // given)`, the chain check: each call spans from the expression's
        // first token to its last, and the compiler blames the whole call,
        // so the error underlines exactly the user's block.
        let check = spanned_call(
            quote!(#facade::__private::block),
            quote!(#block, ::core::marker::PhantomData),
            first,
            last,
        );
        let feed = spanned_call(quote!(#facade::__private::feed), quote!(&#name, #given), first, last);
        quote! {
            let #name = #check;
            let #given = #feed;
        }
    });
    quote! {
        {
            let #given = #facade::__private::start();
            #(#steps)*
            let _ = #given;
            #facade::nn::Sequential::new((#(#names,)*))
        }
    }
}

/// The spans of the first and last tokens of `expr`.
fn ends(expr: &Expr) -> (Span, Span) {
    let tokens: Vec<TokenTree> = expr.to_token_stream().into_iter().collect();
    let first = tokens.first().map_or_else(Span::call_site, TokenTree::span);
    let last = match tokens.last() {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(other) => other.span(),
        None => first,
    };
    (first, last)
}

/// `path(args)` spanning from `first` to `last`.
pub(crate) fn spanned_call(path: TokenStream, args: TokenStream, first: Span, last: Span) -> TokenStream {
    let mut args = Group::new(Delimiter::Parenthesis, args);
    args.set_span(last);
    let mut call = respan(path, first);
    call.extend([TokenTree::Group(args)]);
    call
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(group) = &tt {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tt = TokenTree::Group(inner);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}
