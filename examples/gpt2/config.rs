//! The settings of a Hugging Face GPT-2 `config.json` that shape the model,
//! read and checked before anything is sized by them.

use std::path::Path;

use serde_json::Value;

/// The most elements one weight may have (2^32, 16 GiB of float32): a config
/// asking for more is refused before the file is compared with it.
const MAX_ELEMENTS: usize = 1 << 32;

/// The activation between the MLP's two projections (`activation_function`),
/// as transformers' `ACT2FN` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`: GELU's tanh approximation.
    GeluTanh,
    /// `gelu`: the exact GELU (erf).
    Gelu,
    /// `relu`.
    Relu,
    /// `silu` / `swish`.
    Silu,
    /// `quick_gelu`: `x * sigmoid(1.702 x)`.
    QuickGelu,
}

impl Activation {
    fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "gelu" => Activation::Gelu,
            "relu" => Activation::Relu,
            "silu" | "swish" => Activation::Silu,
            "quick_gelu" => Activation::QuickGelu,
            other => {
                return Err(format!(
                    "activation_function {other:?} is not one of gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu, \
                     silu, swish, quick_gelu"
                ));
            }
        })
    }
}

/// What a GPT-2 `config.json` says about the network (the rest of the file,
/// dropout rates and tokenizer ids among it, does not change an eval-mode
/// forward).
#[derive(Clone, Debug, PartialEq)]
pub struct Gpt2Config {
    /// `vocab_size`.
    pub vocab_size: usize,
    /// `n_positions`: the longest sequence, prompt and generated tokens together.
    pub n_positions: usize,
    /// `n_embd`: the width of the residual stream.
    pub n_embd: usize,
    /// `n_layer`: the number of blocks.
    pub n_layer: usize,
    /// `n_head`: attention heads, dividing `n_embd`.
    pub n_head: usize,
    /// `n_inner`: the MLP's hidden width (`4 * n_embd` when null).
    pub n_inner: usize,
    /// `activation_function`.
    pub activation: Activation,
    /// `layer_norm_epsilon`.
    pub layer_norm_epsilon: f64,
    /// `scale_attn_weights`: scores divided by `sqrt(head_dim)`.
    pub scale_attn_weights: bool,
    /// `scale_attn_by_inverse_layer_idx`: scores of block `i` also divided by `i + 1`.
    pub scale_attn_by_inverse_layer_idx: bool,
    /// `tie_word_embeddings`: the LM head is `wte` (no `lm_head.weight` of its own).
    pub tie_word_embeddings: bool,
    /// `eos_token_id`, when it is a token of the vocabulary: greedy generation stops after it, as `generate` does.
    pub eos_token_id: Option<usize>,
}

