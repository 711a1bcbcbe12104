//! Checks on the model before anything is emitted: conflicting field
//! attributes, keys PyTorch could not use, and what `chain` and `flatten`
//! need. Every mistake is reported on the user's token, all at once.

use std::collections::HashMap;

use syn::Error;
use syn::spanned::Spanned;

use crate::ast::{Kind, Struct};
use crate::errors::Errors;

/// Reports every mistake in `input`.
pub fn check(input: &Struct) -> syn::Result<()> {
    let mut errors = Errors::default();
    if let Some(name) = &input.attrs.name
        && name.value().trim().is_empty()
    {
        errors.push(Error::new_spanned(name, "the printed name cannot be empty: #[module(name = \"MLP\")]"));
    }
    let mut keys: HashMap<String, String> = HashMap::new();
    for field in &input.fields {
        let attrs = &field.attrs;
        if let (Some(_), Some(skip)) = (&attrs.buffer, &attrs.skip) {
            errors.push(Error::new_spanned(
                skip,
                "a field is either #[module(buffer)] (saved with the model) or #[module(skip)] (plain data, not saved), not both; keep one",
            ));
        }
        if let (Some(rename), Some(_)) = (&attrs.rename, &attrs.skip) {
            errors.push(Error::new_spanned(
                rename,
                "a #[module(skip)] field is not registered, so it has no key to rename; remove `rename` or `skip`",
            ));
        }
        if field.kind() == Kind::Skip || field.kind() == Kind::Flatten {
            continue;
        }
        let key = field.key();
        if let Some(rename) = &attrs.rename {
            if key.is_empty() {
                errors.push(Error::new_spanned(
                    rename,
                    "a key cannot be empty: PyTorch names this field's parameters `<key>.weight`",
                ));
                continue;
            }
            if key.contains('.') {
                errors.push(Error::new_spanned(
                    rename,
                    format!(
                        "a key cannot contain `.`: PyTorch joins keys with dots, so \"{key}\" would read as nested blocks; use `_`"
                    ),
                ));
                continue;
            }
        }
        let shown = field.shown();
        if let Some(first) = keys.get(&key) {
            errors.push(Error::new(
                field.key_span(),
                format!("two fields have the key \"{key}\" ({first} and {shown}); rename one with #[module(rename = \"...\")]"),
            ));
        } else {
            keys.insert(key, shown);
        }
    }
    check_flatten(input, &mut errors);
    if input.attrs.chain.is_some() {
        check_chain(input, &mut errors);
    }
    check_any_input(input, &mut errors);
    check_transparent(input, &mut errors);
    errors.finish(())
}

/// `#[module(transparent)]`: one block field (the others skipped), whose
/// name and printout the front shows, so no `name`, `extra_repr` or `chain`.
fn check_transparent(input: &Struct, errors: &mut Errors) {
    let Some(transparent) = &input.attrs.transparent else { return };
    if input.inner().is_none() {
        errors.push(Error::new(
            transparent.span(),
            "a #[module(transparent)] block shows its one block field (as `Linear<I, O>` shows its `DynLinear`): \
             give it exactly one field that is not #[module(skip)]",
        ));
    }
    let others = [
        ("name", input.attrs.name.as_ref().map(|n| n.span())),
        ("extra_repr", input.attrs.extra_repr.as_ref().map(|p| p.span())),
        ("chain", input.attrs.chain.as_ref().map(|c| c.span())),
        ("keeps_width", input.attrs.keeps_width.as_ref().map(|k| k.span())),
    ];
    for (key, span) in others {
        if let Some(span) = span {
            errors.push(Error::new(
                span,
                format!("a #[module(transparent)] block takes its name, printout and forward from its field, so `{key}` does not apply; remove it"),
            ));
        }
    }
}

/// `#[module(any_input)]` says how a hand-written `Forward` takes inputs:
/// not beside `keeps_width` or `chain`, which write the block's `Forward`
/// for every input themselves.
fn check_any_input(input: &Struct, errors: &mut Errors) {
    if let (Some(ty), Some(other)) =
        (&input.attrs.input, input.attrs.keeps_width.as_ref().or(input.attrs.chain.as_ref()))
    {
        errors.push(Error::new(
            ty.span(),
            format!(
                "`input` is for a block whose `impl Forward` is written by hand; a #[module({other})] block \
                 already takes every input it can, so remove `input`"
            ),
        ));
    }
    if let (Some(any_input), Some(_)) = (&input.attrs.any_input, &input.attrs.input) {
        errors.push(Error::new(
            any_input.span(),
            "`input = \"...\"` already says the block's `Forward` is generic over what it is fed; remove `any_input`",
        ));
    }
    let Some(any_input) = &input.attrs.any_input else { return };
    let other = match (&input.attrs.keeps_width, &input.attrs.chain) {
        (Some(_), _) => "keeps_width",
        (None, Some(_)) => "chain",
        (None, None) => return,
    };
    errors.push(Error::new(
        any_input.span(),
        format!(
            "`any_input` is for a block whose `impl Forward` is written by hand and generic over its input; \
             a #[module({other})] block already takes every input it can, so remove `any_input`"
        ),
    ));
}

