//! Attention conformance: every case in `<dir>/attention/` (dir =
//! `BLOCKS_CONFORMANCE_DIR`, by default `tests/data/conformance`), written by
//! `tests/data/generate_attention.py`, built from its `arch` and the settings
//! in its metadata: PyTorch's weights loaded strictly, the state_dict keys in
//! PyTorch's order, the printout, the mode, the call on the file's inputs and
//! masks (float32 or bool, as PyTorch's), then the
//! output, the attention weights, the gradients of `sum(output * W)
//! [+ sum(weights * W2)]` for every float input and every parameter, and in
//! eval the output PyTorch computed under `no_grad` (its fast path). Plus a
//! float64 gradcheck of MultiheadAttention with masks, the typed layer, and a
//! 4-step Adam training of a small TransformerEncoder against PyTorch's loss curve.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::{
    AttentionArgs, Batch, DecoderMasks, DynLinear, DynMultiheadAttention, DynTransformer,
    DynTransformerDecoder, DynTransformerDecoderLayer, DynTransformerEncoder, DynTransformerEncoderLayer,
    EncoderMasks, LayerNorm, LearnedPositionalEncoding, Module, ModuleExt, MultiheadAttention,
    MultiheadAttentionOptions, PositionalEncoding, RMSNorm, StateDict, ToElement, TransformerActivation,
    TransformerMasks, TransformerOptions, TransformerSizes,
};
use blocks::{BoolMask, Mask, Tensor, Tensor64, gradcheck_module};

use crate::support::{
    self,
    optim_metadata::{Metadata, optimizer, same_repr},
};

fn attention_dir() -> PathBuf {
    support::conformance_dir().join("attention")
}

/// |ours - PyTorch| <= 1e-4 + 1e-4 |PyTorch| per element.
fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-4, 1e-4);
}

/// One case's files and what the call needs from them.
struct Case<'a> {
    name: &'a str,
    meta: Metadata<'a>,
    /// The float inputs by argument name, each a leaf requiring grad (one
    /// leaf for query, key and value of a self-attention call).
    inputs: BTreeMap<String, Tensor>,
    masks: BTreeMap<String, Mask>,
}

impl Case<'_> {
    fn usize(&self, key: &str) -> usize {
        let value = self.meta.number(key, f64::NAN);
        assert!(value.is_finite(), "{}: no {key} in the metadata", self.name);
        value as usize
    }

    fn input(&self, name: &str) -> &Tensor {
        self.inputs.get(name).unwrap_or_else(|| panic!("{}: no input {name}", self.name))
    }

    fn mask(&self, name: &str) -> Option<&Mask> {
        self.masks.get(name)
    }

    fn options(&self) -> TransformerOptions {
        TransformerOptions {
            dim_feedforward: self.usize("dim_feedforward"),
            dropout: self.meta.number("dropout", f64::NAN),
            activation: match self.meta.text("activation") {
                Some("relu") => TransformerActivation::Relu,
                Some("gelu") => TransformerActivation::Gelu,
                other => panic!("{}: activation {other:?}", self.name),
            },
            layer_norm_eps: self.meta.number("layer_norm_eps", f64::NAN),
            batch_first: self.meta.flag("batch_first"),
            norm_first: self.meta.flag("norm_first"),
            bias: self.meta.flag("bias"),
        }
    }

    fn final_norm(&self) -> Option<LayerNorm> {
        let options = self.options();
        self.meta.flag("final_norm").then(|| {
            LayerNorm::with_options([self.usize("d_model")], options.layer_norm_eps, true, options.bias)
        })
    }

    fn encoder_masks(&self) -> EncoderMasks<'_> {
        EncoderMasks {
            src_mask: self.mask("src_mask"),
            src_key_padding_mask: self.mask("src_key_padding_mask"),
            is_causal: self.meta.flag("is_causal"),
        }
    }

    fn decoder_masks(&self) -> DecoderMasks<'_> {
        DecoderMasks {
            tgt_mask: self.mask("tgt_mask"),
            memory_mask: self.mask("memory_mask"),
            tgt_key_padding_mask: self.mask("tgt_key_padding_mask"),
            memory_key_padding_mask: self.mask("memory_key_padding_mask"),
            tgt_is_causal: self.meta.flag("tgt_is_causal"),
            memory_is_causal: self.meta.flag("memory_is_causal"),
        }
    }
}

/// A model of the case's arch and the call that runs it: the output and,
/// when the call returns them, the attention weights.
type Run<'a> = Box<dyn Fn() -> (Tensor, Option<Tensor>) + 'a>;

