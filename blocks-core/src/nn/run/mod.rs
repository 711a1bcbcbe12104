//! How a block runs: the [`Forward`](crate::nn::Forward) trait, the one door every run goes through, and the compile-time checks of widths and channels between blocks.

pub(crate) mod block;
pub(crate) mod chain;
pub(crate) mod chain_fit;
pub(crate) mod chained;
pub(crate) mod feeds_into;
pub(crate) mod forward;
pub(crate) mod keeps_width;
