//! Calls with more than one input go through the block's hooks, as
//! PyTorch's `__call__` does: a recurrent layer or cell from an initial
//! state (`lstm(x, (h_0, c_0))`), typed or run-time, and an attention's
//! `mha(query, key, value)`. Hooks see the first input and the first
//! output; a pre-hook's replacement of such an input is refused, naming it.

use std::sync::{Arc, Mutex};

use blocks::nn::{AttentionArgs, DynGRU, DynLSTM, DynMultiheadAttention, GRUCell, LSTMCell, RNNCell};
use blocks::prelude::*;

/// What a hook saw: the input's shape and values, the output's shape and values.
type Call = (Vec<usize>, Vec<f32>, Vec<usize>, Vec<f32>);
type Seen = Arc<Mutex<Vec<Call>>>;

/// A forward hook recording the input and output it is given.
fn record(seen: &Seen) -> impl Fn(&Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static {
    let seen = Arc::clone(seen);
    move |x, y| {
        seen.lock().unwrap().push((x.shape(), x.to_vec(), y.shape(), y.to_vec()));
        None
    }
}

fn taken(seen: &Seen) -> Vec<Call> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[test]
fn a_recurrent_layer_from_an_initial_state_runs_its_hooks_once() {
    manual_seed(5);
    let lstm = DynLSTM::new(3, 4);
    let (x, h_0, c_0) = (Tensor::rand([5, 2, 3]), Tensor::rand([1, 2, 4]), Tensor::rand([1, 2, 4]));
    let (unhooked, _) = lstm.forward_with_state(&x, (&h_0, &c_0));
    let seen: Seen = Arc::default();
    let handle = lstm.register_forward_hook(record(&seen));
    let (output, (h_n, _)) = lstm.forward_with_state(&x, (&h_0, &c_0));
    assert_eq!(output.to_vec(), unhooked.to_vec());
    assert_eq!(taken(&seen), vec![(x.shape(), x.to_vec(), output.shape(), output.to_vec())]);
    assert_eq!(output.select(0, -1).to_vec(), h_n.select(0, 0).to_vec());
    handle.remove();
    lstm.forward_with_state(&x, (&h_0, &c_0));
    assert!(taken(&seen).is_empty(), "a removed hook does not run");

    let gru = DynGRU::new(3, 4);
    let _ = gru.register_forward_hook(record(&seen));
    let (output, _) = gru.forward_with_state(&x, &h_0);
    assert_eq!(taken(&seen), vec![(x.shape(), x.to_vec(), output.shape(), output.to_vec())]);
}

#[test]
fn a_typed_recurrent_layer_from_an_initial_state_runs_its_hooks_once() {
    manual_seed(6);
    let lstm = LSTM::<3, 4>::new();
    let x = Seq::<3>::rand(5, 2);
    let state = (Tensor::zeros([1, 2, 4]), Tensor::zeros([1, 2, 4]));
    let seen: Seen = Arc::default();
    let _ = lstm.register_forward_hook(record(&seen));
    let (output, _) = lstm.forward_with_state(&x, (&state.0, &state.1));
    let (plain, _) = lstm.forward(&x);
    let seen = taken(&seen);
    assert_eq!(seen.len(), 2, "once for the call from a state, once for the plain call");
    assert_eq!(seen[0].3, output.to_vec());
    assert_eq!(seen[1].3, plain.to_vec());
    assert_eq!(output.to_vec(), plain.to_vec(), "a zero state is the default state");
}

#[test]
fn cells_from_a_state_run_their_hooks() {
    manual_seed(7);
    let (x, h, c) = (Tensor::rand([2, 3]), Tensor::rand([2, 4]), Tensor::rand([2, 4]));
    let seen: Seen = Arc::default();
    let rnn = RNNCell::new(3, 4);
    let _ = rnn.register_forward_hook(record(&seen));
    let h_rnn = rnn.forward_with_state(&x, &h);
    let gru = GRUCell::new(3, 4);
    let _ = gru.register_forward_hook(record(&seen));
    let h_gru = gru.forward_with_state(&x, &h);
    let lstm = LSTMCell::new(3, 4);
    let _ = lstm.register_forward_hook(record(&seen));
    let (h_lstm, _) = lstm.forward_with_state(&x, (&h, &c));
    let outputs: Vec<Vec<f32>> = taken(&seen)
        .into_iter()
        .map(|(_, input, _, output)| {
            assert_eq!(input, x.to_vec());
            output
        })
        .collect();
    assert_eq!(outputs, vec![h_rnn.to_vec(), h_gru.to_vec(), h_lstm.to_vec()]);
}

#[test]
fn attention_calls_run_their_hooks_with_the_query_and_the_output() {
    manual_seed(8);
    let mha = DynMultiheadAttention::new(4, 2);
    let (q, kv) = (Tensor::rand([3, 2, 4]), Tensor::rand([5, 2, 4]));
    let seen: Seen = Arc::default();
    let _ = mha.register_forward_hook(record(&seen));
    let (y, weights) = mha.attend(&q, &kv, &kv, &AttentionArgs::default());
    assert_eq!(weights.unwrap().shape(), vec![2, 3, 5]);
    assert_eq!(taken(&seen), vec![(q.shape(), q.to_vec(), y.shape(), y.to_vec())]);
    let (unhooked, _) = mha.try_attend(&q, &kv, &kv, &AttentionArgs::default()).unwrap();
    assert!(taken(&seen).is_empty(), "the `try_` form runs without hooks");
    assert_eq!(unhooked.to_vec(), y.to_vec());

    let typed = MultiheadAttention::<4, 2>::new();
    let _ = typed.register_forward_hook(record(&seen));
    let x = Batch::<4>::new(Tensor::rand([3, 2, 4]));
    let (y, _) = typed.attend(&x, &x, &x, &AttentionArgs::default());
    assert_eq!(taken(&seen), vec![(x.shape(), x.to_vec(), y.shape(), y.to_vec())]);
}

#[test]
fn a_pre_hook_cannot_replace_a_call_with_a_state() {
    let gru = DynGRU::new(3, 4);
    let _ = gru.register_forward_pre_hook(|x: &Tensor| Some(x.clone()));
    let (x, h_0) = (Tensor::rand([5, 2, 3]), Tensor::zeros([1, 2, 4]));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gru.forward_with_state(&x, &h_0)));
    let message = crate::support::panic_message(caught.unwrap_err());
    assert!(
        message.contains("replaced its input by a tensor of shape [5, 2, 3], which is not a `WithState"),
        "{message}"
    );
}
