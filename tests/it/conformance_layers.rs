//! Layer conformance: every case in `<dir>/layers/` (dir =
//! `BLOCKS_CONFORMANCE_DIR`, by default `tests/data/conformance`) built from
//! its `arch` and metadata with the layer blocks, sizes read from its
//! weights: PyTorch's weights loaded strictly, the mode its metadata names,
//! the forward on its input (float32 or int64 indices), the backward of
//! `output.sum()`, and then the output, the input's gradient, every
//! `grad.KEY`, every `after.KEY` buffer (int64 exactly) and the module's
//! printout compared with PyTorch's. The trained case (`digits_cnn`) is
//! trained with the optimizer its metadata names: loss curve, `final.KEY`
//! parameters and buffers, and the eval-mode logits. A case whose arch this
//! file cannot build fails by name.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::{
    AdaptiveAvgPool2d, AvgPool2d, BatchNormOptions, Dropout, Dropout2d, DynBatchNorm1d, DynBatchNorm2d,
    DynConv2d, DynEmbedding, DynGroupNorm, DynLinear, DynSequential, ELU, Flatten, Forward, GELU, Identity,
    LayerNorm, LeakyReLU, LogSoftmax, MaxPool2d, Module, ModuleExt, ReLU, Sequential, SiLU, Sigmoid,
    Softplus, StateDict, Tanh,
};
use blocks::{Conv2dOptions, GeluApproximate, Indices, Tensor};

use optim_metadata::{Metadata, optimizer, same_repr};

use crate::support::{self, optim_metadata};

fn layers_dir() -> PathBuf {
    support::conformance_dir().join("layers")
}

/// |ours - PyTorch| <= 1e-4 + 1e-4 |PyTorch| per element, the README's tolerance.
fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-4, 1e-4);
}

/// d2l's ResNet `Residual` block, with its settings from a case's metadata.
#[derive(blocks::Module)]
struct Residual {
    conv1: DynConv2d,
    conv2: DynConv2d,
    conv3: Option<DynConv2d>,
    bn1: DynBatchNorm2d,
    bn2: DynBatchNorm2d,
}

impl Residual {
    fn new(input_channels: usize, num_channels: usize, use_1x1conv: bool, strides: usize) -> Self {
        let conv = |i, o, k, stride, padding| {
            let options = Conv2dOptions { stride: [stride; 2], padding: [padding; 2], ..Default::default() };
            DynConv2d::with_options(i, o, [k, k], options, true)
        };
        Residual {
            conv1: conv(input_channels, num_channels, 3, strides, 1),
            conv2: conv(num_channels, num_channels, 3, 1, 1),
            conv3: use_1x1conv.then(|| conv(input_channels, num_channels, 1, strides, 0)),
            bn1: DynBatchNorm2d::new(num_channels, BatchNormOptions::default()),
            bn2: DynBatchNorm2d::new(num_channels, BatchNormOptions::default()),
        }
    }
}

impl Forward<Tensor> for Residual {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let y = self.bn1.forward(&self.conv1.forward(x)).relu();
        let y = self.bn2.forward(&self.conv2.forward(&y));
        let skip = match &self.conv3 {
            Some(conv3) => conv3.forward(x),
            None => x.clone(),
        };
        (&y + &skip).relu()
    }
}

/// d2l's Inception block (8.4), its sizes from a case: four paths whose
/// outputs are concatenated on the channel dimension.
#[derive(blocks::Module)]
pub(crate) struct Inception {
    pub(crate) p1_1: DynConv2d,
    pub(crate) p2_1: DynConv2d,
    pub(crate) p2_2: DynConv2d,
    pub(crate) p3_1: DynConv2d,
    pub(crate) p3_2: DynConv2d,
    pub(crate) p4_1: MaxPool2d,
    pub(crate) p4_2: DynConv2d,
}

/// A square convolution with stride 1 and `padding`.
fn square_conv(input: usize, output: usize, kernel: usize, padding: usize) -> DynConv2d {
    let options = Conv2dOptions { padding: [padding; 2], ..Default::default() };
    DynConv2d::with_options(input, output, [kernel, kernel], options, true)
}

