//! The layer gaps of issue 19 a PyTorch user still hit, against PyTorch:
//! every case in `<dir>/layer_gaps/` (dir = `BLOCKS_CONFORMANCE_DIR`, by
//! default `tests/data/conformance`), written by
//! `tests/data/generate_layer_gaps.py`. `Upsample` on 3-D and 5-D input
//! (nearest, linear, trilinear, `recompute_scale_factor`), padding with
//! negative sides (printout, output, grad_fn and, after the backward of
//! `(output * grad_output).sum()`, the input's gradient, 1e-4 + 1e-4|ref|);
//! `OneCycleLR` with per-group momentum ranges on SGD, Adam and RMSprop (30
//! steps of rates and momenta, and resumed from its state at step 12); and
//! the refused settings, with PyTorch's messages.

use std::collections::BTreeMap;
use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::{ConstantPad2d, Forward, Module, Padding2d, ReflectionPad2d, Upsample, ZeroPad2d};
use blocks::optim::{
    Adam, AdamConfig, AnnealStrategy, ConfigError, LearningRate, LrScheduler, OneCycleLR, OneCycleLRConfig,
    Optimizer, ParamGroup, PerGroup, RMSprop, RMSpropConfig, SchedulerState, Sgd, SgdConfig,
};
use blocks::{InterpolateMode, InterpolateSize, PerDim, Tensor, Tensor64};

use crate::support;

fn dir() -> PathBuf {
    support::conformance_dir().join("layer_gaps")
}

/// The cases whose files end in `suffix`, sorted by name.
fn cases(suffix: &str) -> Vec<(String, TensorFile)> {
    let dir = dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut cases: Vec<(String, TensorFile)> = entries
        .filter_map(|entry| {
            let path = entry.expect("folder entry").path();
            let case = path.file_name()?.to_str()?.strip_suffix(suffix)?.to_string();
            let file = TensorFile::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Some((case, file))
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!cases.is_empty(), "no {suffix} case in {}", dir.display());
    cases
}

/// A number, or a JSON list of them, as the generator wrote a setting.
fn numbers(case: &str, text: &str) -> PerDim<f64> {
    let parse = |v: &str| v.trim().parse::<f64>().unwrap_or_else(|_| panic!("{case}: {text:?}"));
    if text.starts_with('[') {
        PerDim::Each(text.trim_matches(['[', ']']).split(',').map(parse).collect())
    } else {
        PerDim::All(parse(text))
    }
}

fn whole(values: PerDim<f64>) -> PerDim<usize> {
    match values {
        PerDim::All(v) => PerDim::All(v as usize),
        PerDim::Each(v) => PerDim::Each(v.into_iter().map(|x| x as usize).collect()),
    }
}

/// A built layer: its forward on a tensor, and its printout.
type Built = Box<dyn Fn(&Tensor) -> (Tensor, String)>;

/// The layer the case's metadata names.
fn build(case: &str, meta: &BTreeMap<String, String>) -> Built {
    let get = |key: &str| meta.get(key).map(String::as_str);
    let flag = |key: &str| get(key) == Some("true");
    let sides = || -> Padding2d {
        match numbers(case, get("padding").expect("padding")) {
            PerDim::All(p) => Padding2d::from(p as isize),
            PerDim::Each(p) => Padding2d::from([p[0] as isize, p[1] as isize, p[2] as isize, p[3] as isize]),
        }
    };
    fn boxed<M: Forward<Tensor, Output = Tensor> + Module + 'static>(layer: M) -> Built {
        Box::new(move |x| (blocks::nn::run(&layer, x), blocks::nn::module_repr(&layer)))
    }
    match get("layer").unwrap_or_else(|| panic!("{case}: no layer")) {
        "Upsample" => {
            let up = match (get("size"), get("scale_factor")) {
                (Some(size), None) => Upsample::size(whole(numbers(case, size))),
                (None, Some(scale)) => Upsample::scale_factor(numbers(case, scale)),
                _ => panic!("{case}: size or scale_factor"),
            };
            let align_corners = flag("align_corners");
            let mode = match get("upsample_mode").unwrap_or("nearest") {
                "nearest" => InterpolateMode::Nearest,
                "linear" => InterpolateMode::Linear { align_corners },
                "bilinear" => InterpolateMode::Bilinear { align_corners },
                "trilinear" => InterpolateMode::Trilinear { align_corners },
                other => panic!("{case}: mode {other}"),
            };
            boxed(up.mode(mode).recompute_scale_factor(flag("recompute_scale_factor")))
        }
        "ZeroPad2d" => boxed(ZeroPad2d::new(sides())),
        "ConstantPad2d" => {
            let value = get("value").expect("value").parse().expect("value");
            boxed(ConstantPad2d::new(sides(), value))
        }
        "ReflectionPad2d" => boxed(ReflectionPad2d::new(sides())),
        other => panic!("{case}: no layer {other}"),
    }
}

