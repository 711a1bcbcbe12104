//! Optimizer and schedule conformance against the cases of
//! `tests/data/generate_optim.py` (in `BLOCKS_CONFORMANCE_DIR/optim`, by
//! default `tests/data/conformance/optim`).
//!
//! Optimizer cases: the tiny model `Sequential(Linear(3, 4), Tanh, Linear(4, 2))`
//! trained with MSE as PyTorch trained it, its groups' hyper-parameters read
//! from PyTorch's own `param_groups`; the losses and the parameters after
//! every step agree within 1e-5 (relative above 1), the final state tensors
//! too, under PyTorch's keys; PyTorch's state after step 3 loaded into a
//! fresh optimizer continues as PyTorch continued; and 3 steps, save, load
//! into a fresh optimizer, the rest of the steps equal the straight run.
//! Schedule cases: 30 steps of every group's rate within 1e-4 + 1e-4|ref|,
//! and a resumed schedule equal to the straight one.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::{DynLinear, ModuleExt, Parameter, Sequential, StateDict, Tanh};
use blocks::optim::*;
use blocks::{Tensor, Tensor64};

use crate::support::conformance_dir;
use crate::support::optim_metadata::same_repr;

const TRAJECTORY_TOL: f32 = 1e-5;
const LR_TOL: f64 = 1e-4;

/// An optimizer and its printout.
trait Tested: Optimizer + Display {}
impl<T: Optimizer + Display> Tested for T {}

type Net = Sequential<(DynLinear, Tanh, DynLinear)>;

fn cases(suffix: &str) -> Vec<(String, TensorFile)> {
    let dir = conformance_dir().join("optim");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no *{suffix} cases in {}", dir.display());
    names
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(suffix).to_string();
            let file = TensorFile::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, file)
        })
        .collect()
}

fn meta<'a>(case: &str, io: &'a TensorFile, key: &str) -> &'a str {
    io.metadata().get(key).unwrap_or_else(|| panic!("{case}: no {key} in the metadata"))
}

/// The model with the parameters `{prefix}.KEY` of the case.
fn model(case: &str, io: &TensorFile, prefix: &str) -> Net {
    let net = Sequential::new((DynLinear::new(3, 4), Tanh, DynLinear::new(4, 2)));
    let mut state = StateDict::new();
    for key in ["0.weight", "0.bias", "2.weight", "2.bias"] {
        state.insert(
            key,
            io.tensor::<f32>(&format!("{prefix}.{key}")).unwrap_or_else(|e| panic!("{case}: {e}")),
        );
    }
    net.load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: {e}"));
    net
}

/// The case's groups (lists of parameter keys) as parameters of `net`.
fn groups(case: &str, io: &TensorFile, net: &Net) -> Vec<Vec<Parameter>> {
    // `[["0.weight", "2.weight"], ["0.bias", "2.bias"]]`: quoted keys, groups closed by `]`.
    let text = meta(case, io, "groups").trim();
    let inner = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).expect("a JSON list");
    let keys: Vec<Vec<&str>> = inner
        .split(']')
        .filter(|g| g.contains('"'))
        .map(|g| g.split('"').skip(1).step_by(2).collect())
        .collect();
    let named: BTreeMap<String, Parameter> = net.named_parameters().into_iter().collect();
    keys.iter().map(|g| g.iter().map(|k| named[*k].clone()).collect()).collect()
}

fn split<C: Copy>(groups: Vec<Vec<Parameter>>, config: C) -> Vec<ParamGroup<C>> {
    groups.into_iter().map(|params| ParamGroup::new(params, config)).collect()
}

