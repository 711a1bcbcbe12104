//! Parameter groups and the optimizers added with them: hostile states are
//! refused with nothing changed, frozen parameters stay put, float64
//! optimizers step as the float32 ones do, a group added later is scheduled too.

use blocks_core::optim::*;
use blocks_core::{Tensor, Tensor64};

fn params() -> (Tensor, Tensor) {
    (
        Tensor::from_vec(vec![0.5, -1.0], [2]).requires_grad_(true),
        Tensor::from_vec(vec![2.0, 0.25, -0.75], [3]).requires_grad_(true),
    )
}

fn backward(w: &Tensor, v: &Tensor) {
    ((w * w).sum() + (v * 3.0).sum()).backward();
}

#[test]
fn a_state_that_does_not_fit_the_new_optimizers_is_refused_and_nothing_changes() {
    let (w, v) = params();
    let mut opt =
        RMSprop::new([&w, &v], RMSpropConfig { momentum: 0.9, centered: true, ..Default::default() });
    backward(&w, &v);
    opt.step();
    let before = opt.state_dict();

    let mut negative = before.clone();
    negative.insert("state.1.square_avg", Tensor::from_vec(vec![0.0, -1.0, 0.0], [3]));
    let error = opt.load_state_dict(&negative).unwrap_err().to_string();
    assert!(error.contains("state.1.square_avg holds -1 at index [1]"), "{error}");

    let mut nadam = NAdam::new([&w, &v], NAdamConfig::default());
    backward(&w, &v);
    nadam.step();
    let mut state = nadam.state_dict();
    let mut without = OptimizerState::new();
    for key in state.keys() {
        if key != "state.0.mu_product" {
            without.insert(key, state.get(key).unwrap().clone());
        }
    }
    for key in ["optimizer", "param_groups"] {
        without.set_metadata(key, state.metadata(key).unwrap());
    }
    let error = nadam.load_state_dict(&without).unwrap_err().to_string();
    assert!(
        error.contains("parameter 0 needs a one-element step, mu_product, exp_avg and exp_avg_sq together"),
        "{error}"
    );
    state.set_metadata("optimizer", "RAdam");
    assert!(nadam.load_state_dict(&state).unwrap_err().to_string().contains("saved by RAdam, not by NAdam"));

    // Two groups saved, one group here: PyTorch's message.
    let two = Adagrad::with_groups(vec![
        ParamGroup::new([&w], AdagradConfig::default()),
        ParamGroup::new([&v], AdagradConfig { lr: 0.5, ..Default::default() }),
    ]);
    let mut one = Adagrad::new([&w, &v], AdagradConfig::default());
    let error = one.load_state_dict(&two.state_dict()).unwrap_err().to_string();
    assert!(error.contains("loaded state dict has a different number of parameter groups"), "{error}");

    assert_eq!(opt.state_dict().keys(), before.keys());
    assert_eq!(opt.state_dict().metadata("param_groups"), before.metadata("param_groups"));
}

#[test]
fn groups_keep_their_own_settings_and_a_frozen_group_stays_put() {
    let (w, v) = params();
    let frozen = Tensor::from_vec(vec![1.0], [1]);
    let base = SgdConfig { lr: 0.1, ..Default::default() };
    let mut opt = Sgd::with_groups(vec![
        ParamGroup::new([&w], base),
        ParamGroup::new([&v], SgdConfig { lr: 0.01, ..base }),
        ParamGroup::new([&frozen], base),
    ]);
    backward(&w, &v);
    opt.step();
    assert_eq!(w.to_vec(), vec![0.5 - 0.1 * 1.0, -1.0 + 0.1 * 2.0]);
    assert_eq!(v.to_vec(), vec![2.0 - 0.01 * 3.0, 0.25 - 0.01 * 3.0, -0.75 - 0.01 * 3.0]);
    assert_eq!(frozen.to_vec(), vec![1.0]);
    let groups = opt.state_dict().metadata("param_groups").unwrap().to_string();
    assert!(
        groups.contains(r#""params":[0]"#)
            && groups.contains(r#""params":[1]"#)
            && groups.contains(r#""params":[2]"#)
    );
    assert!(opt.to_string().contains("\n\nParameter Group 1\n"), "{opt}");
}

#[test]
fn a_group_added_later_is_scheduled_too() {
    let (w, v) = params();
    let mut opt = Adam::new([&w], AdamConfig { lr: 0.1, ..Default::default() });
    opt.add_param_group(ParamGroup::new([&v], AdamConfig { lr: 0.02, ..Default::default() })).unwrap();
    let mut schedule = ExponentialLR::new(&mut opt, 0.5);
    schedule.step(&mut opt);
    assert_eq!(schedule.last_lrs(), &[0.05, 0.01]);
    assert_eq!((opt.group_learning_rate(0), opt.group_learning_rate(1)), (0.05, 0.01));
}

/// One step of `make(params)` in float32 and in float64 from the same values.
fn both<O32: Optimizer, O64: Optimizer<f64>>(
    name: &str,
    make32: impl Fn(&Tensor) -> O32,
    make64: impl Fn(&Tensor64) -> O64,
) {
    let values = vec![0.5, -1.0, 2.0];
    let (w32, w64) = (
        Tensor::from_vec(values.clone(), [3]).requires_grad_(true),
        Tensor64::from_vec(values.iter().map(|&x| f64::from(x)).collect(), [3]).requires_grad_(true),
    );
    let (mut o32, mut o64) = (make32(&w32), make64(&w64));
    for _ in 0..3 {
        o32.zero_grad();
        o64.zero_grad();
        (&w32 * &w32).sum().backward();
        (&w64 * &w64).sum().backward();
        o32.step();
        o64.step();
    }
    for (a, b) in w32.to_vec().iter().zip(w64.to_vec()) {
        assert!((f64::from(*a) - b).abs() < 1e-6, "{name}: float32 {a} vs float64 {b}");
    }
    assert!(o64.state_dict().keys().iter().all(|k| o64.state_dict().entry(k).unwrap().dtype() == "float64"
        || k.ends_with("step")
        || k.ends_with("mu_product")));
}

#[test]
fn float64_optimizers_step_as_the_float32_ones() {
    both(
        "RMSprop",
        |w| RMSprop::new([w], RMSpropConfig { momentum: 0.5, centered: true, ..Default::default() }),
        |w| RMSprop::new([w], RMSpropConfig { momentum: 0.5, centered: true, ..Default::default() }),
    );
    both(
        "Adagrad",
        |w| Adagrad::new([w], AdagradConfig::default()),
        |w| Adagrad::new([w], AdagradConfig::default()),
    );
    both(
        "Adadelta",
        |w| Adadelta::new([w], AdadeltaConfig::default()),
        |w| Adadelta::new([w], AdadeltaConfig::default()),
    );
    both(
        "Adamax",
        |w| Adamax::new([w], AdamaxConfig::default()),
        |w| Adamax::new([w], AdamaxConfig::default()),
    );
    both("NAdam", |w| NAdam::new([w], NAdamConfig::default()), |w| NAdam::new([w], NAdamConfig::default()));
    both("RAdam", |w| RAdam::new([w], RAdamConfig::default()), |w| RAdam::new([w], RAdamConfig::default()));
}