impl Inception {
    pub(crate) fn new(in_channels: usize, c1: usize, c2: [usize; 2], c3: [usize; 2], c4: usize) -> Self {
        Inception {
            p1_1: square_conv(in_channels, c1, 1, 0),
            p2_1: square_conv(in_channels, c2[0], 1, 0),
            p2_2: square_conv(c2[0], c2[1], 3, 1),
            p3_1: square_conv(in_channels, c3[0], 1, 0),
            p3_2: square_conv(c3[0], c3[1], 5, 2),
            p4_1: MaxPool2d::new(3).stride(1).padding(1),
            p4_2: square_conv(in_channels, c4, 1, 0),
        }
    }
}

impl Forward<Tensor> for Inception {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let p1 = self.p1_1.forward(x).relu();
        let p2 = self.p2_2.forward(&self.p2_1.forward(x).relu()).relu();
        let p3 = self.p3_2.forward(&self.p3_1.forward(x).relu()).relu();
        let p4 = self.p4_2.forward(&self.p4_1.forward(x)).relu();
        Tensor::cat(&[&p1, &p2, &p3, &p4], 1)
    }
}

/// d2l's dense block (8.7): each conv block (BatchNorm2d, ReLU, 3x3 Conv2d)
/// is given everything before it, concatenated on the channel dimension.
#[derive(blocks::Module)]
struct DenseBlock {
    net: DynSequential,
}

impl DenseBlock {
    fn new(num_convs: usize, input_channels: usize, num_channels: usize) -> Self {
        let mut net = DynSequential::new();
        for i in 0..num_convs {
            let channels = num_channels * i + input_channels;
            let mut block = DynSequential::new();
            block.push(DynBatchNorm2d::new(channels, BatchNormOptions::default()));
            block.push(ReLU).push(square_conv(channels, num_channels, 3, 1));
            net.push(block);
        }
        DenseBlock { net }
    }
}

impl Forward<Tensor> for DenseBlock {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let mut x = x.clone();
        for (_, block) in self.net.iter() {
            let y = block.forward_tensor(&x);
            x = Tensor::cat(&[&x, &y], 1);
        }
        x
    }
}

/// `[2, 3]` from a case's metadata.
fn pair(meta: &Metadata, key: &str) -> [usize; 2] {
    let text = meta.text(key).unwrap_or_else(|| panic!("no {key} in the metadata"));
    let values: Vec<usize> =
        text.trim_matches(['[', ']']).split(',').map(|v| v.trim().parse().expect("a size")).collect();
    [values[0], values[1]]
}

/// A case's input: float32 values or int64 indices.
enum Input {
    Floats(Tensor),
    Indices(Indices),
}

/// A built model: the block, and how it runs on the case's input.
trait CaseModel {
    fn module(&self) -> &dyn Module;
    fn run(&self, input: &Input) -> Tensor;
}

/// A model taking float tensors.
struct Floats<M>(M);

impl<M: Forward<Tensor, Output = Tensor> + 'static> CaseModel for Floats<M> {
    fn module(&self) -> &dyn Module {
        &self.0
    }

    fn run(&self, input: &Input) -> Tensor {
        match input {
            Input::Floats(x) => blocks::nn::run(&self.0, x),
            Input::Indices(_) => panic!("this model takes float32 input, the case gives int64"),
        }
    }
}

/// A model taking int64 indices.
struct Indexed<M>(M);

impl<M: Forward<Indices, Output = Tensor> + 'static> CaseModel for Indexed<M> {
    fn module(&self) -> &dyn Module {
        &self.0
    }

    fn run(&self, input: &Input) -> Tensor {
        match input {
            Input::Indices(x) => blocks::nn::run(&self.0, x),
            Input::Floats(_) => panic!("this model takes int64 indices, the case gives float32"),
        }
    }
}

/// The shapes of a case's weights, to size the layers.
struct Shapes<'a> {
    case: &'a str,
    state: &'a StateDict,
}

impl Shapes<'_> {
    fn of(&self, key: &str) -> Vec<usize> {
        self.state.get(key).unwrap_or_else(|| panic!("{}: no {key} in the weights", self.case)).shape()
    }

    fn has(&self, key: &str) -> bool {
        self.state.get(key).is_some()
    }

    fn linear(&self, layer: &str) -> DynLinear {
        let w = self.of(&format!("{layer}.weight"));
        DynLinear::with_bias(w[1], w[0], self.has(&format!("{layer}.bias")))
    }

    /// A conv sized from its weight; `in_channels` (what the block before
    /// gives) sets the groups: `in / weight.shape[1]`.
    fn conv(
        &self,
        layer: &str,
        in_channels: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> DynConv2d {
        let w = self.of(&format!("{layer}.weight"));
        assert_eq!(
            in_channels % w[1],
            0,
            "{}: {layer}.weight {w:?} does not fit {in_channels} channels",
            self.case
        );
        let options = Conv2dOptions {
            stride: [stride; 2],
            padding: [padding; 2],
            dilation: [dilation; 2],
            groups: in_channels / w[1],
        };
        DynConv2d::with_options(in_channels, w[0], [w[2], w[3]], options, self.has(&format!("{layer}.bias")))
    }

    fn batch_norm2d(&self, layer: &str) -> DynBatchNorm2d {
        DynBatchNorm2d::new(self.of(&format!("{layer}.running_mean"))[0], BatchNormOptions::default())
    }
}

