//! The recurrent layers beyond PyTorch's numbers (those are in
//! `conformance_rnn`): float64 gradchecks of small LSTMs and GRUs through
//! time, dropout between layers (its statistics, eval equal to no
//! dropout, no keys of its own), the typed fronts on `Seq<D>`, the run-time
//! checks' wording, and what hooks see.

use blocks::nn::{
    DynGRU, DynLSTM, DynRNN, ForwardHooks, GRU, LSTM, LSTMCell, ModuleExt, RecurrentOptions, Seq, ToElement,
    init,
};
use blocks::{Tensor, Tensor64, gradcheck_module, manual_seed};

use crate::support::panic_message;

fn options(num_layers: usize, bidirectional: bool, batch_first: bool) -> RecurrentOptions {
    RecurrentOptions { num_layers, bidirectional, batch_first, ..Default::default() }
}

#[test]
fn lstm_gradients_through_time_match_finite_differences() {
    manual_seed(7);
    let lstm = DynLSTM::with_options(3, 2, options(2, true, false)).to_f64();
    let x = Tensor64::rand([3, 2, 3]).requires_grad_(true);
    let h0 = Tensor64::rand([4, 2, 2]).requires_grad_(true);
    let c0 = Tensor64::rand([4, 2, 2]).requires_grad_(true);
    let weights = Tensor64::rand([3, 2, 4]);
    gradcheck_module(
        &lstm,
        |xs| {
            let (output, (h_n, c_n)) = lstm.forward_with_state(&xs[0], (&xs[1], &xs[2]));
            &(&(&output * &weights).sum() + &h_n.sum()) + &(&c_n * &c_n).sum()
        },
        &[x, h0, c0],
    )
    .unwrap();
}

#[test]
fn projected_lstm_gradients_match_finite_differences() {
    manual_seed(8);
    let options = RecurrentOptions { proj_size: 2, batch_first: true, ..Default::default() };
    let lstm = DynLSTM::with_options(2, 3, options).to_f64();
    let x = Tensor64::rand([2, 3, 2]).requires_grad_(true);
    gradcheck_module(&lstm, |xs| lstm.forward(&xs[0]).0.tanh().sum(), &[x]).unwrap();
}

#[test]
fn gru_gradients_through_time_match_finite_differences() {
    manual_seed(9);
    let gru = DynGRU::with_options(2, 3, options(2, true, true)).to_f64();
    let x = Tensor64::rand([2, 3, 2]).requires_grad_(true);
    let h0 = Tensor64::rand([4, 2, 3]).requires_grad_(true);
    let weights = Tensor64::rand([2, 3, 6]);
    gradcheck_module(
        &gru,
        |xs| {
            let (output, h_n) = gru.forward_with_state(&xs[0], &xs[1]);
            &(&output * &weights).sum() + &(&h_n * &h_n).sum()
        },
        &[x, h0],
    )
    .unwrap();
}

#[test]
fn rnn_and_cell_gradients_match_finite_differences() {
    manual_seed(10);
    let rnn = DynRNN::with_options(2, 3, options(2, false, false)).to_f64();
    let x = Tensor64::rand([3, 2, 2]).requires_grad_(true);
    gradcheck_module(&rnn, |xs| rnn.forward(&xs[0]).0.sum(), &[x]).unwrap();
    let cell = LSTMCell::new(2, 3).to_f64();
    let x = Tensor64::rand([2, 2]).requires_grad_(true);
    gradcheck_module(
        &cell,
        |xs| {
            let (h, c) = cell.forward(&xs[0]);
            &h.sum() + &(&c * &c).sum()
        },
        &[x],
    )
    .unwrap();
}

/// Two stacked ReLU RNNs of one unit whose output shows the dropout between
/// them: layer 0 gives `relu(x + 1) > 0`, layer 1 passes its input through
/// (`W_ih = 1`, nothing else), so each output is 0 (dropped) or layer 0's
/// value over `1 - p`.
fn see_through(dropout: f64) -> DynRNN {
    let options = RecurrentOptions { num_layers: 2, dropout, ..Default::default() };
    let rnn = DynRNN::with_nonlinearity(1, 1, "relu", options);
    for (key, p) in rnn.named_parameters() {
        let value = match key.as_str() {
            "weight_ih_l0" | "weight_ih_l1" => 1.0,
            "bias_ih_l0" | "bias_hh_l0" => 0.5,
            _ => 0.0,
        };
        init::constant_(&p, value);
    }
    rnn
}

