//! Files: the bytes `save` writes against the safetensors format and against
//! files PyTorch wrote, bit-exact round trips of tensors, lists and maps in
//! f32 and f64, and atomic saving when a write fails halfway.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use blocks_core::io::{FileError, TensorFile, load, save, serialize_tensors, write_atomically};
use blocks_core::nn::{Linear, ModuleExt, StateDict};
use blocks_core::{Tensor, Tensor64};

/// A fresh folder of its own for each test.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-io-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The bytes the safetensors format prescribes, built from its definition:
/// an 8-byte little-endian header length, the JSON header padded with spaces
/// to a multiple of 8, then the tensors' row-major little-endian data.
fn by_the_format(header: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header.as_bytes().to_vec();
    while !(8 + header.len()).is_multiple_of(8) {
        header.push(b' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(data);
    bytes
}

fn le_f32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn a_saved_layer_is_the_format_byte_for_byte() {
    let dir = folder("format");
    let layer = Linear::<3, 2>::new();
    let (w, b) =
        (vec![0.5, -1.25, 3.0, 1e-3, -0.0, f32::from_bits(1 << 19) /* 2^-130, subnormal */], vec![7.0, -8.5]);
    layer.weight().set_data(&Tensor::from_vec(w.clone(), [2, 3]));
    layer.bias().unwrap().set_data(&Tensor::from_vec(b.clone(), [2]));
    layer.save(dir.join("layer.safetensors")).unwrap();
    let written = std::fs::read(dir.join("layer.safetensors")).unwrap();

    let header = r#"{"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}"#;
    let data = [le_f32(&b), le_f32(&w)].concat();
    assert_eq!(written, by_the_format(header, &data));
    assert_eq!(&written[..8], &120u64.to_le_bytes(), "header length, little-endian");
    // ... and exactly what PyTorch's save_file wrote for the same state dict.
    assert_eq!(written, fixture("linear_f32.safetensors"));
}

#[test]
fn float64_is_f64_in_the_file_as_pytorch_writes_it() {
    let x = Tensor64::from_vec(vec![1.0 / 3.0, -2.5], [2]);
    let bytes = serialize_tensors(&[("x", &x)], &[]).unwrap();
    let data: Vec<u8> = [1.0f64 / 3.0, -2.5].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(bytes, by_the_format(r#"{"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#, &data));
    assert_eq!(bytes, fixture("x_f64.safetensors"));
}

#[test]
fn files_pytorch_wrote_load_exactly() {
    let file = TensorFile::from_bytes(&fixture("linear_f32.safetensors")).unwrap();
    let state = StateDict::from_file(&file).unwrap();
    let weight: Vec<u32> = state.get("weight").unwrap().to_vec().iter().map(|v| v.to_bits()).collect();
    let expected: Vec<u32> =
        [0.5f32, -1.25, 3.0, 1e-3, -0.0, f32::from_bits(1 << 19) /* 2^-130, subnormal */]
            .iter()
            .map(|v| v.to_bits())
            .collect();
    assert_eq!(weight, expected);
    let layer = Linear::<3, 2>::new();
    layer.load_state_dict(&state).unwrap();
    assert_eq!(layer.bias().unwrap().to_vec(), vec![7.0, -8.5]);

    let x: Tensor64 = TensorFile::from_bytes(&fixture("x_f64.safetensors")).unwrap().tensor("x").unwrap();
    assert_eq!(x.to_vec()[0].to_bits(), (1.0f64 / 3.0).to_bits());
}

/// Values whose bits a careless conversion would change.
fn awkward_f32() -> Vec<f32> {
    vec![
        0.0,
        -0.0,
        1.0 / 3.0,
        f32::MIN_POSITIVE,
        f32::MIN_POSITIVE / 8.0, // subnormal
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(0x7fc0_1234), // a NaN with a payload
        f32::EPSILON,
        -123.456,
    ]
}

fn bits32(t: &Tensor) -> Vec<u32> {
    t.to_vec().iter().map(|v| v.to_bits()).collect()
}

fn bits64(t: &Tensor64) -> Vec<u64> {
    t.to_vec().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn a_tensor_round_trips_bit_for_bit_in_f32_and_f64() {
    let dir = folder("tensor");
    let x = Tensor::from_vec(awkward_f32(), [3, 4]);
    save(&x, dir.join("x-file")).unwrap();
    let x2: Tensor = load(dir.join("x-file")).unwrap();
    assert_eq!((bits32(&x2), x2.shape()), (bits32(&x), vec![3, 4]));

    let mut values: Vec<f64> = awkward_f32().into_iter().map(f64::from).collect();
    values.extend([1.0 / 3.0, f64::MIN_POSITIVE / 1024.0, f64::from_bits(0x7ff8_0000_dead_beef), 1e300]);
    let y = Tensor64::from_vec(values, [2, 2, 4]);
    save(&y, dir.join("y-file")).unwrap();
    let y2: Tensor64 = load(dir.join("y-file")).unwrap();
    assert_eq!((bits64(&y2), y2.shape()), (bits64(&y), vec![2, 2, 4]));

    // A zero-dimensional tensor keeps its empty shape.
    save(&Tensor::scalar(2.5), dir.join("s")).unwrap();
    let s: Tensor = load(dir.join("s")).unwrap();
    assert_eq!((s.shape(), s.item()), (vec![], 2.5));
}

#[test]
fn lists_round_trip_in_order_beyond_ten_items() {
    let dir = folder("list");
    let list: Vec<Tensor> = (0..12).map(|i| Tensor::full([i % 3 + 1], i as f32)).collect();
    save(&list, dir.join("x-files")).unwrap();
    let back: Vec<Tensor> = load(dir.join("x-files")).unwrap();
    assert_eq!(back.len(), 12);
    for (i, (a, b)) in list.iter().zip(&back).enumerate() {
        assert_eq!((a.shape(), bits32(a)), (b.shape(), bits32(b)), "item {i}");
    }
    // d2l: x2, y2 = torch.load('x-files')
    let (x, y) = (Tensor::arange(0.0, 4.0, 1.0), Tensor::zeros([4]));
    save(&[x.clone(), y.clone()], dir.join("xy")).unwrap();
    let [x2, y2]: [Tensor; 2] = load(dir.join("xy")).unwrap();
    assert_eq!((x2.to_vec(), y2.to_vec()), (x.to_vec(), y.to_vec()));
    let names = TensorFile::read(dir.join("xy")).unwrap();
    assert_eq!(names.names(), vec!["0", "1"]);
    let wrong = load::<[Tensor; 3]>(dir.join("xy")).unwrap_err();
    assert!(
        wrong.to_string().ends_with("a list of 3 tensors was asked for, but the file holds 2"),
        "{wrong}"
    );
    let empty: Vec<Tensor> = Vec::new();
    save(&empty, dir.join("empty")).unwrap();
    assert!(load::<Vec<Tensor>>(dir.join("empty")).unwrap().is_empty());
}

#[test]
fn maps_round_trip() {
    let dir = folder("map");
    let mydict = BTreeMap::from([
        ("x".to_string(), Tensor64::from_vec(vec![0.1, 0.2], [2])),
        ("y".to_string(), Tensor64::zeros([1, 3])),
    ]);
    save(&mydict, dir.join("mydict")).unwrap();
    let back: BTreeMap<String, Tensor64> = load(dir.join("mydict")).unwrap();
    assert_eq!(back.keys().collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(bits64(&back["x"]), bits64(&mydict["x"]));
    assert_eq!(back["y"].shape(), vec![1, 3]);
    let hashed: HashMap<String, Tensor64> = load(dir.join("mydict")).unwrap();
    assert_eq!(hashed.len(), 2);
    save(&hashed, dir.join("again")).unwrap();
    assert_eq!(std::fs::read(dir.join("again")).unwrap(), std::fs::read(dir.join("mydict")).unwrap());
}

#[test]
fn asking_for_the_wrong_kind_says_what_the_file_holds() {
    let dir = folder("kinds");
    let map = BTreeMap::from([("x".to_string(), Tensor::ones([1])), ("y".to_string(), Tensor::ones([1]))]);
    save(&map, dir.join("mydict")).unwrap();
    let error = load::<Tensor>(dir.join("mydict")).unwrap_err();
    assert!(matches!(error, FileError::Content { .. }));
    assert!(error.to_string().ends_with(
        "mydict: a single tensor was asked for, but the file holds 2 (\"x\", \"y\"): load it as a list or a map"
    ));
    let error = load::<Vec<Tensor>>(dir.join("mydict")).unwrap_err();
    assert!(error.to_string().contains(
        "a list was asked for, whose 2 tensors are named \"0\" to \"1\", but the file has \"x\", \"y\""
    ));
    // A single tensor saved by PyTorch under any name loads as a tensor.
    let one = BTreeMap::from([("weights".to_string(), Tensor::ones([2]))]);
    save(&one, dir.join("one")).unwrap();
    assert_eq!(load::<Tensor>(dir.join("one")).unwrap().to_vec(), vec![1.0, 1.0]);
    // "__metadata__" cannot name a tensor.
    let reserved = BTreeMap::from([("__metadata__".to_string(), Tensor::ones([1]))]);
    assert!(save(&reserved, dir.join("reserved")).unwrap_err().to_string().contains("reserved"));
    assert!(!dir.join("reserved").exists());
    // A list key that is not a plain index is refused.
    let odd = BTreeMap::from([("0".to_string(), Tensor::ones([1])), ("01".to_string(), Tensor::ones([1]))]);
    save(&odd, dir.join("odd")).unwrap();
    assert!(load::<Vec<Tensor>>(dir.join("odd")).unwrap_err().to_string().contains("\"01\""));
}

#[test]
fn state_dicts_save_and_load_through_the_same_calls() {
    let dir = folder("state");
    let net = Linear::<4, 2>::new();
    save(&net.state_dict(), dir.join("net")).unwrap();
    let state: StateDict = load(dir.join("net")).unwrap();
    let copy = Linear::<4, 2>::new();
    copy.load_state_dict(&state).unwrap();
    assert_eq!(bits32(copy.weight()), bits32(net.weight()));
}

/// A writer that accepts `left` bytes, then fails as a full disk does.
struct FailAfter<W> {
    inner: W,
    left: usize,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("no space left on device (simulated)"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn a_write_that_fails_halfway_leaves_the_old_file_and_no_temporary() {
    let dir = folder("atomic");
    let path = dir.join("model.safetensors");
    let old = Linear::<8, 4>::new();
    old.save(&path).unwrap();
    let old_bytes = std::fs::read(&path).unwrap();

    let new = Linear::<8, 4>::new();
    let new_bytes = serialize_tensors(&[("weight", new.weight().tensor())], &[]).unwrap();
    let mut seen_during = Vec::new();
    let error = write_atomically(&path, |file| {
        let mut writer = FailAfter { inner: file, left: new_bytes.len() / 2 };
        let result = writer.write_all(&new_bytes);
        seen_during = entries(&dir);
        result
    })
    .unwrap_err();

    // It wrote into a temporary file beside the target, never the target itself.
    assert_eq!(seen_during.len(), 2, "{seen_during:?}");
    assert!(seen_during.iter().any(|n| n.starts_with(".model.safetensors.") && n.ends_with(".tmp")));
    assert!(matches!(&error, FileError::Io { action: "write", .. }));
    assert!(error.to_string().contains("no space left on device (simulated)"));
    assert_eq!(std::fs::read(&path).unwrap(), old_bytes, "the previous file is intact");
    assert_eq!(entries(&dir), ["model.safetensors"], "no temporary file remains");
    let copy = Linear::<8, 4>::new();
    copy.load(&path).unwrap();
    assert_eq!(bits32(copy.weight()), bits32(old.weight()));
}

#[test]
fn a_failed_rename_removes_the_temporary_file() {
    let dir = folder("rename");
    // The target becomes a non-empty folder while the file is written (a
    // folder from the start is refused before writing): everything succeeds
    // but the final rename.
    let target = dir.join("taken");
    let error = write_atomically(&target, |file| {
        std::fs::create_dir_all(target.join("inside"))?;
        file.write_all(b"bytes")
    })
    .unwrap_err();
    assert!(matches!(error, FileError::Io { action: "replace", .. }), "{error}");
    assert_eq!(entries(&dir), ["taken"]);
}

#[test]
fn concurrent_saves_to_one_path_leave_one_whole_file() {
    let dir = folder("race");
    let path = dir.join("x");
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || save(&Tensor::full([1000], i as f32), &path).unwrap())
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let x: Tensor = load(&path).unwrap();
    let first = x.to_vec()[0];
    assert!(x.to_vec().iter().all(|v| *v == first), "one writer's values, whole");
    assert_eq!(entries(&dir), ["x"]);
}

#[test]
fn the_reserved_name_cannot_be_written_nor_smuggled_in_as_an_alias() {
    let error = serialize_tensors(&[("__metadata__", &Tensor::ones([1]))], &[]).unwrap_err();
    assert!(error.to_string().contains("\"__metadata__\" is reserved by safetensors"), "{error}");
    // save_model-style aliases in the metadata: a reserved alias is ignored, so
    // the state dict read can always be saved again.
    let bytes =
        serialize_tensors(&[("w", &Tensor::ones([1]))], &[("__metadata__", "w"), ("v", "w")]).unwrap();
    let state = StateDict::from_file(&TensorFile::from_bytes(&bytes).unwrap()).unwrap();
    assert_eq!(state.keys(), vec!["w", "v"]);
    let dir = folder("reserved-alias");
    state.save(dir.join("again")).unwrap();
}
