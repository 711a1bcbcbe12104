//! Stopping and resuming: N steps, save model and optimizer, load both into
//! fresh ones, N more steps must equal 2N uninterrupted steps bit for bit;
//! and a state that does not fit is refused without changing anything.

use blocks_core::nn::{DynLinear, ModuleExt, ReLU, Sequential};
use blocks_core::optim::{
    Adam, AdamConfig, AdamWConfig, LrScheduler, Optimizer, OptimizerState, Sgd, SgdConfig, StepLR,
};
use blocks_core::{Tensor, manual_seed};

type Net = Sequential<(DynLinear, ReLU, DynLinear)>;

fn net() -> Net {
    Sequential::new((DynLinear::new(5, 7), ReLU, DynLinear::new(7, 3)))
}

fn data() -> (Tensor, Tensor) {
    manual_seed(7);
    (Tensor::randn([16, 5]), Tensor::randn([16, 3]))
}

/// One step of mean squared error; returns the loss.
fn step(net: &Net, opt: &mut dyn Optimizer, x: &Tensor, y: &Tensor) -> f32 {
    opt.zero_grad();
    let error = &net.forward(x) - y;
    let loss = (&error * &error).mean();
    loss.backward();
    opt.step();
    loss.item()
}

fn values(net: &Net) -> Vec<Vec<f32>> {
    net.parameters().iter().map(|p| p.to_vec()).collect()
}

