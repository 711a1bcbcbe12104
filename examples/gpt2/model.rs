//! GPT-2 as Hugging Face's `GPT2LMHeadModel` builds it, declared with
//! `#[derive(Module)]` so that its state_dict keys are the ones
//! `save_pretrained` writes (`transformer.h.0.attn.c_attn.weight`), with a
//! key/value cache for generation.

use blocks::nn::{DynEmbedding, DynLinear, Forward, LayerNorm, Parameter};
use blocks::{GeluApproximate, Indices, Module, Tensor};

use super::config::{Activation, Gpt2Config};

/// Hugging Face's `Conv1D`: a linear layer whose weight is stored
/// `[in, out]` (`y = x @ weight + bias`), as GPT-2's checkpoints keep it.
#[derive(Module)]
pub struct Conv1D {
    weight: Parameter,
    bias: Parameter,
}

impl Conv1D {
    /// A layer from `nx` to `nf` features, zeros until loaded.
    pub fn new(nx: usize, nf: usize) -> Self {
        Conv1D { weight: Parameter::new(Tensor::zeros([nx, nf])), bias: Parameter::new(Tensor::zeros([nf])) }
    }
}

impl Forward<Tensor> for Conv1D {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let (nx, nf) = (self.weight.shape()[0], self.weight.shape()[1]);
        let mut shape: Vec<isize> = x.shape().iter().map(|&s| s as isize).collect();
        *shape.last_mut().expect("at least one dimension") = nf as isize;
        let rows = x.reshape(&[-1, nx as isize]);
        (&rows.matmul(&self.weight) + self.bias.tensor()).reshape(&shape)
    }
}

/// The keys and values one block has seen, `[B, heads, S, head_dim]` each.
#[derive(Clone)]
pub struct LayerCache {
    key: Tensor,
    value: Tensor,
}

impl LayerCache {
    /// How many positions it holds.
    pub fn positions(&self) -> usize {
        self.key.shape()[2]
    }
}

/// Causal multi-head self-attention with GPT-2's packed `c_attn`.
#[derive(Module)]
pub struct Attention {
    c_attn: Conv1D,
    c_proj: Conv1D,
    #[module(skip)]
    n_head: usize,
    /// What the scores are multiplied by: `1 / sqrt(head_dim)` (when
    /// `scale_attn_weights`), divided again by `layer + 1` when
    /// `scale_attn_by_inverse_layer_idx`.
    #[module(skip)]
    scale: f32,
}

impl Attention {
    fn new(config: &Gpt2Config, layer: usize) -> Self {
        let head_dim = config.n_embd / config.n_head;
        let mut scale = if config.scale_attn_weights { 1.0 / (head_dim as f32).sqrt() } else { 1.0 };
        if config.scale_attn_by_inverse_layer_idx {
            scale /= (layer + 1) as f32;
        }
        Attention {
            c_attn: Conv1D::new(config.n_embd, 3 * config.n_embd),
            c_proj: Conv1D::new(config.n_embd, config.n_embd),
            n_head: config.n_head,
            scale,
        }
    }

    /// `x` (`[B, T, C]`) attending to `past` and itself, each position to
    /// those before it; with the cache grown by `x`'s keys and values.
    pub fn attend(&self, x: &Tensor, past: Option<&LayerCache>) -> (Tensor, LayerCache) {
        let (b, t, c) = (x.shape()[0], x.shape()[1], x.shape()[2]);
        let (heads, head_dim) = (self.n_head, c / self.n_head);
        let qkv = self.c_attn.forward(x);
        let split = |i: usize| {
            qkv.narrow(2, (i * c) as isize, c)
                .reshape(&[b as isize, t as isize, heads as isize, head_dim as isize])
                .permute(&[0, 2, 1, 3])
        };
        let (q, mut k, mut v) = (split(0), split(1), split(2));
        if let Some(past) = past {
            k = Tensor::cat(&[&past.key, &k], 2);
            v = Tensor::cat(&[&past.value, &v], 2);
        }
        let s = k.shape()[2];
        let seen = s - t;
        // Query i (position seen + i) sees keys 0..=seen + i.
        let hidden: Vec<f32> =
            (0..t).flat_map(|i| (0..s).map(move |j| if j > seen + i { 1.0 } else { 0.0 })).collect();
        let scores = q.matmul(&k.transpose(-2, -1)).mul_scalar(self.scale);
        let weights = scores.masked_fill(&Tensor::from_vec(hidden, [t, s]), f32::MIN).softmax(-1);
        let y = weights.matmul(&v).permute(&[0, 2, 1, 3]).reshape(&[b as isize, t as isize, c as isize]);
        (self.c_proj.forward(&y), LayerCache { key: k, value: v })
    }
}