#[test]
fn every_layer_gap_case_matches_pytorch() {
    let cases = cases(".io.safetensors");
    for (case, io) in &cases {
        let meta = io.metadata();
        let tensor = |name: &str| io.tensor::<f32>(name).unwrap_or_else(|e| panic!("{case}: {e}"));
        let layer = build(case, meta);
        let x = tensor("input").requires_grad_(true);
        let (output, printout) = layer(&x);
        assert_eq!(Some(&printout), meta.get("module_repr"), "{case}: printout");
        support::assert_close(&format!("{case}: output"), &output, &tensor("output"), 1e-4, 1e-4);
        assert_eq!(output.grad_fn(), meta.get("grad_fn").map(String::as_str), "{case}: grad_fn");
        (&output * &tensor("grad_output")).sum().backward();
        let grad = x.grad().unwrap_or_else(|| panic!("{case}: no input gradient"));
        support::assert_close(&format!("{case}: input_grad"), &grad, &tensor("input_grad"), 1e-4, 1e-4);
    }
    assert!(cases.len() >= 25, "{} layer cases", cases.len());
}

/// The functional form on the same cases: `F.interpolate` is `Upsample`'s forward.
#[test]
fn functional_interpolate_matches_the_upsample_cases() {
    let (_, io) = cases(".io.safetensors").into_iter().find(|(c, _)| c == "up3d_trilinear_scales").unwrap();
    let x = io.tensor::<f32>("input").unwrap();
    let size = InterpolateSize::scale_factor([1.5, 2.0, 0.7]);
    let y = x.interpolate(&size, InterpolateMode::Trilinear { align_corners: false });
    support::assert_close("interpolate", &y, &io.tensor("output").unwrap(), 1e-4, 1e-4);
}

/// The two groups of a case's optimizer (rates 0.1 and 0.05), as the generator built them.
fn optimizer(class: &str) -> Box<dyn Optimizer> {
    let (w, b) = (Tensor::ones([2]).requires_grad_(true), Tensor::ones([1]).requires_grad_(true));
    match class {
        "SGD" => {
            let base = SgdConfig { lr: 0.1, momentum: 0.0, ..Default::default() };
            Box::new(Sgd::with_groups(vec![
                ParamGroup::new([&w], base),
                ParamGroup::new([&b], SgdConfig { lr: 0.05, ..base }),
            ]))
        }
        "Adam" => {
            let base = AdamConfig { lr: 0.1, betas: (0.9, 0.99), ..Default::default() };
            Box::new(Adam::with_groups(vec![
                ParamGroup::new([&w], base),
                ParamGroup::new([&b], AdamConfig { lr: 0.05, ..base }),
            ]))
        }
        "RMSprop" => {
            let base = RMSpropConfig { lr: 0.1, ..Default::default() };
            Box::new(RMSprop::with_groups(vec![
                ParamGroup::new([&w], base),
                ParamGroup::new([&b], RMSpropConfig { lr: 0.05, ..base }),
            ]))
        }
        other => panic!("no optimizer {other}"),
    }
}