/// Trains 2N steps straight, and N + save + load into a fresh model and
/// optimizer + N; both must give the same losses and parameters exactly.
fn resumes_exactly<O: Optimizer>(name: &str, make: impl Fn(&Net) -> O) {
    const N: usize = 6;
    let (x, y) = data();
    manual_seed(1);
    let straight = net();
    let initial = straight.state_dict().iter().map(|(k, t)| (k.to_string(), t.detach())).collect::<Vec<_>>();
    let mut opt = make(&straight);
    let straight_losses: Vec<f32> = (0..2 * N).map(|_| step(&straight, &mut opt, &x, &y)).collect();

    let dir = std::env::temp_dir().join(format!("blocks-resume-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let first = net();
    for (key, value) in &initial {
        first.parameter(key).unwrap().set_data(value);
    }
    let mut opt = make(&first);
    let mut losses: Vec<f32> = (0..N).map(|_| step(&first, &mut opt, &x, &y)).collect();
    first.save(dir.join("model.safetensors")).unwrap();
    opt.save(dir.join("optimizer.safetensors")).unwrap();
    drop((first, opt));

    manual_seed(99); // a different initialization, overwritten by the load
    let second = net();
    second.load(dir.join("model.safetensors")).unwrap();
    let mut opt = make(&second);
    opt.load(dir.join("optimizer.safetensors")).unwrap();
    losses.extend((0..N).map(|_| step(&second, &mut opt, &x, &y)));

    assert_eq!(losses, straight_losses, "{name}: losses");
    assert_eq!(values(&second), values(&straight), "{name}: parameters");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sgd_with_momentum_resumes_exactly() {
    resumes_exactly("sgd", |net| {
        let config =
            SgdConfig { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 1e-3, ..Default::default() };
        Sgd::new(net.parameters(), config)
    });
}

#[test]
fn adam_with_amsgrad_resumes_exactly() {
    resumes_exactly("adam", |net| {
        let config = AdamConfig { lr: 0.01, amsgrad: true, weight_decay: 1e-2, ..Default::default() };
        Adam::new(net.parameters(), config)
    });
}

#[test]
fn adamw_resumes_exactly() {
    resumes_exactly("adamw", |net| {
        Adam::adamw(net.parameters(), AdamWConfig { lr: 0.02, ..Default::default() })
    });
}

#[test]
fn a_resumed_run_without_the_optimizer_state_differs() {
    // The check above can fail: dropping the state (fresh moments) changes the run.
    let (x, y) = data();
    manual_seed(1);
    let straight = net();
    let copy = net();
    copy.load_state_dict(&straight.state_dict()).unwrap();
    let config = AdamConfig { lr: 0.01, ..Default::default() };
    let mut a = Adam::new(straight.parameters(), config);
    let mut b = Adam::new(copy.parameters(), config);
    for _ in 0..3 {
        step(&straight, &mut a, &x, &y);
        step(&copy, &mut b, &x, &y);
    }
    let mut b = Adam::new(copy.parameters(), config);
    step(&straight, &mut a, &x, &y);
    step(&copy, &mut b, &x, &y);
    assert_ne!(values(&straight), values(&copy));
}

#[test]
fn state_uses_pytorchs_keys_and_param_groups() {
    let w = Tensor::ones([2, 3]).requires_grad_(true);
    let b = Tensor::ones([2]).requires_grad_(true);
    let mut opt = Adam::new([&w, &b], AdamConfig { lr: 0.01, amsgrad: true, ..Default::default() });
    (&w.sum() + &b.sum()).backward();
    opt.step();
    opt.step();
    let state = OptimizerState::from_bytes(&opt.state_dict().to_bytes().unwrap()).unwrap();
    let mut keys = state.keys();
    keys.sort();
    assert_eq!(
        keys,
        [
            "state.0.exp_avg",
            "state.0.exp_avg_sq",
            "state.0.max_exp_avg_sq",
            "state.0.step",
            "state.1.exp_avg",
            "state.1.exp_avg_sq",
            "state.1.max_exp_avg_sq",
            "state.1.step"
        ]
    );
    assert_eq!(state.get("state.0.step").unwrap().shape(), Vec::<usize>::new());
    assert_eq!(state.get("state.1.step").unwrap().item(), 2.0);
    assert_eq!(state.get("state.0.exp_avg").unwrap().shape(), vec![2, 3]);
    assert_eq!(state.metadata("optimizer"), Some("Adam"));
    assert_eq!(
        state.metadata("param_groups"),
        Some(
            r#"[{"amsgrad":true,"betas":[0.9,0.999],"decoupled_weight_decay":false,"eps":1e-8,"lr":0.01,"maximize":false,"params":[0,1],"weight_decay":0.0}]"#
        )
    );
}

#[test]
fn loading_restores_hyperparameters_and_keeps_adamw_decoupled() {
    let w = Tensor::ones([1]);
    let mut source =
        Sgd::new([&w], SgdConfig { lr: 0.1, momentum: 0.5, dampening: 0.25, ..Default::default() });
    let mut schedule = StepLR::new(&source, 1, 0.5);
    schedule.step(&mut source);
    let mut target = Sgd::new([&w], SgdConfig::default());
    target.load_state_dict(&source.state_dict()).unwrap();
    assert_eq!(
        *target.config(),
        SgdConfig { lr: 0.05, momentum: 0.5, dampening: 0.25, ..Default::default() }
    );

    let plain = Adam::new([&w], AdamConfig { weight_decay: 0.1, ..Default::default() });
    let mut adamw = Adam::adamw([&w], AdamWConfig::default());
    adamw.load_state_dict(&plain.state_dict()).unwrap();
    assert!(adamw.config().decoupled_weight_decay);
    assert_eq!(adamw.config().weight_decay, 0.1);
}

#[test]
fn a_state_that_does_not_fit_is_refused_and_nothing_changes() {
    let w = Tensor::ones([2]).requires_grad_(true);
    let v = Tensor::ones([3]).requires_grad_(true);
    let mut saved = Adam::new([&w, &v], AdamConfig { lr: 0.5, ..Default::default() });
    (&w.sum() + &v.sum()).backward();
    saved.step();
    let state = saved.state_dict();

    let mut target = Adam::new([&w, &v], AdamConfig::default());
    let error =
        |target: &mut Adam, state: &OptimizerState| target.load_state_dict(state).unwrap_err().to_string();

    let other_kind = Sgd::new([&w, &v], SgdConfig::default()).state_dict();
    assert!(error(&mut target, &other_kind).contains("saved by SGD, not by Adam or AdamW"));

    let mut fewer = Adam::new([&w], AdamConfig::default());
    assert!(error(&mut fewer, &state).contains("the saved group has 2 parameters, this optimizer has 1"));

    let mut swapped = Adam::new([&v, &w], AdamConfig::default());
    assert!(
        error(&mut swapped, &state).contains("state.0.exp_avg has shape [2], but parameter 0 has shape [3]")
    );

    let mut extra = state.clone();
    extra.insert("state.5.exp_avg", Tensor::ones([2]));
    assert!(error(&mut target, &extra).contains("unexpected tensor \"state.5.exp_avg\""));

    let mut partial = OptimizerState::new();
    partial.set_metadata("optimizer", "Adam");
    partial.set_metadata("param_groups", state.metadata("param_groups").unwrap());
    partial.insert("state.1.exp_avg", Tensor::ones([3]));
    assert!(
        error(&mut target, &partial).contains("parameter 1 needs a one-element step, exp_avg and exp_avg_sq")
    );

    let mut broken = state.clone();
    broken.set_metadata("param_groups", "[{\"lr\": 0.1}");
    assert!(error(&mut target, &broken).contains("not valid JSON"));

    // Every refusal left the target as it was.
    assert_eq!(target.lr(), 1e-3);
    assert_eq!(target.step_count(0), 0);
    assert!(target.state_dict().keys().is_empty());
    target.load_state_dict(&state).unwrap();
    assert_eq!((target.lr(), target.step_count(1)), (0.5, 1));
}
