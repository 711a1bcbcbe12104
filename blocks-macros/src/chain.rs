//! The compile-time chain check, shared by `sequential!` and a derived
//! chain: starting from a tensor of any kind and element type, each block
//! must take what the block before it gives, and the compiler's error lands
//! on the block that does not fit.
//!
//! [`chain_check`] emits per [`Link`] a `block(&block, ..)` (the block is a
//! `Module`) and a `feed(&block, given)` (it takes what it is given), each
//! call spanned from the link's first token to its last (the compiler
//! blames a whole call, so the error underlines exactly the user's block or
//! field). The type each step gives goes through the width check itself
//! (see `blocks_core::nn::chain`), so a mismatch is reported once.
//!
//! `sequential!` puts the check in a closure over the built Sequential
//! (`checked(net, |net| check)`, links `&net.0.2`); a derived chain can put
//! it in a function over `&self` (links `&self.hidden`, blamed on the
//! fields).

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};

/// One block of a chain: the tokens an error on it underlines, and an
/// expression giving a reference to the block.
pub struct Link {
    first: Span,
    last: Span,
    block: TokenStream,
}

impl Link {
    /// The block `block` (an expression of type `&B`), blamed on `spanned`'s
    /// tokens (the user's block expression, or a field).
    pub fn new(spanned: &impl ToTokens, block: TokenStream) -> Link {
        let (first, last) = ends(spanned);
        Link { first, last, block }
    }
}

/// The chain check over `links`, in order: an expression whose type is
/// `PhantomData<what the last block gives>`, which fails to compile, on the
/// offending link, when a block cannot take what the one before it gives.
/// Never run: emit it inside a closure or function that is only
/// type-checked.
pub fn chain_check(facade: &TokenStream, links: &[Link]) -> TokenStream {
    let given = format_ident!("__given", span = Span::mixed_site());
    let steps = links.iter().map(|link| {
        let block = &link.block;
        let is_block = spanned_call(
            quote!(__blocks_block),
            quote!(#block, #facade::__private::of(#block)),
            link.first,
            link.last,
        );
        // The value given, passed through a call spanned over the block, so
        // that an error the compiler puts on the argument lands on the block.
        let given_here = spanned_call(quote!(__blocks_pass), quote!(#given), link.first, link.last);
        let feed = spanned_call(quote!(__blocks_feed), quote!(#block, #given_here), link.first, link.last);
        quote! {
            #is_block;
            let #given = #feed;
        }
    });
    // Imported, not named by path at each call: the calls take the user's
    // spans, and a `$crate` facade (from the `sequential!` wrapper) only
    // names the right crate with its own.
    quote! {{
        use #facade::__private::{block as __blocks_block, feed as __blocks_feed, pass as __blocks_pass};
        let #given = #facade::__private::start();
        #(#steps)*
        #given
    }}
}

/// The spans of the first and last tokens of `tokens`.
pub fn ends(tokens: &impl ToTokens) -> (Span, Span) {
    let tokens: Vec<TokenTree> = tokens.to_token_stream().into_iter().collect();
    let first = tokens.first().map_or_else(Span::call_site, TokenTree::span);
    let last = match tokens.last() {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(other) => other.span(),
        None => first,
    };
    (first, last)
}

/// `path(args)` spanning from `first` to `last`.
pub fn spanned_call(path: TokenStream, args: TokenStream, first: Span, last: Span) -> TokenStream {
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
