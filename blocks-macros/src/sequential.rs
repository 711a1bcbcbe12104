//! `sequential![a, b, c]` and `sequential![hidden: a, act: b, out: c]`: a
//! `Sequential` over the blocks, with the chain checked by the compiler
//! block by block (see `chain`).
//!
//! Parsed into entries (a block, with or without a name), checked (all
//! named or none, names unique identifiers), emitted: blocks by position
//! as a tuple (in `Chunks` of twelve past twelve blocks), named blocks as a
//! struct with one field per name. The Sequential is an argument of
//! `checked(net, |net| chain check)`, so a type the context expects (a
//! struct field's) reaches the blocks before the check; a `sequential!`
//! written as a block of another is expanded here, through `nested`, so a
//! mismatch inside it is reported once.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{ParseStream, Parser};
use syn::{Error, Expr, Ident, Index, Token};

use crate::chain::{Link, chain_check, ends};
use crate::errors::Errors;
use crate::krate;

/// The most blocks in one tuple (the standard library's tuple impls of
/// `Debug` and `Default` stop at twelve); more go in `Chunks`.
const CHUNK: usize = 12;

/// One block of the list, with its name if it has one.
struct Entry {
    name: Option<Ident>,
    block: Expr,
}

/// Expands `sequential_impl!{ path::to::blocks; ... }` (what the facade's
/// `sequential![...]` passes on, with its `$crate` as the path), or the
/// user's mistakes as errors.
pub fn expand(input: TokenStream) -> TokenStream {
    let (facade, input) = split_facade(input);
    match parse(input, Span::call_site()) {
        Ok(entries) => emit(&entries, &facade, false),
        Err(error) => error.to_compile_error(),
    }
}

/// The facade's path (the tokens before the first `;`) and the entries
/// after it; without a `;`, `::blocks` and the whole input.
fn split_facade(input: TokenStream) -> (TokenStream, TokenStream) {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let semi = tokens.iter().position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'));
    match semi {
        Some(at) => (tokens[..at].iter().cloned().collect(), tokens[at + 1..].iter().cloned().collect()),
        None => (krate::facade(), tokens.into_iter().collect()),
    }
}

fn parse(input: TokenStream, whole: Span) -> syn::Result<Vec<Entry>> {
    let entries = parse_entries.parse2(input)?;
    if entries.is_empty() {
        return Err(Error::new(
            whole,
            "a Sequential needs at least one block: sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()]",
        ));
    }
    check(&entries)?;
    Ok(entries)
}

fn parse_entries(input: ParseStream) -> syn::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    while !input.is_empty() {
        let name = parse_name(input)?;
        let block: Expr = input.parse()?;
        entries.push(Entry { name, block });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(entries)
}

/// `name:` before a block, if there is one; an error if what stands before
/// the `:` is not an identifier (`"hidden": ..`, `0: ..`, `type: ..`).
fn parse_name(input: ParseStream) -> syn::Result<Option<Ident>> {
    let named = input.peek2(Token![:]) && !input.peek2(Token![::]);
    if !named {
        return Ok(None);
    }
    if input.peek(Ident) && !input.peek(Token![_]) {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        return Ok(Some(name));
    }
    let token: TokenTree = input.parse()?;
    Err(Error::new(
        token.span(),
        format!(
            "`{token}` is not a name: an entry's name is an identifier, as in sequential![hidden: Linear::<20, 256>::new(), act: ReLU]"
        ),
    ))
}

/// All entries named or none (PyTorch's `nn.Sequential` takes modules or one
/// `OrderedDict`), and no name twice.
fn check(entries: &[Entry]) -> syn::Result<()> {
    let mut errors = Errors::default();
    let named = entries[0].name.is_some();
    let mut seen: Vec<&Ident> = Vec::new();
    for (position, entry) in entries.iter().enumerate() {
        match &entry.name {
            Some(name) if !named => errors.push(Error::new(
                name.span(),
                format!(
                    "`{name}` names block {position}, but block 0 has no name: name every block (sequential![hidden: .., act: ..], \
                     PyTorch's OrderedDict) or none"
                ),
            )),
            None if named => errors.push(Error::new(
                ends(&entry.block).0,
                format!(
                    "block {position} has no name, but block 0 is named `{}`: name every block (`name: block`) or none",
                    entries[0].name.as_ref().map(Ident::to_string).unwrap_or_default()
                ),
            )),
            Some(name) => {
                if let Some(first) = seen.iter().position(|seen| *seen == name) {
                    errors.push(Error::new(
                        name.span(),
                        format!("`{name}` already names block {first}: each block needs its own name, as each key of an OrderedDict"),
                    ));
                }
                seen.push(name);
            }
            None => {}
        }
        if entry.name.is_some() != named {
            break;
        }
    }
    errors.finish(())
}

