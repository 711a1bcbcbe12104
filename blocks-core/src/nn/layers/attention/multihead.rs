//! `nn.MultiheadAttention` with its sizes known at run time:
//! [`DynMultiheadAttention`], its options and its call's arguments.

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::layers::attention::out_proj::NonDynamicallyQuantizableLinear;
use crate::nn::{DynLinear, Parameter, TrainingFlag};
use crate::{Element, Mask, Tensor, TensorBase};

/// The keyword arguments of `nn.MultiheadAttention(embed_dim, num_heads, ...)`,
/// PyTorch's defaults in [`Default`].
///
/// ```
/// use blocks_core::nn::{DynMultiheadAttention, MultiheadAttentionOptions};
/// let options = MultiheadAttentionOptions { kdim: Some(5), batch_first: true, ..Default::default() };
/// let mha = DynMultiheadAttention::with_options(8, 2, options);
/// assert_eq!(mha.kdim(), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiheadAttentionOptions {
    /// Dropout on the attention weights in training (`dropout=0.0`).
    pub dropout: f64,
    /// Biases on the input and output projections (`bias=True`).
    pub bias: bool,
    /// A learned key and value appended to the sequence (`add_bias_kv=False`).
    pub add_bias_kv: bool,
    /// A zero key and value appended after the projections (`add_zero_attn=False`).
    pub add_zero_attn: bool,
    /// The key's width (`kdim=None`: `embed_dim`).
    pub kdim: Option<usize>,
    /// The value's width (`vdim=None`: `embed_dim`).
    pub vdim: Option<usize>,
    /// Inputs `[N, L, E]` rather than `[L, N, E]` (`batch_first=False`).
    pub batch_first: bool,
}

impl Default for MultiheadAttentionOptions {
    fn default() -> Self {
        MultiheadAttentionOptions {
            dropout: 0.0,
            bias: true,
            add_bias_kv: false,
            add_zero_attn: false,
            kdim: None,
            vdim: None,
            batch_first: false,
        }
    }
}

/// The arguments of a call `mha(query, key, value, key_padding_mask=None,
/// need_weights=True, attn_mask=None, average_attn_weights=True,
/// is_causal=False)`, PyTorch's defaults in [`Default`]. A boolean mask's
/// `true` means "masked out", as in PyTorch's `nn.MultiheadAttention`; a
/// float mask is added to the scores.
///
/// ```
/// use blocks_core::nn::AttentionArgs;
/// use blocks_core::BoolMask;
/// let causal = BoolMask::causal(4, 4).not().into();
/// let args = AttentionArgs { attn_mask: Some(&causal), need_weights: false, ..AttentionArgs::default() };
/// assert!(args.average_attn_weights);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AttentionArgs<'a, E: Element = f32> {
    /// `[N, S]` (or `[S]` unbatched): `true`/`-inf` marks keys to ignore.
    pub key_padding_mask: Option<&'a Mask<E>>,
    /// Return the attention weights (`need_weights=True`).
    pub need_weights: bool,
    /// `[L, S]` or `[N·heads, L, S]`: `true`/`-inf` blocks a position.
    pub attn_mask: Option<&'a Mask<E>>,
    /// Average the weights over the heads (`average_attn_weights=True`).
    pub average_attn_weights: bool,
    /// The hint that `attn_mask` is the causal mask (`is_causal=False`).
    pub is_causal: bool,
}

impl<E: Element> Default for AttentionArgs<'_, E> {
    fn default() -> Self {
        AttentionArgs {
            key_padding_mask: None,
            need_weights: true,
            attn_mask: None,
            average_attn_weights: true,
            is_causal: false,
        }
    }
}

