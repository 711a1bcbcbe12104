//! The checks made on a safetensors file's first bytes before its data is
//! read, and the `safetensors` crate's errors in words a user can act on.
//!
//! The 8-byte header length is checked against the format's limit and the
//! file's size; the header is parsed by the crate and the data size it
//! declares is checked against the file. Only then is the data read, so no
//! number from the file sizes anything before it is checked against the file.

use std::collections::HashMap;
use std::fmt;

use safetensors::tensor::{Metadata, TensorInfo};
use safetensors::{SafeTensorError, SafeTensors};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// The largest header the safetensors format allows (100 MB), as its readers check.
const MAX_HEADER: u64 = 100_000_000;

/// The message for a file shorter than the 8-byte header length.
pub(super) fn too_short(file_len: u64) -> String {
    format!("the file is {file_len} bytes, too short to hold the 8-byte header length")
}

/// Checks the header length in `prefix` (the first 8 bytes) against the
/// format's limit and the file's size; returns it when it fits.
pub(super) fn check_header_length(prefix: [u8; 8], file_len: u64) -> Result<usize, String> {
    let header_len = u64::from_le_bytes(prefix);
    if header_len > MAX_HEADER {
        return Err(or_pytorch(
            &prefix,
            format!(
                "the header length ({header_len} bytes) is larger than the 100 MB safetensors allows: \
                 damaged, or not a safetensors file"
            ),
        ));
    }
    if header_len > file_len - 8 {
        return Err(or_pytorch(
            &prefix,
            format!(
                "the header length ({header_len} bytes) points past the end of the file ({file_len} bytes): \
                 truncated or damaged"
            ),
        ));
    }
    Ok(header_len as usize)
}

/// Parses the header (`start` holds the 8-byte length and the header, as
/// checked by [`check_header_length`]) and checks that the tensor data it
/// declares is exactly what the file holds after it. The `safetensors`
/// crate validates the offsets, shapes and dtypes as it parses, so the
/// returned header describes a file that is valid once its data is read.
pub(super) fn parse_header(start: &[u8], file_len: u64) -> Result<Metadata, String> {
    let (prefix, header) = start.split_at(8);
    let parsed = serde_json::from_slice::<Header>(header).ok().and_then(|Header { metadata, tensors }| {
        let mut tensors: Vec<(String, TensorInfo)> = tensors.into_iter().collect();
        tensors.sort_by_key(|(_, info)| info.data_offsets);
        Metadata::new(metadata, tensors).ok()
    });
    let metadata = match parsed {
        Some(metadata) => metadata,
        // The crate's own reader gives the typed error for the message.
        None => {
            return Err(match SafeTensors::read_metadata(start) {
                Err(error) => describe(&error, prefix, header),
                Ok(_) => "the header is not valid JSON for safetensors".into(),
            });
        }
    };
    let held = file_len - start.len() as u64;
    let declared = metadata.data_len() as u64;
    if declared != held {
        let problem = if declared > held {
            "truncated, or sizes that exceed the file"
        } else {
            "extra bytes at the end"
        };
        return Err(format!(
            "the data section does not match the header: its tensors take {declared} bytes, the file holds \
             {held} after the header ({problem})"
        ));
    }
    Ok(metadata)
}

/// The crate's error in words a user can act on; `prefix` is the file's
/// first (up to 8) bytes and `rest` what follows, to name a tensor whose
/// offsets are wrong and to recognize a PyTorch pickle file.
fn describe(error: &SafeTensorError, prefix: &[u8], rest: &[u8]) -> String {
    use SafeTensorError as E;
    let file_len = prefix.len() + rest.len();
    let header = || {
        let len = prefix.try_into().map_or(0, u64::from_le_bytes);
        rest.get(..usize::try_from(len).unwrap_or(usize::MAX).min(rest.len())).unwrap_or_default()
    };
    let message = match error {
        E::HeaderTooSmall => too_short(file_len as u64),
        E::HeaderTooLarge => "the header length is larger than the 100 MB safetensors allows".into(),
        E::InvalidHeaderLength => {
            format!(
                "the header length points past the end of the file ({file_len} bytes): truncated or damaged"
            )
        }
        E::InvalidHeader(e) => format!("the header is not UTF-8: {e}"),
        E::InvalidHeaderDeserialization(e) => format!("the header is not valid JSON for safetensors: {e}"),
        E::InvalidOffset(name) => {
            format!("tensor {name:?} has data offsets that are out of order, overlapping or out of range")
        }
        E::ValidationOverflow => "a tensor's shape is so large that its size overflows".into(),
        E::TensorInvalidInfo | E::MisalignedSlice => match tensor_with_wrong_size(header()) {
            Some(name) => {
                format!("tensor {name:?}: a tensor's data offsets do not match its shape and dtype")
            }
            None => "a tensor's data offsets do not match its shape and dtype".into(),
        },
        E::MetadataIncompleteBuffer => {
            "the data section does not match the header (truncated, or extra bytes at the end)".into()
        }
        other => other.to_string(),
    };
    or_pytorch(prefix, message)
}

/// `message`, or the explanation that this is a file of `torch.save` (a zip
/// archive, or a pickle in the legacy format) when its first bytes say so.
fn or_pytorch(prefix: &[u8], message: String) -> String {
    let zip = prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06");
    let pickle = matches!(prefix, [0x80, 2..=5, ..]);
    if zip || pickle {
        format!(
            "this is a PyTorch pickle file (written by torch.save), which blocks does not read: save it \
             with safetensors instead (safetensors.torch.save_file(model.state_dict(), path)); {message}"
        )
    } else {
        message
    }
}

/// The tensor (the first by data offset) whose offsets span another number
/// of bytes than its shape and dtype need, for the error to name it.
fn tensor_with_wrong_size(header: &[u8]) -> Option<String> {
    let entries: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    entries
        .into_iter()
        .filter(|(name, _)| name != "__metadata__")
        .filter_map(|(name, value)| Some((name, serde_json::from_value::<TensorInfo>(value).ok()?)))
        .filter(|(_, info)| {
            let (start, end) = info.data_offsets;
            let bits = info.shape.iter().try_fold(info.dtype.bitsize(), |size, &dim| size.checked_mul(dim));
            bits.is_none_or(|bits| bits % 8 != 0 || end.checked_sub(start) != Some(bits / 8))
        })
        .min_by_key(|(_, info)| info.data_offsets)
        .map(|(name, _)| name)
}

/// A header as parsed on the way to the crate's [`Metadata`]: each entry is
/// read straight into its type. (The crate's own `Deserialize` goes through
/// `#[serde(flatten)]`, which first buffers the whole header as a generic
/// tree: 10-20 times the header's size for a file of many small tensors.)
struct Header {
    metadata: Option<HashMap<String, String>>,
    /// Duplicate names keep the last entry, as the crate's map does.
    tensors: HashMap<String, TensorInfo>,
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> Visitor<'de> for Entries {
            type Value = Header;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of tensor names to dtype, shape and data_offsets")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
                let mut header = Header { metadata: None, tensors: HashMap::new() };
                while let Some(name) = map.next_key::<String>()? {
                    if name == "__metadata__" {
                        header.metadata = map.next_value()?;
                    } else {
                        let info = map.next_value()?;
                        header.tensors.insert(name, info);
                    }
                }
                Ok(header)
            }
        }

        deserializer.deserialize_map(Entries)
    }
}
