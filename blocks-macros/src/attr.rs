//! Parsing `#[module(...)]` arguments, on the struct and on its fields.
//!
//! Every argument is `key` or `key = "string"`. Unknown keys, keys in the
//! wrong place, missing or extra values and repeats are reported on the
//! user's token, all of them at once.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Error, Expr, ExprLit, Ident, Lit, LitStr, Meta, Path, Token};

use crate::errors::Errors;

/// What `#[module(...)]` on the struct says.
#[derive(Default)]
pub struct StructAttrs {
    /// `name = "MLP"`: the class name printed by the repr.
    pub name: Option<LitStr>,
    /// `crate = "path::to::blocks"`: where the facade is, for crates that
    /// re-export it.
    pub krate: Option<Path>,
    /// `keeps_width`: the block's `Forward` goes from `Tensor` to `Tensor`, and it
    /// takes every tensor kind, giving back the kind it was given.
    pub keeps_width: Option<Ident>,
    /// `chain`: the block's forward runs its block fields in declaration
    /// order (the derive writes its `Forward`).
    pub chain: Option<Ident>,
    /// `any_input`: the block's `Forward` is generic over its input (or it
    /// has several), and its `forward` takes exactly those inputs.
    pub any_input: Option<Ident>,
    /// `extra_repr = "Self::settings"`: a function `fn(&Self) -> String`
    /// giving PyTorch's `extra_repr` (the settings in the printout).
    pub extra_repr: Option<Path>,
    /// `transparent`: a typed front over its one block field (`Linear<I, O>`
    /// over `DynLinear`): its name, printout and members are the field's.
    pub transparent: Option<Ident>,
    /// `input = "Batch<IN>"`: the block's `Forward` is generic over what it
    /// is fed, and this is its own input (what a chain checks it against,
    /// in a chain's words).
    pub input: Option<syn::Type>,
    /// `manual`: the block writes `impl Module` (and its conversions)
    /// itself; the derive writes the rest (`Takes`, `forward`, `Display`).
    pub manual: Option<Ident>,
}

/// What `#[module(...)]` on a field says.
#[derive(Default)]
pub struct FieldAttrs {
    /// `skip`: plain data, neither trained nor saved.
    pub skip: Option<Ident>,
    /// `buffer`: a tensor saved with the block, never trained.
    pub buffer: Option<Ident>,
    /// `rename = "fc1"`: the key in parameter names and the repr.
    pub rename: Option<LitStr>,
    /// `flatten`: the items of a `Vec` or array of blocks are registered at
    /// the block's own level (keys `0.weight`, not `blocks.0.weight`).
    pub flatten: Option<Ident>,
}

const STRUCT_KEYS: &str = "`name = \"...\"`, `chain`, `keeps_width`, `any_input`, `input = \"...\"`, `transparent`, `manual`, `extra_repr = \"...\"` and `crate = \"...\"`";
const FIELD_KEYS: &str = "`skip`, `buffer`, `flatten` and `rename = \"...\"`";

/// One argument: `key` or `key = value`.
struct Arg {
    key: Ident,
    value: Option<Expr>,
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // `Ident::parse_any` so that `crate = ...` parses.
        let key = input.call(Ident::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Arg { key, value })
    }
}

/// The arguments of every `#[module(...)]` among `attrs`.
fn args(attrs: &[Attribute], errors: &mut Errors) -> Vec<Arg> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
        match &attr.meta {
            Meta::List(_) => {
                match attr.parse_args_with(Punctuated::<Arg, Token![,]>::parse_terminated) {
                    Ok(list) => out.extend(list),
                    Err(e) => errors.push(e),
                }
            }
            other => errors.push(Error::new_spanned(
                other,
                "write the arguments in parentheses: #[module(skip)], #[module(buffer)], #[module(rename = \"fc1\")] on a field, #[module(name = \"MLP\")] on the struct",
            )),
        }
    }
    out
}

/// The string value of `arg`, or an error saying how to write it.
fn string(arg: &Arg, example: &str, errors: &mut Errors) -> Option<LitStr> {
    match &arg.value {
        Some(Expr::Lit(ExprLit { lit: Lit::Str(s), .. })) => Some(s.clone()),
        Some(other) => {
            errors.push(Error::new_spanned(
                other,
                format!("`{}` takes a string: #[module({} = \"{example}\")]", arg.key, arg.key),
            ));
            None
        }
        None => {
            errors.push(Error::new_spanned(
                &arg.key,
                format!("`{}` needs a value: #[module({} = \"{example}\")]", arg.key, arg.key),
            ));
            None
        }
    }
}