/// The case's OneCycleLR settings, as the generator gave them.
fn one_cycle(case: &str) -> OneCycleLRConfig {
    match case {
        "onecycle_sgd_group_momenta" => OneCycleLRConfig {
            base_momentum: [0.8, 0.7].into(),
            max_momentum: [0.9, 0.95].into(),
            ..OneCycleLRConfig::new([1.0, 0.5], 30)
        },
        "onecycle_adam_group_momenta_three_phase" => OneCycleLRConfig {
            pct_start: 0.2,
            anneal_strategy: AnnealStrategy::Linear,
            three_phase: true,
            base_momentum: [0.85, 0.6].into(),
            max_momentum: 0.9.into(),
            ..OneCycleLRConfig::new(0.3, 30)
        },
        "onecycle_rmsprop_group_momenta" => OneCycleLRConfig {
            base_momentum: 0.5.into(),
            max_momentum: [0.6, 0.99].into(),
            ..OneCycleLRConfig::new([0.2, 0.4], 30)
        },
        other => panic!("no OneCycleLR case {other}"),
    }
}

fn rates_and_momenta(opt: &dyn Optimizer) -> Vec<f64> {
    let mut row: Vec<f64> = (0..2).map(|g| opt.group_learning_rate(g)).collect();
    row.extend((0..2).map(|g| opt.group_momentum(g).expect("a momentum")));
    row
}

#[test]
fn one_cycle_momenta_per_group_follow_pytorch() {
    for (case, io) in cases(".sched.safetensors") {
        let class = io.metadata().get("optimizer").expect("optimizer").clone();
        let lrs = io.tensor::<f64>("lrs").unwrap().to_vec();
        let momenta = io.tensor::<f64>("momenta").unwrap().to_vec();
        let mut opt = optimizer(&class);
        let mut schedule = OneCycleLR::new(&mut *opt, one_cycle(&case));
        let mut ours = vec![rates_and_momenta(&*opt)];
        for _ in 0..30 {
            opt.step();
            schedule.step(&mut *opt);
            assert_eq!(schedule.last_lrs(), &ours_lrs(&*opt)[..], "{case}: the optimizer's rates");
            ours.push(rates_and_momenta(&*opt));
        }
        for (step, row) in ours.iter().enumerate() {
            for g in 0..2 {
                for (what, a, b) in
                    [("rate", row[g], lrs[step * 2 + g]), ("momentum", row[2 + g], momenta[step * 2 + g])]
                {
                    assert!(
                        (a - b).abs() <= 1e-4 + 1e-4 * b.abs(),
                        "{case}: step {step}, group {g}: {what} {a}, PyTorch {b}"
                    );
                }
            }
        }

        // 12 steps, the schedule saved, resumed into a schedule made with
        // other momenta: the rest follows PyTorch's.
        let mut opt = optimizer(&class);
        let mut first = OneCycleLR::new(&mut *opt, one_cycle(&case));
        for _ in 0..12 {
            first.step(&mut *opt);
        }
        let saved = SchedulerState::from_json(&first.state().to_json()).expect("state");
        let mut second = OneCycleLR::new(
            &mut *opt,
            OneCycleLRConfig {
                max_lr: one_cycle(&case).max_lr,
                base_momentum: 0.1.into(),
                max_momentum: 0.2.into(),
                ..one_cycle(&case)
            },
        );
        second.load_state(&saved).unwrap_or_else(|e| panic!("{case}: {e}"));
        for (step, expected) in ours.iter().enumerate().skip(13) {
            second.step(&mut *opt);
            assert_eq!(&rates_and_momenta(&*opt), expected, "{case}: resumed, step {step}");
        }
        let mut other = OneCycleLR::new(&mut *opt, OneCycleLRConfig::new(0.1, 31));
        assert!(other.load_state(&saved).is_err(), "{case}: a state for 30 steps into one of 31");
    }
}

fn ours_lrs(opt: &dyn Optimizer) -> Vec<f64> {
    (0..2).map(|g| opt.group_learning_rate(g)).collect()
}

/// PyTorch's messages, from errors.safetensors.
fn pytorch(name: &str) -> String {
    let file = TensorFile::read(dir().join("errors.safetensors")).expect("errors.safetensors");
    file.metadata().get(name).unwrap_or_else(|| panic!("no message for {name}")).clone()
}

