//! Forward hooks on float64 models: hooks registered for float64
//! (`hooks_for::<f64>()` and `module_hooks_for::<f64>()`) see and replace float64
//! values as they are, with the gradient flowing through a replacement;
//! float32 hooks (the `|x, y|` closures on `Tensor`s) run too, on the values
//! rounded to float32, to read them; a float32 hook replacing a float64 value
//! panics naming the registration that can. Many threads under a watchdog.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use blocks::prelude::*;
use blocks::{Tensor64, gradcheck_module};
use watchdog::with_watchdog;

use crate::support::{panic_message, watchdog};

#[test]
fn a_float64_pre_hook_replaces_the_input_and_a_forward_hook_the_output() {
    manual_seed(0);
    let layer = Linear::<3, 2>::new().to_f64();
    let x = Tensor64::from_vec(vec![0.1, 0.2, 0.3, -0.4, 0.5, -0.6], [2, 3]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in_hook = Arc::clone(&seen);
    let pre = layer.hooks_for::<f64>().register_forward_pre_hook(move |x| {
        seen_in_hook.lock().unwrap().push(x.to_vec());
        Some(x * 2.0)
    });
    let outputs = Arc::new(Mutex::new(Vec::new()));
    let outputs_in_hook = Arc::clone(&outputs);
    let post = layer.hooks_for::<f64>().register_forward_hook(move |x, y| {
        outputs_in_hook.lock().unwrap().push((x.to_vec(), y.to_vec()));
        Some(y + 1.0)
    });
    let y = layer.forward(&x);
    pre.remove();
    post.remove();

    // Exactly the float64 values, not rounded to float32.
    assert_eq!(*seen.lock().unwrap(), [x.to_vec()]);
    let doubled = &x * 2.0;
    let expected = layer.forward(&doubled).to_vec();
    assert_eq!(*outputs.lock().unwrap(), [(doubled.to_vec(), expected.clone())]);
    let plus_one: Vec<f64> = expected.iter().map(|v| v + 1.0).collect();
    assert_eq!(y.to_vec(), plus_one);
    assert_eq!(
        layer.forward(&x).to_vec(),
        Forward::forward(&layer, &Batch::new(x.clone())).to_vec(),
        "removed hooks no longer run"
    );
}

#[test]
fn the_gradient_flows_through_a_float64_replacement_and_gradchecks() {
    manual_seed(2);
    let net = sequential![Linear::<3, 4>::new().to_f64(), Tanh, Linear::<4, 2>::new().to_f64()];
    let x = Tensor64::rand([4, 3]);
    net.forward(&x).sum().backward();
    let plain = net.0.0.weight().grad().unwrap().to_vec();
    net.zero_grad();
    let handle = net.0.2.hooks_for::<f64>().register_forward_hook(|_, y| Some(y * 3.0));
    net.forward(&x).sum().backward();
    let hooked = net.0.0.weight().grad().unwrap().to_vec();
    for (h, p) in hooked.iter().zip(&plain) {
        assert!((h - 3.0 * p).abs() < 1e-12, "{h} != 3 * {p}");
    }
    // The hooked model's gradients against finite differences, in float64.
    let squash = net.0.1.hooks_for::<f64>().register_forward_hook(|_, y| Some(y * y));
    let xs = Tensor64::randn([2, 3]).requires_grad_(true);
    let checked = gradcheck_module(&net, |xs| net.forward(&xs[0]).sum(), &[xs]);
    handle.remove();
    squash.remove();
    checked.unwrap();
}

#[test]
fn a_float32_hook_reads_a_float64_model_rounded() {
    let net = sequential![hidden: Linear::<2, 3>::new().to_f64(), act: ReLU];
    let calls = Arc::new(AtomicUsize::new(0));
    let calls_in_hook = Arc::clone(&calls);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in_hook = Arc::clone(&seen);
    let handle = net.hidden.register_forward_hook(move |x, y| {
        calls_in_hook.fetch_add(1, Ordering::SeqCst);
        seen_in_hook.lock().unwrap().push((x.to_vec(), y.shape()));
        None
    });
    let x = Tensor64::from_vec(vec![0.1, 0.7], [1, 2]);
    let y = net.forward(&x);
    handle.remove();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(*seen.lock().unwrap(), [(vec![0.1f32, 0.7], vec![1, 3])]);
    assert_eq!(
        y.to_vec(),
        net.act.forward(&net.hidden.forward(&x)).to_vec(),
        "None keeps the float64 output"
    );
}

#[test]
fn a_float32_hook_replacing_a_float64_value_panics_naming_the_float64_registration() {
    let layer = Linear::<3, 2>::new().to_f64();
    let handle = layer.register_forward_hook(|_, y| Some(y * 2.0));
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| layer.forward(&Tensor64::ones([1, 3]))));
    handle.remove();
    assert_eq!(
        panic_message(caught.unwrap_err()),
        "a forward hook on Linear<3, 2, f64> registered for float32 replaced its float64 output: a hook reads values \
         of the other element type and replaces only its own; register it with \
         `hooks_for::<f64>().register_forward_hook` (`module_hooks_for::<f64>().register_forward_hook` for a \
         hook on every block)"
    );

    let relu = ReLU;
    let handle = relu.hooks_for::<f64>().register_forward_pre_hook(|x| Some(x.clone()));
    let caught = std::panic::catch_unwind(|| relu.forward(&Tensor::ones([1])));
    handle.remove();
    assert!(
        panic_message(caught.unwrap_err()).contains("registered for float64 replaced its float32 input"),
        "the other way round too"
    );
}

