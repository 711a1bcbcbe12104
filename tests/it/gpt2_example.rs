//! `examples/gpt2` on the cases `tests/data/generate_gpt2.py` wrote with
//! transformers (`GPT2LMHeadModel(config).save_pretrained()`): logits within
//! 1e-4 and greedy generation equal to `model.generate`, the state dict keys
//! as the file's, weights of another float dtype cast as PyTorch casts, and
//! every bad input a message, not a panic. Sizes come from each case's
//! `config.json`.

#[allow(dead_code)]
#[path = "../../examples/gpt2/main.rs"]
mod gpt2;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use blocks::Tensor64;
use blocks::io::{TensorFile, save_tensors};
use blocks::nn::ModuleExt;

use gpt2::config::Gpt2Config;

use crate::support;

fn case(name: &str) -> PathBuf {
    support::conformance_dir().join("gpt2").join(name)
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-gpt2-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_case(name: &str) -> gpt2::Report {
    let dir = case(name);
    gpt2::run(&dir.join("config.json"), &dir.join("model.safetensors"), &dir.join("io.safetensors"))
        .unwrap_or_else(|e| panic!("case {name}: {e}"))
}

#[test]
fn every_case_matches_transformers() {
    for name in ["tiny", "settings"] {
        let report = run_case(name);
        let diff = report.logits_diff.expect("the case holds logits");
        assert!(diff <= 1e-4, "case {name}: logits differ by {diff}");
        assert_eq!(report.generated_matches, Some(true), "case {name}: generated {:?}", report.generated);
        let io = TensorFile::read(case(name).join("io.safetensors")).unwrap();
        let (prompt, _) = io.integers("prompt").unwrap();
        assert_eq!(report.generated.as_ref().unwrap().len(), prompt.len() + gpt2::NEW_TOKENS, "case {name}");
        assert!(report.passed());
    }
}

#[test]
fn state_dict_keys_are_the_files() {
    for name in ["tiny", "settings"] {
        let dir = case(name);
        let config = Gpt2Config::read(&dir.join("config.json")).unwrap();
        let model = gpt2::load(&config, &dir.join("model.safetensors")).unwrap();
        let ours: Vec<String> = model.state_dict().keys().into_iter().map(String::from).collect();
        let file = TensorFile::read(dir.join("model.safetensors")).unwrap();
        let theirs: BTreeSet<String> = file.names().into_iter().map(String::from).collect();
        assert_eq!(ours.iter().cloned().collect::<BTreeSet<_>>(), theirs, "case {name}");
        // In the model's order, as GPT2LMHeadModel.state_dict() lists them.
        let expected: Vec<String> = config.expected_tensors().unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(ours, expected, "case {name}");
        assert_eq!(ours[2], "transformer.h.0.ln_1.weight");
        assert_eq!(
            file.shape("transformer.h.0.attn.c_attn.weight").unwrap(),
            [config.n_embd, 3 * config.n_embd]
        );
    }
}

#[test]
fn float64_weights_are_cast_to_float32() {
    let dir = case("tiny");
    let file = TensorFile::read(dir.join("model.safetensors")).unwrap();
    let tensors: Vec<(String, Tensor64)> =
        file.names().into_iter().map(|name| (name.to_string(), file.tensor::<f64>(name).unwrap())).collect();
    let named: Vec<(&str, &Tensor64)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let out = scratch("f64");
    save_tensors(out.join("model.safetensors"), &named, &[]).unwrap();
    let report =
        gpt2::run(&dir.join("config.json"), &out.join("model.safetensors"), &dir.join("io.safetensors"))
            .unwrap();
    assert!(report.passed(), "{report:?}");
    assert!(report.logits_diff.unwrap() <= 1e-4);
}

/// Writes `config.json` as `case`'s with `change` applied to its JSON.
fn changed_config(test: &str, change: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case("tiny").join("config.json")).unwrap()).unwrap();
    change(&mut json);
    let path = scratch(test).join("config.json");
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