#[test]
fn refused_settings_give_pytorchs_messages() {
    let interpolate = |shape: &[usize], size: InterpolateSize, mode: InterpolateMode| -> String {
        let x = Tensor64::zeros(shape);
        x.try_interpolate(&size, mode).expect_err("refused").to_string()
    };
    let bilinear = InterpolateMode::Bilinear { align_corners: false };
    let linear = InterpolateMode::Linear { align_corners: false };
    let trilinear = InterpolateMode::Trilinear { align_corners: false };
    let nearest = InterpolateMode::Nearest;
    let size = |s: PerDim<usize>| InterpolateSize::size(s);
    for (name, ours) in [
        ("bilinear 3D", interpolate(&[1, 1, 3], size(4.into()), bilinear)),
        ("bilinear 5D", interpolate(&[1, 1, 2, 3, 4], size(4.into()), bilinear)),
        ("linear 4D", interpolate(&[1, 1, 3, 4], size(4.into()), linear)),
        ("trilinear 3D", interpolate(&[1, 1, 3], size(4.into()), trilinear)),
        ("nearest 2D", interpolate(&[1, 3], size(4.into()), nearest)),
        ("linear 6D", interpolate(&[1, 1, 1, 2, 2, 2], size(4.into()), linear)),
        ("size length", interpolate(&[1, 1, 3, 4], size([4, 4, 4].into()), nearest)),
        ("scale_factor length", interpolate(&[1, 1, 3, 4], InterpolateSize::scale_factor([2.0; 3]), nearest)),
        ("output 1D zero", interpolate(&[1, 1, 3], InterpolateSize::scale_factor(0.2), nearest)),
        ("output 3D zero", interpolate(&[1, 1, 2, 3, 4], size([2, 0, 1].into()), trilinear)),
        (
            "recompute with size",
            interpolate(&[1, 1, 3], size(5.into()).recompute_scale_factor(true), nearest),
        ),
        (
            "pad too negative",
            Tensor::zeros([1, 1, 3, 4]).try_pad2d([-5, 2, 0, 0], 0.0).unwrap_err().to_string(),
        ),
        (
            "reflection too large",
            Tensor::zeros([1, 1, 3, 4]).try_reflection_pad2d([4, 0, 0, 0]).unwrap_err().to_string(),
        ),
    ] {
        let theirs = pytorch(name);
        assert!(ours.ends_with(&format!(": {theirs}")), "{name}: ours {ours:?}, PyTorch {theirs:?}");
    }
    let two_groups = || {
        let (w, b) = (Tensor::ones([1]).requires_grad_(true), Tensor::ones([1]).requires_grad_(true));
        let base = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
        Sgd::with_groups(vec![ParamGroup::new([&w], base), ParamGroup::new([&b], base)])
    };
    let refuse = |config: OneCycleLRConfig| -> String {
        let result: Result<OneCycleLR, ConfigError> = OneCycleLR::try_new(&mut two_groups(), config);
        result.expect_err("refused").to_string()
    };
    let config = || OneCycleLRConfig::new(0.1, 10);
    for (name, ours) in [
        (
            "OneCycleLR base_momentum",
            refuse(OneCycleLRConfig { base_momentum: vec![0.8].into(), ..config() }),
        ),
        ("OneCycleLR max_momentum", refuse(OneCycleLRConfig { max_momentum: [0.9; 3].into(), ..config() })),
        ("OneCycleLR max_lr", refuse(OneCycleLRConfig::new([0.1, 0.2, 0.3], 10))),
    ] {
        assert_eq!(ours, pytorch(name), "{name}");
    }
    // The optimizer is unchanged by a refused schedule.
    let mut opt = two_groups();
    assert!(
        OneCycleLR::try_new(&mut opt, OneCycleLRConfig { max_momentum: PerGroup::Each(vec![]), ..config() })
            .is_err()
    );
    assert_eq!((opt.group_learning_rate(0), opt.group_momentum(0)), (0.1, Some(0.9)));
}
