//! Vision layer conformance: every case in `<dir>/vision/` (dir =
//! `BLOCKS_CONFORMANCE_DIR`, by default `tests/data/conformance`), written by
//! `tests/data/generate_vision_layers.py`: the layer its metadata names,
//! built from the settings there (sizes read from the files), PyTorch's
//! state loaded strictly, run in the case's mode on its input; then the
//! output, its grad_fn name, the printout, and after the backward of
//! `(output * grad_output).sum()` the input's gradient, every `grad.KEY` and
//! every `after.KEY` buffer compared with PyTorch's. A case whose layer this
//! file cannot build fails by name.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::{
    AdaptiveAvgPool1d, AdaptiveMaxPool2d, AvgPool1d, ConstantPad2d, MaxPool1d, Padding2d, PixelShuffle,
    ReflectionPad2d, Unflatten, ZeroPad2d,
};
use blocks::nn::{
    DynConvTranspose1d, DynConvTranspose2d, DynInstanceNorm1d, DynInstanceNorm2d, Forward, Hardsigmoid,
    Hardswish, InstanceNormOptions, Mish, Module, ModuleExt, PReLU, StateDict, Upsample,
};
use blocks::{ConvTransposeOptions, InterpolateMode, Tensor};

use crate::support::{self, optim_metadata::Metadata};

fn vision_dir() -> PathBuf {
    support::conformance_dir().join("vision")
}

/// |ours - PyTorch| <= 1e-4 + 1e-4 |PyTorch| per element.
fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-4, 1e-4);
}

/// A built layer: its module and its forward on a plain tensor.
trait CaseLayer {
    fn module(&self) -> &dyn Module;
    fn run(&self, x: &Tensor) -> Tensor;
}

struct Layer<M>(M);

impl<M: Forward<Tensor, Output = Tensor> + 'static> CaseLayer for Layer<M> {
    fn module(&self) -> &dyn Module {
        &self.0
    }

    fn run(&self, x: &Tensor) -> Tensor {
        blocks::nn::run(&self.0, x)
    }
}

/// A case's settings, as the generator wrote them.
struct Settings<'a> {
    meta: Metadata<'a>,
}

impl Settings<'_> {
    fn has(&self, key: &str) -> bool {
        self.meta.text(key).is_some()
    }

    /// A whole number.
    fn count(&self, key: &str, default: usize) -> usize {
        self.meta.number(key, default as f64) as usize
    }

    fn real(&self, key: &str, default: f64) -> f64 {
        self.meta.number(key, default)
    }

    fn flag(&self, key: &str, default: bool) -> bool {
        if self.has(key) { self.meta.flag(key) } else { default }
    }

    /// Sizes: one number for every dim, or a JSON list.
    fn sizes(&self, key: &str) -> Option<Vec<usize>> {
        let text = self.meta.text(key)?;
        let values: Vec<usize> = text
            .trim_matches(['[', ']', '(', ')'])
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{}: {key} = {text:?}", self.meta.case)))
            .collect();
        Some(values)
    }

    /// `D` sizes: a number repeated, a list of `D`, or `default`.
    fn dims<const D: usize>(&self, key: &str, default: usize) -> [usize; D] {
        match self.sizes(key) {
            None => [default; D],
            Some(values) if values.len() == 1 => [values[0]; D],
            Some(values) => values.try_into().unwrap_or_else(|v| panic!("{}: {key} {v:?}", self.meta.case)),
        }
    }
}

/// A transposed convolution from its settings.
fn conv_transpose<const D: usize>(s: &Settings) -> ConvTransposeOptions<D> {
    ConvTransposeOptions {
        stride: s.dims("stride", 1),
        padding: s.dims("padding", 0),
        output_padding: s.dims("output_padding", 0),
        dilation: s.dims("dilation", 1),
        groups: s.count("groups", 1),
    }
}

/// An `Upsample` by its `scale_factor`: one number, or a pair.
fn scale_factor(s: &Settings) -> Upsample {
    let text =
        s.meta.text("scale_factor").unwrap_or_else(|| panic!("{}: no size or scale_factor", s.meta.case));
    let factors: Vec<f64> = text
        .trim_matches(['[', ']'])
        .split(',')
        .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{}: scale_factor {text:?}", s.meta.case)))
        .collect();
    match factors[..] {
        [one] => Upsample::scale_factor(one),
        [h, w] => Upsample::scale_factors([h, w]),
        _ => panic!("{}: scale_factor {text:?}", s.meta.case),
    }
}

/// A padding: one number for every side, or `(left, right, top, bottom)`.
fn padding(s: &Settings) -> Padding2d {
    match s.sizes("padding").as_deref() {
        Some(&[all]) => Padding2d::from(all),
        _ => Padding2d::from(s.dims::<4>("padding", 0)),
    }
}