fn build<'a>(case: &'a Case<'a>) -> (Option<&'a dyn Module>, Run<'a>) {
    let arch = case.meta.text("arch").unwrap_or_else(|| panic!("{}: no arch", case.name));
    match arch {
        "sdpa" => {
            let scale = case.meta.text("scale").and_then(|s| s.parse::<f64>().ok());
            let is_causal = case.meta.flag("is_causal");
            let dropout_p = case.meta.number("dropout_p", 0.0);
            let run = move || {
                let (q, k, v) = (case.input("query"), case.input("key"), case.input("value"));
                (
                    q.scaled_dot_product_attention(k, v, case.mask("attn_mask"), dropout_p, is_causal, scale),
                    None,
                )
            };
            (None, Box::new(run))
        }
        "mha" => {
            let options = MultiheadAttentionOptions {
                dropout: case.meta.number("dropout", 0.0),
                bias: case.meta.flag("bias"),
                add_bias_kv: case.meta.flag("add_bias_kv"),
                add_zero_attn: case.meta.flag("add_zero_attn"),
                kdim: Some(case.usize("kdim")),
                vdim: Some(case.usize("vdim")),
                batch_first: case.meta.flag("batch_first"),
            };
            let mha = DynMultiheadAttention::with_options(
                case.usize("embed_dim"),
                case.usize("num_heads"),
                options,
            );
            let model = &*Box::leak(Box::new(mha));
            let run = move || {
                let args = AttentionArgs {
                    key_padding_mask: case.mask("key_padding_mask"),
                    need_weights: case.meta.flag("need_weights"),
                    attn_mask: case.mask("attn_mask"),
                    average_attn_weights: case.meta.flag("average_attn_weights"),
                    is_causal: case.meta.flag("is_causal"),
                };
                let (q, k, v) = (case.input("query"), case.input("key"), case.input("value"));
                model.attend(q, k, v, &args)
            };
            (Some(model), Box::new(run))
        }
        "encoder_layer" | "encoder" => {
            let layer = DynTransformerEncoderLayer::with_options(
                case.usize("d_model"),
                case.usize("nhead"),
                case.options(),
            );
            if arch == "encoder_layer" {
                let model = &*Box::leak(Box::new(layer));
                let run = move || (model.forward_with(case.input("src"), &case.encoder_masks()), None);
                (Some(model), Box::new(run))
            } else {
                let encoder = DynTransformerEncoder::new(&layer, case.usize("num_layers"), case.final_norm())
                    .with_enable_nested_tensor(case.meta.flag("enable_nested_tensor"));
                let model = &*Box::leak(Box::new(encoder));
                let run = move || (model.forward_with(case.input("src"), &case.encoder_masks()), None);
                (Some(model), Box::new(run))
            }
        }
        "decoder_layer" | "decoder" => {
            let layer = DynTransformerDecoderLayer::with_options(
                case.usize("d_model"),
                case.usize("nhead"),
                case.options(),
            );
            if arch == "decoder_layer" {
                let model = &*Box::leak(Box::new(layer));
                let run = move || {
                    (model.forward_with(case.input("tgt"), case.input("memory"), &case.decoder_masks()), None)
                };
                (Some(model), Box::new(run))
            } else {
                let decoder = DynTransformerDecoder::new(&layer, case.usize("num_layers"), case.final_norm());
                let model = &*Box::leak(Box::new(decoder));
                let run = move || {
                    (model.forward_with(case.input("tgt"), case.input("memory"), &case.decoder_masks()), None)
                };
                (Some(model), Box::new(run))
            }
        }
        "transformer" => {
            let sizes = TransformerSizes {
                d_model: case.usize("d_model"),
                nhead: case.usize("nhead"),
                num_encoder_layers: case.usize("num_encoder_layers"),
                num_decoder_layers: case.usize("num_decoder_layers"),
            };
            let model = &*Box::leak(Box::new(DynTransformer::new(sizes, case.options())));
            let run = move || {
                let masks = TransformerMasks {
                    src_mask: case.mask("src_mask"),
                    tgt_mask: case.mask("tgt_mask"),
                    memory_mask: case.mask("memory_mask"),
                    src_key_padding_mask: case.mask("src_key_padding_mask"),
                    tgt_key_padding_mask: case.mask("tgt_key_padding_mask"),
                    memory_key_padding_mask: case.mask("memory_key_padding_mask"),
                    ..Default::default()
                };
                (model.forward_with(case.input("src"), case.input("tgt"), &masks), None)
            };
            (Some(model), Box::new(run))
        }
        "positional_encoding" => {
            let pos = PositionalEncoding::new(
                case.usize("num_hiddens"),
                case.meta.number("dropout", f64::NAN),
                case.usize("max_len"),
            );
            let p_file = attention_dir().join(format!("{}.P.safetensors", case.name));
            let theirs = TensorFile::read(&p_file).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_close(&format!("{}: P", case.name), pos.p(), &theirs.tensor("P").unwrap());
            let model = &*Box::leak(Box::new(pos));
            let run = move || (model.forward(case.input("input")), None);
            (Some(model), Box::new(run))
        }
        "learned_positional" => {
            let pos = LearnedPositionalEncoding::new(
                case.usize("num_hiddens"),
                case.meta.number("dropout", f64::NAN),
                case.usize("max_len"),
            );
            let model = &*Box::leak(Box::new(pos));
            let run = move || (model.forward(case.input("input")), None);
            (Some(model), Box::new(run))
        }
        "rms_norm" => {
            let text = case
                .meta
                .text("normalized_shape")
                .unwrap_or_else(|| panic!("{}: no normalized_shape", case.name));
            let shape: Vec<usize> = text
                .trim_matches(['[', ']'])
                .split(',')
                .map(|p| {
                    p.trim().parse().unwrap_or_else(|_| panic!("{}: normalized_shape {text}", case.name))
                })
                .collect();
            let eps = case.meta.text("eps").and_then(|s| s.parse::<f64>().ok());
            let norm = RMSNorm::with_options(shape, eps, case.meta.flag("elementwise_affine"));
            let model = &*Box::leak(Box::new(norm));
            let run = move || (model.forward(case.input("input")), None);
            (Some(model), Box::new(run))
        }
        other => panic!("{}: no model for arch {other:?}", case.name),
    }
}

