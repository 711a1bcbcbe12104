//! Position encodings added to a Transformer's input: d2l's sinusoidal
//! [`PositionalEncoding`] (section 11.6) and a learned one,
//! [`LearnedPositionalEncoding`] (an embedding over positions, as GPT-2's `wpe`).

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::{Dropout, DynEmbedding, TensorKind, TrainingFlag};
use crate::{Element, Indices, ShapeError, Tensor, TensorBase};

/// The input check both encodings share: `[N, L, D]` with `L <= max_len`.
fn check_input(name: &str, shape: &[usize], num_hiddens: usize, max_len: usize) -> Result<usize, ShapeError> {
    match shape {
        [_, len, d] if *d == num_hiddens && *len <= max_len => Ok(*len),
        _ => Err(ShapeError::new(format!(
            "{name}: expected input [batch, steps <= {max_len}, {num_hiddens}], got shape {shape:?}"
        ))),
    }
}

/// d2l's `PositionalEncoding(num_hiddens, dropout, max_len=1000)`: adds
/// `P[:, :L, :]` to an input `[N, L, num_hiddens]` (batch first, as d2l),
/// then dropout. `P[0, i, 2j] = sin(i / 10000^(2j/d))` and
/// `P[0, i, 2j+1] = cos(i / 10000^(2j/d))`, computed in float32 as d2l
/// computes it. `P` is a plain attribute in d2l, so it is not saved.
///
/// ```
/// use blocks_core::nn::{Module, ModuleExt, PositionalEncoding};
/// use blocks_core::Tensor;
/// let pos = PositionalEncoding::new(4, 0.0, 1000);
/// assert_eq!(pos.p().shape(), vec![1, 1000, 4]);
/// assert_eq!(pos.p().to_vec()[..4], [0.0, 1.0, 0.0, 1.0]);
/// let y = pos.forward(&Tensor::zeros([2, 3, 4]));
/// assert_eq!(y.shape(), vec![2, 3, 4]);
/// assert_eq!(pos.to_string(), "PositionalEncoding(\n  (dropout): Dropout(p=0.0, inplace=False)\n)");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", any_input)]
pub struct PositionalEncoding {
    dropout: Dropout,
    #[module(skip)]
    p: Tensor,
    training: TrainingFlag,
    hooks: Hooks,
}

impl PositionalEncoding {
    /// d2l's encoding for `num_hiddens` features, dropout `dropout`, up to
    /// `max_len` positions.
    ///
    /// # Panics
    ///
    /// When `num_hiddens` is odd (d2l's code cannot fill `P` then either),
    /// `dropout` is not in `[0, 1]`, or `P` would exceed the allocation limit.
    ///
    /// ```
    /// assert!(std::panic::catch_unwind(|| blocks_core::nn::PositionalEncoding::new(5, 0.1, 10)).is_err());
    /// ```
    #[track_caller]
    pub fn new(num_hiddens: usize, dropout: f64, max_len: usize) -> Self {
        assert!(
            num_hiddens % 2 == 0,
            "PositionalEncoding: num_hiddens must be even (sin and cos fill alternate columns), got {num_hiddens}"
        );
        crate::error::or_panic(crate::numel::checked_alloc::<f32>(
            "PositionalEncoding",
            "P",
            &[max_len, num_hiddens],
        ));
        let mut values = Vec::with_capacity(max_len * num_hiddens);
        let d = num_hiddens as f32;
        for i in 0..max_len {
            for j in (0..num_hiddens).step_by(2) {
                let x = i as f32 / 10000f32.powf(j as f32 / d);
                values.push((x as f64).sin() as f32);
                values.push((x as f64).cos() as f32);
            }
        }
        PositionalEncoding {
            dropout: Dropout::new(dropout),
            p: Tensor::from_vec(values, [1, max_len, num_hiddens]),
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }

    /// The table `P`, `[1, max_len, num_hiddens]`.
    ///
    /// ```
    /// let pos = blocks_core::nn::PositionalEncoding::new(2, 0.0, 3);
    /// assert_eq!(pos.p().to_vec()[2], 1f32.sin());
    /// ```
    pub fn p(&self) -> &Tensor {
        &self.p
    }
}

/// Keeps the kind: `[N, L, num_hiddens]` in, the same shape out.
impl<K: TensorKind> Forward<K> for PositionalEncoding {
    type Output = K;

