//! Learning-rate schedules against PyTorch's `get_last_lr()` sequences
//! (torch 2.15, produced by `tests/reference/optim_reference.py`), compared
//! exactly: PyTorch computes each rate from the last one, and a closed-form
//! formula differs from it in the last bits.

use blocks_core::Tensor;
use blocks_core::optim::{
    Adam, AdamConfig, CosineAnnealingLR, LrScheduler, Optimizer, SchedulerState, Sgd, SgdConfig, StepLR,
};

/// The rates a schedule gives: the one at creation, then one per epoch.
fn rates(lr: f64, epochs: usize, make: impl FnOnce(&Sgd) -> Box<dyn LrScheduler>) -> Vec<f64> {
    let w = Tensor::zeros([1]).requires_grad_(true);
    let mut opt = Sgd::new([&w], SgdConfig { lr, ..Default::default() });
    let mut schedule = make(&opt);
    let mut out = vec![schedule.last_lr()];
    for _ in 0..epochs {
        opt.step();
        schedule.step(&mut opt);
        assert_eq!(opt.lr(), schedule.last_lr(), "the schedule sets the optimizer's rate");
        out.push(schedule.last_lr());
    }
    out
}

#[test]
fn step_lr_matches_pytorch_bit_for_bit() {
    assert_eq!(rates(0.1, 12, |o| Box::new(StepLR::new(o, 3, 0.1))), STEP_LR_3_0_1);
    assert_eq!(rates(0.3, 10, |o| Box::new(StepLR::new(o, 1, 0.7))), STEP_LR_1_0_7);
}

#[test]
fn cosine_annealing_matches_pytorch_bit_for_bit() {
    assert_eq!(rates(0.1, 25, |o| Box::new(CosineAnnealingLR::new(o, 10, 0.0))), COSINE_10);
    assert_eq!(rates(0.5, 30, |o| Box::new(CosineAnnealingLR::new(o, 7, 0.01))), COSINE_7_ETA);
}

#[test]
fn cosine_annealing_is_recursive_not_closed_form() {
    // The reference would not tell the two apart if they agreed.
    assert_ne!(COSINE_7_ETA, COSINE_7_ETA_CLOSED_FORM);
    for (recursive, closed) in COSINE_7_ETA.iter().zip(COSINE_7_ETA_CLOSED_FORM) {
        assert!((recursive - closed).abs() < 1e-14);
    }
}

#[test]
fn schedules_follow_a_rate_changed_by_hand() {
    // PyTorch's recursive form multiplies the optimizer's current rate, so a
    // rate set by hand carries on: StepLR(step_size=1, gamma=0.5) from 0.8.
    let w = Tensor::zeros([1]);
    let mut opt = Adam::new([&w], AdamConfig { lr: 0.8, ..Default::default() });
    let mut schedule = StepLR::new(&opt, 1, 0.5);
    schedule.step(&mut opt);
    assert_eq!(opt.lr(), 0.4);
    opt.set_lr(1.0);
    schedule.step(&mut opt);
    assert_eq!(opt.lr(), 0.5);
}

#[test]
fn schedule_resumes_from_its_state() {
    let full = rates(0.5, 30, |o| Box::new(CosineAnnealingLR::new(o, 7, 0.01)));
    let w = Tensor::zeros([1]);
    let mut opt = Sgd::new([&w], SgdConfig { lr: 0.5, ..Default::default() });
    let mut first = CosineAnnealingLR::new(&opt, 7, 0.01);
    for _ in 0..11 {
        first.step(&mut opt);
    }
    let saved = SchedulerState::from_json(&first.state().to_json()).unwrap();
    let optimizer_state = opt.state_dict();
    // A fresh optimizer and schedule, restored.
    let mut opt = Sgd::new([&w], SgdConfig { lr: 123.0, ..Default::default() });
    opt.load_state_dict(&optimizer_state).unwrap();
    let mut second = CosineAnnealingLR::new(&opt, 7, 0.01);
    second.load_state(&saved).unwrap();
    assert_eq!(second.last_epoch(), 11);
    let mut resumed = vec![second.last_lr()];
    for _ in 11..30 {
        second.step(&mut opt);
        resumed.push(second.last_lr());
    }
    assert_eq!(resumed, full[11..]);
}