/// The file's masks: float32 ones as given, int64 ones as boolean masks.
fn read_masks(name: &str, io: &TensorFile) -> BTreeMap<String, Mask> {
    let mut masks = BTreeMap::new();
    for key in io.names().into_iter().filter(|n| n.ends_with("mask")) {
        let mask = match io.dtype(key).unwrap_or_else(|e| panic!("{name}: {e}")).as_str() {
            "BOOL" => {
                let (values, shape) = io.integers(key).unwrap_or_else(|e| panic!("{name}: {e}"));
                Mask::Bool(BoolMask::from_vec(values.iter().map(|&v| v != 0).collect(), shape))
            }
            _ => Mask::Float(io.tensor::<f32>(key).unwrap_or_else(|e| panic!("{name}: {e}"))),
        };
        masks.insert(key.to_string(), mask);
    }
    masks
}

/// The float inputs: every name with a `_grad` beside it, and for a
/// self-attention call `key` and `value` as the same leaf as `query`.
fn read_inputs(name: &str, io: &TensorFile, meta: &Metadata) -> BTreeMap<String, Tensor> {
    let mut inputs = BTreeMap::new();
    let inputs_with_grads =
        io.names().into_iter().filter(|n| !n.starts_with("output") && !n.starts_with("grad."));
    for grad in inputs_with_grads.filter_map(|n| n.strip_suffix("_grad")) {
        let x = io.tensor::<f32>(grad).unwrap_or_else(|e| panic!("{name}: {e}")).requires_grad_(true);
        inputs.insert(grad.to_string(), x);
    }
    if meta.flag("self_attention") {
        let query = inputs["query"].clone();
        inputs.insert("key".into(), query.clone());
        inputs.insert("value".into(), query);
    }
    inputs
}

/// The training case's model: a TransformerEncoder whose mean over the
/// sequence feeds a Linear head.
#[derive(blocks::Module)]
#[module(name = "EncoderClassifier")]
struct EncoderClassifier {
    encoder: DynTransformerEncoder,
    head: DynLinear,
}