/// The optimizer the case names over `groups`, with the hyper-parameters of
/// PyTorch's `param_groups` (JSON) loaded into it.
fn optimizer(case: &str, class: &str, groups: Vec<Vec<Parameter>>, param_groups: &str) -> Box<dyn Tested> {
    let mut opt: Box<dyn Tested> = match class {
        "SGD" => Box::new(Sgd::with_groups(split(groups, SgdConfig::default()))),
        "Adam" => Box::new(Adam::with_groups(split(groups, AdamConfig::default()))),
        "AdamW" => Box::new(Adam::adamw_with_groups(split(groups, AdamWConfig::default().into()))),
        "RMSprop" => Box::new(RMSprop::with_groups(split(groups, RMSpropConfig::default()))),
        "Adagrad" => Box::new(Adagrad::with_groups(split(groups, AdagradConfig::default()))),
        "Adadelta" => Box::new(Adadelta::with_groups(split(groups, AdadeltaConfig::default()))),
        "Adamax" => Box::new(Adamax::with_groups(split(groups, AdamaxConfig::default()))),
        "NAdam" => Box::new(NAdam::with_groups(split(groups, NAdamConfig::default()))),
        "RAdam" => Box::new(RAdam::with_groups(split(groups, RAdamConfig::default()))),
        other => panic!("{case}: no optimizer {other}"),
    };
    let mut state = OptimizerState::new();
    state.set_metadata("optimizer", class);
    state.set_metadata("param_groups", param_groups);
    opt.load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: PyTorch's param_groups: {e}"));
    opt
}

fn loss(net: &Net, x: &Tensor, y: &Tensor) -> Tensor {
    let error = &net.forward(x) - y;
    (&error * &error).mean()
}

fn one_step(opt: &mut dyn Tested, net: &Net, x: &Tensor, y: &Tensor) -> f32 {
    opt.zero_grad();
    let loss = loss(net, x, y);
    loss.backward();
    opt.step();
    loss.item()
}

#[track_caller]
fn assert_near(what: &str, ours: &[f32], theirs: &[f32]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let err = (a - b).abs() / b.abs().max(1.0);
        assert!(err <= TRAJECTORY_TOL, "{what}: element {i} is {a}, PyTorch has {b}");
    }
}

fn check_params(case: &str, io: &TensorFile, net: &Net, step: usize) {
    for (key, value) in net.state_dict().iter() {
        let theirs = io.tensor::<f32>(&format!("step{step}.{key}")).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_near(&format!("{case}: step {step}: {key}"), &value.to_vec(), &theirs.to_vec());
    }
}

/// PyTorch's state tensors `{prefix}.i.name` as an optimizer state.
fn pytorch_state(io: &TensorFile, prefix: &str, class: &str, param_groups: &str) -> OptimizerState {
    let mut state = OptimizerState::new();
    for name in io.names() {
        if let Some(key) = name.strip_prefix(&format!("{prefix}.")) {
            state.insert(format!("state.{key}"), io.tensor::<f32>(name).unwrap());
        }
    }
    state.set_metadata("optimizer", class);
    state.set_metadata("param_groups", param_groups);
    state
}

