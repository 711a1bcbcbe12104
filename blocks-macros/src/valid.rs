//! Checks on the model before anything is emitted: conflicting field
//! attributes and keys PyTorch could not use. Every mistake is reported on
//! the user's token, all at once.

use std::collections::HashMap;

use syn::Error;

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
        if field.kind() == Kind::Skip {
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
        let shown = match &field.member {
            syn::Member::Named(ident) => format!("`{ident}`"),
            syn::Member::Unnamed(index) => format!("field {}", index.index),
        };
        if let Some(first) = keys.get(&key) {
            errors.push(Error::new(
                field.key_span(),
                format!("two fields have the key \"{key}\" ({first} and {shown}); rename one with #[module(rename = \"...\")]"),
            ));
        } else {
            keys.insert(key, shown);
        }
    }
    errors.finish(())
}