/// Adam on cross-entropy as the metadata says: the loss before each step
/// within 1e-4 relative, then every final parameter.
fn training_case(name: &str, io: &TensorFile, weights: PathBuf) {
    let meta = Metadata { case: name, values: io.metadata() };
    let size = |key: &str| meta.number(key, f64::NAN) as usize;
    let options = TransformerOptions {
        dim_feedforward: size("dim_feedforward"),
        dropout: meta.number("dropout", f64::NAN),
        batch_first: meta.flag("batch_first"),
        bias: meta.flag("bias"),
        ..Default::default()
    };
    let layer = DynTransformerEncoderLayer::with_options(size("d_model"), size("nhead"), options);
    let net = EncoderClassifier {
        encoder: DynTransformerEncoder::new(&layer, size("num_layers"), None),
        head: DynLinear::new(size("d_model"), size("classes")),
    };
    let state = StateDict::read(&weights).unwrap_or_else(|e| panic!("{name}: {e}"));
    net.load_state_dict(&state).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(net.state_dict().keys(), serde_json_keys(meta.text("keys").unwrap_or("[]")), "{name}: keys");
    assert_eq!(net.to_string(), meta.text("module_repr").unwrap_or_default(), "{name}: module printout");
    net.train();
    let x = io.tensor::<f32>("input").unwrap();
    let (target, _) = io.integers("target").unwrap();
    let target: Vec<usize> = target.iter().map(|&t| t as usize).collect();
    let masks = read_masks(name, io);
    let encoder_masks =
        EncoderMasks { src_key_padding_mask: masks.get("src_key_padding_mask"), ..Default::default() };
    let (mut opt, repr) = optimizer(&meta, net.parameters());
    let theirs = meta.text("optimizer_repr").unwrap_or_default();
    assert!(same_repr(&repr, theirs), "{name}: optimizer printout\nours:\n{repr}\nPyTorch:\n{theirs}");
    let expected = io.tensor::<f32>("loss").unwrap().to_vec();
    assert_eq!(expected.len(), size("steps"), "{name}: steps vs the recorded losses");
    for (step, &theirs) in expected.iter().enumerate() {
        opt.zero_grad();
        let pooled = net.encoder.forward_with(&x, &encoder_masks).mean_dim(&[1], false);
        let loss = net.head.forward(&pooled).cross_entropy(&target);
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

fn run_case(name: &str, io: &TensorFile, weights: PathBuf) {
    if io.contains("loss") {
        return training_case(name, io, weights);
    }
    let meta = Metadata { case: name, values: io.metadata() };
    let case = Case { name, inputs: read_inputs(name, io, &meta), masks: read_masks(name, io), meta };
    let case = &*Box::leak(Box::new(case));
    let (model, run) = build(case);
    if let Some(model) = &model {
        let state =
            StateDict::read(&weights).unwrap_or_else(|e| panic!("{name}: {}: {e}", weights.display()));
        model.load_state_dict(&state).unwrap_or_else(|e| panic!("{name}: {e}"));
        let keys: Vec<String> = serde_json_keys(case.meta.text("keys").unwrap_or("[]"));
        assert_eq!(model.state_dict().keys(), keys, "{name}: state_dict keys in PyTorch's order");
        let theirs = case.meta.text("module_repr").unwrap_or_default();
        assert_eq!(blocks::nn::module_repr(*model), theirs, "{name}: module printout");
        match case.meta.text("mode") {
            Some("eval") => model.eval(),
            _ => model.train(),
        }
    }
    let (output, weights_out) = run();
    assert_close(&format!("{name}: output"), &output, &io.tensor("output").unwrap());
    let mut loss = (&output * &io.tensor::<f32>("output_weight").unwrap()).sum();
    match (&weights_out, io.contains("weights")) {
        (Some(w), true) => {
            assert_close(&format!("{name}: weights"), w, &io.tensor("weights").unwrap());
            loss = &loss + &(w * &io.tensor::<f32>("weights_weight").unwrap()).sum();
        }
        (None, false) => {}
        (ours, _) => panic!(
            "{name}: attention weights returned: ours {}, PyTorch's {}",
            ours.is_some(),
            !ours.is_some()
        ),
    }
    loss.backward();
    for (input, x) in &case.inputs {
        let key = format!("{input}_grad");
        if io.contains(&key) {
            let grad = x.grad().unwrap_or_else(|| panic!("{name}: {input} has no gradient"));
            assert_close(&format!("{name}: {key}"), &grad, &io.tensor(&key).unwrap());
        }
    }
    if let Some(model) = &model {
        let params: BTreeMap<String, blocks::nn::Parameter> = model.named_parameters().into_iter().collect();
        let mut graded = 0;
        for key in io.names().into_iter().filter_map(|n| n.strip_prefix("grad.")) {
            let p = params.get(key).unwrap_or_else(|| panic!("{name}: the model has no parameter {key}"));
            let grad = p.grad().unwrap_or_else(|| panic!("{name}: no gradient for {key}"));
            assert_close(&format!("{name}: grad.{key}"), &grad, &io.tensor(&format!("grad.{key}")).unwrap());
            graded += 1;
        }
        assert_eq!(
            graded,
            params.len(),
            "{name}: PyTorch grads {graded} parameters, the model has {}",
            params.len()
        );
    }
    if io.contains("output_no_grad") {
        let (fast, _) = blocks::no_grad(&*run);
        assert_close(&format!("{name}: output under no_grad"), &fast, &io.tensor("output_no_grad").unwrap());
    }
}

/// A JSON list of strings, as the generator writes `keys`.
fn serde_json_keys(text: &str) -> Vec<String> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    inner.split(',').map(|k| k.trim().trim_matches('"').to_string()).filter(|k| !k.is_empty()).collect()
}

#[test]
fn every_attention_case_matches_pytorch() {
    let dir = attention_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("conformance folder {}: {e}", dir.display()));
    let mut cases: Vec<(String, PathBuf)> = entries
        .map(|entry| entry.expect("folder entry").path())
        .filter_map(|path| {
            Some((path.file_name()?.to_str()?.strip_suffix(".io.safetensors")?.to_string(), path))
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no case in {}", dir.display());
    let mut failed = Vec::new();
    for (case, path) in &cases {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let io = TensorFile::read(path).unwrap_or_else(|e| panic!("{case}: {e}"));
            let io = &*Box::leak(Box::new(io));
            run_case(case, io, dir.join(format!("{case}.weights.safetensors")));
        }));
        match outcome {
            Ok(()) => println!("  {case}: matches PyTorch"),
            Err(_) => failed.push(case.clone()),
        }
    }
    assert!(failed.is_empty(), "cases that do not match PyTorch (messages above): {failed:?}");
    println!("{} attention cases matched PyTorch in {}", cases.len(), dir.display());
}