#[test]
fn optimizers_follow_pytorchs_trajectories() {
    for (case, io) in cases(".optim.safetensors") {
        let class = meta(&case, &io, "optimizer");
        let steps: usize = meta(&case, &io, "steps").parse().unwrap();
        let (x, y) = (io.tensor::<f32>("input").unwrap(), io.tensor::<f32>("target").unwrap());
        let net = model(&case, &io, "weights");
        let mut opt = optimizer(&case, class, groups(&case, &io, &net), meta(&case, &io, "param_groups"));
        let repr = opt.to_string();
        let theirs = meta(&case, &io, "optimizer_repr");
        assert!(same_repr(&repr, theirs), "{case}: printout\nours:\n{repr}\nPyTorch:\n{theirs}");

        let losses = io.tensor::<f32>("loss").unwrap().to_vec();
        let mut straight = Vec::new();
        for step in 1..=steps {
            let ours = one_step(&mut *opt, &net, &x, &y);
            assert_near(&format!("{case}: loss before step {step}"), &[ours], &[losses[step - 1]]);
            check_params(&case, &io, &net, step);
            straight.push(net.parameters().iter().map(|p| p.to_vec()).collect::<Vec<_>>());
        }
        // The optimizer's own state, under PyTorch's keys.
        let state = opt.state_dict();
        let mut ours: Vec<String> =
            state.keys().iter().map(|k| k.trim_start_matches("state.").to_string()).collect();
        let mut expected: Vec<String> =
            io.names().iter().filter_map(|n| n.strip_prefix("final.")).map(String::from).collect();
        ours.sort();
        expected.sort();
        assert_eq!(ours, expected, "{case}: state keys");
        for key in &expected {
            let theirs = io.tensor::<f32>(&format!("final.{key}")).unwrap();
            let mine = state.get(&format!("state.{key}")).unwrap();
            assert_near(&format!("{case}: state {key}"), &mine.to_vec(), &theirs.to_vec());
        }

        // PyTorch's state after step 3, loaded into a fresh optimizer, continues as PyTorch did.
        let resumed = model(&case, &io, "step3");
        let groups3 = meta(&case, &io, "state3_param_groups");
        let mut opt3 = optimizer(&case, class, groups(&case, &io, &resumed), groups3);
        opt3.load_state_dict(&pytorch_state(&io, "state3", class, groups3))
            .unwrap_or_else(|e| panic!("{case}: PyTorch's state after step 3: {e}"));
        for step in 4..=steps {
            one_step(&mut *opt3, &resumed, &x, &y);
            check_params(&case, &io, &resumed, step);
        }

        // Ours: 3 steps, save, load into a fresh optimizer, the rest equal the straight run.
        let again = model(&case, &io, "weights");
        let param_groups = meta(&case, &io, "param_groups");
        let mut first = optimizer(&case, class, groups(&case, &io, &again), param_groups);
        for _ in 0..3 {
            one_step(&mut *first, &again, &x, &y);
        }
        let path = std::env::temp_dir()
            .join(format!("blocks-conformance-optim-{case}-{}.safetensors", std::process::id()));
        first.state_dict().save(&path).unwrap();
        drop(first);
        let mut second = optimizer(&case, class, groups(&case, &io, &again), param_groups);
        second.load_state_dict(&OptimizerState::read(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).ok();
        for (step, expected) in straight.iter().enumerate().skip(3) {
            one_step(&mut *second, &again, &x, &y);
            let now: Vec<Vec<f32>> = again.parameters().iter().map(|p| p.to_vec()).collect();
            assert_eq!(&now, expected, "{case}: resumed step {} differs from the straight run", step + 1);
        }
    }
}

/// A schedule of either kind.
enum Schedule {
    Plain(Box<dyn LrScheduler>),
    Plateau(ReduceLROnPlateau),
}

impl Schedule {
    fn step(&mut self, opt: &mut dyn LearningRate, metric: Option<f64>) {
        match self {
            Schedule::Plain(s) => s.step(opt),
            Schedule::Plateau(s) => s.step(metric.expect("a metric for ReduceLROnPlateau"), opt),
        }
    }

    fn last_lrs(&self) -> Vec<f64> {
        match self {
            Schedule::Plain(s) => s.last_lrs().to_vec(),
            Schedule::Plateau(s) => s.last_lrs().to_vec(),
        }
    }

    fn state(&self) -> SchedulerState {
        match self {
            Schedule::Plain(s) => s.state(),
            Schedule::Plateau(s) => s.state(),
        }
    }

    fn load_state(&mut self, state: &SchedulerState) {
        match self {
            Schedule::Plain(s) => s.load_state(state).unwrap(),
            Schedule::Plateau(s) => s.load_state(state).unwrap(),
        }
    }
}

/// The case's optimizer: two groups, rates 0.1 and 0.05.
fn schedule_optimizer(class: &str) -> Box<dyn Tested> {
    let (w, b) = (Tensor::ones([2]).requires_grad_(true), Tensor::ones([1]).requires_grad_(true));
    match class {
        "SGD" => {
            let base = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
            Box::new(Sgd::with_groups(vec![
                ParamGroup::new([&w], base),
                ParamGroup::new([&b], SgdConfig { lr: 0.05, ..base }),
            ]))
        }
        "Adam" => {
            let base = AdamConfig { lr: 0.1, ..Default::default() };
            Box::new(Adam::with_groups(vec![
                ParamGroup::new([&w], base),
                ParamGroup::new([&b], AdamConfig { lr: 0.05, ..base }),
            ]))
        }
        other => panic!("no schedule optimizer {other}"),
    }
}

/// The schedule of case `case`, as the generator made it.
fn schedule(case: &str, opt: &mut dyn LearningRate) -> Schedule {
    let plain = |s: Box<dyn LrScheduler>| Schedule::Plain(s);
    match case {
        "step" => plain(Box::new(StepLR::new(opt, 7, 0.5))),
        "cosine" => plain(Box::new(CosineAnnealingLR::new(opt, 10, 0.001))),
        "multistep" => plain(Box::new(MultiStepLR::new(opt, vec![5, 12, 12, 20], 0.5))),
        "exponential" => plain(Box::new(ExponentialLR::new(opt, 0.9))),
        "linear_warmup" => plain(Box::new(LinearLR::new(
            opt,
            LinearLRConfig { start_factor: 0.1, end_factor: 1.0, total_iters: 10 },
        ))),
        "linear_decay" => plain(Box::new(LinearLR::new(
            opt,
            LinearLRConfig { start_factor: 1.0, end_factor: 0.2, total_iters: 20 },
        ))),
        "onecycle_cos" => plain(Box::new(OneCycleLR::new(
            opt,
            OneCycleLRConfig { max_lr: vec![0.5, 0.2].into(), ..OneCycleLRConfig::new(0.0, 30) },
        ))),
        "onecycle_linear_three_phase" => plain(Box::new(OneCycleLR::new(
            opt,
            OneCycleLRConfig {
                pct_start: 0.25,
                anneal_strategy: AnnealStrategy::Linear,
                three_phase: true,
                base_momentum: 0.8.into(),
                max_momentum: 0.9.into(),
                ..OneCycleLRConfig::new(0.3, 30)
            },
        ))),
        "onecycle_no_momentum" => plain(Box::new(OneCycleLR::new(
            opt,
            OneCycleLRConfig {
                cycle_momentum: false,
                div_factor: 10.0,
                final_div_factor: 100.0,
                ..OneCycleLRConfig::new(1.0, 31)
            },
        ))),
        "plateau_min_rel" => Schedule::Plateau(ReduceLROnPlateau::new(
            opt,
            ReduceLROnPlateauConfig {
                patience: 2,
                factor: 0.5,
                threshold: 0.01,
                cooldown: 1,
                min_lr: vec![0.01, 0.001],
                ..Default::default()
            },
        )),
        "plateau_max_abs" => Schedule::Plateau(ReduceLROnPlateau::new(
            opt,
            ReduceLROnPlateauConfig {
                mode: PlateauMode::Max,
                threshold_mode: ThresholdMode::Abs,
                threshold: 0.05,
                patience: 1,
                factor: 0.3,
                min_lr: vec![0.005],
                ..Default::default()
            },
        )),
        "sequential_warmup_cosine" => {
            let warmup = LinearLR::new(
                &mut *opt,
                LinearLRConfig { start_factor: 0.1, total_iters: 5, ..Default::default() },
            );
            let cosine = CosineAnnealingLR::new(opt, 25, 0.0);
            plain(Box::new(SequentialLR::new(opt, vec![Box::new(warmup), Box::new(cosine)], vec![5])))
        }
        "lambda" => plain(Box::new(LambdaLR::new(opt, |epoch| 0.95f64.powf(epoch as f64)))),
        "lambda_per_group" => plain(Box::new(
            LambdaLR::per_group(
                opt,
                vec![
                    Box::new(|epoch| 0.95f64.powf(epoch as f64)),
                    Box::new(|epoch| 1.0 / (epoch as f64 + 1.0)),
                ],
            )
            .unwrap(),
        )),
        other => panic!("no schedule case {other}"),
    }
}

#[test]
fn schedules_follow_pytorchs_rates() {
    for (case, io) in cases(".sched.safetensors") {
        let expected = io.tensor::<f64>("lrs").unwrap();
        let momenta = io.tensor::<f64>("momenta").unwrap();
        let metrics = io.tensor::<f64>("metrics").ok().map(|m: Tensor64| m.to_vec());
        let mut opt = schedule_optimizer(meta(&case, &io, "optimizer"));
        let mut sched = schedule(&case, &mut *opt);
        let mut rates = vec![sched.last_lrs()];
        let mut moms = vec![group_momenta(&*opt)];
        for epoch in 0..30 {
            opt.step();
            sched.step(&mut *opt, metrics.as_ref().map(|m| m[epoch]));
            let lrs = sched.last_lrs();
            assert_eq!(
                lrs,
                (0..2).map(|g| opt.group_learning_rate(g)).collect::<Vec<_>>(),
                "{case}: the optimizer's rates"
            );
            rates.push(lrs);
            moms.push(group_momenta(&*opt));
        }
        for (what, ours, theirs) in [("rate", &rates, &expected), ("momentum", &moms, &momenta)] {
            let theirs = theirs.to_vec();
            for (epoch, row) in ours.iter().enumerate() {
                for (g, &a) in row.iter().enumerate() {
                    let b = theirs[epoch * 2 + g];
                    assert!(
                        (a - b).abs() <= LR_TOL + LR_TOL * b.abs(),
                        "{case}: epoch {epoch}, group {g}: {what} {a}, PyTorch {b}"
                    );
                }
            }
        }

        // 12 steps, save the optimizer and the schedule, resume both fresh: the rest is the same.
        let mut opt2 = schedule_optimizer(meta(&case, &io, "optimizer"));
        let mut first = schedule(&case, &mut *opt2);
        for epoch in 0..12 {
            first.step(&mut *opt2, metrics.as_ref().map(|m| m[epoch]));
        }
        let saved = SchedulerState::from_json(&first.state().to_json()).unwrap();
        let opt_state = opt2.state_dict();
        let mut opt3 = schedule_optimizer(meta(&case, &io, "optimizer"));
        let mut second = schedule(&case, &mut *opt3);
        opt3.load_state_dict(&opt_state).unwrap();
        second.load_state(&saved);
        for epoch in 12..30 {
            second.step(&mut *opt3, metrics.as_ref().map(|m| m[epoch]));
            assert_eq!(second.last_lrs(), rates[epoch + 1], "{case}: resumed epoch {}", epoch + 1);
        }
    }
}

fn group_momenta(opt: &dyn Tested) -> Vec<f64> {
    (0..2).map(|g| opt.group_momentum(g).unwrap_or(0.0)).collect()
}

#[test]
fn invalid_settings_are_refused_with_pytorchs_words() {
    let path = conformance_dir().join("optim").join("errors.safetensors");
    let file = TensorFile::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let p = || Tensor::ones([1]).requires_grad_(true);
    fn message<T>(result: Result<T, ConfigError>) -> String {
        result.err().expect("refused").to_string()
    }
    let sgd = |lr| Sgd::new([&p()], SgdConfig { lr, momentum: 0.9, ..Default::default() });
    let cases: Vec<(&str, String)> = vec![
        ("SGD lr", message(Sgd::try_new([&p()], SgdConfig { lr: -1.0, ..Default::default() }))),
        (
            "SGD momentum",
            message(Sgd::try_new([&p()], SgdConfig { lr: 0.1, momentum: -0.5, ..Default::default() })),
        ),
        (
            "SGD nesterov",
            message(Sgd::try_new([&p()], SgdConfig { lr: 0.1, nesterov: true, ..Default::default() })),
        ),
        ("SGD add_param_group", {
            let w = p();
            let mut opt = Sgd::new([&w], SgdConfig { lr: 0.1, ..Default::default() });
            message(opt.add_param_group(ParamGroup::new([&w], SgdConfig::default())))
        }),
        (
            "Adam betas",
            message(Adam::try_new([&p()], AdamConfig { betas: (1.0, 0.999), ..Default::default() })),
        ),
        ("RMSprop lr", message(RMSprop::try_new([&p()], RMSpropConfig { lr: -1.0, ..Default::default() }))),
        (
            "RMSprop alpha",
            message(RMSprop::try_new([&p()], RMSpropConfig { alpha: -0.5, ..Default::default() })),
        ),
        (
            "RMSprop momentum",
            message(RMSprop::try_new([&p()], RMSpropConfig { momentum: -0.1, ..Default::default() })),
        ),
        (
            "RMSprop eps",
            message(RMSprop::try_new([&p()], RMSpropConfig { eps: -1e-8, ..Default::default() })),
        ),
        (
            "Adagrad lr_decay",
            message(Adagrad::try_new([&p()], AdagradConfig { lr_decay: -1.0, ..Default::default() })),
        ),
        (
            "Adagrad initial_accumulator_value",
            message(Adagrad::try_new(
                [&p()],
                AdagradConfig { initial_accumulator_value: -0.5, ..Default::default() },
            )),
        ),
        (
            "Adagrad weight_decay",
            message(Adagrad::try_new([&p()], AdagradConfig { weight_decay: -0.1, ..Default::default() })),
        ),
        (
            "Adadelta rho",
            message(Adadelta::try_new([&p()], AdadeltaConfig { rho: 1.5, ..Default::default() })),
        ),
        (
            "Adadelta eps",
            message(Adadelta::try_new([&p()], AdadeltaConfig { eps: -1e-6, ..Default::default() })),
        ),
        (
            "Adamax betas",
            message(Adamax::try_new([&p()], AdamaxConfig { betas: (0.9, 1.0), ..Default::default() })),
        ),
        (
            "NAdam momentum_decay",
            message(NAdam::try_new([&p()], NAdamConfig { momentum_decay: -1.0, ..Default::default() })),
        ),
        (
            "NAdam betas",
            message(NAdam::try_new([&p()], NAdamConfig { betas: (-0.1, 0.999), ..Default::default() })),
        ),
        (
            "RAdam weight_decay",
            message(RAdam::try_new([&p()], RAdamConfig { weight_decay: -1e-3, ..Default::default() })),
        ),
        ("RAdam eps", message(RAdam::try_new([&p()], RAdamConfig { eps: -1.0, ..Default::default() }))),
        (
            "LinearLR start_factor",
            message(LinearLR::try_new(
                &mut sgd(0.1),
                LinearLRConfig { start_factor: 0.0, ..Default::default() },
            )),
        ),
        (
            "LinearLR end_factor",
            message(LinearLR::try_new(
                &mut sgd(0.1),
                LinearLRConfig { end_factor: 1.5, ..Default::default() },
            )),
        ),
        (
            "OneCycleLR pct_start",
            message(OneCycleLR::try_new(
                &mut sgd(0.1),
                OneCycleLRConfig { pct_start: 1.5, ..OneCycleLRConfig::new(0.1, 10) },
            )),
        ),
        (
            "OneCycleLR cycle_momentum",
            message(OneCycleLR::try_new(
                &mut Adagrad::new([&p()], AdagradConfig::default()),
                OneCycleLRConfig::new(0.1, 10),
            )),
        ),
        (
            "ReduceLROnPlateau factor",
            message(ReduceLROnPlateau::try_new(
                &sgd(0.1),
                ReduceLROnPlateauConfig { factor: 1.0, ..Default::default() },
            )),
        ),
        ("SequentialLR milestones", {
            let mut opt = sgd(0.1);
            let only = ExponentialLR::new(&mut opt, 0.9);
            message(SequentialLR::try_new(&mut opt, vec![Box::new(only)], vec![3]))
        }),
    ];
    let expected = file.metadata();
    assert_eq!(cases.len(), expected.len(), "one Rust case per PyTorch message");
    for (name, ours) in cases {
        let theirs = expected.get(name).unwrap_or_else(|| panic!("no PyTorch message for {name}"));
        assert_eq!(&ours, theirs, "{name}");
    }
}
