//! Every layer case in the conformance folder that a chain of plain tensor
//! ops can express, rebuilt from its `arch` with the functional ops (no
//! layer structs) and PyTorch's weights: outputs, input and parameter
//! gradients of `output.sum()`, BatchNorm's buffers after the forward, and
//! the digits CNN's eval-mode logits from its trained parameters. This pins
//! the ops to PyTorch's semantics before any layer is built on them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support;
use blocks_core::io::TensorFile;
use blocks_core::{Conv2dOptions, GeluApproximate, Indices, Tensor};

fn layers_dir() -> PathBuf {
    support::conformance_dir().join("layers")
}

fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-4, 1e-4);
}

/// A case's parameters (leaves that require grad) and buffers, by PyTorch's key.
struct Params {
    tensors: BTreeMap<String, Tensor>,
    batches: BTreeMap<String, i64>,
}

impl Params {
    fn read(file: &TensorFile, prefix: &str) -> Self {
        let mut tensors = BTreeMap::new();
        let mut batches = BTreeMap::new();
        for name in file.names() {
            let Some(key) = name.strip_prefix(prefix) else { continue };
            if key.ends_with("num_batches_tracked") {
                batches.insert(key.to_string(), file.integers(name).unwrap().0[0]);
            } else {
                let buffer = key.contains("running_");
                tensors.insert(key.to_string(), file.tensor::<f32>(name).unwrap().requires_grad_(!buffer));
            }
        }
        Params { tensors, batches }
    }

    fn get(&self, key: &str) -> &Tensor {
        self.tensors.get(key).unwrap_or_else(|| panic!("no tensor {key}"))
    }

    fn opt(&self, key: &str) -> Option<&Tensor> {
        self.tensors.get(key)
    }

    fn linear(&self, x: &Tensor, layer: &str) -> Tensor {
        x.linear(self.get(&format!("{layer}.weight")), self.opt(&format!("{layer}.bias")))
    }

    fn conv(&self, x: &Tensor, layer: &str, options: Conv2dOptions) -> Tensor {
        x.conv2d(self.get(&format!("{layer}.weight")), self.opt(&format!("{layer}.bias")), options)
    }

    /// BatchNorm as the layer runs it (momentum 0.1, eps 1e-5), updating the buffers in training.
    fn batch_norm(&mut self, x: &Tensor, layer: &str, training: bool) -> Tensor {
        let key = |k: &str| format!("{layer}.{k}");
        let (w, b) = (self.opt(&key("weight")).cloned(), self.opt(&key("bias")).cloned());
        let (w, b) = (w.as_ref(), b.as_ref());
        let (mean, var) = (self.get(&key("running_mean")).clone(), self.get(&key("running_var")).clone());
        if !training {
            return x.batch_norm_eval(&mean, &var, w, b, 1e-5);
        }
        let (y, stats) = x.batch_norm_train(w, b, 1e-5);
        let tracked = self.batches.get_mut(&key("num_batches_tracked")).expect("num_batches_tracked");
        *tracked += 1;
        stats.update_running(&mean, &var, Some(0.1), *tracked as u64);
        y
    }
}

fn conv_options(stride: usize, padding: usize, dilation: usize, groups: usize) -> Conv2dOptions {
    Conv2dOptions { stride: [stride; 2], padding: [padding; 2], dilation: [dilation; 2], groups }
}

