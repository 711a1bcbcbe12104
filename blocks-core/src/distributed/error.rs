//! The errors of data-parallel training.

use std::fmt;

use crate::io::FileError;

/// What went wrong setting up or running data-parallel training.
///
/// Every collective operation of [`distributed`](crate::distributed) gives
/// the same kind of outcome on every rank, so that no rank goes on to a
/// collective the others have left: a structure mismatch is reported on all
/// ranks, each naming what it knows.
///
/// ```no_run
/// use blocks_core::distributed::{DistributedDataParallel, World};
/// use blocks_core::nn::Linear;
/// let world = World::init().unwrap();
/// match DistributedDataParallel::new(Linear::<4, 2>::new(), &world) {
///     Ok(_) => {}
///     Err(error) => world.abort_with(&error),
/// }
/// ```
#[derive(Debug)]
pub enum DistributedError {
    /// MPI was initialized before (once per process), or could not be.
    Init(String),
    /// The model differs between ranks (parameter or buffer count, a
    /// shape, which parameters train), or a parameter has no shape yet.
    Structure {
        /// The rank reporting.
        rank: usize,
        /// The first difference as this rank sees it, or which ranks differ.
        message: String,
    },
    /// The run's settings differ between ranks (the data sampler, the batch
    /// size, the bucket size, ...): every rank gets this error, naming the
    /// first difference of the lowest rank that differs.
    Settings {
        /// This rank.
        rank: usize,
        /// The difference, as "batch size is 16 on rank 1, but 32 on rank 0".
        message: String,
    },
    /// Rank 0 could not write a checkpoint (on rank 0 itself: [`File`](Self::File)).
    MainFailed(String),
    /// A file could not be written (on the rank that writes it).
    File(FileError),
}

impl fmt::Display for DistributedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DistributedError::Init(message) => write!(f, "cannot initialize MPI: {message}"),
            DistributedError::Structure { rank, message } => {
                write!(f, "DistributedDataParallel: the model differs between ranks (rank {rank}): {message}")
            }
            DistributedError::Settings { rank, message } => {
                write!(
                    f,
                    "DistributedDataParallel: the settings differ between ranks (rank {rank}): {message}"
                )
            }
            DistributedError::MainFailed(message) => write!(f, "rank 0 failed: {message}"),
            DistributedError::File(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for DistributedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DistributedError::File(error) => Some(error),
            _ => None,
        }
    }
}

impl From<FileError> for DistributedError {
    fn from(error: FileError) -> Self {
        DistributedError::File(error)
    }
}
