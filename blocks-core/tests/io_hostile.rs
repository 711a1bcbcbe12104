//! Damaged and hostile safetensors files: each gives an `Err` that says what
//! is wrong, never a panic, and reading never allocates more than the file
//! (checked by an allocator that records the largest request of each thread).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

use blocks_core::io::{FileError, TensorFile};
use blocks_core::nn::StateDict;

struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call forwards to the system allocator with the caller's
// arguments unchanged; the counters only observe sizes.
#[allow(unsafe_code)] // measurement only (see Cargo.toml)
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Below this, an allocation is bookkeeping (messages, JSON maps), not data.
const SMALL: usize = 64 * 1024;

fn file_with(header_len: u64, header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = header_len.to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(data);
    bytes
}

fn file(header: &str, data: &[u8]) -> Vec<u8> {
    file_with(header.len() as u64, header.as_bytes(), data)
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Reads `bytes` from memory and from disk, asserting an error mentioning
/// `expected`, and that no allocation grew past the file (or bookkeeping size).
fn assert_refused(bytes: &[u8], expected: &str) {
    let limit = bytes.len().max(SMALL);
    LARGEST.with(|l| l.set(0));
    let error = TensorFile::from_bytes(bytes).map(|_| ()).unwrap_err();
    let largest = LARGEST.with(Cell::get);
    assert!(matches!(error, FileError::Format { .. }), "{error:?}");
    assert!(error.to_string().contains(expected), "from bytes: {error} (wanted {expected:?})");
    assert!(largest <= limit, "from bytes: allocated {largest} bytes for a {}-byte file", bytes.len());

    let path = temp_path(&format!("{:016x}.safetensors", fingerprint(bytes)));
    std::fs::write(&path, bytes).unwrap();
    LARGEST.with(|l| l.set(0));
    let error = TensorFile::read(&path).map(|_| ()).unwrap_err();
    let largest = LARGEST.with(Cell::get);
    assert!(error.to_string().contains(expected), "from disk: {error} (wanted {expected:?})");
    assert!(error.to_string().contains(&path.display().to_string()), "names the file: {error}");
    assert!(largest <= limit, "from disk: allocated {largest} bytes for a {}-byte file", bytes.len());
}

fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3))
}

const F32_2: &str = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;

#[test]
fn the_well_formed_baseline_loads() {
    let bytes = file(F32_2, &[0; 8]);
    assert_eq!(TensorFile::from_bytes(&bytes).unwrap().tensor::<f32>("a").unwrap().to_vec(), vec![0.0; 2]);
}

#[test]
fn too_short_to_hold_a_header_length() {
    assert_refused(b"", "the file is 0 bytes, too short to hold the 8-byte header length");
    assert_refused(b"\x10\0\0\0\0\0\0", "the file is 7 bytes, too short");
}

#[test]
fn truncated_files() {
    let whole = file(F32_2, &[0; 8]);
    // Cut inside the header: the length points past the end.
    assert_eq!(F32_2.len(), 54);
    assert_refused(&whole[..30], "the header length (54 bytes) points past the end of the file (30 bytes)");
    // Cut inside the data.
    assert_refused(&whole[..whole.len() - 3], "the data section does not match the header");
    // Only the length.
    assert_refused(&whole[..8], "points past the end of the file (8 bytes)");
}

#[test]
fn a_header_length_of_gigabytes_is_refused_before_reading_or_allocating() {
    for header_len in [4 << 30, 100_000_001, u64::MAX, u64::MAX - 7] {
        let bytes = file_with(header_len, b"{}", &[]);
        assert_refused(&bytes, &format!("the header length ({header_len} bytes) is larger than the 100 MB"));
    }
    // Within the format's limit but past the end of this file.
    assert_refused(
        &file_with(99_000_000, b"{}", &[]),
        "the header length (99000000 bytes) points past the end",
    );
}

