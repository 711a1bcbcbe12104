//! blocks: PyTorch's layers and blocks for Rust.
//!
//! ```
//! use blocks::Tensor;
//! let x = Tensor::ones([2, 3]);
//! assert_eq!(x.sum().item(), 6.0);
//! ```

pub use blocks_core::*;
