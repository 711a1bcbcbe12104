//! Collecting several `syn::Error`s, so a user sees every mistake at once.

use syn::Error;

/// Errors gathered while parsing and checking, reported together.
#[derive(Default)]
pub struct Errors(Option<Error>);

impl Errors {
    /// Adds `error` to the list.
    pub fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// `Err` with every error gathered, or `Ok(value)` when there were none.
    pub fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}
