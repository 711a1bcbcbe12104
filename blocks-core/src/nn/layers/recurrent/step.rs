//! One time step of a recurrent unit, composed of ops (so the autograd
//! gives backward through time): PyTorch's formulas and gate order
//! (LSTM i, f, g, o; GRU r, z, n with `b_hn` inside `r ⊙ (W_hn h + b_hn)`).

use crate::nn::layers::recurrent::options::Mode;
use crate::nn::layers::recurrent::weights::CellWeights;
use crate::{Element, TensorBase};

/// A unit's state: `h` (`[N, H']`) and, for an LSTM, the cell `c` (`[N, H]`).
#[derive(Clone)]
pub(crate) struct State<E: Element> {
    pub(crate) h: TensorBase<E>,
    pub(crate) c: Option<TensorBase<E>>,
}

/// The input's share of every gate, `x W_ihᵀ + b_ih` (`x` of one time step, `[N, D]`).
pub(crate) fn input_gates<E: Element>(cell: &CellWeights<E>, x: &TensorBase<E>) -> TensorBase<E> {
    x.linear(&cell.weight_ih, cell.bias_ih.as_deref())
}

/// The state after one step, from the input's share of the gates `gx`
/// (`[N, G·H]`, see [`input_gates`]) and the state before.
pub(crate) fn step<E: Element>(
    mode: Mode,
    cell: &CellWeights<E>,
    hidden: usize,
    gx: &TensorBase<E>,
    state: &State<E>,
) -> State<E> {
    let gh = state.h.linear(&cell.weight_hh, cell.bias_hh.as_deref());
    let gate = |t: &TensorBase<E>, k: usize| t.narrow(1, (k * hidden) as isize, hidden);
    match mode {
        Mode::RnnTanh => State { h: (gx + &gh).tanh(), c: None },
        Mode::RnnRelu => State { h: (gx + &gh).relu(), c: None },
        Mode::Lstm => {
            let gates = gx + &gh;
            let i = gate(&gates, 0).sigmoid();
            let f = gate(&gates, 1).sigmoid();
            let g = gate(&gates, 2).tanh();
            let o = gate(&gates, 3).sigmoid();
            let c_before = state.c.as_ref().expect("an LSTM state has a cell");
            let c = &(&f * c_before) + &(&i * &g);
            let h = &o * &c.tanh();
            let h = match &cell.weight_hr {
                Some(projection) => h.linear(projection, None),
                None => h,
            };
            State { h, c: Some(c) }
        }
        Mode::Gru => {
            let r = (&gate(gx, 0) + &gate(&gh, 0)).sigmoid();
            let z = (&gate(gx, 1) + &gate(&gh, 1)).sigmoid();
            let n = (&gate(gx, 2) + &(&r * &gate(&gh, 2))).tanh();
            // (1 - z) ⊙ n + z ⊙ h, written as n + z ⊙ (h - n).
            let h = &n + &(&z * &(&state.h - &n));
            State { h, c: None }
        }
    }
}