/// The forward of architecture `arch` on `input`.
fn forward(
    arch: &str,
    p: &mut Params,
    input: &Tensor,
    meta: &BTreeMap<String, String>,
    training: bool,
) -> Tensor {
    match arch {
        "activations" => {
            let mut x = p.linear(input, "0").sigmoid();
            x = p.linear(&x, "2").tanh();
            x = p.linear(&x, "4").gelu(GeluApproximate::None);
            x = p.linear(&x, "6").gelu(GeluApproximate::Tanh);
            x = p.linear(&x, "8").leaky_relu(0.1);
            x = p.linear(&x, "10").silu();
            x = p.linear(&x, "12").elu(1.0);
            x = p.linear(&x, "14").softplus(1.0, 20.0);
            x = p.linear(&x, "16");
            p.linear(&x, "18").log_softmax(1)
        }
        "bn_mlp" => {
            let x = p.linear(input, "0");
            let x = p.batch_norm(&x, "1", training).relu();
            p.linear(&x, "3")
        }
        "dropout_mlp" => {
            let x = p.linear(input, "0").relu().dropout(0.5, training);
            p.linear(&x, "3")
        }
        "lenet" => {
            let x = p.conv(input, "0", conv_options(1, 2, 1, 1)).sigmoid().avg_pool2d(
                [2, 2],
                [2, 2],
                [0, 0],
                false,
                true,
            );
            let x = p.conv(&x, "3", conv_options(1, 0, 1, 1)).sigmoid().avg_pool2d(
                [2, 2],
                [2, 2],
                [0, 0],
                false,
                true,
            );
            let x = p.linear(&x.flatten(1, -1), "7").sigmoid();
            let x = p.linear(&x, "9").sigmoid();
            p.linear(&x, "11")
        }
        "nin_pools" => {
            let x = p.conv(input, "0", conv_options(2, 1, 1, 1)).relu();
            let x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
            let x = p.conv(&x, "3", conv_options(1, 2, 2, 2)).relu();
            let x = p.conv(&x, "5", conv_options(1, 0, 1, 1)).relu();
            x.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
        }
        "residual" => {
            let strides: usize = meta["strides"].parse().unwrap();
            let y = p.conv(input, "conv1", conv_options(strides, 1, 1, 1));
            let y = p.batch_norm(&y, "bn1", training).relu();
            let y = p.conv(&y, "conv2", conv_options(1, 1, 1, 1));
            let y = p.batch_norm(&y, "bn2", training);
            let skip = if meta["use_1x1conv"] == "true" {
                p.conv(input, "conv3", conv_options(strides, 0, 1, 1))
            } else {
                input.clone()
            };
            (&y + &skip).relu()
        }
        "digits_cnn" => {
            let x = p.conv(input, "0", conv_options(1, 1, 1, 1));
            let x = p.batch_norm(&x, "1", training).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            let x = p.conv(&x, "4", conv_options(1, 1, 1, 1));
            let x = p.batch_norm(&x, "5", training).relu().adaptive_avg_pool2d([1, 1]).flatten(1, -1);
            p.linear(&x, "9")
        }
        "conv_gn" => {
            let x = p.conv(input, "0", conv_options(1, 0, 1, 1));
            let groups: usize = meta["num_groups"].parse().unwrap();
            let eps: f32 = meta["eps"].parse().unwrap();
            let x = x.group_norm(groups, p.opt("1.weight"), p.opt("1.bias"), eps);
            assert_eq!(x.grad_fn(), Some("NativeGroupNormBackward0"));
            x.relu()
        }
        "conv_dropout2d" => {
            let padding = p.get("0.weight").shape()[2] / 2;
            let x = p.conv(input, "0", conv_options(1, padding, 1, 1)).relu();
            let x = x.dropout2d(meta["p"].parse().unwrap(), training);
            p.conv(&x, "3", conv_options(1, 0, 1, 1))
        }
        "ln_mlp" => {
            let x = p.linear(input, "0");
            let eps: f32 = meta["eps"].parse().unwrap();
            let x = x.layer_norm(&[x.shape()[1]], p.opt("1.weight"), p.opt("1.bias"), eps).relu();
            p.linear(&x, "3")
        }
        "inception" => {
            let same = |padding| conv_options(1, padding, 1, 1);
            let p1 = p.conv(input, "p1_1", same(0)).relu();
            let p2 = p.conv(&p.conv(input, "p2_1", same(0)).relu(), "p2_2", same(1)).relu();
            let p3 = p.conv(&p.conv(input, "p3_1", same(0)).relu(), "p3_2", same(2)).relu();
            let pooled = input.max_pool2d([3, 3], [1, 1], [1, 1], [1, 1], false);
            let p4 = p.conv(&pooled, "p4_2", same(0)).relu();
            Tensor::cat(&[&p1, &p2, &p3, &p4], 1)
        }
        "dense_block" => {
            let num_convs: usize = meta["num_convs"].parse().unwrap();
            let mut x = input.clone();
            for i in 0..num_convs {
                let y = p.batch_norm(&x, &format!("net.{i}.0"), training).relu();
                let y = p.conv(&y, &format!("net.{i}.2"), conv_options(1, 1, 1, 1));
                x = Tensor::cat(&[&x, &y], 1);
            }
            x
        }
        other => panic!("no plain-ops build for arch {other}"),
    }
}

