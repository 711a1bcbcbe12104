//! Recurrent layer conformance: every case in `<dir>/rnn/` (dir =
//! `BLOCKS_CONFORMANCE_DIR`, by default `tests/data/conformance`), written
//! by `tests/data/generate_rnn.py`, built from its `arch` with the run-time
//! layers (`DynRNN`, `DynLSTM`, `DynGRU`, the cells), its sizes read from
//! its weights (input and hidden sizes, projection, layers, directions,
//! biases) and the settings a state_dict does not show from its metadata
//! (`batch_first`, `nonlinearity`, `dropout`): PyTorch's weights loaded
//! strictly, the mode its metadata names, the forward on its input (from its
//! `h0`/`c0` when given), the backward of the weighted sum the file
//! records, and then every value the layer gives, the input's and the
//! initial state's gradients, every `grad.KEY`, the printout and the
//! state_dict's keys in order compared with PyTorch's.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use blocks::Tensor;
use blocks::io::TensorFile;
use blocks::nn::{
    DynGRU, DynLSTM, DynRNN, GRUCell, LSTMCell, Module, ModuleExt, RNNCell, RecurrentOptions, StateDict,
};

use crate::support::{self, optim_metadata::Metadata};

fn rnn_dir() -> PathBuf {
    support::conformance_dir().join("rnn")
}

/// |ours - PyTorch| <= 1e-4 + 1e-4 |PyTorch| per element, the README's tolerance.
fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-4, 1e-4);
}

/// A case's layer, built from its weights and metadata.
enum Layer {
    Rnn(DynRNN),
    Lstm(DynLSTM),
    Gru(DynGRU),
    RnnCell(RNNCell),
    LstmCell(LSTMCell),
    GruCell(GRUCell),
}

impl Layer {
    fn module(&self) -> &dyn Module {
        match self {
            Layer::Rnn(l) => l,
            Layer::Lstm(l) => l,
            Layer::Gru(l) => l,
            Layer::RnnCell(l) => l,
            Layer::LstmCell(l) => l,
            Layer::GruCell(l) => l,
        }
    }

    /// What the layer gives, by the names the file stores them under; from
    /// `h0` (and `c0`) when given.
    fn run(&self, x: &Tensor, h0: Option<&Tensor>, c0: Option<&Tensor>) -> Vec<(&'static str, Tensor)> {
        let pair = |(output, h_n): (Tensor, Tensor)| vec![("output", output), ("h_n", h_n)];
        match (self, h0, c0) {
            (Layer::Rnn(l), None, _) => pair(l.forward(x)),
            (Layer::Rnn(l), Some(h0), _) => pair(l.forward_with_state(x, h0)),
            (Layer::Gru(l), None, _) => pair(l.forward(x)),
            (Layer::Gru(l), Some(h0), _) => pair(l.forward_with_state(x, h0)),
            (Layer::Lstm(l), h0, c0) => {
                let (output, (h_n, c_n)) = match (h0, c0) {
                    (Some(h0), Some(c0)) => l.forward_with_state(x, (h0, c0)),
                    _ => l.forward(x),
                };
                vec![("output", output), ("h_n", h_n), ("c_n", c_n)]
            }
            (Layer::RnnCell(l), None, _) => vec![("h", l.forward(x))],
            (Layer::RnnCell(l), Some(h0), _) => vec![("h", l.forward_with_state(x, h0))],
            (Layer::GruCell(l), None, _) => vec![("h", l.forward(x))],
            (Layer::GruCell(l), Some(h0), _) => vec![("h", l.forward_with_state(x, h0))],
            (Layer::LstmCell(l), h0, c0) => {
                let (h, c) = match (h0, c0) {
                    (Some(h0), Some(c0)) => l.forward_with_state(x, (h0, c0)),
                    _ => l.forward(x),
                };
                vec![("h", h), ("c", c)]
            }
        }
    }
}

/// The number of gates of `arch`'s unit: rows of `weight_ih` per hidden unit.
fn gates(arch: &str) -> usize {
    match arch.trim_end_matches("_cell") {
        "rnn" => 1,
        "lstm" => 4,
        "gru" => 3,
        other => panic!("no recurrent unit {other:?}"),
    }
}