#[test]
fn dropout_between_layers_drops_in_training_only() {
    manual_seed(11);
    let rnn = see_through(0.5);
    let plain = see_through(0.0);
    assert_eq!(rnn.to_string(), "RNN(1, 1, num_layers=2, dropout=0.5)");
    assert_eq!(rnn.state_dict().keys(), plain.state_dict().keys(), "dropout adds no keys");
    let x = Tensor::rand([10, 1000, 1]);
    rnn.eval();
    let kept = rnn.forward(&x).0;
    assert_eq!(kept.to_vec(), plain.forward(&x).0.to_vec(), "eval is the layer without dropout");
    rnn.train();
    let dropped = rnn.forward(&x).0;
    let (mut zeros, total) = (0, kept.numel());
    for (d, k) in dropped.to_vec().into_iter().zip(kept.to_vec()) {
        assert!(k > 0.0);
        if d == 0.0 {
            zeros += 1;
        } else {
            assert!((d - 2.0 * k).abs() <= 1e-6 * k, "a kept value is scaled by 1 / (1 - p): {d} vs 2 x {k}");
        }
    }
    let fraction = zeros as f64 / total as f64;
    assert!((0.47..=0.53).contains(&fraction), "dropped {fraction} of 10000 values with p = 0.5");
    // The last layer's output is never dropped, and neither is a single layer's.
    let single = DynRNN::with_options(1, 1, RecurrentOptions { dropout: 0.9, ..Default::default() });
    single.train();
    assert!(single.forward(&Tensor::rand([4, 50, 1])).0.to_vec().iter().all(|v| *v != 0.0));
}

#[test]
fn typed_fronts_take_sequences_of_their_width() {
    manual_seed(12);
    let lstm = LSTM::<3, 4>::with_options(options(2, false, true));
    let (output, (h_n, c_n)) = lstm.forward(&Seq::<3>::new(Tensor::rand([2, 5, 3])));
    let _: &Seq<4> = &output;
    assert_eq!((output.shape(), h_n.shape(), c_n.shape()), (vec![2, 5, 4], vec![2, 2, 4], vec![2, 2, 4]));
    let gru = GRU::<4, 6, 12>::bidirectional();
    let (output, h_n) = gru.forward(&output);
    let _: &Seq<12> = &output;
    assert_eq!((output.shape(), h_n.shape()), (vec![2, 5, 12], vec![2, 5, 6]));
    // The same numbers as the run-time core.
    let x = Seq::<3>::rand(4, 2);
    let rnn = blocks::nn::RNN::<3, 5>::new();
    assert_eq!(rnn.forward(&x).0.to_vec(), rnn.core().forward(&*x).0.to_vec());
    // In float64.
    let double: LSTM<3, 4, 4, f64> = LSTM::<3, 4>::new().to_f64();
    let (output, _) = double.forward(&Seq::<3, f64>::new(Tensor64::rand([5, 3])));
    assert_eq!(output.shape(), vec![5, 4]);
}

#[test]
fn wrong_inputs_and_states_are_named() {
    let lstm = LSTM::<8, 16>::new();
    let message =
        panic_message(std::panic::catch_unwind(|| lstm.forward(&Tensor::rand([5, 2, 7]))).unwrap_err());
    assert_eq!(
        message,
        "LSTM<8, 16> takes sequences of 8 input features ([L, N, 8], [N, L, 8] or [L, 8]), but got a tensor of shape \
         [5, 2, 7]"
    );
    let dynamic = DynLSTM::with_options(8, 16, options(2, false, false));
    let message =
        panic_message(std::panic::catch_unwind(|| dynamic.forward(&Tensor::rand([5, 2, 7]))).unwrap_err());
    assert_eq!(
        message,
        "LSTM(8, 16, num_layers=2): input.size(-1) must be equal to input_size. Expected 8, got 7 (input of shape \
         [5, 2, 7])"
    );
    let (h0, c0) = (Tensor::zeros([1, 2, 16]), Tensor::zeros([2, 2, 16]));
    let message = panic_message(
        std::panic::catch_unwind(|| dynamic.forward_with_state(&Tensor::rand([5, 2, 8]), (&h0, &c0)))
            .unwrap_err(),
    );
    assert_eq!(message, "LSTM(8, 16, num_layers=2): Expected hidden size (2, 2, 16), got [1, 2, 16]");
    let projected = RecurrentOptions { proj_size: 2, ..Default::default() };
    let message =
        panic_message(std::panic::catch_unwind(|| DynGRU::with_options(3, 4, projected)).err().unwrap());
    assert_eq!(message, "GRU: proj_size argument is only supported for LSTM, not RNN or GRU");
}

#[test]
fn hooks_see_the_output() {
    use std::sync::{Arc, Mutex};
    let gru = DynGRU::new(3, 4);
    let seen: Arc<Mutex<Vec<Vec<usize>>>> = Arc::default();
    let record = Arc::clone(&seen);
    let _handle = gru.register_forward_hook(move |_: &Tensor, output: &Tensor| {
        record.lock().unwrap().push(output.shape());
        None
    });
    let (output, _) = gru.forward(&Tensor::rand([5, 2, 3]));
    assert_eq!(*seen.lock().unwrap(), vec![output.shape()]);
}