#[test]
fn plain_ops_reproduce_pytorchs_layer_cases() {
    let dir = layers_dir();
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("conformance layers folder") {
        let path = entry.expect("entry").path();
        let Some(name) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".io.safetensors"))
        else {
            continue;
        };
        let io = TensorFile::read(&path).expect("case file");
        let meta = io.metadata().clone();
        let arch = meta["arch"].as_str();
        let weights = TensorFile::read(dir.join(format!("{name}.weights.safetensors"))).expect("weights");
        if arch == "digits_cnn" {
            // Eval-mode logits of the trained net, from its final parameters and buffers.
            let mut p = Params::read(&io, "final.");
            let input = io.tensor::<f32>("input").unwrap();
            let output = forward(arch, &mut p, &input, &meta, false);
            assert_close(&format!("{name}: eval_output"), &output, &io.tensor("eval_output").unwrap());
            checked.push(name.to_string());
            continue;
        }
        let mut p = Params::read(&weights, "");
        let training = meta["mode"] == "train";
        let input = if meta.get("input_dtype").map(String::as_str) == Some("int64") {
            let (values, shape) = io.integers("input").unwrap();
            let indices = Indices::try_from_i64(&values, shape).unwrap();
            if arch == "embed_pad" {
                // PyTorch's padding_idx, made non-negative as nn.Embedding does.
                let (padding, rows): (i64, i64) =
                    (meta["padding_idx"].parse().unwrap(), p.get("0.weight").shape()[0] as i64);
                let padding = usize::try_from(if padding < 0 { padding + rows } else { padding }).unwrap();
                Tensor::embedding_padded(&indices, p.get("0.weight"), Some(padding))
            } else {
                let x = Tensor::embedding(&indices, p.get("0.weight"));
                assert_eq!(x.grad_fn(), Some("EmbeddingBackward0"));
                let x = x.layer_norm(&[x.shape()[2]], Some(p.get("1.weight")), Some(p.get("1.bias")), 1e-5);
                assert_eq!(x.grad_fn(), Some("NativeLayerNormBackward0"));
                x
            }
        } else {
            io.tensor::<f32>("input").unwrap().requires_grad_(true)
        };
        let output = match arch {
            "embed_ln" => p.linear(&input, "2"),
            "embed_pad" => p.linear(&input, "1"),
            _ => forward(arch, &mut p, &input, &meta, training),
        };
        assert_close(&format!("{name}: output"), &output, &io.tensor("output").unwrap());
        output.sum().backward();
        if io.contains("input_grad") {
            assert_close(
                &format!("{name}: input_grad"),
                &input.grad().unwrap(),
                &io.tensor("input_grad").unwrap(),
            );
        }
        for key in io.names().into_iter().filter_map(|n| n.strip_prefix("grad.")) {
            let ours = p.get(key).grad().unwrap_or_else(|| panic!("{name}: no gradient for {key}"));
            assert_close(&format!("{name}: grad.{key}"), &ours, &io.tensor(&format!("grad.{key}")).unwrap());
        }
        for key in io.names().into_iter().filter_map(|n| n.strip_prefix("after.")) {
            if key.ends_with("num_batches_tracked") {
                assert_eq!(
                    p.batches[key],
                    io.integers(&format!("after.{key}")).unwrap().0[0],
                    "{name}: {key}"
                );
            } else {
                assert_close(
                    &format!("{name}: after.{key}"),
                    p.get(key),
                    &io.tensor(&format!("after.{key}")).unwrap(),
                );
            }
        }
        checked.push(name.to_string());
    }
    assert!(checked.len() >= 10, "checked only {checked:?} in {}", dir.display());
}