/// The layer of a case: sizes from the weights, the rest from the metadata.
fn build(meta: &Metadata, state: &StateDict) -> Layer {
    let case = meta.case;
    let arch = meta.text("arch").unwrap_or_else(|| panic!("{case}: no arch in the metadata"));
    let shape =
        |key: &str| state.get(key).unwrap_or_else(|| panic!("{case}: no {key} in the weights")).shape();
    let nonlinearity = meta.text("nonlinearity").unwrap_or("tanh");
    if arch.ends_with("_cell") {
        let w_ih = shape("weight_ih");
        let (hidden, input) = (w_ih[0] / gates(arch), w_ih[1]);
        let bias = state.get("bias_ih").is_some();
        return match arch {
            "rnn_cell" => Layer::RnnCell(RNNCell::with_options(input, hidden, bias, nonlinearity)),
            "lstm_cell" => Layer::LstmCell(LSTMCell::with_bias(input, hidden, bias)),
            _ => Layer::GruCell(GRUCell::with_bias(input, hidden, bias)),
        };
    }
    let w_ih = shape("weight_ih_l0");
    let (hidden, input) = (w_ih[0] / gates(arch), w_ih[1]);
    let options = RecurrentOptions {
        num_layers: (0..).take_while(|l| state.get(&format!("weight_ih_l{l}")).is_some()).count(),
        bias: state.get("bias_ih_l0").is_some(),
        batch_first: meta.flag("batch_first"),
        dropout: meta.number("dropout", 0.0),
        bidirectional: state.get("weight_ih_l0_reverse").is_some(),
        proj_size: state.get("weight_hr_l0").map_or(0, |w| w.shape()[0]),
    };
    match arch {
        "rnn" => Layer::Rnn(DynRNN::with_nonlinearity(input, hidden, nonlinearity, options)),
        "lstm" => Layer::Lstm(DynLSTM::with_options(input, hidden, options)),
        "gru" => Layer::Gru(DynGRU::with_options(input, hidden, options)),
        other => panic!("{case}: arch {other:?}"),
    }
}

/// `["a", "b"]` (the metadata's `keys`) as a list.
fn json_strings(text: &str) -> Vec<String> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    inner.split(',').map(|s| s.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty()).collect()
}

fn run_case(case: &str, io: &TensorFile, weights: PathBuf) {
    let meta = Metadata { case, values: io.metadata() };
    let state = StateDict::read(&weights).unwrap_or_else(|e| panic!("{case}: {}: {e}", weights.display()));
    let layer = build(&meta, &state);
    let module = layer.module();
    module.load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: {e}"));
    let theirs = meta.text("module_repr").unwrap_or_else(|| panic!("{case}: no module_repr"));
    assert_eq!(blocks::nn::module_repr(module), theirs, "{case}: printout");
    let keys = json_strings(meta.text("keys").unwrap_or_else(|| panic!("{case}: no keys")));
    assert_eq!(module.state_dict().keys(), keys, "{case}: state_dict keys in order");
    match meta.text("mode") {
        Some("eval") => module.eval(),
        Some("train") => module.train(),
        other => panic!("{case}: mode {other:?}"),
    }
    let tensor = |name: &str| io.tensor::<f32>(name).unwrap_or_else(|e| panic!("{case}: {e}"));
    let optional = |name: &str| io.contains(name).then(|| tensor(name).requires_grad_(true));
    let x = tensor("input").requires_grad_(true);
    let (h0, c0) = (optional("h0"), optional("c0"));
    let given = layer.run(&x, h0.as_ref(), c0.as_ref());
    let mut loss: Option<Tensor> = None;
    for (name, ours) in &given {
        assert_close(&format!("{case}: {name}"), ours, &tensor(name));
        let term = (ours * &tensor(&format!("w_{name}"))).sum();
        loss = Some(match loss {
            Some(sum) => &sum + &term,
            None => term,
        });
    }
    loss.expect("a layer gives something").backward();
    let grad = |t: &Tensor, what: &str| t.grad().unwrap_or_else(|| panic!("{case}: no gradient for {what}"));
    assert_close(&format!("{case}: input_grad"), &grad(&x, "the input"), &tensor("input_grad"));
    for (given, name) in [(&h0, "h0"), (&c0, "c0")] {
        if let Some(state) = given {
            assert_close(
                &format!("{case}: {name}_grad"),
                &grad(state, name),
                &tensor(&format!("{name}_grad")),
            );
        }
    }
    let params = module.named_parameters();
    for (key, p) in &params {
        let theirs = tensor(&format!("grad.{key}"));
        assert_close(&format!("{case}: grad.{key}"), &grad(p, key), &theirs);
    }
    let graded = io.names().iter().filter(|n| n.starts_with("grad.")).count();
    assert_eq!(
        graded,
        params.len(),
        "{case}: PyTorch has {graded} parameter gradients, the layer {}",
        params.len()
    );
}