/// The layer the case names.
fn build(layer: &str, s: &Settings) -> Box<dyn CaseLayer> {
    let (cin, cout) = (s.count("in_channels", 0), s.count("out_channels", 0));
    match layer {
        "ConvTranspose2d" => Box::new(Layer(DynConvTranspose2d::with_options(
            cin,
            cout,
            s.dims("kernel_size", 0),
            conv_transpose(s),
            s.flag("bias", true),
        ))),
        "ConvTranspose1d" => Box::new(Layer(DynConvTranspose1d::with_options(
            cin,
            cout,
            s.dims("kernel_size", 0),
            conv_transpose(s),
            s.flag("bias", true),
        ))),
        "Upsample" => {
            let up = match s.sizes("size").as_deref() {
                Some(&[square]) => Upsample::size(square),
                Some(_) => Upsample::size(s.dims::<2>("size", 0)),
                None => scale_factor(s),
            };
            let mode = match s.meta.text("upsample_mode").unwrap_or("nearest") {
                "nearest" => InterpolateMode::Nearest,
                "bilinear" => InterpolateMode::Bilinear { align_corners: s.flag("align_corners", false) },
                other => panic!("{}: mode {other:?}", s.meta.case),
            };
            Box::new(Layer(up.mode(mode)))
        }
        "InstanceNorm1d" | "InstanceNorm2d" => {
            let d = InstanceNormOptions::default();
            let options = InstanceNormOptions {
                eps: s.real("eps", d.eps),
                momentum: Some(s.real("momentum", 0.1)),
                affine: s.flag("affine", d.affine),
                bias: s.flag("bias", d.bias),
                track_running_stats: s.flag("track_running_stats", d.track_running_stats),
            };
            let features = s.count("num_features", 0);
            if layer == "InstanceNorm1d" {
                Box::new(Layer(DynInstanceNorm1d::new(features, options)))
            } else {
                Box::new(Layer(DynInstanceNorm2d::new(features, options)))
            }
        }
        "PReLU" => Box::new(Layer(PReLU::new(s.count("num_parameters", 1), s.real("init", 0.25)))),
        "Hardswish" => Box::new(Layer(Hardswish::default())),
        "Hardsigmoid" => Box::new(Layer(Hardsigmoid::default())),
        "Mish" => Box::new(Layer(Mish::default())),
        "MaxPool1d" => {
            let k = s.count("kernel_size", 0);
            let pool = MaxPool1d::new(k).stride(s.count("stride", k)).padding(s.count("padding", 0));
            Box::new(Layer(pool.dilation(s.count("dilation", 1)).ceil_mode(s.flag("ceil_mode", false))))
        }
        "AvgPool1d" => {
            let k = s.count("kernel_size", 0);
            let pool = AvgPool1d::new(k).stride(s.count("stride", k)).padding(s.count("padding", 0));
            let pool = pool.ceil_mode(s.flag("ceil_mode", false));
            Box::new(Layer(pool.count_include_pad(s.flag("count_include_pad", true))))
        }
        "AdaptiveAvgPool1d" => Box::new(Layer(AdaptiveAvgPool1d::new(s.count("output_size", 0)))),
        "AdaptiveMaxPool2d" => match s.sizes("output_size").as_deref() {
            Some(&[square]) => Box::new(Layer(AdaptiveMaxPool2d::new(square))),
            _ => Box::new(Layer(AdaptiveMaxPool2d::new(s.dims::<2>("output_size", 0)))),
        },
        "ZeroPad2d" => Box::new(Layer(ZeroPad2d::new(padding(s)))),
        "ConstantPad2d" => Box::new(Layer(ConstantPad2d::new(padding(s), s.real("value", 0.0)))),
        "ReflectionPad2d" => Box::new(Layer(ReflectionPad2d::new(padding(s)))),
        "PixelShuffle" => Box::new(Layer(PixelShuffle::new(s.count("upscale_factor", 0)))),
        "Unflatten" => {
            let dim = s.real("dim", f64::NAN) as isize;
            let text = s
                .meta
                .text("unflattened_size")
                .unwrap_or_else(|| panic!("{}: no unflattened_size", s.meta.case));
            let sizes: Vec<isize> = text
                .trim_matches(['[', ']', '(', ')'])
                .split(',')
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("{}: unflattened_size = {text:?}", s.meta.case))
                })
                .collect();
            Box::new(Layer(Unflatten::new(dim, sizes)))
        }
        other => panic!("{}: blocks cannot build layer {other:?}", s.meta.case),
    }
}