/// The model of architecture `arch`, sized from the weights.
fn build(arch: &str, meta: &Metadata, s: &Shapes) -> Box<dyn CaseModel> {
    let mut net = DynSequential::new();
    match arch {
        "lenet" => {
            let c0 = s.of("0.weight")[1];
            net.push(s.conv("0", c0, 1, 2, 1)).push(Sigmoid).push(AvgPool2d::new(2).stride(2));
            let c3 = s.of("0.weight")[0];
            net.push(s.conv("3", c3, 1, 0, 1)).push(Sigmoid).push(AvgPool2d::new(2).stride(2));
            net.push(Flatten::default()).push(s.linear("7")).push(Sigmoid).push(s.linear("9")).push(Sigmoid);
            net.push(s.linear("11"));
        }
        "activations" => {
            net.push(s.linear("0")).push(Sigmoid).push(s.linear("2")).push(Tanh).push(s.linear("4"));
            net.push(GELU::new(GeluApproximate::None))
                .push(s.linear("6"))
                .push(GELU::new(GeluApproximate::Tanh));
            net.push(s.linear("8")).push(LeakyReLU::new(0.1)).push(s.linear("10")).push(SiLU);
            net.push(s.linear("12")).push(ELU::default()).push(s.linear("14")).push(Softplus::default());
            net.push(s.linear("16")).push(Identity).push(s.linear("18")).push(LogSoftmax::new(1));
        }
        "bn_mlp" => {
            let c = s.of("1.running_mean")[0];
            net.push(s.linear("0")).push(DynBatchNorm1d::new(c, BatchNormOptions::default()));
            net.push(ReLU).push(s.linear("3"));
        }
        "dropout_mlp" => {
            net.push(s.linear("0")).push(ReLU).push(Dropout::new(0.5)).push(s.linear("3"));
        }
        "nin_pools" => {
            let c0 = s.of("0.weight")[1];
            net.push(s.conv("0", c0, 2, 1, 1)).push(ReLU).push(MaxPool2d::new(3).stride(2).padding(1));
            let c3 = s.of("0.weight")[0];
            net.push(s.conv("3", c3, 1, 2, 2)).push(ReLU);
            let c5 = s.of("3.weight")[0];
            net.push(s.conv("5", c5, 1, 0, 1)).push(ReLU).push(AdaptiveAvgPool2d::new((1, 1)));
            net.push(Flatten::default());
        }
        "digits_cnn" => {
            let c0 = s.of("0.weight")[1];
            net.push(s.conv("0", c0, 1, 1, 1)).push(s.batch_norm2d("1")).push(ReLU).push(MaxPool2d::new(2));
            let c4 = s.of("0.weight")[0];
            net.push(s.conv("4", c4, 1, 1, 1)).push(s.batch_norm2d("5")).push(ReLU);
            net.push(AdaptiveAvgPool2d::new(1)).push(Flatten::default()).push(s.linear("9"));
        }
        "residual" => {
            let number = |key: &str| meta.number(key, f64::NAN) as usize;
            let residual = Residual::new(
                number("input_channels"),
                number("num_channels"),
                meta.flag("use_1x1conv"),
                number("strides"),
            );
            return Box::new(Floats(residual));
        }
        "inception" => {
            let number = |key: &str| meta.number(key, f64::NAN) as usize;
            let block = Inception::new(
                number("in_channels"),
                number("c1"),
                pair(meta, "c2"),
                pair(meta, "c3"),
                number("c4"),
            );
            return Box::new(Floats(block));
        }
        "dense_block" => {
            let number = |key: &str| meta.number(key, f64::NAN) as usize;
            let block =
                DenseBlock::new(number("num_convs"), number("input_channels"), number("num_channels"));
            return Box::new(Floats(block));
        }
        "embed_ln" => {
            let e = s.of("0.weight");
            let ln = s.of("1.weight");
            let net = Sequential::new((DynEmbedding::new(e[0], e[1]), LayerNorm::new(ln), s.linear("2")));
            return Box::new(Indexed(net));
        }
        "conv_gn" => {
            let w = s.of("0.weight");
            net.push(s.conv("0", w[1], 1, 0, 1));
            let (groups, eps) = (meta.number("num_groups", f64::NAN) as usize, meta.number("eps", 1e-5));
            let bias = meta.text("bias").is_none_or(|_| meta.flag("bias")); // PyTorch's default: True
            net.push(DynGroupNorm::with_options(groups, w[0], eps, meta.flag("affine"), bias)).push(ReLU);
        }
        "conv_dropout2d" => {
            let w = s.of("0.weight");
            net.push(s.conv("0", w[1], 1, w[2] / 2, 1)).push(ReLU);
            net.push(Dropout2d::new(meta.number("p", 0.5))).push(s.conv("3", w[0], 1, 0, 1));
        }
        "ln_mlp" => {
            let width = s.of("0.weight")[0];
            let (affine, bias) = (meta.flag("elementwise_affine"), meta.flag("bias"));
            net.push(s.linear("0")).push(LayerNorm::with_options(
                [width],
                meta.number("eps", 1e-5),
                affine,
                bias,
            ));
            net.push(ReLU).push(s.linear("3"));
        }
        "embed_pad" => {
            let e = s.of("0.weight");
            let padding_idx = meta.number("padding_idx", f64::NAN) as isize;
            let net =
                Sequential::new((DynEmbedding::with_padding_idx(e[0], e[1], padding_idx), s.linear("1")));
            return Box::new(Indexed(net));
        }
        other => panic!("{}: blocks cannot build arch {other:?}", s.case),
    }
    Box::new(Floats(net))
}

