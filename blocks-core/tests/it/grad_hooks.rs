//! `Tensor::register_hook` with PyTorch's semantics: a non-leaf's hook sees
//! its complete gradient once and what it returns flows on; a leaf's hook
//! sees the pass's sum before `.grad`; hooks chain in registration order;
//! `retain_grad` stores the hooked gradient; handles remove; shape changes
//! panic; many threads and hooks that register hooks, under a watchdog.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blocks_core::Tensor;

#[test]
fn a_non_leaf_hook_sees_the_summed_gradient_once_and_its_replacement_flows_on() {
    let x = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    let h = &x * 3.0; // h = [3, 6]
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in_hook = Arc::clone(&seen);
    let _handle = h.register_hook(move |g| {
        seen_in_hook.lock().unwrap().push(g.to_vec());
        Some(g * 0.5)
    });
    // y = sum(h*h + h): dy/dh = 2h + 1 = [7, 13], summed over both uses of h.
    (&(&h * &h) + &h).sum().backward();
    assert_eq!(*seen.lock().unwrap(), vec![vec![7.0, 13.0]]);
    // dx = 3 * 0.5 * (2h + 1)
    assert_eq!(x.grad().unwrap().to_vec(), vec![10.5, 19.5]);
}

#[test]
fn a_leaf_hook_sees_the_sum_of_the_pass_before_grad() {
    let x = Tensor::from_vec(vec![2.0], [1]).requires_grad_(true);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let calls_in_hook = Arc::clone(&calls);
    let _handle = x.register_hook(move |g| {
        calls_in_hook.lock().unwrap().push(g.to_vec()[0]);
        Some(g + 100.0)
    });
    // y = 3x + x*x: two uses, one sum 3 + 2x = 7.
    (&(&x * 3.0) + &(&x * &x)).sum().backward();
    assert_eq!(*calls.lock().unwrap(), vec![7.0]);
    assert_eq!(x.grad().unwrap().to_vec(), vec![107.0]);
    // The next pass adds its own hooked gradient to .grad.
    (&x * 1.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![107.0 + 101.0]);
    // A leaf that is the root.
    let root = Tensor::from_vec(vec![5.0], [1]).requires_grad_(true);
    let _root_hook = root.register_hook(|g| Some(g * 4.0));
    root.backward();
    assert_eq!(root.grad().unwrap().to_vec(), vec![4.0]);
}

#[test]
fn hooks_chain_in_registration_order_and_none_keeps_the_gradient() {
    let x = Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
    let h = &x * 1.0;
    let order = Arc::new(Mutex::new(Vec::new()));
    let (a, b, c) = (Arc::clone(&order), Arc::clone(&order), Arc::clone(&order));
    let handles = [
        h.register_hook(move |g| {
            a.lock().unwrap().push(("times 2", g.to_vec()[0]));
            Some(g * 2.0)
        }),
        h.register_hook(move |g| {
            b.lock().unwrap().push(("reads", g.to_vec()[0]));
            None
        }),
        h.register_hook(move |g| {
            c.lock().unwrap().push(("plus 1", g.to_vec()[0]));
            Some(g + 1.0)
        }),
    ];
    h.retain_grad();
    (&h * 5.0).sum().backward();
    assert_eq!(*order.lock().unwrap(), vec![("times 2", 5.0), ("reads", 10.0), ("plus 1", 10.0)]);
    assert_eq!(h.grad().unwrap().to_vec(), vec![11.0], "retain_grad stores the hooked gradient (PyTorch 2)");
    assert_eq!(x.grad().unwrap().to_vec(), vec![11.0]);

    handles[0].remove();
    handles[2].remove();
    handles[2].remove();
    x.zero_grad();
    let y = &x * 1.0;
    let kept = y.register_hook(|_| None);
    (&y * 5.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![5.0]);
    kept.remove();
}

#[test]
fn a_removed_hook_does_not_run() {
    let x = Tensor::ones([2]).requires_grad_(true);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let handle = x.register_hook(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        None
    });
    x.sum().backward();
    handle.remove();
    x.sum().backward();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 2.0]);
}

#[test]
fn a_hook_that_changes_the_shape_panics_as_pytorch() {
    let x = Tensor::ones([3]).requires_grad_(true);
    let _handle = x.register_hook(|_| Some(Tensor::ones([2])));
    let caught = std::panic::catch_unwind(|| x.sum().backward()).unwrap_err();
    let message = caught.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "hook has changed the size of value: the gradient has shape [3], the hook returned shape [2]"
    );
}

#[test]
#[should_panic(expected = "cannot register a hook on a tensor that doesn't require gradient")]
fn a_tensor_without_grad_refuses_a_hook() {
    let _ = Tensor::ones([1]).register_hook(|_| None);
}

#[test]
fn passes_on_many_threads_with_hooks_that_register_hooks() {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
        let h = &x * 2.0;
        let y = (&h * &h).sum();
        let calls = Arc::new(AtomicUsize::new(0));
        let (counted, h_in_hook) = (Arc::clone(&calls), h.clone());
        let _handle = h.register_hook(move |g| {
            counted.fetch_add(1, Ordering::SeqCst);
            h_in_hook.register_hook(|_| None).remove(); // registering from a hook cannot deadlock
            Some(g * 0.5)
        });
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let y = y.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        y.backward_with_options(None, true);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 100);
        // Each pass: dx = 2 * 0.5 * 2h = 4x; 100 passes.
        let grad = x.grad().unwrap().to_vec();
        for (g, x) in grad.iter().zip([1.0f32, 2.0, 3.0]) {
            assert!((g - 400.0 * x).abs() < 1e-3, "{grad:?}");
        }
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => std::panic::resume_unwind(worker.join().unwrap_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("backward with hooks did not finish in 60 s"),
    }
}