#[test]
fn every_recurrent_case_matches_pytorch() {
    let dir = rnn_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("conformance folder {}: {e}", dir.display()));
    let mut cases: Vec<(String, PathBuf)> = entries
        .map(|entry| entry.expect("folder entry").path())
        .filter_map(|path| {
            Some((path.file_name()?.to_str()?.strip_suffix(".io.safetensors")?.to_string(), path))
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 60, "only {} cases in {}", cases.len(), dir.display());
    let mut failed = Vec::new();
    for (case, path) in &cases {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let io = TensorFile::read(path).unwrap_or_else(|e| panic!("{case}: {e}"));
            run_case(case, &io, dir.join(format!("{case}.weights.safetensors")));
        }));
        match outcome {
            Ok(()) => println!("  {case}: matches PyTorch"),
            Err(_) => failed.push(case.clone()),
        }
    }
    assert!(failed.is_empty(), "{} of {} cases differ from PyTorch: {failed:?}", failed.len(), cases.len());
}

/// A user's LSTM classifier, as `tests/data/generate_rnn.py` builds it:
/// a 2-layer bidirectional batch-first LSTM whose last step feeds a Linear.
#[derive(blocks::Module)]
#[module(name = "LSTMClassifier")]
struct LstmClassifier {
    lstm: DynLSTM,
    head: blocks::nn::DynLinear,
}

/// `rnn_training/`: Adam on cross-entropy as the metadata says, against
/// PyTorch's loss before each step (1e-4 relative) and every final
/// parameter (the README's tolerance); sizes read from the metadata.
#[test]
fn lstm_classifier_trains_as_pytorch() {
    use crate::support::optim_metadata::{optimizer, same_repr};
    let dir = support::conformance_dir().join("rnn_training");
    let name = "lstm_classifier_adam";
    let io = TensorFile::read(dir.join(format!("{name}.io.safetensors"))).unwrap();
    let meta = Metadata { case: name, values: io.metadata() };
    let size = |key: &str| meta.number(key, f64::NAN) as usize;
    let options =
        RecurrentOptions { num_layers: 2, batch_first: true, bidirectional: true, ..Default::default() };
    let hidden = size("hidden_size");
    let net = LstmClassifier {
        lstm: DynLSTM::with_options(size("input_size"), hidden, options),
        head: blocks::nn::DynLinear::new(2 * hidden, size("classes")),
    };
    let state = StateDict::read(dir.join(format!("{name}.weights.safetensors"))).unwrap();
    net.load_state_dict(&state).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(net.state_dict().keys(), json_strings(meta.text("keys").unwrap_or("[]")), "{name}: keys");
    assert_eq!(net.to_string(), meta.text("module_repr").unwrap_or_default(), "{name}: printout");
    net.train();
    let x = io.tensor::<f32>("input").unwrap();
    let (target, _) = io.integers("target").unwrap();
    let target: Vec<usize> = target.iter().map(|&t| t as usize).collect();
    let (mut opt, repr) = optimizer(&meta, net.parameters());
    let theirs = meta.text("optimizer_repr").unwrap_or_default();
    assert!(same_repr(&repr, theirs), "{name}: optimizer printout\nours:\n{repr}\nPyTorch:\n{theirs}");
    let expected = io.tensor::<f32>("loss").unwrap().to_vec();
    assert_eq!(expected.len(), size("steps"), "{name}: steps vs the recorded losses");
    for (step, &theirs) in expected.iter().enumerate() {
        opt.zero_grad();
        let (output, _) = net.lstm.forward(&x);
        let loss = net.head.forward(&output.select(1, -1)).cross_entropy(&target);
        let rel = (loss.item() - theirs).abs() / theirs.abs();
        assert!(
            rel <= 1e-4,
            "{name}: step {step}: loss {} vs PyTorch {theirs} (relative {rel:e})",
            loss.item()
        );
        loss.backward();
        opt.step();
    }
    let state = net.state_dict();
    for key in io.names().into_iter().filter_map(|n| n.strip_prefix("final.")) {
        let ours = state.get(key).unwrap_or_else(|| panic!("{name}: no {key}"));
        assert_close(&format!("{name}: final.{key}"), ours, &io.tensor(&format!("final.{key}")).unwrap());
    }
}
