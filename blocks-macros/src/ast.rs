//! The model of a `#[derive(Module)]` input: the struct, its attributes and
//! its fields, each with the kind of member it registers.

use proc_macro2::Span;
use quote::quote;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, Generics, Ident, Index, Member, Type};

use crate::attr::{self, FieldAttrs, StructAttrs};
use crate::errors::Errors;

/// A struct deriving `Module`.
pub struct Struct<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: StructAttrs,
    pub fields: Vec<Field<'a>>,
}

/// One field of the struct.
pub struct Field<'a> {
    pub attrs: FieldAttrs,
    pub member: Member,
    pub ty: &'a Type,
}

/// What a field registers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A child block or a Parameter (or an `Option` of either).
    Registered,
    /// A tensor saved with the block (`#[module(buffer)]`).
    Buffer,
    /// Plain data (`#[module(skip)]`).
    Skip,
    /// A list of blocks whose items are registered at the block's own level
    /// (`#[module(flatten)]`).
    Flatten,
}

impl<'a> Struct<'a> {
    /// Reads the derive input, refusing enums and unions and collecting
    /// every attribute mistake.
    pub fn from_syn(input: &'a DeriveInput) -> syn::Result<Self> {
        let data = match &input.data {
            Data::Struct(data) => data,
            Data::Enum(data) => {
                let (keyword, ident) = (data.enum_token, input.ident.unraw());
                return Err(Error::new_spanned(
                    quote!(#keyword #ident),
                    format!(
                        "#[derive(Module)] supports structs (named, tuple or unit), not enums; \
                         wrap the choice in a struct field (`struct Net {{ body: Box<dyn Module> }}`), \
                         or write `impl Module for {ident}` by hand"
                    ),
                ));
            }
            Data::Union(data) => {
                let (keyword, ident) = (data.union_token, &input.ident);
                return Err(Error::new_spanned(
                    quote!(#keyword #ident),
                    "#[derive(Module)] supports structs (named, tuple or unit), not unions; \
                     put the block's fields in a struct",
                ));
            }
        };
        let mut errors = Errors::default();
        let attrs = attr::struct_attrs(&input.attrs, &mut errors);
        let fields = fields(&data.fields, &mut errors);
        errors.finish(Struct { ident: &input.ident, generics: &input.generics, attrs, fields })
    }

    /// The fields a `#[module(chain)]` block runs, in order: its blocks (not
    /// its buffers, plain data, `TrainingFlag` or Parameters).
    pub fn chained(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| {
            f.kind() == Kind::Registered
                && !f.type_is("TrainingFlag")
                && !f.type_is("Parameter")
                && !f.type_is("Hooks")
        })
    }

    /// The class name printed by the repr: `name = "..."` or the struct's name.
    /// The one block field of a `#[module(transparent)]` front: its only
    /// field that is not skipped.
    pub fn inner(&self) -> Option<&Field<'a>> {
        let mut kept = self.fields.iter().filter(|f| f.kind() != Kind::Skip);
        let inner = kept.next()?;
        kept.next().is_none().then_some(inner)
    }

    /// Whether the block holds nothing that has an element type: its fields
    /// are settings (skipped), its `TrainingFlag` and its `Hooks`. Such a
    /// block is the same block in every element type.
    pub fn element_free(&self) -> bool {
        self.generics.type_params().next().is_none()
            && self.fields.iter().all(|f| {
                f.kind() == Kind::Skip
                    || (f.kind() == Kind::Registered && (f.type_is("TrainingFlag") || f.type_is("Hooks")))
            })
    }

    pub fn type_name(&self) -> String {
        match &self.attrs.name {
            Some(name) => name.value(),
            None => self.ident.unraw().to_string(),
        }
    }
}

fn fields<'a>(fields: &'a Fields, errors: &mut Errors) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| Field {
            attrs: attr::field_attrs(&field.attrs, errors),
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(Index { index: index as u32, span: field.ty.span() }),
            },
            ty: &field.ty,
        })
        .collect()
}

impl Field<'_> {
    /// What the field registers.
    pub fn kind(&self) -> Kind {
        if self.attrs.skip.is_some() {
            Kind::Skip
        } else if self.attrs.buffer.is_some() {
            Kind::Buffer
        } else if self.attrs.flatten.is_some() {
            Kind::Flatten
        } else {
            Kind::Registered
        }
    }

    /// The field's key in parameter names and the repr: `rename`, the
    /// field's name (without `r#`), or its index in a tuple struct.
    pub fn key(&self) -> String {
        if let Some(rename) = &self.attrs.rename {
            return rename.value();
        }
        match &self.member {
            Member::Named(ident) => ident.unraw().to_string(),
            Member::Unnamed(index) => index.index.to_string(),
        }
    }

    /// Whether the field's type is written as `name` or `path::to::name`
    /// (`Parameter`, `TrainingFlag`, `Option<...>`), whatever its arguments.
    pub fn type_is(&self, name: &str) -> bool {
        match self.ty {
            Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
            _ => false,
        }
    }

    /// The field as the user wrote it, for messages: `` `hidden` `` or `field 0`.
    pub fn shown(&self) -> String {
        match &self.member {
            Member::Named(ident) => format!("`{}`", ident.unraw()),
            Member::Unnamed(index) => format!("field {}", index.index),
        }
    }

    /// Where the key comes from, for errors about it.
    pub fn key_span(&self) -> Span {
        match (&self.attrs.rename, &self.member) {
            (Some(rename), _) => rename.span(),
            (None, Member::Named(ident)) => ident.span(),
            (None, Member::Unnamed(_)) => self.ty.span(),
        }
    }
}
