//! Hooks, the PyTorch way: d2l's layer-by-layer shape walk done with a
//! forward hook instead of a hand-written loop, an activation inspected and
//! changed by a hook on one layer, and a gradient read and scaled by a
//! tensor hook. (With LeNet's layers the walk is the same code.)
//!
//! ```text
//! cargo run --example hooks
//! ```

use std::sync::{Arc, Mutex};

use blocks::nn::register_module_forward_hook;
use blocks::prelude::*;

/// One line per top-level block: `Linear output shape:\t[2, 256]`, as d2l prints
/// `X.__class__.__name__, 'output shape:\t', X.shape` for each layer.
pub fn shape_walk<B: Forward<Tensor> + 'static>(net: &B, x: &Tensor) -> Vec<String>
where
    B::Output: HookValue,
{
    let lines = Arc::new(Mutex::new(Vec::new()));
    let lines_in_hook = Arc::clone(&lines);
    // A hook for every block sees every thread's blocks: keep this thread's.
    let this_thread = std::thread::current().id();
    let handle = register_module_forward_hook(move |block, _, y| {
        let top_level = !block.path().is_empty() && !block.path().contains('.');
        if top_level && std::thread::current().id() == this_thread {
            lines_in_hook.lock().unwrap().push(format!("{} output shape:\t{:?}", block.name(), y.shape()));
        }
        None
    });
    let _ = run(net, x);
    handle.remove();
    lines.lock().unwrap().clone()
}

/// The hidden activations' fraction of zeros after ReLU, read by a hook on
/// the layer, and the output with the hidden layer's output halved by another.
pub fn inspect_and_change(x: &Tensor) -> (f32, Vec<f32>, Vec<f32>) {
    manual_seed(0);
    let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];
    let zeros = Arc::new(Mutex::new(0.0));
    let zeros_in_hook = Arc::clone(&zeros);
    let read = net.0.1.register_forward_hook(move |_, y| {
        let values = y.to_vec();
        *zeros_in_hook.lock().unwrap() =
            values.iter().filter(|&&v| v == 0.0).count() as f32 / values.len() as f32;
        None
    });
    let plain = net.forward(x).to_vec();
    let halve = net.0.0.register_forward_hook(|_, y| Some(y * 0.5));
    let halved = net.forward(x).to_vec();
    read.remove();
    halve.remove();
    let zeros = *zeros.lock().unwrap();
    (zeros, plain, halved)
}

/// The gradient reaching a hidden activation, read and doubled by a tensor hook.
pub fn gradient_hook() -> (Vec<f32>, Vec<f32>) {
    let x = Tensor::from_vec(vec![1.0, -2.0, 3.0], [3]).requires_grad_(true);
    let hidden = &x * 2.0;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in_hook = Arc::clone(&seen);
    let handle = hidden.register_hook(move |grad| {
        *seen_in_hook.lock().unwrap() = grad.to_vec();
        Some(grad * 2.0)
    });
    (&hidden * &hidden).sum().backward();
    handle.remove();
    (seen.lock().unwrap().clone(), x.grad().unwrap().to_vec())
}

fn main() {
    let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];
    for line in shape_walk(&net, &Tensor::rand([2, 20])) {
        println!("{line}");
    }
    let (zeros, plain, halved) = inspect_and_change(&Tensor::rand([2, 20]));
    println!("hidden units at zero after ReLU: {:.0}%", 100.0 * zeros);
    println!("output[0] {:.4}, with the hidden layer halved by a hook {:.4}", plain[0], halved[0]);
    let (seen, grad) = gradient_hook();
    println!("gradient at the hidden tensor {seen:?}; x.grad after the hook doubled it {grad:?}");
}