impl Forward<Tensor> for Attention {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        self.attend(x, None).0
    }
}

/// The feed-forward half of a block: `c_fc`, the activation, `c_proj`.
#[derive(Module)]
pub struct Mlp {
    c_fc: Conv1D,
    c_proj: Conv1D,
    #[module(skip)]
    activation: Activation,
}

impl Forward<Tensor> for Mlp {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.c_fc.forward(x);
        let h = match self.activation {
            Activation::GeluTanh => h.gelu(GeluApproximate::Tanh),
            Activation::Gelu => h.gelu(GeluApproximate::None),
            Activation::Relu => h.relu(),
            Activation::Silu => h.silu(),
            Activation::QuickGelu => &h * &h.mul_scalar(1.702).sigmoid(),
        };
        self.c_proj.forward(&h)
    }
}

/// One transformer block, pre-norm: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
#[derive(Module)]
pub struct Block {
    ln_1: LayerNorm,
    attn: Attention,
    ln_2: LayerNorm,
    mlp: Mlp,
}

impl Block {
    fn new(config: &Gpt2Config, layer: usize) -> Self {
        let norm = || LayerNorm::with_options([config.n_embd], config.layer_norm_epsilon, true, true);
        Block {
            ln_1: norm(),
            attn: Attention::new(config, layer),
            ln_2: norm(),
            mlp: Mlp {
                c_fc: Conv1D::new(config.n_embd, config.n_inner),
                c_proj: Conv1D::new(config.n_inner, config.n_embd),
                activation: config.activation,
            },
        }
    }

    /// The block on `x`, after `past`.
    pub fn step(&self, x: &Tensor, past: Option<&LayerCache>) -> (Tensor, LayerCache) {
        let (attended, cache) = self.attn.attend(&self.ln_1.forward(x), past);
        let x = x + &attended;
        let x = &x + &self.mlp.forward(&self.ln_2.forward(&x));
        (x, cache)
    }
}

impl Forward<Tensor> for Block {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        self.step(x, None).0
    }
}

/// `GPT2Model`: token and position embeddings, the blocks, the final norm.
#[derive(Module)]
pub struct Gpt2Model {
    wte: DynEmbedding,
    wpe: DynEmbedding,
    h: Vec<Block>,
    ln_f: LayerNorm,
}

/// `GPT2LMHeadModel`: `transformer` and the LM head, which is `wte` itself
/// when the embeddings are tied (GPT-2's default), else `lm_head`.
#[derive(Module)]
pub struct Gpt2LMHeadModel {
    transformer: Gpt2Model,
    lm_head: Option<DynLinear>,
    #[module(skip)]
    config: Gpt2Config,
}

impl Gpt2LMHeadModel {
    /// The model `config` describes (embeddings drawn, the rest zeros,
    /// until loaded). Check `config` against the weights first
    /// (`load` in main.rs): this allocates what it says.
    pub fn new(config: &Gpt2Config) -> Self {
        let d = config.n_embd;
        Gpt2LMHeadModel {
            transformer: Gpt2Model {
                wte: DynEmbedding::new(config.vocab_size, d),
                wpe: DynEmbedding::new(config.n_positions, d),
                h: (0..config.n_layer).map(|layer| Block::new(config, layer)).collect(),
                ln_f: LayerNorm::with_options([d], config.layer_norm_epsilon, true, true),
            },
            lm_head: (!config.tie_word_embeddings).then(|| DynLinear::with_bias(d, config.vocab_size, false)),
            config: config.clone(),
        }
    }