/// Multi-head attention with its sizes known at run time, like
/// `nn.MultiheadAttention(embed_dim, num_heads)`: the query, key and value
/// projected (packed `in_proj_weight` `[3E, E]` and `in_proj_bias`, or
/// `q_proj_weight`/`k_proj_weight`/`v_proj_weight` when `kdim`/`vdim`
/// differ), split into heads, scaled dot-product attention per head, and
/// `out_proj`. Keys, initialization (xavier_uniform_ projections, zero
/// biases) and printout are PyTorch's.
///
/// `forward` is self-attention without masks (`mha(x, x, x,
/// need_weights=False)[0]`); [`attend`](Self::attend) is the full call.
///
/// ```
/// use blocks_core::nn::{AttentionArgs, DynMultiheadAttention, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let mha = DynMultiheadAttention::new(8, 2);
/// let x = Tensor::rand([5, 3, 8]); // [L, N, E]
/// assert_eq!(mha.forward(&x).shape(), vec![5, 3, 8]);
/// let (y, weights) = mha.attend(&x, &x, &x, &AttentionArgs::default());
/// assert_eq!((y.shape(), weights.unwrap().shape()), (vec![5, 3, 8], vec![3, 5, 5]));
/// assert_eq!(
///     mha.to_string(),
///     "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n)"
/// );
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "MultiheadAttention", input = "TensorBase<E>")]
pub struct DynMultiheadAttention<E: Element = f32> {
    #[module(skip)]
    pub(super) embed_dim: usize,
    #[module(skip)]
    pub(super) kdim: usize,
    #[module(skip)]
    pub(super) vdim: usize,
    #[module(skip)]
    pub(super) num_heads: usize,
    #[module(skip)]
    pub(super) dropout: f64,
    #[module(skip)]
    pub(super) batch_first: bool,
    #[module(skip)]
    pub(super) add_zero_attn: bool,
    pub(super) q_proj_weight: Option<Parameter<E>>,
    pub(super) k_proj_weight: Option<Parameter<E>>,
    pub(super) v_proj_weight: Option<Parameter<E>>,
    pub(super) in_proj_weight: Option<Parameter<E>>,
    pub(super) in_proj_bias: Option<Parameter<E>>,
    pub(super) bias_k: Option<Parameter<E>>,
    pub(super) bias_v: Option<Parameter<E>>,
    pub(super) out_proj: NonDynamicallyQuantizableLinear<E>,
    pub(super) training: TrainingFlag,
    hooks: Hooks,
}

impl DynMultiheadAttention {
    /// `nn.MultiheadAttention(embed_dim, num_heads)` with PyTorch's defaults.
    ///
    /// # Panics
    ///
    /// As PyTorch's constructor: when a size is 0 or `embed_dim` is not
    /// divisible by `num_heads`.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert_eq!(mha.head_dim(), 2);
    /// assert!(std::panic::catch_unwind(|| blocks_core::nn::DynMultiheadAttention::new(96, 5)).is_err());
    /// ```
    #[track_caller]
    pub fn new(embed_dim: usize, num_heads: usize) -> Self {
        Self::with_options(embed_dim, num_heads, MultiheadAttentionOptions::default())
    }

    /// `nn.MultiheadAttention(embed_dim, num_heads, **options)`.
    ///
    /// # Panics
    ///
    /// As [`new`](Self::new), and when `dropout` is not in `[0, 1]` or
    /// `kdim`/`vdim` is 0.
    ///
    /// ```
    /// use blocks_core::nn::{DynMultiheadAttention, ModuleExt, MultiheadAttentionOptions};
    /// let options = MultiheadAttentionOptions { kdim: Some(5), vdim: Some(3), add_bias_kv: true, ..Default::default() };
    /// let mha = DynMultiheadAttention::with_options(8, 2, options);
    /// let keys: Vec<String> = mha.state_dict().keys();
    /// assert_eq!(keys, ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
    ///     "out_proj.weight", "out_proj.bias"]);
    /// ```
    #[track_caller]
    pub fn with_options(embed_dim: usize, num_heads: usize, options: MultiheadAttentionOptions) -> Self {
        assert!(
            embed_dim > 0 && num_heads > 0,
            "embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead"
        );
        assert!(embed_dim % num_heads == 0, "embed_dim must be divisible by num_heads");
        assert!(
            (0.0..=1.0).contains(&options.dropout),
            "dropout probability has to be between 0 and 1, but got {}",
            options.dropout
        );
        let kdim = options.kdim.unwrap_or(embed_dim);
        let vdim = options.vdim.unwrap_or(embed_dim);
        assert!(kdim > 0 && vdim > 0, "MultiheadAttention: kdim and vdim must be greater than 0");
        let three = embed_dim.checked_mul(3).expect("MultiheadAttention: 3 * embed_dim overflows");
        crate::error::or_panic(crate::numel::checked_alloc::<f32>(
            "MultiheadAttention",
            "in_proj_weight",
            &[three, embed_dim.max(kdim).max(vdim)],
        ));
        let same = kdim == embed_dim && vdim == embed_dim;
        let weight = |rows, cols| Parameter::new(Tensor::zeros([rows, cols]));
        let out_proj =
            NonDynamicallyQuantizableLinear::new(DynLinear::with_bias(embed_dim, embed_dim, options.bias));
        let mha = DynMultiheadAttention {
            embed_dim,
            kdim,
            vdim,
            num_heads,
            dropout: options.dropout,
            batch_first: options.batch_first,
            add_zero_attn: options.add_zero_attn,
            q_proj_weight: (!same).then(|| weight(embed_dim, embed_dim)),
            k_proj_weight: (!same).then(|| weight(embed_dim, kdim)),
            v_proj_weight: (!same).then(|| weight(embed_dim, vdim)),
            in_proj_weight: same.then(|| weight(three, embed_dim)),
            in_proj_bias: options.bias.then(|| Parameter::new(Tensor::zeros([three]))),
            bias_k: options.add_bias_kv.then(|| Parameter::new(Tensor::zeros([1, 1, embed_dim]))),
            bias_v: options.add_bias_kv.then(|| Parameter::new(Tensor::zeros([1, 1, embed_dim]))),
            out_proj,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        };
        mha.reset_parameters();
        mha
    }