#[test]
fn a_float64_module_hook_runs_for_every_block_and_tells_the_path() {
    let net = sequential![Linear::<3, 4>::new().to_f64(), sequential![ReLU, Linear::<4, 2>::new().to_f64()]];
    let order = Arc::new(Mutex::new(Vec::new()));
    let order_in_hook = Arc::clone(&order);
    // A global hook sees every thread's blocks (other tests run meanwhile): keep this thread's.
    let this_thread = std::thread::current().id();
    let global = blocks::nn::module_hooks_for::<f64>().register_forward_hook(move |block, _, y| {
        if std::thread::current().id() == this_thread {
            order_in_hook.lock().unwrap().push(format!(
                "{} at '{}' {:?}",
                block.name(),
                block.path(),
                y.shape()
            ));
        }
        None
    });
    net.forward(&Tensor64::ones([1, 3]));
    global.remove();
    assert_eq!(
        *order.lock().unwrap(),
        [
            "Linear at '0' [1, 4]",
            "ReLU at '1.0' [1, 4]",
            "Linear at '1.1' [1, 2]",
            "Sequential at '1' [1, 2]",
            "Sequential at '' [1, 2]",
        ]
    );
}

#[test]
fn a_float64_model_with_hooks_runs_on_many_threads() {
    with_watchdog(|| {
        let net = Arc::new(sequential![Linear::<4, 8>::new().to_f64(), ReLU, Linear::<8, 2>::new().to_f64()]);
        let x = Tensor64::randn([3, 4]);
        let expected: Vec<f64> = net.forward(&x).to_vec().iter().map(|v| v * 2.0).collect();
        let calls = Arc::new(AtomicUsize::new(0));
        let calls_in_hook = Arc::clone(&calls);
        let handle = net.0.2.hooks_for::<f64>().register_forward_hook(move |_, y| {
            calls_in_hook.fetch_add(1, Ordering::SeqCst);
            Some(y * 2.0)
        });
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (net, x, expected) = (Arc::clone(&net), x.clone(), expected.clone());
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        assert_eq!(net.forward(&x).to_vec(), expected);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        handle.remove();
        assert_eq!(calls.load(Ordering::SeqCst), 8 * 25);
    });
}