#[test]
fn schedules_print_their_settings() {
    let opt = Sgd::new([&Tensor::zeros([1])], SgdConfig::default());
    assert_eq!(StepLR::new(&opt, 30, 0.1).to_string(), "StepLR(step_size=30, gamma=0.1)");
    assert_eq!(CosineAnnealingLR::new(&opt, 10, 0.0).to_string(), "CosineAnnealingLR(T_max=10, eta_min=0.0)");
}

// PyTorch's get_last_lr()[0] at creation and after each step.
const STEP_LR_3_0_1: [f64; 13] = [
    0.1,
    0.1,
    0.1,
    0.010000000000000002,
    0.010000000000000002,
    0.010000000000000002,
    0.0010000000000000002,
    0.0010000000000000002,
    0.0010000000000000002,
    0.00010000000000000003,
    0.00010000000000000003,
    0.00010000000000000003,
    1.0000000000000004e-05,
];
const STEP_LR_1_0_7: [f64; 11] = [
    0.3,
    0.21,
    0.147,
    0.10289999999999999,
    0.07202999999999998,
    0.05042099999999999,
    0.03529469999999999,
    0.024706289999999992,
    0.017294402999999993,
    0.012106082099999995,
    0.008474257469999996,
];
const COSINE_10: [f64; 26] = [
    0.1,
    0.09755282581475769,
    0.09045084971874738,
    0.07938926261462367,
    0.06545084971874739,
    0.05000000000000001,
    0.03454915028125264,
    0.020610737385376353,
    0.009549150281252635,
    0.002447174185242324,
    0.0,
    0.0024471741852423235,
    0.009549150281252666,
    0.020610737385376433,
    0.034549150281252786,
    0.050000000000000225,
    0.06545084971874766,
    0.079389262614624,
    0.09045084971874778,
    0.09755282581475812,
    0.10000000000000044,
    0.0975528258147581,
    0.0904508497187478,
    0.079389262614624,
    0.06545084971874766,
    0.050000000000000225,
];
const COSINE_7_ETA: [f64; 31] = [
    0.5,
    0.47573737263609267,
    0.40775500145538973,
    0.30951762881929706,
    0.20048237118070303,
    0.1022449985446103,
    0.03426262736390734,
    0.01,
    0.03426262736390731,
    0.10224499854461024,
    0.20048237118070295,
    0.3095176288192968,
    0.4077550014553897,
    0.4757373726360928,
    0.5,
    0.4757373726360928,
    0.4077550014553898,
    0.3095176288192969,
    0.20048237118070306,
    0.10224499854461035,
    0.034262627363907366,
    0.01,
    0.03426262736390731,
    0.10224499854461103,
    0.20048237118070458,
    0.3095176288192996,
    0.4077550014553936,
    0.4757373726360969,
    0.5000000000000044,
    0.475737372636097,
    0.4077550014553938,
];
const COSINE_7_ETA_CLOSED_FORM: [f64; 31] = [
    0.5,
    0.47573737263609267,
    0.40775500145538973,
    0.309517628819297,
    0.200482371180703,
    0.10224499854461029,
    0.03426262736390734,
    0.01,
    0.03426262736390731,
    0.10224499854461024,
    0.20048237118070295,
    0.3095176288192968,
    0.4077550014553897,
    0.4757373726360928,
    0.5,
    0.4757373726360928,
    0.4077550014553898,
    0.3095176288192969,
    0.20048237118070306,
    0.10224499854461035,
    0.034262627363907366,
    0.01,
    0.03426262736390709,
    0.10224499854461021,
    0.2004823711807029,
    0.3095176288192969,
    0.40775500145539,
    0.47573737263609267,
    0.5,
    0.4757373726360928,
    0.4077550014553902,
];