    /// PyTorch's `_reset_parameters`: xavier_uniform_ on the projection
    /// weights, zeros on `in_proj_bias` and `out_proj.bias`, xavier_normal_
    /// on `bias_k`/`bias_v` (`out_proj.weight` keeps its Linear init).
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(4, 2);
    /// mha.reset_parameters();
    /// assert!(mha.in_proj_bias().unwrap().to_vec().iter().all(|b| *b == 0.0));
    /// ```
    pub fn reset_parameters(&self) {
        use crate::nn::init::{constant_, xavier_normal_, xavier_uniform_};
        for weight in [&self.in_proj_weight, &self.q_proj_weight, &self.k_proj_weight, &self.v_proj_weight]
            .into_iter()
            .flatten()
        {
            xavier_uniform_(weight, 1.0);
        }
        if let Some(bias) = &self.in_proj_bias {
            constant_(bias, 0.0);
            if let Some(out_bias) = self.out_proj.bias() {
                constant_(out_bias, 0.0);
            }
        }
        for bias in [&self.bias_k, &self.bias_v].into_iter().flatten() {
            xavier_normal_(bias, 1.0);
        }
    }
}

impl<E: Element> DynMultiheadAttention<E> {
    /// The model width `E`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynMultiheadAttention::new(6, 3).embed_dim(), 6);
    /// ```
    pub fn embed_dim(&self) -> usize {
        self.embed_dim
    }

    /// The number of heads.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynMultiheadAttention::new(6, 3).num_heads(), 3);
    /// ```
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Each head's width, `embed_dim / num_heads`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynMultiheadAttention::new(6, 3).head_dim(), 2);
    /// ```
    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.num_heads
    }

    /// The key's width.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynMultiheadAttention::new(6, 3).kdim(), 6);
    /// ```
    pub fn kdim(&self) -> usize {
        self.kdim
    }

    /// The value's width.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynMultiheadAttention::new(6, 3).vdim(), 6);
    /// ```
    pub fn vdim(&self) -> usize {
        self.vdim
    }

    /// Whether inputs are `[N, L, E]`.
    ///
    /// ```
    /// assert!(!blocks_core::nn::DynMultiheadAttention::new(6, 3).batch_first());
    /// ```
    pub fn batch_first(&self) -> bool {
        self.batch_first
    }

    /// The dropout probability on the weights in training.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynMultiheadAttention::new(6, 3).dropout(), 0.0);
    /// ```
    pub fn dropout(&self) -> f64 {
        self.dropout
    }

    /// The packed projection `[3E, E]`, when `kdim` and `vdim` are `E`.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert_eq!(mha.in_proj_weight().unwrap().shape(), vec![18, 6]);
    /// ```
    pub fn in_proj_weight(&self) -> Option<&Parameter<E>> {
        self.in_proj_weight.as_ref()
    }

    /// The packed projection bias `[3E]`, unless `bias=False`.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert_eq!(mha.in_proj_bias().unwrap().shape(), vec![18]);
    /// ```
    pub fn in_proj_bias(&self) -> Option<&Parameter<E>> {
        self.in_proj_bias.as_ref()
    }

    /// The output projection.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert_eq!(mha.out_proj().weight().shape(), vec![6, 6]);
    /// ```
    pub fn out_proj(&self) -> &NonDynamicallyQuantizableLinear<E> {
        &self.out_proj
    }
}

/// Self-attention without masks: `mha(x, x, x, need_weights=False)[0]`.
impl<E: Element, Fed> Forward<Fed> for DynMultiheadAttention<E>
where
    Fed: crate::nn::FeedsInto<TensorBase<E>, Self>,
{
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x = given.feed_ref();
        let args = AttentionArgs { need_weights: false, ..AttentionArgs::default() };
        crate::nn::path::or_panic(self.try_attend(x, x, x, &args)).0
    }
}