/// The `after.`/`final.` values of a file, checked against the model's
/// state: float tensors within tolerance, int64 buffers exactly.
fn check_state(case: &str, io: &TensorFile, prefix: &str, ours: &StateDict) {
    for name in io.names() {
        let Some(key) = name.strip_prefix(prefix) else { continue };
        let mine =
            ours.get(key).unwrap_or_else(|| panic!("{case}: the model has no {key} (PyTorch has {name})"));
        match io.tensor::<f32>(name) {
            Ok(theirs) => assert_close(&format!("{case}: {name}"), mine, &theirs),
            Err(_) => {
                let (theirs, shape) = io.integers(name).unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_eq!(mine.shape(), shape, "{case}: {name} shape");
                let mine: Vec<i64> = mine.to_vec().iter().map(|&v| v as i64).collect();
                assert_eq!(mine, theirs, "{case}: {name} (int64)");
            }
        }
    }
}

fn read_input(case: &str, io: &TensorFile, meta: &Metadata) -> Input {
    match meta.text("input_dtype").unwrap_or("float32") {
        "int64" => {
            let (values, shape) = io.integers("input").unwrap_or_else(|e| panic!("{case}: {e}"));
            Input::Indices(Indices::try_from_i64(&values, shape).unwrap_or_else(|e| panic!("{case}: {e}")))
        }
        "float32" => Input::Floats(
            io.tensor::<f32>("input").unwrap_or_else(|e| panic!("{case}: {e}")).requires_grad_(true),
        ),
        other => panic!("{case}: input_dtype {other:?}"),
    }
}

/// Forward, backward of `output.sum()`, and every comparison of a forward case.
fn forward_case(case: &str, io: &TensorFile, meta: &Metadata, model: &dyn CaseModel) {
    let input = read_input(case, io, meta);
    if let Some(shape) = meta.text("input_shape") {
        let given = match &input {
            Input::Floats(x) => x.shape(),
            Input::Indices(i) => i.shape().to_vec(),
        };
        let declared: Vec<usize> = shape
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().expect("digits"))
            .collect();
        assert_eq!(given, declared, "{case}: the input's shape vs metadata input_shape {shape:?}");
    }
    let output = model.run(&input);
    assert_close(
        &format!("{case}: output"),
        &output,
        &io.tensor("output").unwrap_or_else(|e| panic!("{case}: {e}")),
    );
    output.sum().backward();
    if io.contains("input_grad") {
        let Input::Floats(x) = &input else { panic!("{case}: input_grad for int64 input") };
        let grad = x.grad().unwrap_or_else(|| panic!("{case}: the input has no gradient"));
        assert_close(&format!("{case}: input_grad"), &grad, &io.tensor("input_grad").unwrap());
    }
    let params: BTreeMap<String, blocks::nn::Parameter> =
        model.module().named_parameters().into_iter().collect();
    let mut graded = 0;
    for name in io.names() {
        let Some(key) = name.strip_prefix("grad.") else { continue };
        let p = params.get(key).unwrap_or_else(|| panic!("{case}: the model has no parameter {key}"));
        let grad = p.grad().unwrap_or_else(|| panic!("{case}: no gradient for {key}"));
        assert_close(&format!("{case}: {name}"), &grad, &io.tensor(name).unwrap());
        graded += 1;
    }
    assert_eq!(
        graded,
        params.len(),
        "{case}: PyTorch gives gradients for {graded} parameters, the model has {}",
        params.len()
    );
    check_state(case, io, "after.", &model.module().state_dict());
}

