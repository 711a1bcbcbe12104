//! Normalization layers: `nn.BatchNorm1d/2d`, `nn.SyncBatchNorm`, `nn.LayerNorm`, `nn.GroupNorm`.

pub(crate) mod batch_norm;
pub(crate) mod group_norm;
pub(crate) mod instance_norm;
pub(crate) mod layer_norm;
pub(crate) mod rms_norm;
pub(crate) mod sync_batch_norm;
