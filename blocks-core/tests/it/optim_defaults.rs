//! Every optimizer's and scheduler's defaults are torch.optim's (PyTorch
//! 2.x signatures), value by value, and AdamW's weight decay survives
//! `..Default::default()`.

use blocks_core::Tensor;
use blocks_core::optim::{
    Adam, AdamConfig, AdamWConfig, CosineAnnealingLR, LrScheduler, Optimizer, Sgd, SgdConfig, StepLR,
};

#[test]
fn sgd_defaults_are_torch_optim_sgd() {
    // SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)
    let c = SgdConfig::default();
    assert_eq!(c.lr, 1e-3);
    assert_eq!(c.momentum, 0.0);
    assert_eq!(c.dampening, 0.0);
    assert_eq!(c.weight_decay, 0.0);
    assert!(!c.nesterov);
    assert!(!c.maximize);
}

#[test]
fn adam_defaults_are_torch_optim_adam() {
    // Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    //      maximize=False, decoupled_weight_decay=False)
    let c = AdamConfig::default();
    assert_eq!(c.lr, 1e-3);
    assert_eq!(c.betas, (0.9, 0.999));
    assert_eq!(c.eps, 1e-8);
    assert_eq!(c.weight_decay, 0.0);
    assert!(!c.amsgrad);
    assert!(!c.maximize);
    assert!(!c.decoupled_weight_decay);
}

#[test]
fn adamw_defaults_are_torch_optim_adamw() {
    // AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False)
    let c = AdamWConfig::default();
    assert_eq!(c.lr, 1e-3);
    assert_eq!(c.betas, (0.9, 0.999));
    assert_eq!(c.eps, 1e-8);
    assert_eq!(c.weight_decay, 1e-2);
    assert!(!c.amsgrad);
    assert!(!c.maximize);
}

#[test]
fn adamw_keeps_its_weight_decay_when_only_the_rate_is_given() {
    // The trap of issue 12: `AdamW(params, lr=0.01)` decays by 0.01, so must the Rust spelling.
    let w = Tensor::ones([2]);
    let opt = Adam::adamw([&w], AdamWConfig { lr: 0.01, ..Default::default() });
    let c = opt.config();
    assert_eq!((c.lr, c.weight_decay, c.decoupled_weight_decay), (0.01, 0.01, true));
    let repr = opt.to_string();
    assert!(repr.starts_with("AdamW ("), "{repr}");
    assert!(repr.contains("    weight_decay: 0.01\n"), "{repr}");
    assert!(repr.contains("    decoupled_weight_decay: True\n"), "{repr}");
    // One step on a zero gradient is the decay alone: θ(1 - γλ).
    let w = Tensor::from_vec(vec![2.0], [1]).requires_grad_(true);
    let mut opt = Adam::adamw([&w], AdamWConfig { lr: 0.1, ..Default::default() });
    (&w * 0.0).sum().backward();
    opt.step();
    assert!((w.to_vec()[0] - 2.0 * (1.0 - 0.1 * 0.01)).abs() < 1e-7, "{:?}", w.to_vec());
}

#[test]
fn scheduler_defaults_are_torch_optim_lr_schedulers() {
    // StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1); CosineAnnealingLR(optimizer, T_max, eta_min=0.0).
    assert_eq!(StepLR::DEFAULT_GAMMA, 0.1);
    assert_eq!(CosineAnnealingLR::DEFAULT_ETA_MIN, 0.0);
    let opt = Sgd::new([&Tensor::ones([1])], SgdConfig { lr: 0.5, ..Default::default() });
    // After construction PyTorch has taken its initial step: last_epoch 0, the optimizer's rate.
    for schedule in [
        Box::new(StepLR::new(&opt, 3, StepLR::DEFAULT_GAMMA)) as Box<dyn LrScheduler>,
        Box::new(CosineAnnealingLR::new(&opt, 3, CosineAnnealingLR::DEFAULT_ETA_MIN)),
    ] {
        assert_eq!((schedule.last_epoch(), schedule.last_lr()), (0, 0.5));
    }
    assert_eq!(opt.lr(), 0.5);
}