impl Gpt2Config {
    /// Reads and checks `path`.
    ///
    /// # Errors
    ///
    /// A message naming the file and the setting: unreadable or not JSON, a
    /// size missing, zero or too large, `n_embd` not divisible by `n_head`,
    /// an unknown activation, `reorder_and_upcast_attn` or
    /// `add_cross_attention` set (not part of GPT-2 as published).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads and checks a config from its JSON text (see [`read`](Self::read)).
    pub fn parse(text: &str) -> Result<Self, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON config: {e}"))?;
        let size = |key: &str| -> Result<usize, String> {
            let value = json.get(key).ok_or_else(|| format!("{key} is missing"))?;
            let n = value.as_u64().ok_or_else(|| format!("{key} is {value}, not a positive integer"))?;
            let n = usize::try_from(n).map_err(|_| format!("{key} is {n}, too large"))?;
            match n {
                0 => Err(format!("{key} is 0")),
                n if n > MAX_ELEMENTS => Err(format!("{key} is {n}, more than {MAX_ELEMENTS}")),
                n => Ok(n),
            }
        };
        let flag = |key: &str, default: bool| -> Result<bool, String> {
            match json.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => Err(format!("{key} is {other}, not true or false")),
            }
        };
        let n_embd = size("n_embd")?;
        let n_head = size("n_head")?;
        if n_embd % n_head != 0 {
            return Err(format!("n_embd ({n_embd}) is not divisible by n_head ({n_head})"));
        }
        let n_inner = match json.get("n_inner") {
            None | Some(Value::Null) => n_embd.checked_mul(4).ok_or("4 * n_embd overflows")?,
            Some(_) => size("n_inner")?,
        };
        let activation = match json.get("activation_function") {
            None => Activation::GeluTanh,
            Some(Value::String(name)) => Activation::parse(name)?,
            Some(other) => return Err(format!("activation_function is {other}, not a name")),
        };
        let layer_norm_epsilon = match json.get("layer_norm_epsilon") {
            None => 1e-5,
            Some(value) => value
                .as_f64()
                .filter(|eps| eps.is_finite() && *eps >= 0.0)
                .ok_or_else(|| format!("layer_norm_epsilon is {value}, not a number >= 0"))?,
        };
        for (key, what) in
            [("reorder_and_upcast_attn", "upcast attention"), ("add_cross_attention", "cross-attention")]
        {
            if flag(key, false)? {
                return Err(format!(
                    "{key} is true: {what} is not part of GPT2LMHeadModel's forward that this example runs"
                ));
            }
        }
        let vocab_size = size("vocab_size")?;
        let eos_token_id = json
            .get("eos_token_id")
            .and_then(Value::as_u64)
            .and_then(|id| usize::try_from(id).ok())
            .filter(|&id| id < vocab_size);
        Ok(Gpt2Config {
            vocab_size,
            n_positions: size("n_positions")?,
            n_embd,
            n_layer: size("n_layer")?,
            n_head,
            n_inner,
            activation,
            layer_norm_epsilon,
            scale_attn_weights: flag("scale_attn_weights", true)?,
            scale_attn_by_inverse_layer_idx: flag("scale_attn_by_inverse_layer_idx", false)?,
            tie_word_embeddings: flag("tie_word_embeddings", true)?,
            eos_token_id,
        })
    }

    /// Every tensor `GPT2LMHeadModel(config).save_pretrained()` stores, with
    /// its shape, in the model's order (`transformer.h.0.attn.c_attn.weight`
    /// is `[n_embd, 3 * n_embd]`: HF's `Conv1D` keeps `[in, out]`).
    ///
    /// # Errors
    ///
    /// When a shape's element count overflows or passes the limit.
    pub fn expected_tensors(&self) -> Result<Vec<(String, Vec<usize>)>, String> {
        let (d, inner) = (self.n_embd, self.n_inner);
        let three = d.checked_mul(3).ok_or("3 * n_embd overflows")?;
        let mut out = vec![
            ("transformer.wte.weight".to_string(), vec![self.vocab_size, d]),
            ("transformer.wpe.weight".to_string(), vec![self.n_positions, d]),
        ];
        for i in 0..self.n_layer {
            let p = |name: &str| format!("transformer.h.{i}.{name}");
            out.extend([
                (p("ln_1.weight"), vec![d]),
                (p("ln_1.bias"), vec![d]),
                (p("attn.c_attn.weight"), vec![d, three]),
                (p("attn.c_attn.bias"), vec![three]),
                (p("attn.c_proj.weight"), vec![d, d]),
                (p("attn.c_proj.bias"), vec![d]),
                (p("ln_2.weight"), vec![d]),
                (p("ln_2.bias"), vec![d]),
                (p("mlp.c_fc.weight"), vec![d, inner]),
                (p("mlp.c_fc.bias"), vec![inner]),
                (p("mlp.c_proj.weight"), vec![inner, d]),
                (p("mlp.c_proj.bias"), vec![d]),
            ]);
        }
        out.push(("transformer.ln_f.weight".to_string(), vec![d]));
        out.push(("transformer.ln_f.bias".to_string(), vec![d]));
        if !self.tie_word_embeddings {
            out.push(("lm_head.weight".to_string(), vec![self.vocab_size, d]));
        }
        for (key, shape) in &out {
            let elements = shape.iter().try_fold(1usize, |n, &s| n.checked_mul(s));
            if elements.is_none_or(|n| n > MAX_ELEMENTS) {
                return Err(format!("{key} would be {shape:?}, more than {MAX_ELEMENTS} elements"));
            }
        }
        Ok(out)
    }
}