/// `#[module(flatten)]`: on one registered field at most, whose items'
/// keys `0`, `1`, ... no other field's key can collide with.
fn check_flatten(input: &Struct, errors: &mut Errors) {
    let mut flattened: Option<String> = None;
    for field in &input.fields {
        let Some(flatten) = &field.attrs.flatten else { continue };
        let conflict = [("skip", field.attrs.skip.is_some()), ("buffer", field.attrs.buffer.is_some())]
            .into_iter()
            .find_map(|(other, given)| given.then_some(other));
        if let Some(other) = conflict {
            errors.push(Error::new_spanned(
                flatten,
                format!("a field is either #[module(flatten)] (its blocks registered at this block's level) or #[module({other})], not both; keep one"),
            ));
        }
        if let Some(rename) = &field.attrs.rename {
            errors.push(Error::new_spanned(
                rename,
                "a #[module(flatten)] field has no key of its own (its blocks are keyed `0`, `1`, ...), so there is nothing to rename; remove `rename`",
            ));
        }
        match &flattened {
            Some(first) => errors.push(Error::new_spanned(
                flatten,
                format!(
                    "only one field can be #[module(flatten)]: the blocks of {first} and {} would both be keyed `0`, `1`, ...; keep one list, or drop `flatten` here to key its blocks `{}.0`, `{}.1`, ...",
                    field.shown(),
                    field.key(),
                    field.key()
                ),
            )),
            None => flattened = Some(field.shown()),
        }
    }
    let Some(list) = flattened else { return };
    for field in &input.fields {
        let numeric = !field.key().is_empty() && field.key().bytes().all(|b| b.is_ascii_digit());
        let keyed = matches!(field.kind(), Kind::Registered | Kind::Buffer) && !field.type_is("TrainingFlag");
        if numeric && keyed {
            errors.push(Error::new(
                field.key_span(),
                format!(
                    "this field's key \"{}\" could collide with the blocks of #[module(flatten)] {list}, which are keyed `0`, `1`, ...; give it a name with #[module(rename = \"...\")]",
                    field.key()
                ),
            ));
        }
    }
}

/// `#[module(chain)]`: a struct with blocks to chain, none of them a
/// Parameter, an `Option` or a flattened list, no `keeps_width`, and no type
/// parameter but one element type.
fn check_chain(input: &Struct, errors: &mut Errors) {
    let Some(chain) = &input.attrs.chain else { return };
    if let Some(keeps) = &input.attrs.keeps_width {
        errors.push(Error::new_spanned(
            keeps,
            "`keeps_width` is for a block whose `impl Forward` is written by hand; a #[module(chain)] block's forward is its fields in order, so keep one of the two",
        ));
    }
    let element = crate::to_element::element_param(input.generics);
    if let Some(param) = input.generics.type_params().find(|param| Some(&param.ident) != element) {
        errors.push(Error::new_spanned(
            &param.ident,
            "a #[module(chain)] block cannot have type parameters other than one element type (`E: Element`; const parameters are fine: `Linear<20, H, E>`); write `impl Forward` by hand (without `chain`) for a block generic over its fields' types",
        ));
    }
    for field in &input.fields {
        if let Some(flatten) = &field.attrs.flatten {
            errors.push(Error::new_spanned(
                flatten,
                "a #[module(chain)] block runs its block fields in order, and a #[module(flatten)] list has no forward of its own; write `impl Forward` by hand (without `chain`) to run the list",
            ));
        } else if field.kind() == Kind::Registered && field.type_is("Parameter") {
            errors.push(Error::new_spanned(
                field.ty,
                format!(
                    "a #[module(chain)] block's fields are the blocks it runs in order, so the Parameter {} would never be used; write `impl Forward` by hand (without `chain`) to use it",
                    field.shown()
                ),
            ));
        } else if field.kind() == Kind::Registered && field.type_is("Option") {
            errors.push(Error::new_spanned(
                field.ty,
                format!(
                    "a #[module(chain)] block runs every block field, so {} cannot be optional; use `Identity` for a block that does nothing, or write `impl Forward` by hand (without `chain`)",
                    field.shown()
                ),
            ));
        }
    }
    if input.chained().next().is_none() {
        errors.push(Error::new_spanned(
            chain,
            format!(
                "#[module(chain)] runs the block fields of `{}` in order, and it has none; add the blocks as fields (`hidden: Linear<20, 256>`), or remove `chain`",
                input.ident
            ),
        ));
    }
}