fn error_of(config: &Path, weights: &Path, io: &Path) -> String {
    match gpt2::run(config, weights, io) {
        Ok(report) => panic!("expected an error, got {report:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_config_the_weights_do_not_fit_is_refused_before_the_model_is_built() {
    let dir = case("tiny");
    let (weights, io) = (dir.join("model.safetensors"), dir.join("io.safetensors"));
    let more_layers = changed_config("layers", |j| j["n_layer"] = 3.into());
    let error = error_of(&more_layers, &weights, &io);
    assert!(error.contains("missing tensor \"transformer.h.2.ln_1.weight\""), "{error}");
    let wider = changed_config("wider", |j| j["n_embd"] = 64.into());
    let error = error_of(&wider, &weights, &io);
    assert!(error.contains("\"transformer.wte.weight\" is [97, 32], the config gives [97, 64]"), "{error}");
    // A vocabulary of 2^31 rows is compared with the file, never allocated.
    let huge = changed_config("huge", |j| j["vocab_size"] = (1u64 << 31).into());
    let error = error_of(&huge, &weights, &io);
    assert!(error.contains("transformer.wte.weight"), "{error}");
}

#[test]
fn bad_configs_name_the_setting() {
    let dir = case("tiny");
    let (weights, io) = (dir.join("model.safetensors"), dir.join("io.safetensors"));
    type Change = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: [(&str, Change, &str); 5] = [
        ("heads", Box::new(|j| j["n_head"] = 5.into()), "n_embd (32) is not divisible by n_head (5)"),
        ("zero", Box::new(|j| j["n_layer"] = 0.into()), "n_layer is 0"),
        ("negative", Box::new(|j| j["n_embd"] = (-4).into()), "n_embd is -4, not a positive integer"),
        ("act", Box::new(|j| j["activation_function"] = "tanh".into()), "activation_function \"tanh\""),
        (
            "missing",
            Box::new(|j| j.as_object_mut().unwrap().remove("n_positions").map(drop).unwrap()),
            "n_positions is missing",
        ),
    ];
    for (test, change, expected) in cases {
        let config = changed_config(test, change);
        let error = error_of(&config, &weights, &io);
        assert!(error.contains(expected), "{test}: {error}");
    }
    let not_json = scratch("not_json").join("config.json");
    std::fs::write(&not_json, "{ n_layer: 2").unwrap();
    assert!(error_of(&not_json, &weights, &io).contains("not a JSON config"));
}

#[test]
fn missing_files_and_bad_ids_are_errors() {
    let dir = case("tiny");
    let (config, weights, io) =
        (dir.join("config.json"), dir.join("model.safetensors"), dir.join("io.safetensors"));
    let nowhere = dir.join("no-such-file");
    assert!(error_of(&nowhere, &weights, &io).contains("no-such-file"));
    assert!(error_of(&config, &nowhere, &io).contains("no-such-file"));
    assert!(error_of(&config, &weights, &nowhere).contains("no-such-file"));
    // Ids outside the vocabulary, and more positions than n_positions.
    let write_ids = |test: &str, ids: Vec<i64>, shape: Vec<usize>| {
        let bytes: Vec<u8> = ids.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::I64, shape, &bytes).unwrap();
        let path = scratch(test).join("io.safetensors");
        safetensors::serialize_to_file([("input_ids", view)], None, &path).unwrap();
        path
    };
    let io = write_ids("vocab", vec![1, 2, 97], vec![1, 3]);
    assert!(error_of(&config, &weights, &io).contains("token id 97 is outside the vocabulary of 97"));
    let io = write_ids("long", vec![0; 41], vec![1, 41]);
    assert!(error_of(&config, &weights, &io).contains("41 positions are more than n_positions (40)"));
    let io = write_ids("flat", vec![1, 2], vec![2]);
    assert!(error_of(&config, &weights, &io).contains("input_ids must be [batch, tokens], not [2]"));
    let io = write_ids("negative", vec![1, -2], vec![1, 2]);
    assert!(error_of(&config, &weights, &io).contains("input_ids"));
}