#[test]
fn a_header_that_is_not_json_or_not_utf8() {
    assert_refused(&file("{\"a\":", &[]), "the header is not valid JSON for safetensors");
    assert_refused(&file_with(4, b"\xff\xfe{}", &[]), "the header is not UTF-8");
    assert_refused(&file("[1, 2, 3]", &[]), "not valid JSON for safetensors");
    assert_refused(
        &file(r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, &[0; 4]),
        "not valid JSON",
    );
    assert_refused(
        &file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}}"#, &[0; 4]),
        "not valid JSON",
    );
    assert_refused(&file(r#"{"__metadata__":{"format":7}}"#, &[]), "not valid JSON");
    assert_refused(
        &file(r#"{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}"#, &[0; 4]),
        "not valid JSON",
    );
}

#[test]
fn offsets_out_of_range_overlapping_or_reversed() {
    // Past the data.
    let beyond = r#"{"a":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}}"#;
    assert_refused(&file(beyond, &[0; 8]), "the data section does not match the header");
    // Two tensors over the same bytes.
    let overlapping = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
    assert_refused(
        &file(overlapping, &[0; 12]),
        "data offsets that are out of order, overlapping or out of range",
    );
    // End before start.
    let reversed = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#;
    assert_refused(
        &file(reversed, &[0; 8]),
        "data offsets that are out of order, overlapping or out of range",
    );
    // A gap between tensors.
    let gap = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
    assert_refused(&file(gap, &[0; 12]), "data offsets that are out of order, overlapping or out of range");
    // Offsets that disagree with shape and dtype.
    let short = r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
    assert_refused(&file(short, &[0; 8]), "a tensor's data offsets do not match its shape and dtype");
    // Offsets near u64::MAX.
    let huge =
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,18446744073709551615]}}"#;
    assert_refused(&file(huge, &[0; 8]), "data offsets that are out of order, overlapping or out of range");
}

#[test]
fn shapes_whose_size_overflows_or_exceeds_the_data() {
    let overflow = r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#;
    assert_refused(&file(overflow, &[0; 8]), "a tensor's shape is so large that its size overflows");
    let bytes_overflow = r#"{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}}"#;
    assert_refused(&file(bytes_overflow, &[0; 8]), "so large that its size overflows");
    let huge = r#"{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,8]}}"#;
    assert_refused(&file(huge, &[0; 8]), "a tensor's data offsets do not match its shape and dtype");
}

#[test]
fn an_empty_tensor_with_an_absurd_dimension_is_an_error_when_read_not_a_panic() {
    let header = r#"{"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}}"#;
    let file = TensorFile::from_bytes(&file(header, &[])).unwrap();
    let error = file.tensor::<f32>("a").unwrap_err();
    assert!(
        error.to_string().contains(
            "tensor \"a\": shape [0, 18446744073709551615] is too large for an array on this machine"
        ),
        "{error}"
    );
    assert!(StateDict::from_file(&file).is_err());
}

