//! Reading a training case's optimizer from its metadata as torch.optim
//! reads its arguments, shared by the training conformance suites
//! (`conformance_training` for digits_mlp, `conformance_layers` for digits_cnn).

#![allow(dead_code)]

use std::collections::BTreeMap;

use blocks::optim::{Adam, AdamConfig, AdamWConfig, Optimizer, Sgd, SgdConfig};

/// A case's metadata, read as torch.optim reads its arguments: absent keys
/// take PyTorch's defaults; a present key that does not parse is an error.
pub struct Metadata<'a> {
    pub case: &'a str,
    pub values: &'a BTreeMap<String, String>,
}

impl Metadata<'_> {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|v| v.trim())
    }

    pub fn number(&self, key: &str, default: f64) -> f64 {
        self.text(key).map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{}: metadata {key} = {v:?} is not a number", self.case))
        })
    }

    pub fn flag(&self, key: &str) -> bool {
        self.text(key).is_some_and(|v| match v.to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" | "none" | "" => false,
            _ => panic!("{}: metadata {key} = {v:?} is not a boolean", self.case),
        })
    }

    /// A JSON pair `[0.9, 0.999]` (or a Python tuple `(0.9, 0.999)`).
    pub fn pair(&self, key: &str, default: (f64, f64)) -> (f64, f64) {
        self.text(key).map_or(default, |v| {
            let inner = v.trim_start_matches(['[', '(']).trim_end_matches([']', ')']);
            let parts: Vec<f64> = inner
                .split(',')
                .map(|p| p.trim().parse().unwrap_or_else(|_| panic!("{}: metadata {key} = {v:?}", self.case)))
                .collect();
            match parts[..] {
                [a, b] => (a, b),
                _ => panic!("{}: metadata {key} = {v:?} is not a pair", self.case),
            }
        })
    }
}

/// The optimizer the metadata names, over `params`, and its printout.
pub fn optimizer(meta: &Metadata, params: Vec<blocks::nn::Parameter>) -> (Box<dyn Optimizer>, String) {
    let name =
        meta.text("optimizer").unwrap_or_else(|| panic!("{}: no optimizer in the metadata", meta.case));
    match name.to_ascii_lowercase().as_str() {
        "sgd" => {
            let d = SgdConfig::default();
            let config = SgdConfig {
                lr: meta.number("lr", d.lr),
                momentum: meta.number("momentum", d.momentum),
                dampening: meta.number("dampening", d.dampening),
                weight_decay: meta.number("weight_decay", d.weight_decay),
                nesterov: meta.flag("nesterov"),
                maximize: meta.flag("maximize"),
            };
            let opt = Sgd::new(params, config);
            let repr = opt.to_string();
            (Box::new(opt), repr)
        }
        kind @ ("adam" | "adamw") => {
            let adamw = kind == "adamw";
            let d = if adamw { AdamWConfig::default().into() } else { AdamConfig::default() };
            let config = AdamConfig {
                lr: meta.number("lr", d.lr),
                betas: meta.pair("betas", d.betas),
                eps: meta.number("eps", d.eps),
                weight_decay: meta.number("weight_decay", d.weight_decay),
                amsgrad: meta.flag("amsgrad"),
                maximize: meta.flag("maximize"),
                decoupled_weight_decay: adamw || meta.flag("decoupled_weight_decay"),
            };
            let opt = if adamw {
                let AdamConfig { lr, betas, eps, weight_decay, amsgrad, maximize, .. } = config;
                Adam::adamw(params, AdamWConfig { lr, betas, eps, weight_decay, amsgrad, maximize })
            } else {
                Adam::new(params, config)
            };
            let repr = opt.to_string();
            (Box::new(opt), repr)
        }
        other => panic!("{}: optimizer {other:?} is not one blocks has", meta.case),
    }
}

/// PyTorch's `optimizer_repr` and ours agree line by line; a value may differ
/// only in Python's int/float spelling of the same number (`0` and `0.0`:
/// PyTorch prints the type the caller passed, which a Rust `f64` does not keep).
pub fn same_repr(ours: &str, theirs: &str) -> bool {
    let (ours, theirs): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    ours.len() == theirs.len()
        && ours.iter().zip(&theirs).all(|(a, b)| {
            a == b
                || match (a.split_once(": "), b.split_once(": ")) {
                    (Some((ka, va)), Some((kb, vb))) => {
                        ka == kb && va.parse::<f64>().ok().is_some_and(|x| vb.parse::<f64>().ok() == Some(x))
                    }
                    _ => false,
                }
        })
}