/// `Some(key)` for a flag written without a value.
fn flag(arg: &Arg, errors: &mut Errors) -> Option<Ident> {
    if let Some(value) = &arg.value {
        errors.push(Error::new_spanned(
            value,
            format!("`{}` takes no value: write #[module({})]", arg.key, arg.key),
        ));
    }
    Some(arg.key.clone())
}

fn set_once<T>(slot: &mut Option<T>, value: Option<T>, key: &Ident, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(Error::new_spanned(key, format!("`{key}` is given twice; keep one")));
    } else {
        *slot = value;
    }
}

/// Parses the struct's `#[module(...)]` arguments.
pub fn struct_attrs(attrs: &[Attribute], errors: &mut Errors) -> StructAttrs {
    let mut out = StructAttrs::default();
    for arg in args(attrs, errors) {
        let key = arg.key.unraw().to_string();
        match key.as_str() {
            "name" => {
                let value = string(&arg, "MLP", errors);
                set_once(&mut out.name, value, &arg.key, errors);
            }
            "crate" => {
                let value = string(&arg, "my_crate::blocks", errors).and_then(|lit| {
                    match lit.parse::<Path>() {
                        Ok(path) => Some(path),
                        Err(_) => {
                            errors.push(Error::new_spanned(
                                &lit,
                                "`crate` takes the path where the blocks crate is, like \"my_crate::blocks\"",
                            ));
                            None
                        }
                    }
                });
                set_once(&mut out.krate, value, &arg.key, errors);
            }
            "keeps_width" => {
                let value = flag(&arg, errors);
                set_once(&mut out.keeps_width, value, &arg.key, errors);
            }
            "chain" => {
                let value = flag(&arg, errors);
                set_once(&mut out.chain, value, &arg.key, errors);
            }
            "any_input" => {
                let value = flag(&arg, errors);
                set_once(&mut out.any_input, value, &arg.key, errors);
            }
            "transparent" => {
                let value = flag(&arg, errors);
                set_once(&mut out.transparent, value, &arg.key, errors);
            }
            "input" => {
                let value = string(&arg, "Batch<20>", errors).and_then(|lit| match lit.parse::<syn::Type>() {
                    Ok(ty) => Some(ty),
                    Err(_) => {
                        errors.push(Error::new_spanned(
                            &lit,
                            "`input` takes the type the block takes, like \"Batch<20>\" or \"Images<C, E>\"",
                        ));
                        None
                    }
                });
                set_once(&mut out.input, value, &arg.key, errors);
            }
            "manual" => {
                let value = flag(&arg, errors);
                set_once(&mut out.manual, value, &arg.key, errors);
            }
            "extra_repr" => {
                let value = string(&arg, "Self::settings", errors).and_then(|lit| match lit.parse::<Path>() {
                    Ok(path) => Some(path),
                    Err(_) => {
                        errors.push(Error::new_spanned(
                            &lit,
                            "`extra_repr` takes the path of a function `fn(&Self) -> String`, like \"Self::settings\"",
                        ));
                        None
                    }
                });
                set_once(&mut out.extra_repr, value, &arg.key, errors);
            }
            "skip" | "buffer" | "rename" | "flatten" => errors.push(Error::new_spanned(
                &arg.key,
                format!("`{key}` goes on a field, not on the struct; on the struct #[module(...)] takes {STRUCT_KEYS}"),
            )),
            _ => errors.push(unknown(&arg.key, "on the struct", STRUCT_KEYS)),
        }
    }
    out
}

/// Parses a field's `#[module(...)]` arguments.
pub fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for arg in args(attrs, errors) {
        let key = arg.key.unraw().to_string();
        match key.as_str() {
            "skip" => {
                let value = flag(&arg, errors);
                set_once(&mut out.skip, value, &arg.key, errors);
            }
            "buffer" => {
                let value = flag(&arg, errors);
                set_once(&mut out.buffer, value, &arg.key, errors);
            }
            "rename" => {
                let value = string(&arg, "fc1", errors);
                set_once(&mut out.rename, value, &arg.key, errors);
            }
            "flatten" => {
                let value = flag(&arg, errors);
                set_once(&mut out.flatten, value, &arg.key, errors);
            }
            "name" | "crate" | "keeps_width" | "chain" | "any_input" | "input" | "transparent" | "manual"
            | "extra_repr" => errors.push(Error::new_spanned(
                &arg.key,
                format!(
                    "`{key}` goes on the struct, not on a field; on a field #[module(...)] takes {FIELD_KEYS}"
                ),
            )),
            _ => errors.push(unknown(&arg.key, "on a field", FIELD_KEYS)),
        }
    }
    out
}

fn unknown(key: &Ident, place: &str, known: &str) -> Error {
    Error::new(key.span(), format!("unknown argument `{key}` in #[module(...)]; {place} it takes {known}"))
}