#[test]
fn dtypes_that_are_unknown_or_not_converted() {
    assert_refused(
        &file(r#"{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, &[0; 8]),
        "the header is not valid JSON for safetensors",
    );
    // Integers convert to floats as PyTorch's copy_ does; a state dict keeps
    // them (BatchNorm's num_batches_tracked) as whole numbers.
    let int = file(r#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, &7i64.to_le_bytes());
    let parsed = TensorFile::from_bytes(&int).unwrap();
    assert_eq!(parsed.tensor::<f32>("a").unwrap().to_vec(), vec![7.0]);
    assert_eq!(StateDict::from_file(&parsed).unwrap().get("a").unwrap().to_vec(), vec![7.0]);
    let bools = file(r#"{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#, &[0, 1]);
    assert_eq!(
        StateDict::from_file(&TensorFile::from_bytes(&bools).unwrap()).unwrap().get("a").unwrap().to_vec(),
        [0.0, 1.0]
    );
    // 8-bit floats and complex numbers are not converted.
    let complex = file(r#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, &[0; 8]);
    let error = StateDict::from_file(&TensorFile::from_bytes(&complex).unwrap()).unwrap_err();
    assert_eq!(error.to_string(), "tensor \"a\" has dtype C64, which cannot be read as float32");
    let fp8 = file(r#"{"a":{"dtype":"F8_E5M2","shape":[4],"data_offsets":[0,4]}}"#, &[0; 4]);
    let error = TensorFile::from_bytes(&fp8).unwrap().tensor::<f64>("a").unwrap_err();
    assert_eq!(error.to_string(), "tensor \"a\" has dtype F8_E5M2, which cannot be read as float64");
    let floats = TensorFile::from_bytes(&file(F32_2, &[0; 8])).unwrap();
    assert!(floats.integers("a").unwrap_err().to_string().contains("cannot be read as int64"));
}

#[test]
fn extra_bytes_after_the_data() {
    assert_refused(&file(F32_2, &[0; 12]), "the data section does not match the header");
}

#[test]
fn duplicate_keys_and_odd_names_do_not_panic() {
    let duplicate = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let _ = TensorFile::from_bytes(&file(duplicate, &[0; 8]));
    let odd = r#"{"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let parsed = TensorFile::from_bytes(&file(odd, &[0; 8])).unwrap();
    assert_eq!(parsed.names(), vec![""]);
}

#[test]
fn a_missing_tensor_is_named() {
    let parsed = TensorFile::from_bytes(&file(F32_2, &[0; 8])).unwrap();
    assert_eq!(parsed.tensor::<f32>("b").unwrap_err().to_string(), "no tensor named \"b\" in the file");
}

#[test]
fn a_folder_or_a_missing_file_is_an_io_error() {
    let dir = temp_path("a-folder");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(TensorFile::read(&dir), Err(FileError::Io { .. } | FileError::Format { .. })));
    assert!(matches!(TensorFile::read(temp_path("absent")), Err(FileError::Io { action: "read", .. })));
}

#[test]
fn the_tracker_sees_data_sized_allocations_and_a_valid_file_stays_within_its_size() {
    let n = 300_000;
    let header = format!(r#"{{"a":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{}]}}}}"#, 4 * n);
    let bytes = file(&header, &vec![0; 4 * n]);
    let path = temp_path("large-valid.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    LARGEST.with(|l| l.set(0));
    let parsed = TensorFile::read(&path).unwrap();
    assert_eq!(parsed.shape("a").unwrap(), vec![n]);
    let largest = LARGEST.with(Cell::get);
    assert!(largest >= 4 * n, "the tracker saw {largest} bytes");
    assert!(largest <= bytes.len(), "allocated {largest} bytes for a {}-byte file", bytes.len());
}

#[test]
fn declared_sizes_beyond_the_file_are_refused_before_the_data_is_read() {
    // A terabyte declared, 8 bytes held.
    let terabyte = r#"{"a":{"dtype":"F32","shape":[274877906944],"data_offsets":[0,1099511627776]}}"#;
    assert_refused(&file(terabyte, &[0; 8]), "its tensors take 1099511627776 bytes, the file holds 8");
    let two = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1000],"data_offsets":[8,8008]}}"#;
    assert_refused(&file(two, &[0; 16]), "sizes that exceed the file");
}

#[test]
fn a_size_error_names_the_tensor() {
    let short = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"bad.weight":{"dtype":"F32","shape":[3],"data_offsets":[8,16]}}"#;
    assert_refused(&file(short, &[0; 16]), "tensor \"bad.weight\": a tensor's data offsets do not match");
    let reversed = r#"{"first":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"gap":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#;
    assert_refused(&file(reversed, &[0; 16]), "tensor \"gap\" has data offsets");
}

#[test]
fn a_dtype_error_names_the_file() {
    let path = temp_path("labels.safetensors");
    std::fs::write(&path, file(r#"{"y":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#, &[0; 4]))
        .unwrap();
    let error = StateDict::read(&path).unwrap_err();
    assert!(matches!(&error, FileError::Dtype { path: p, .. } if *p == path), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("{}: tensor \"y\" has dtype F8_E4M3, which cannot be read as float32", path.display())
    );
}

#[test]
fn a_pytorch_pickle_or_zip_file_is_named_as_such() {
    let advice = "this is a PyTorch pickle file (written by torch.save), which blocks does not read: save it \
                  with safetensors instead (safetensors.torch.save_file(model.state_dict(), path))";
    // torch.save since PyTorch 1.6: a zip archive ("PK\x03\x04", then its first entry).
    let mut zip = b"PK\x03\x04\x00\x00\x08\x08\x00\x00\x00\x00!\x00archive/data.pkl".to_vec();
    zip.extend_from_slice(&[0x80, 0x02, b'}', b'q', 0x00, b'.']);
    assert_refused(&zip, advice);
    // The legacy format: a pickle (protocol 2) of the magic number first.
    let legacy = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.'];
    assert_refused(&legacy, advice);
    // A zip whose forged length fits the file is still named.
    let mut small_zip = b"PK\x03\x04\x00\x00\x00\x00".to_vec();
    small_zip.extend(std::iter::repeat_n(b'x', 100));
    assert_refused(&small_zip, advice);
}