fn run_case(case: &str, io: &TensorFile, weights: PathBuf) {
    let values = io.metadata();
    let s = Settings { meta: Metadata { case, values } };
    let layer = s.meta.text("layer").unwrap_or_else(|| panic!("{case}: no layer in the metadata"));
    let model = build(layer, &s);
    let state = StateDict::read(&weights).unwrap_or_else(|e| panic!("{case}: {}: {e}", weights.display()));
    model.module().load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: {e}"));
    let theirs = s.meta.text("module_repr").unwrap_or_else(|| panic!("{case}: no module_repr"));
    assert_eq!(blocks::nn::module_repr(model.module()), theirs, "{case}: module printout");
    match s.meta.text("mode") {
        Some("eval") => model.module().eval(),
        Some("train") | None => model.module().train(),
        Some(other) => panic!("{case}: mode {other:?}"),
    }
    let tensor = |name: &str| io.tensor::<f32>(name).unwrap_or_else(|e| panic!("{case}: {e}"));
    let x = tensor("input").requires_grad_(true);
    let output = model.run(&x);
    assert_close(&format!("{case}: output"), &output, &tensor("output"));
    assert_eq!(output.grad_fn(), s.meta.text("grad_fn"), "{case}: grad_fn");
    (&output * &tensor("grad_output")).sum().backward();
    let grad = x.grad().unwrap_or_else(|| panic!("{case}: the input has no gradient"));
    assert_close(&format!("{case}: input_grad"), &grad, &tensor("input_grad"));
    let params: BTreeMap<String, blocks::nn::Parameter> =
        model.module().named_parameters().into_iter().collect();
    let mut graded = 0;
    for name in io.names() {
        if let Some(key) = name.strip_prefix("grad.") {
            let p = params.get(key).unwrap_or_else(|| panic!("{case}: the layer has no parameter {key}"));
            let grad = p.grad().unwrap_or_else(|| panic!("{case}: no gradient for {key}"));
            assert_close(&format!("{case}: {name}"), &grad, &tensor(name));
            graded += 1;
        }
    }
    assert_eq!(
        graded,
        params.len(),
        "{case}: PyTorch gives {graded} parameter gradients, the layer has {}",
        params.len()
    );
    let ours = model.module().state_dict();
    for name in io.names() {
        let Some(key) = name.strip_prefix("after.") else { continue };
        let mine = ours.get(key).unwrap_or_else(|| panic!("{case}: the layer has no buffer {key}"));
        match io.tensor::<f32>(name) {
            Ok(theirs) => assert_close(&format!("{case}: {name}"), mine, &theirs),
            Err(_) => {
                let (theirs, _) = io.integers(name).unwrap_or_else(|e| panic!("{case}: {e}"));
                let mine: Vec<i64> = mine.to_vec().iter().map(|&v| v as i64).collect();
                assert_eq!(mine, theirs, "{case}: {name} (int64)");
            }
        }
    }
}

#[test]
fn every_vision_layer_case_matches_pytorch() {
    let dir = vision_dir();
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
    println!("{} vision layer cases matched PyTorch in {}", cases.len(), dir.display());
}

/// A case's files: its io file and its state.
fn case_files(case: &str) -> (TensorFile, StateDict) {
    let dir = vision_dir();
    let io = TensorFile::read(dir.join(format!("{case}.io.safetensors")))
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let weights = dir.join(format!("{case}.weights.safetensors"));
    (io, StateDict::read(&weights).unwrap_or_else(|e| panic!("{case}: {e}")))
}

/// The typed fronts (channels in the type) on the cases of their run-time
/// cores: PyTorch's state loaded, the same printout and output.
#[test]
fn typed_fronts_match_pytorch() {
    use blocks::nn::{ConvTranspose1d, ConvTranspose2d, Images, InstanceNorm2d};
    let check = |case: &str, module: &dyn Module, run: &dyn Fn(&Tensor) -> Tensor| {
        let (io, state) = case_files(case);
        module.load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            Some(blocks::nn::module_repr(module).as_str()),
            io.metadata().get("module_repr").map(String::as_str)
        );
        if io.metadata().get("mode").map(String::as_str) == Some("eval") {
            module.eval();
        }
        let input = io.tensor::<f32>("input").unwrap();
        assert_close(&format!("{case} (typed): output"), &run(&input), &io.tensor("output").unwrap());
    };
    let up = ConvTranspose2d::<16, 8, 3>::new().stride(2).padding(1).output_padding(1);
    check("conv_transpose2d_stride2", &up, &|x| {
        let y: Images<8> = up.forward(&Images::<16>::new(x.clone()));
        (*y).clone()
    });
    let up = ConvTranspose1d::<3, 5, 4>::new().stride(3).padding(1).output_padding(2);
    check("conv_transpose1d_stride3", &up, &|x| {
        let y: Images<5> = up.forward(&Images::<3>::new(x.clone()));
        (*y).clone()
    });
    let options = InstanceNormOptions {
        eps: 1e-3,
        momentum: Some(0.3),
        affine: true,
        track_running_stats: true,
        ..Default::default()
    };
    let norm = InstanceNorm2d::<3>::with_options(options);
    check("instance_norm2d_tracked_eval", &norm, &|x| {
        let y: Images<3> = norm.forward(&Images::<3>::new(x.clone()));
        (*y).clone()
    });
}
