//! Loading scales: state dicts, optimizer states and metadata aliases of
//! 80,000 entries load (or are refused) in linear time, and a sparse file of
//! a terabyte is refused at once. Each case runs under a 120 s watchdog that
//! a quadratic loader blows through (59-91 s for 80,000 entries in a release
//! build, many times that in the debug build tests run in), while the linear
//! ones take a few seconds of CPU in debug even on a machine busy with other
//! builds; no timing is asserted.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use blocks_core::Tensor;
use blocks_core::io::{FileError, TensorFile, save_tensors};
use blocks_core::nn::{DynLinear, ModuleExt, StateDict};
use blocks_core::optim::{Optimizer, OptimizerState, Sgd, SgdConfig};

const ENTRIES: usize = 80_000;

/// Runs `f` on its own thread; fails (never hangs) if it takes over 120 s.
fn within_watchdog<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    let worker = std::thread::spawn(move || sender.send(f()).unwrap());
    match receiver.recv_timeout(Duration::from_secs(120)) {
        Ok(value) => {
            worker.join().unwrap();
            value
        }
        // The worker panicked: its panic is the failure.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().expect_err("the worker sent nothing"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not finish within the 120 s watchdog"),
    }
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_state_dict_of_80000_entries_loads_into_a_model_and_is_refused_by_another() {
    within_watchdog("80,000 entries", || {
        // 40,000 one-by-one linear layers: keys "0.weight", "0.bias", ... "39999.bias".
        let model: Vec<DynLinear> = (0..ENTRIES / 2).map(|_| DynLinear::new(1, 1)).collect();
        let path = temp_path("80000.safetensors");
        model.state_dict().save(&path).unwrap();

        let state = StateDict::read(&path).unwrap();
        assert_eq!(state.len(), ENTRIES);
        let copy: Vec<DynLinear> = (0..ENTRIES / 2).map(|_| DynLinear::new(1, 1)).collect();
        copy.load_state_dict(&state).unwrap();
        assert_eq!(copy[39_999].weight().to_vec(), model[39_999].weight().to_vec());
        assert_eq!(copy[0].bias().unwrap().to_vec(), model[0].bias().unwrap().to_vec());

        // A smaller model refuses it, listing every unexpected key.
        let small: Vec<DynLinear> = (0..2).map(|_| DynLinear::new(1, 1)).collect();
        let error = small.load_state_dict(&state).unwrap_err();
        assert_eq!(error.unexpected.len(), ENTRIES - 4);
        assert!(error.unexpected.iter().any(|k| k == "39999.bias"));
        // A model of other shapes refuses it with every mismatch.
        let wider: Vec<DynLinear> = (0..ENTRIES / 2).map(|_| DynLinear::new(1, 2)).collect();
        assert_eq!(wider.load_state_dict(&state).unwrap_err().mismatched.len(), ENTRIES);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn an_optimizer_state_of_80000_entries_loads_and_a_damaged_one_is_refused() {
    within_watchdog("an optimizer state of 80,000 entries", || {
        let params: Vec<Tensor> =
            (0..ENTRIES).map(|i| Tensor::full([1], i as f32).requires_grad_(true)).collect();
        let mut opt = Sgd::new(&params, SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() });
        for p in &params {
            p.sum().backward();
        }
        opt.step();
        let path = temp_path("optimizer-80000.safetensors");
        opt.save(&path).unwrap();

        let state = OptimizerState::read(&path).unwrap();
        assert_eq!(state.keys().len(), ENTRIES);
        let mut resumed = Sgd::new(&params, SgdConfig::default());
        resumed.load_state_dict(&state).unwrap();
        assert_eq!(resumed.momentum_buffer(ENTRIES - 1).unwrap().to_vec(), vec![1.0]);

        // The last entry damaged: every entry is checked before anything changes.
        let mut damaged = state.clone();
        damaged.insert(format!("state.{}.momentum_buffer", ENTRIES - 1), Tensor::full([1], f32::NAN));
        let mut fresh = Sgd::new(&params, SgdConfig::default());
        let error = fresh.load_state_dict(&damaged).unwrap_err().to_string();
        assert!(error.contains(&format!("parameter {}", ENTRIES - 1)), "{error}");
        assert!(fresh.momentum_buffer(0).is_none(), "nothing changed");
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn a_file_with_80000_metadata_aliases_loads() {
    within_watchdog("80,000 aliases", || {
        let aliases: Vec<(String, String)> =
            (0..ENTRIES).map(|i| (format!("{i}.weight"), "shared.weight".to_string())).collect();
        let metadata: Vec<(&str, &str)> = aliases.iter().map(|(a, t)| (a.as_str(), t.as_str())).collect();
        let path = temp_path("aliases.safetensors");
        save_tensors(&path, &[("shared.weight", &Tensor::ones([2]))], &metadata).unwrap();
        let state = StateDict::read(&path).unwrap();
        assert_eq!(state.len(), ENTRIES + 1);
        assert_eq!(state.get("79999.weight").unwrap().to_vec(), vec![1.0, 1.0]);
        std::fs::remove_file(&path).unwrap();
    });
}

/// A file of 1 TiB whose first bytes are `start`, the rest a hole (no disk used).
fn sparse_terabyte(name: &str, start: &[u8]) -> PathBuf {
    let path = temp_path(name);
    let mut file = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut file, start).unwrap();
    file.set_len(1 << 40).unwrap();
    path
}

#[test]
fn a_sparse_terabyte_file_is_refused_at_once() {
    let header = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut valid_start = (header.len() as u64).to_le_bytes().to_vec();
    valid_start.extend_from_slice(header);
    valid_start.extend_from_slice(&[0; 8]);
    let cases = [
        ("zeros", Vec::new(), "the header is not valid JSON"),
        ("valid-start", valid_start, "the data section does not match the header"),
    ];
    for (name, start, expected) in cases {
        let path = sparse_terabyte(&format!("terabyte-{name}.safetensors"), &start);
        let read = path.clone();
        let error = within_watchdog("reading a sparse terabyte", move || TensorFile::read(&read).map(|_| ()));
        std::fs::remove_file(&path).unwrap();
        let error = error.unwrap_err();
        assert!(matches!(error, FileError::Format { .. }), "{error:?}");
        assert!(error.to_string().contains(expected), "{name}: {error}");
    }
}
