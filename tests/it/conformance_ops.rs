//! Op, loss and clipping conformance: every case in `<dir>/ops/` (dir =
//! `BLOCKS_CONFORMANCE_DIR`, by default `tests/data/conformance`), written by
//! `tests/data/generate_ops.py`. Each case names its call (`op`) and options
//! in the metadata; the call is made on the case's inputs, then the backward
//! of `(output * w).sum()` (over all pieces for ops that return several), and
//! the output(s), every float operand's gradient and PyTorch's grad_fn name
//! are compared, 1e-4 + 1e-4 |PyTorch|. A case whose op this file cannot run
//! fails by name; every failure is reported before the test fails.

use std::collections::BTreeMap;
use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::utils::{clip_grad_norm_, clip_grad_value_};
use blocks::{
    BceWithLogitsOptions, CrossEntropyOptions, HuberOptions, Indices, KlDivOptions, KlDivReduction,
    NllLossOptions, Reduction, SmoothL1Options, Tensor,
};

use crate::support;

fn ops_dir() -> PathBuf {
    support::conformance_dir().join("ops")
}

/// One case file: its tensors, metadata and name.
struct Case {
    name: String,
    file: TensorFile,
}

impl Case {
    fn meta(&self, key: &str) -> &str {
        self.file.metadata().get(key).map_or("", String::as_str)
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> T {
        let text = self.meta(key);
        text.parse().unwrap_or_else(|_| panic!("{}: metadata {key} = {text:?} is not a number", self.name))
    }

    /// Float `name`, a leaf that requires grad when the case has its gradient.
    fn float(&self, name: &str) -> Tensor {
        let tensor: Tensor = self.file.tensor(name).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        tensor.requires_grad_(self.file.contains(&format!("grad.{name}")))
    }

    fn optional(&self, name: &str) -> Option<Tensor> {
        self.file.contains(name).then(|| self.float(name))
    }

    fn int64(&self, name: &str) -> (Vec<i64>, Vec<usize>) {
        self.file.integers(name).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    fn indices(&self, name: &str) -> Indices {
        let (values, shape) = self.int64(name);
        Indices::try_from_i64(&values, shape).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    fn reduction(&self) -> Reduction {
        Reduction::from_name(self.meta("reduction")).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    fn dim(&self) -> isize {
        self.number("dim")
    }
}

/// What a call gives: the output pieces and the float operands by name.
type Ran = (Vec<Tensor>, Vec<(&'static str, Tensor)>);

/// Runs the case's call.
fn run(case: &Case) -> Result<Ran, String> {
    let x = || case.float("x");
    let one = |out: Tensor, operands: Vec<(&'static str, Tensor)>| Ok((vec![out], operands));
    match case.meta("op") {
        op @ ("sin" | "cos" | "rsqrt" | "exp" | "log" | "sqrt" | "tanh") => {
            let x = x();
            let out = match op {
                "sin" => x.sin(),
                "cos" => x.cos(),
                "rsqrt" => x.rsqrt(),
                "exp" => x.exp(),
                "log" => x.log(),
                "sqrt" => x.sqrt(),
                _ => x.tanh(),
            };
            one(out, vec![("x", x)])
        }
        "pow" => {
            let (x, y) = (x(), case.float("y"));
            one(x.pow(&y), vec![("x", x), ("y", y)])
        }
        "gather" => {
            let x = x();
            one(x.gather(case.dim(), &case.indices("index")), vec![("x", x)])
        }
        "one_hot" => {
            let classes: i64 = case.number("num_classes");
            let classes = usize::try_from(classes).ok();
            one(case.indices("index").one_hot(classes), vec![])
        }
        "repeat_interleave" => {
            let x = x();
            let dim = (case.meta("dim") != "None").then(|| case.dim());
            one(x.repeat_interleave(case.number("repeats"), dim), vec![("x", x)])
        }
        "repeat_interleave_counts" => {
            let x = x();
            let counts = case.indices("counts").to_vec();
            one(x.repeat_interleave_counts(&counts, Some(case.dim())), vec![("x", x)])
        }
        "tril" => {
            let x = x();
            one(x.tril(case.number("diagonal")), vec![("x", x)])
        }
        "triu" => {
            let x = x();
            one(x.triu(case.number("diagonal")), vec![("x", x)])
        }
        "cumsum" => {
            let x = x();
            one(x.cumsum(case.dim()), vec![("x", x)])
        }
        "where" => {
            let (x, y) = (x(), case.float("y"));
            one(Tensor::where_(&case.float("mask"), &x, &y), vec![("x", x), ("y", y)])
        }
        "where_gt" => {
            let (x, y) = (x(), case.float("y"));
            let mask = x.gt(case.number::<f32>("threshold"));
            one(Tensor::where_(&mask, &x, &y), vec![("x", x), ("y", y)])
        }
        "masked_fill" => {
            let x = x();
            one(x.masked_fill(&case.float("mask"), case.number("value")), vec![("x", x)])
        }
        "bmm" => {
            let (x, y) = (x(), case.float("y"));
            one(x.bmm(&y), vec![("x", x), ("y", y)])
        }
        "matmul" => {
            let (x, y) = (x(), case.float("y"));
            one(x.matmul(&y), vec![("x", x), ("y", y)])
        }
        "chunk" => {
            let x = x();
            Ok((x.chunk(case.number("chunks"), case.dim()), vec![("x", x)]))
        }
        "split" => {
            let x = x();
            Ok((x.split(case.number("split_size"), case.dim()), vec![("x", x)]))
        }
        "split_with_sizes" => {
            let x = x();
            let sizes: Vec<usize> = serde_sizes(case.meta("sizes"));
            Ok((x.split_with_sizes(&sizes, case.dim()), vec![("x", x)]))
        }
        "cross_entropy" => {
            let x = x();
            let options = CrossEntropyOptions {
                weight: case.optional("weight"),
                ignore_index: case.number("ignore_index"),
                reduction: case.reduction(),
                label_smoothing: case.number("label_smoothing"),
            };
            one(x.cross_entropy_with(&case.int64("target").0, &options), vec![("x", x)])
        }
        "cross_entropy_plain" => {
            let x = x();
            let targets: Vec<usize> = case.indices("target").to_vec();
            one(x.cross_entropy(&targets), vec![("x", x)])
        }
        "nll_loss" => {
            let x = x();
            let options = NllLossOptions {
                weight: case.optional("weight"),
                ignore_index: case.number("ignore_index"),
                reduction: case.reduction(),
            };
            one(x.nll_loss_with(&case.int64("target").0, &options), vec![("x", x)])
        }
        "mse_loss" | "l1_loss" | "smooth_l1_loss" | "huber_loss" => {
            let (x, y) = (x(), case.float("y"));
            let reduction = case.reduction();
            let out = match case.meta("op") {
                "mse_loss" => x.mse_loss_with(&y, reduction),
                "l1_loss" => x.l1_loss(&y, reduction),
                "smooth_l1_loss" => {
                    x.smooth_l1_loss(&y, SmoothL1Options { reduction, beta: case.number("beta") })
                }
                _ => x.huber_loss(&y, HuberOptions { reduction, delta: case.number("delta") }),
            };
            one(out, vec![("x", x), ("y", y)])
        }
        "bce_with_logits" => {
            let (x, y) = (x(), case.float("y"));
            let options = BceWithLogitsOptions {
                weight: case.optional("weight"),
                pos_weight: case.optional("pos_weight"),
                reduction: case.reduction(),
            };
            one(x.binary_cross_entropy_with_logits(&y, &options), vec![("x", x), ("y", y)])
        }
        "kl_div" => {
            let (x, y) = (x(), case.float("y"));
            let reduction = match case.meta("reduction") {
                "none" => KlDivReduction::None,
                "mean" => KlDivReduction::Mean,
                "batchmean" => KlDivReduction::BatchMean,
                "sum" => KlDivReduction::Sum,
                other => return Err(format!("{}: unknown kl_div reduction {other}", case.name)),
            };
            let options = KlDivOptions { reduction, log_target: case.meta("log_target") == "true" };
            one(x.kl_div(&y, options), vec![("x", x), ("y", y)])
        }
        other => Err(format!("{}: this test cannot run op {other:?}", case.name)),
    }
}

/// `[1, 4, 1]` from the metadata.
fn serde_sizes(text: &str) -> Vec<usize> {
    text.trim_matches(['[', ']']).split(',').map(|v| v.trim().parse().expect("a size")).collect()
}

/// The case's PyTorch tensor `name`.
fn reference(case: &Case, name: &str) -> Result<Tensor, String> {
    case.file.tensor(name).map_err(|e| format!("{}: {e}", case.name))
}

/// |ours - PyTorch| <= 1e-4 + 1e-4 |PyTorch| per element (NaN matching NaN).
fn check(case: &Case, what: &str, ours: &Tensor, theirs: &Tensor) -> Result<(), String> {
    support::check_close(&format!("{}: {what}", case.name), ours, theirs, 1e-4, 1e-4)
}

/// An op or loss case: outputs, gradients of the weighted sum, grad_fn.
fn check_op(case: &Case) -> Result<(), String> {
    let (outputs, operands) = run(case)?;
    let several = !case.meta("pieces").is_empty();
    if several {
        let expected: usize = case.number("pieces");
        if outputs.len() != expected {
            return Err(format!("{}: {} pieces, PyTorch has {expected}", case.name, outputs.len()));
        }
    }
    let key = |base: &str, i: usize| if several { format!("{base}.{i}") } else { base.to_string() };
    let mut total: Option<Tensor> = None;
    for (i, out) in outputs.iter().enumerate() {
        check(case, &key("output", i), out, &reference(case, &key("output", i))?)?;
        if case.file.contains(&key("w", i)) {
            let term = (out * &reference(case, &key("w", i))?).sum();
            total = Some(match total {
                Some(sum) => &sum + &term,
                None => term,
            });
        }
    }
    let expected_name = case.meta("grad_fn");
    let name = outputs[0].grad_fn().unwrap_or("");
    if name != expected_name {
        return Err(format!("{}: grad_fn {name:?}, PyTorch has {expected_name:?}", case.name));
    }
    if let Some(total) = total {
        total.backward();
    }
    for (operand, tensor) in &operands {
        let grad = tensor.grad().ok_or_else(|| format!("{}: no gradient for {operand}", case.name))?;
        check(case, &format!("grad.{operand}"), &grad, &reference(case, &format!("grad.{operand}"))?)?;
    }
    Ok(())
}

/// A clipping case: the same gradients clipped, the total norm and the results compared.
fn check_clipping(case: &Case) -> Result<(), String> {
    let params: Vec<Tensor> = (0..2)
        .map(|i| {
            let grad = reference(case, &format!("grad.{i}"))?;
            let p = Tensor::zeros(grad.shape()).requires_grad_(true);
            p.with_grad_mut(|g| *g = Some(grad.to_array()));
            Ok(p)
        })
        .collect::<Result<_, String>>()?;
    if case.meta("op") == "clip_grad_norm" {
        let total = clip_grad_norm_(&params, case.number("max_norm"), case.number("norm_type"));
        check(case, "total_norm", &total, &reference(case, "total_norm")?)?;
    } else {
        clip_grad_value_(&params, case.number("clip_value"));
    }
    for (i, p) in params.iter().enumerate() {
        let grad = p.grad().ok_or_else(|| format!("{}: the gradient is gone", case.name))?;
        check(case, &format!("clipped.{i}"), &grad, &reference(case, &format!("clipped.{i}"))?)?;
    }
    Ok(())
}

fn cases() -> BTreeMap<String, Case> {
    let dir = ops_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "safetensors"))
        .map(|path| {
            let name = path.file_stem().expect("a file name").to_string_lossy().into_owned();
            let file = TensorFile::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name.clone(), Case { name, file })
        })
        .collect()
}

#[test]
fn every_op_loss_and_clipping_case_matches_pytorch() {
    let cases = cases();
    assert!(
        cases.len() >= 100,
        "expected the generator's cases in {}, found {}",
        ops_dir().display(),
        cases.len()
    );
    let failures: Vec<String> = cases
        .values()
        .filter_map(|case| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match case.meta("op") {
                "clip_grad_norm" | "clip_grad_value" => check_clipping(case),
                _ => check_op(case),
            }));
            match result {
                Ok(Ok(())) => None,
                Ok(Err(message)) => Some(message),
                Err(panic) => Some(format!("{}: panicked: {}", case.name, support::panic_message(panic))),
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_family_has_cases() {
    let cases = cases();
    let ops: std::collections::BTreeSet<&str> = cases.values().map(|c| c.meta("op")).collect();
    for op in [
        "sin",
        "cos",
        "rsqrt",
        "pow",
        "gather",
        "one_hot",
        "repeat_interleave",
        "repeat_interleave_counts",
        "tril",
        "triu",
        "cumsum",
        "where",
        "masked_fill",
        "bmm",
        "matmul",
        "chunk",
        "split",
        "split_with_sizes",
        "cross_entropy",
        "nll_loss",
        "mse_loss",
        "l1_loss",
        "smooth_l1_loss",
        "huber_loss",
        "bce_with_logits",
        "kl_div",
        "clip_grad_norm",
        "clip_grad_value",
    ] {
        assert!(ops.contains(op), "no case for {op}");
    }
}

#[test]
fn shape_errors_name_the_op_and_both_shapes() {
    let (message, site) = support::panic_site(|| Tensor::zeros([2, 3, 4]).bmm(&Tensor::zeros([2, 5, 4])));
    assert_eq!(
        message,
        "bmm: Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5]."
    );
    assert!(site.contains("conformance_ops.rs"), "the panic points at {site}");
    let (message, site) = support::panic_site(|| Tensor::zeros([2, 3]).pow(&Tensor::zeros([4])));
    assert_eq!(message, "pow: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)");
    assert!(site.contains("conformance_ops.rs"), "the panic points at {site}");
    let (message, _) =
        support::panic_site(|| Tensor::zeros([2, 3]).l1_loss(&Tensor::zeros([3, 2]), Reduction::Sum));
    assert_eq!(message, "l1_loss: input [2, 3] and target [3, 2] must have the same shape");
    let (message, _) = support::panic_site(|| {
        Tensor::zeros([2, 3]).cross_entropy_with(&[0, 5], &CrossEntropyOptions::default())
    });
    assert_eq!(
        message,
        "cross_entropy: target 5 at position 1 is out of bounds for 3 classes (input [2, 3])"
    );
    let (message, _) =
        support::panic_site(|| Tensor::zeros([2, 3]).gather(0, &Indices::from_vec(vec![0; 3], [3])));
    assert!(message.starts_with("gather: Index tensor must have the same number of dimensions"), "{message}");
}
