//! PyTorch's dtype casts on load: files in float16, bfloat16, float64 and
//! integer dtypes, written here with the `safetensors` crate (as
//! `safetensors.torch.save_file` writes them), load into float32 layers with
//! the values `load_state_dict`'s `copy_` gives; dtypes that are not
//! converted are refused naming the tensor; shapes stay strictly checked.

use std::path::PathBuf;

use blocks_core::io::{FileError, TensorFile, load};
use blocks_core::nn::{BatchNorm1d, Linear, LoadError, ModuleExt};
use blocks_core::{Tensor, Tensor64};
use safetensors::tensor::{Dtype, TensorView, serialize};

/// A fresh folder of its own for each test.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-casts-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `tensors` (name, dtype, shape, little-endian bytes) with the safetensors crate.
fn write(path: &PathBuf, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| (*name, TensorView::new(*dtype, shape.clone(), data).unwrap()))
        .collect();
    std::fs::write(path, serialize(views, None).unwrap()).unwrap();
}

fn le16(bits: &[u16]) -> Vec<u8> {
    bits.iter().flat_map(|b| b.to_le_bytes()).collect()
}

fn le64(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn float16_and_bfloat16_files_load_into_a_float32_linear_exactly() {
    let path = folder("half").join("half.safetensors");
    // float16: 1.0, 1365/4096, -3.140625, 2^-24 (the smallest subnormal).
    let weight = le16(&[0x3C00, 0x3555, 0xC248, 0x0001]);
    // bfloat16: 171/512, -3.140625.
    let bias = le16(&[0x3EAB, 0xC049]);
    write(&path, &[("weight", Dtype::F16, vec![2, 2], weight), ("bias", Dtype::BF16, vec![2], bias)]);
    let layer = Linear::<2, 2>::new();
    layer.load(&path).unwrap();
    assert_eq!(layer.weight().to_vec(), [1.0, 1365.0 / 4096.0, -3.140625, 2f32.powi(-24)]);
    assert_eq!(layer.bias().unwrap().to_vec(), [171.0 / 512.0, -3.140625]);
    // The loaded tensors are still the layer's float32 parameters.
    assert!(layer.weight().requires_grad());
}

#[test]
fn a_float64_file_rounds_to_nearest_even_into_float32() {
    let path = folder("double").join("double.safetensors");
    let u = 2f64.powi(-24); // half a float32 step at 1.0
    let weight = [1.0 + u, 1.0 + 3.0 * u, 1.0 + u + 2f64.powi(-45), 0.1, -1e-46, 1e39];
    write(
        &path,
        &[("weight", Dtype::F64, vec![3, 2], le64(&weight)), ("bias", Dtype::F64, vec![3], le64(&[0.5; 3]))],
    );
    let layer = Linear::<2, 3>::new();
    layer.load(&path).unwrap();
    let step = 2f32.powi(-23);
    let expected = [1.0, 1.0 + 2.0 * step, 1.0 + step, f32::from_bits(0x3DCC_CCCD), -0.0, f32::INFINITY];
    assert_eq!(bits(&layer.weight().to_vec()), bits(&expected));
}

#[test]
fn integer_and_bool_tensors_load_into_float_parameters_as_copy_casts_them() {
    let path = folder("ints").join("ints.safetensors");
    let weight: Vec<u8> = [(1i64 << 24) + 1, -2].iter().flat_map(|v| v.to_le_bytes()).collect();
    write(&path, &[("weight", Dtype::I64, vec![1, 2], weight), ("bias", Dtype::BOOL, vec![1], vec![1])]);
    let layer = Linear::<2, 1>::new();
    layer.load(&path).unwrap();
    // 2^24 + 1 is a tie between two float32s: to the even one, 2^24.
    assert_eq!(layer.weight().to_vec(), [16_777_216.0, -2.0]);
    assert_eq!(layer.bias().unwrap().to_vec(), [1.0]);
}

#[test]
fn num_batches_tracked_in_int64_and_statistics_in_float16_load_into_batch_norm() {
    let path = folder("bn").join("bn.safetensors");
    let half = |values: [u16; 2]| le16(&values);
    write(
        &path,
        &[
            ("weight", Dtype::F16, vec![2], half([0x3C00, 0x4000])), // 1, 2
            ("bias", Dtype::BF16, vec![2], half([0x3F00, 0xBF00])),  // 0.5, -0.5
            ("running_mean", Dtype::F16, vec![2], half([0x3800, 0x0000])), // 0.5, 0
            ("running_var", Dtype::F64, vec![2], le64(&[4.0, 0.25])),
            ("num_batches_tracked", Dtype::I64, vec![], 7i64.to_le_bytes().to_vec()),
        ],
    );
    let norm = BatchNorm1d::<2>::new();
    norm.load(&path).unwrap();
    let state = norm.state_dict();
    assert_eq!(state.get("weight").unwrap().to_vec(), [1.0, 2.0]);
    assert_eq!(state.get("bias").unwrap().to_vec(), [0.5, -0.5]);
    assert_eq!(state.get("running_mean").unwrap().to_vec(), [0.5, 0.0]);
    assert_eq!(state.get("running_var").unwrap().to_vec(), [4.0, 0.25]);
    assert_eq!(state.get("num_batches_tracked").unwrap().to_vec(), [7.0]);
    // Saved back, the counter is int64 again and the floats float32.
    let saved = folder("bn").join("saved.safetensors");
    state.save(&saved).unwrap();
    let file = TensorFile::read(&saved).unwrap();
    assert_eq!(file.integers("num_batches_tracked").unwrap(), (vec![7], vec![]));
    assert_eq!(file.tensor::<f32>("running_var").unwrap().to_vec(), [4.0, 0.25]);
}

#[test]
fn shapes_stay_strictly_checked_whatever_the_dtype() {
    let path = folder("shape").join("shape.safetensors");
    write(
        &path,
        &[
            ("weight", Dtype::BF16, vec![2, 1], le16(&[0x3F80, 0x3F80])),
            ("bias", Dtype::BF16, vec![1], le16(&[0])),
        ],
    );
    let layer = Linear::<2, 1>::new();
    let before = layer.weight().to_vec();
    let Err(LoadError::StateDict(error)) = layer.load(&path) else {
        panic!("a [2, 1] weight loaded into [1, 2]")
    };
    assert_eq!(error.mismatched[0].key, "weight");
    assert_eq!(
        (error.mismatched[0].checkpoint.clone(), error.mismatched[0].model.clone()),
        (vec![2, 1], vec![1, 2])
    );
    assert_eq!(layer.weight().to_vec(), before, "nothing changes on error");
}

#[test]
fn eight_bit_floats_are_refused_naming_the_tensor() {
    let path = folder("fp8").join("fp8.safetensors");
    write(
        &path,
        &[
            ("weight", Dtype::F8_E4M3, vec![1, 2], vec![0x38, 0x38]),
            ("bias", Dtype::F32, vec![1], vec![0; 4]),
        ],
    );
    let error = Linear::<2, 1>::new().load(&path).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, LoadError::File(FileError::Dtype { ref name, .. }) if name == "weight"),
        "{message}"
    );
    assert!(
        message.contains("tensor \"weight\" has dtype F8_E4M3, which cannot be read as float32"),
        "{message}"
    );
    assert!(message.contains("fp8.safetensors"), "{message}");
}

#[test]
fn typed_loaders_convert_to_the_element_type_asked_for() {
    let dir = folder("typed");
    write(&dir.join("one"), &[("0", Dtype::BF16, vec![2], le16(&[0x3EAB, 0xC049]))]);
    let x: Tensor = load(dir.join("one")).unwrap();
    assert_eq!(x.to_vec(), [171.0 / 512.0, -3.140625]);
    let x64: Tensor64 = load(dir.join("one")).unwrap();
    assert_eq!(x64.to_vec(), [171.0 / 512.0, -3.140625]);
    write(
        &dir.join("list"),
        &[("0", Dtype::F16, vec![1], le16(&[0x3555])), ("1", Dtype::F64, vec![1], le64(&[0.1]))],
    );
    let [a, b]: [Tensor64; 2] = load(dir.join("list")).unwrap();
    assert_eq!((a.to_vec(), b.to_vec()), (vec![1365.0 / 4096.0], vec![0.1]));
    let [_, b32]: [Tensor; 2] = load(dir.join("list")).unwrap();
    assert_eq!(b32.to_vec(), [0.1f32]);
}