/// The expression making the Sequential; `nested` when it is a block of an
/// outer `sequential!` (see the module docs).
fn emit(entries: &[Entry], facade: &TokenStream, nested: bool) -> TokenStream {
    let net = format_ident!("__net", span = Span::mixed_site());
    let blocks: Vec<TokenStream> = entries.iter().map(|entry| emit_block(&entry.block, facade)).collect();
    let (items, value, paths) = if entries[0].name.is_some() {
        let names: Vec<&Ident> = entries.iter().filter_map(|entry| entry.name.as_ref()).collect();
        let (items, value) = named(&names, &blocks, facade);
        let paths: Vec<TokenStream> = names.iter().map(|name| quote!(.#name)).collect();
        (items, value, paths)
    } else {
        (
            TokenStream::new(),
            by_position(&blocks, facade),
            (0..blocks.len()).map(|k| position_path(k, blocks.len())).collect(),
        )
    };
    let links: Vec<Link> = entries
        .iter()
        .zip(&paths)
        .map(|(entry, path): (&Entry, &TokenStream)| Link::new(&entry.block, quote!(&#net.0 #path)))
        .collect();
    let check = chain_check(facade, &links);
    let finish = if nested { quote!(nested) } else { quote!(checked) };
    quote! {{
        #items
        #facade::__private::#finish(#facade::nn::Sequential::new(#value), |#net| #check)
    }}
}

/// The user's block as written, or, for a `sequential!` written as the
/// block, its expansion here, nested.
fn emit_block(block: &Expr, facade: &TokenStream) -> TokenStream {
    match inner_sequential(block) {
        Some(Ok(entries)) => emit(&entries, facade, true),
        Some(Err(error)) => error.to_compile_error(),
        None => quote!(#block),
    }
}

/// The entries of `block` if it is itself a `sequential![...]`.
fn inner_sequential(block: &Expr) -> Option<syn::Result<Vec<Entry>>> {
    let Expr::Macro(call) = block else { return None };
    let last = call.mac.path.segments.last()?;
    if last.ident != "sequential" {
        return None;
    }
    Some(parse(call.mac.tokens.clone(), ends(block).0))
}

/// The blocks as a tuple, or as `Chunks(first twelve, rest)` past twelve.
fn by_position(blocks: &[TokenStream], facade: &TokenStream) -> TokenStream {
    if blocks.len() <= CHUNK {
        return quote!((#(#blocks,)*));
    }
    let first = &blocks[..CHUNK];
    let rest = by_position(&blocks[CHUNK..], facade);
    quote!(#facade::nn::Chunks((#(#first,)*), #rest))
}

/// The field path of block `k` of `len` inside the Sequential's field `0`
/// (see `Chunks`): `.2`, or `.1.0.1` for block 13 of 30.
fn position_path(k: usize, len: usize) -> TokenStream {
    let mut path = TokenStream::new();
    let (mut k, mut len) = (k, len);
    while len > CHUNK {
        if k < CHUNK {
            path.extend(quote!(.0));
            break;
        }
        path.extend(quote!(.1));
        k -= CHUNK;
        len -= CHUNK;
    }
    let index = Index::from(k);
    path.extend(quote!(.#index));
    path
}

/// A struct with one field per name (so `net.hidden` is the block with its
/// type), its `Entries` (keys: the names), its `Chain` (each block run
/// under its name) and `FirstTakes` (how its first block takes inputs), and the
/// value of it holding `blocks`.
fn named(names: &[&Ident], blocks: &[TokenStream], facade: &TokenStream) -> (TokenStream, TokenStream) {
    let ty = Ident::new("Named", Span::mixed_site());
    let params: Vec<Ident> =
        (0..names.len()).map(|i| format_ident!("__B{}", i, span = Span::mixed_site())).collect();
    let outs: Vec<Ident> =
        (0..names.len()).map(|i| format_ident!("__O{}", i, span = Span::mixed_site())).collect();
    let input = format_ident!("__G", span = Span::mixed_site());
    let keys: Vec<String> =
        names.iter().map(|name| name.to_string().trim_start_matches("r#").to_string()).collect();
    let len = names.len();
    let last = &outs[len - 1];
    let first_param = &params[0];
    let rest_params = &params[1..];
    let givens: Vec<TokenStream> =
        std::iter::once(quote!(#input)).chain(outs[..len - 1].iter().map(|out| quote!(#out))).collect();
    let args: Vec<TokenStream> =
        std::iter::once(quote!(__input)).chain(outs[..len - 1].iter().map(|out| quote!(&#out))).collect();
    let items = quote! {
        #[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::default::Default)]
        struct #ty<#(#params),*> {
            #(#names: #params,)*
        }

        impl<#(#params: #facade::nn::Module),*> #facade::nn::Entries for #ty<#(#params),*> {
            const LEN: usize = #len;

            fn visit_entries<'__m>(&'__m self, _: usize, __visitor: &mut dyn #facade::nn::Visitor<'__m>) {
                #(__visitor.child(#keys, &self.#names);)*
            }
        }

        impl<#(#params: #facade::nn::Module),*> #facade::nn::NamedEntries for #ty<#(#params),*> {}

        impl<#(#params: #facade::nn::Block),*> #facade::nn::BlockEntries for #ty<#(#params),*> {
            fn blocks(&self) -> ::std::vec::Vec<&dyn #facade::nn::Block> {
                ::std::vec![#(&self.#names),*]
            }
        }

        impl<#first_param: #facade::nn::Takes, #(#rest_params: #facade::nn::Takes),*> #facade::nn::FirstTakes for #ty<#(#params),*>
        where
            <#first_param as #facade::nn::Takes>::Inputs: #facade::nn::Firstly<#first_param>,
        {
            type Inputs = <<<#first_param as #facade::nn::Takes>::Inputs as #facade::nn::Firstly<#first_param>>::Inputs
                as #facade::nn::AlongWith<(#(<#rest_params as #facade::nn::Takes>::Inputs,)*)>>::Out;
        }

        impl<#input, #(#params, #outs),*> #facade::nn::Chain<#input> for #ty<#(#params),*>
        where
            #input: #facade::nn::HookValue,
            #(#params: #facade::nn::Forward<#givens, Output = #outs> + 'static, #outs: #facade::nn::HookValue,)*
        {
            type Out = #last;

            #[allow(non_snake_case)]
            #[track_caller]
            fn run_from(&self, _: usize, __input: &#input) -> #last {
                #(let #outs = #facade::__private::run_entry(&self.#names, #keys, #args);)*
                #last
            }
        }
    };
    let value = quote!(#ty { #(#names: #blocks,)* });
    (items, value)
}
