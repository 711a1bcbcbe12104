//! Procedural macros for blocks (see the `blocks` crate).