    /// The logits `[B, T, vocab]` for `input_ids` (`[B, T]`) after the
    /// positions in `past` (one cache per block), and the caches grown by them.
    ///
    /// # Errors
    ///
    /// When `input_ids` is not `[B, T]`, holds an id outside the vocabulary,
    /// or runs past `n_positions`.
    pub fn forward_cached(
        &self,
        input_ids: &Indices,
        past: Option<&[LayerCache]>,
    ) -> Result<(Tensor, Vec<LayerCache>), String> {
        let config = &self.config;
        let [b, t] = <[usize; 2]>::try_from(input_ids.shape())
            .map_err(|_| format!("input ids must be [batch, tokens], not {:?}", input_ids.shape()))?;
        if b == 0 || t == 0 {
            return Err(format!("input ids of shape {:?} hold no tokens", input_ids.shape()));
        }
        if let Some(&id) = input_ids.as_slice().iter().find(|&&id| id >= config.vocab_size) {
            return Err(format!("token id {id} is outside the vocabulary of {}", config.vocab_size));
        }
        let seen = past.and_then(|p| p.first()).map_or(0, LayerCache::positions);
        if seen + t > config.n_positions {
            return Err(format!("{} positions are more than n_positions ({})", seen + t, config.n_positions));
        }
        let model = &self.transformer;
        let positions = Indices::from_vec((seen..seen + t).collect(), [t]);
        let mut x = &model.wte.forward(input_ids) + &model.wpe.forward(&positions);
        let mut caches = Vec::with_capacity(model.h.len());
        for (i, block) in model.h.iter().enumerate() {
            let (y, cache) = block.step(&x, past.map(|p| &p[i]));
            x = y;
            caches.push(cache);
        }
        let x = model.ln_f.forward(&x);
        let logits = match &self.lm_head {
            Some(head) => head.forward(&x),
            None => {
                let rows = x.reshape(&[-1, config.n_embd as isize]).matmul(&model.wte.weight().t());
                rows.reshape(&[b as isize, t as isize, config.vocab_size as isize])
            }
        };
        Ok((logits, caches))
    }

    /// Greedy decoding as `model.generate(prompt, max_new_tokens, do_sample=False)`:
    /// the prompt and up to `max_new_tokens` tokens after it, each the most
    /// likely (the first of equal ones), stopping after `eos_token_id`. The
    /// prompt runs once; each new token runs alone against the cache.
    ///
    /// # Errors
    ///
    /// As [`forward_cached`](Self::forward_cached), and when a logit is not a number.
    pub fn generate(&self, prompt: &[usize], max_new_tokens: usize) -> Result<Vec<usize>, String> {
        let mut tokens = prompt.to_vec();
        let mut input =
            Indices::try_from_vec(prompt.to_vec(), [1, prompt.len()]).map_err(|e| e.to_string())?;
        let mut cache: Option<Vec<LayerCache>> = None;
        for _ in 0..max_new_tokens {
            let (logits, grown) = self.forward_cached(&input, cache.as_deref())?;
            let last = logits.select(1, -1).to_vec();
            let next = first_max(&last).ok_or("the logits hold a NaN")?;
            tokens.push(next);
            if Some(next) == self.config.eos_token_id {
                break;
            }
            cache = Some(grown);
            input = Indices::from_vec(vec![next], [1, 1]);
        }
        Ok(tokens)
    }
}

impl Forward<Indices> for Gpt2LMHeadModel {
    type Output = Tensor;

    /// # Panics
    ///
    /// On ids that [`Gpt2LMHeadModel::forward_cached`] refuses.
    fn forward(&self, input_ids: &Indices) -> Tensor {
        self.forward_cached(input_ids, None).unwrap_or_else(|e| panic!("GPT-2: {e}")).0
    }
}

/// The index of the first largest value, `None` if one is NaN.
fn first_max(values: &[f32]) -> Option<usize> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    Some(best)
}