/// Trains as the metadata says: loss per step, final state, eval-mode logits.
fn training_case(case: &str, io: &TensorFile, meta: &Metadata, model: &dyn CaseModel) {
    let input = read_input(case, io, meta);
    let (target, _) = io.integers("target").unwrap_or_else(|e| panic!("{case}: {e}"));
    let target: Vec<usize> =
        target.iter().map(|&t| usize::try_from(t).unwrap_or_else(|_| panic!("{case}: label {t}"))).collect();
    let expected = io.tensor::<f32>("loss").unwrap_or_else(|e| panic!("{case}: {e}")).to_vec();
    let steps = meta.number("steps", expected.len() as f64) as usize;
    assert_eq!(steps, expected.len(), "{case}: steps vs the recorded losses");
    let (mut opt, repr) = optimizer(meta, model.module().parameters());
    if let Some(theirs) = meta.text("optimizer_repr") {
        assert!(same_repr(&repr, theirs), "{case}: optimizer printout\nours:\n{repr}\nPyTorch:\n{theirs}");
    }
    for (step, &theirs) in expected.iter().enumerate() {
        opt.zero_grad();
        let loss = model.run(&input).cross_entropy(&target);
        let ours = loss.item();
        let rel = (ours - theirs).abs() / theirs.abs();
        assert!(rel <= 1e-4, "{case}: step {step}: loss {ours} vs PyTorch {theirs} (relative {rel:e})");
        loss.backward();
        opt.step();
    }
    let state = model.module().state_dict();
    let finals: Vec<&str> = io.names().into_iter().filter_map(|n| n.strip_prefix("final.")).collect();
    let mut keys = state.keys();
    keys.sort();
    assert_eq!(finals, keys, "{case}: final.* keys vs the model's state dict");
    check_state(case, io, "final.", &state);
    if io.contains("eval_output") {
        model.module().eval();
        let logits = blocks::no_grad(|| model.run(&input));
        assert_close(&format!("{case}: eval_output"), &logits, &io.tensor("eval_output").unwrap());
    }
}

fn run_case(case: &str, io: &TensorFile, weights: PathBuf) {
    let meta = Metadata { case, values: io.metadata() };
    let arch = meta.text("arch").unwrap_or_else(|| panic!("{case}: no arch in the metadata"));
    let state = StateDict::read(&weights).unwrap_or_else(|e| panic!("{case}: {}: {e}", weights.display()));
    let model = build(arch, &meta, &Shapes { case, state: &state });
    model.module().load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: {e}"));
    if let Some(theirs) = meta.text("module_repr") {
        assert_eq!(blocks::nn::module_repr(model.module()), theirs, "{case}: module printout");
    }
    match meta.text("mode") {
        Some("eval") => model.module().eval(),
        Some("train") | None => model.module().train(),
        Some(other) => panic!("{case}: mode {other:?}"),
    }
    if io.contains("loss") {
        training_case(case, io, &meta, &*model)
    } else {
        forward_case(case, io, &meta, &*model)
    }
}

#[test]
fn every_layer_case_matches_pytorch() {
    let dir = layers_dir();
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
            run_case(case, &io, dir.join(format!("{case}.weights.safetensors")));
        }));
        match outcome {
            Ok(()) => println!("  {case}: matches PyTorch"),
            Err(_) => failed.push(case.clone()),
        }
    }
    assert!(failed.is_empty(), "cases that do not match PyTorch (messages above): {failed:?}");
    println!("{} layer cases matched PyTorch in {}", cases.len(), dir.display());
}