    #[track_caller]
    fn forward(&self, input: &K) -> K {
        let x = input.tensor();
        let shape = self.p.shape();
        let len =
            crate::nn::path::or_panic(check_input("PositionalEncoding", &x.shape(), shape[2], shape[1]));
        let p: TensorBase<K::Elem> = self.p.narrow(1, 0, len).cast();
        let output = Forward::<TensorBase<K::Elem>>::forward(&self.dropout, &(x + &p));
        crate::nn::keep_kind(self, input, output)
    }
}

/// A learned position encoding: `dropout(X + embedding(arange(L)))` on an
/// input `[N, L, num_hiddens]` (batch first), the table an
/// `nn.Embedding(max_len, num_hiddens)` under the key `embedding.weight`
/// (GPT-2's `wpe`).
///
/// ```
/// use blocks_core::nn::{LearnedPositionalEncoding, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let pos = LearnedPositionalEncoding::new(4, 0.1, 16);
/// assert_eq!(pos.state_dict().keys(), ["embedding.weight"]);
/// pos.eval();
/// let y = pos.forward(&Tensor::zeros([2, 3, 4]));
/// assert_eq!(y.to_vec()[..4], pos.embedding().weight().to_vec()[..4]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", any_input)]
pub struct LearnedPositionalEncoding<E: Element = f32> {
    dropout: Dropout,
    embedding: DynEmbedding<E>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl LearnedPositionalEncoding {
    /// A table of `max_len` positions of `num_hiddens` features, N(0, 1) as
    /// `nn.Embedding`'s, and dropout `dropout`.
    ///
    /// # Panics
    ///
    /// When `dropout` is not in `[0, 1]`.
    ///
    /// ```
    /// let pos = blocks_core::nn::LearnedPositionalEncoding::new(4, 0.1, 16);
    /// assert_eq!(pos.embedding().weight().shape(), vec![16, 4]);
    /// ```
    #[track_caller]
    pub fn new(num_hiddens: usize, dropout: f64, max_len: usize) -> Self {
        LearnedPositionalEncoding {
            dropout: Dropout::new(dropout),
            embedding: DynEmbedding::new(max_len, num_hiddens),
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }
}

impl<E: Element> LearnedPositionalEncoding<E> {
    /// The table of positions.
    ///
    /// ```
    /// let pos = blocks_core::nn::LearnedPositionalEncoding::new(4, 0.1, 16);
    /// assert_eq!(pos.embedding().num_embeddings(), 16);
    /// ```
    pub fn embedding(&self) -> &DynEmbedding<E> {
        &self.embedding
    }
}

/// Keeps the kind: `[N, L, num_hiddens]` in, the same shape out.
impl<E: Element, K: TensorKind<Elem = E>> Forward<K> for LearnedPositionalEncoding<E> {
    type Output = K;

    #[track_caller]
    fn forward(&self, input: &K) -> K {
        let x = input.tensor();
        let table = self.embedding.weight().shape();
        let len = crate::nn::path::or_panic(check_input(
            "LearnedPositionalEncoding",
            &x.shape(),
            table[1],
            table[0],
        ));
        let positions: TensorBase<E> =
            Forward::<Indices>::forward(&self.embedding, &Indices::from_vec((0..len).collect(), [len]));
        let output = Forward::<TensorBase<E>>::forward(&self.dropout, &(x + &positions.unsqueeze(0)));
        crate::nn::keep_kind(self, input, output)
    }
}