#[test]
fn multihead_attention_gradchecks_in_float64_with_masks() {
    blocks::manual_seed(3);
    let options = MultiheadAttentionOptions {
        kdim: Some(3),
        vdim: Some(5),
        add_bias_kv: true,
        add_zero_attn: true,
        batch_first: true,
        ..Default::default()
    };
    let mha = DynMultiheadAttention::with_options(4, 2, options).to_f64();
    let q = Tensor64::randn([2, 3, 4]).requires_grad_(true);
    let k = Tensor64::randn([2, 4, 3]).requires_grad_(true);
    let v = Tensor64::randn([2, 4, 5]).requires_grad_(true);
    let attn_mask: Mask<f64> = BoolMask::from_vec((0..12).map(|i| i % 5 == 2).collect(), [3, 4]).into();
    let padding: Mask<f64> = Tensor64::randn([2, 4]).into();
    let (w_out, w_attn) = (Tensor64::randn([2, 3, 4]), Tensor64::randn([2, 2, 3, 6]));
    let args = AttentionArgs {
        key_padding_mask: Some(&padding),
        attn_mask: Some(&attn_mask),
        average_attn_weights: false,
        ..Default::default()
    };
    let loss = |xs: &[Tensor64]| {
        let (y, w) = mha.attend(&xs[0], &xs[1], &xs[2], &args);
        &(&y * &w_out).sum() + &(&w.unwrap() * &w_attn).sum()
    };
    gradcheck_module(&mha, loss, &[q, k, v]).unwrap();
}

#[test]
fn transformer_encoder_layer_gradchecks_in_float64() {
    blocks::manual_seed(4);
    let options = TransformerOptions {
        dim_feedforward: 6,
        dropout: 0.0,
        activation: TransformerActivation::Gelu,
        norm_first: true,
        ..Default::default()
    };
    let layer = DynTransformerEncoderLayer::with_options(4, 2, options).to_f64();
    let causal: Mask<f64> = blocks::nn::generate_square_subsequent_mask::<f64>(3).into();
    let masks = EncoderMasks { src_mask: Some(&causal), is_causal: true, ..Default::default() };
    let x = Tensor64::randn([3, 2, 4]).requires_grad_(true);
    gradcheck_module(&layer, |xs| layer.forward_with(&xs[0], &masks).tanh().sum(), &[x]).unwrap();
}

#[test]
fn typed_multihead_attention_takes_its_width_and_matches_the_run_time_layer() {
    let mha = MultiheadAttention::<6, 3>::new();
    let x = Batch::<6>::new(Tensor::randn([4, 2, 6]));
    let y: Batch<6> = mha.forward(&x);
    let same = mha.layer().attend(&x, &x, &x, &AttentionArgs { need_weights: false, ..Default::default() }).0;
    assert_eq!(y.to_vec(), same.to_vec());
    assert_eq!(
        mha.state_dict().keys(),
        ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    );
    let (message, _) = support::panic_site(|| mha.forward(&Tensor::randn([4, 2, 5])));
    assert!(message.contains("takes 6 input features"), "{message}");
}
