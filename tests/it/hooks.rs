//! Forward hooks with PyTorch's semantics (`_call_impl`): pre-hooks read and
//! replace the input, forward hooks the output, in registration order, each
//! phase over a snapshot of the hooks; removable handles; any block (layer,
//! `sequential!`, derived, `Box<dyn Block>`); many threads, and hooks that
//! register hooks, under a watchdog.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use blocks::nn::HookHandle;
use blocks::prelude::*;
use watchdog::with_watchdog;

use crate::support::watchdog;

/// Generic over what it is fed, so that it also goes in a `Box<dyn Block>`.
#[derive(Module)]
#[module(any_input)]
pub(crate) struct Mlp {
    pub(crate) hidden: Linear<4, 8>,
    pub(crate) out: Linear<8, 2>,
    pub(crate) hooks: Hooks,
}

impl<K: FeedsInto<Batch<4>, Self>> Forward<K> for Mlp {
    type Output = Batch<2>;

    fn forward(&self, x: &K) -> Batch<2> {
        self.out.forward(&self.hidden.forward(&x.feed_into()).relu())
    }
}

fn log() -> Arc<Mutex<Vec<String>>> {
    Arc::new(Mutex::new(Vec::new()))
}

fn push(log: &Arc<Mutex<Vec<String>>>, entry: &str) {
    log.lock().unwrap().push(entry.to_string());
}

fn taken(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn a_pre_hook_replaces_the_input_and_a_forward_hook_the_output() {
    manual_seed(0);
    let layer = Linear::<3, 2>::new();
    let x = Tensor::rand([2, 3]);
    let plain = layer.forward(&x).to_vec();
    let doubled_input = layer.forward(&(&x * 2.0)).to_vec();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in_hook = Arc::clone(&seen);
    let pre = layer.register_forward_pre_hook(move |input| {
        seen_in_hook.lock().unwrap().push(input.to_vec());
        Some(input * 2.0)
    });
    assert_eq!(layer.forward(&x).to_vec(), doubled_input);
    assert_eq!(seen.lock().unwrap()[0], x.to_vec()); // the hook read the caller's input

    let outputs = Arc::new(Mutex::new(Vec::new()));
    let outputs_in_hook = Arc::clone(&outputs);
    let post = layer.register_forward_hook(move |input, output| {
        outputs_in_hook.lock().unwrap().push((input.to_vec(), output.to_vec()));
        Some(output + 1.0)
    });
    let y = layer.forward(&x).to_vec();
    let expected: Vec<f32> = doubled_input.iter().map(|v| v + 1.0).collect();
    assert_eq!(y, expected);
    // The forward hook is given the input after the pre-hook, as PyTorch passes `args` on.
    let (hook_input, hook_output) = outputs.lock().unwrap()[0].clone();
    assert_eq!(hook_input, (&x * 2.0).to_vec());
    assert_eq!(hook_output, doubled_input);

    pre.remove();
    post.remove();
    assert_eq!(layer.forward(&x).to_vec(), plain);
}

#[test]
fn hooks_run_in_registration_order_and_none_keeps_the_value() {
    let relu = ReLU;
    let order = log();
    let handles: Vec<HookHandle> = (0..3)
        .map(|i| {
            let order = Arc::clone(&order);
            relu.register_forward_hook(move |_, y| {
                push(&order, &format!("post {i}"));
                (i == 1).then(|| y * 10.0)
            })
        })
        .chain((0..2).map(|i| {
            let order = Arc::clone(&order);
            relu.register_forward_pre_hook(move |_| {
                push(&order, &format!("pre {i}"));
                None
            })
        }))
        .collect();
    let y = relu.forward(&Tensor::from_vec(vec![-1.0, 2.0], [2]));
    assert_eq!(y.to_vec(), vec![0.0, 20.0]);
    assert_eq!(taken(&order), ["pre 0", "pre 1", "post 0", "post 1", "post 2"]);
    for handle in &handles {
        handle.remove();
    }
    relu.forward(&Tensor::ones([1]));
    assert!(taken(&order).is_empty());
}

#[test]
fn a_hook_removed_during_a_phase_still_runs_in_that_pass_as_in_pytorch() {
    // PyTorch runs `for hook_id, hook in (*self._forward_hooks.items(),)`: a snapshot.
    let layer = Linear::<2, 2>::new();
    let order = log();
    let second: Arc<Mutex<Option<HookHandle>>> = Arc::new(Mutex::new(None));
    let (order_a, second_a) = (Arc::clone(&order), Arc::clone(&second));
    let first = layer.register_forward_hook(move |_, _| {
        push(&order_a, "first");
        if let Some(handle) = second_a.lock().unwrap().take() {
            handle.remove();
        }
        None
    });
    let order_b = Arc::clone(&order);
    *second.lock().unwrap() = Some(layer.register_forward_hook(move |_, _| {
        push(&order_b, "second");
        None
    }));
    layer.forward(&Tensor::ones([1, 2]));
    assert_eq!(taken(&order), ["first", "second"]);
    layer.forward(&Tensor::ones([1, 2]));
    assert_eq!(taken(&order), ["first"]);
    first.remove();
}

#[test]
fn a_hook_registered_during_a_phase_first_runs_in_the_next_pass() {
    let layer = Linear::<2, 2>::new();
    let order = log();
    let added: Arc<Mutex<Vec<HookHandle>>> = Arc::new(Mutex::new(Vec::new()));
    let (order_a, added_a) = (Arc::clone(&order), Arc::clone(&added));
    let layer = Arc::new(layer);
    let layer_in_hook = Arc::clone(&layer);
    let outer = layer.register_forward_pre_hook(move |_| {
        push(&order_a, "outer");
        let mut added = added_a.lock().unwrap();
        if added.is_empty() {
            let order_pre = Arc::clone(&order_a);
            added.push(layer_in_hook.register_forward_pre_hook(move |_| {
                push(&order_pre, "added pre");
                None
            }));
            let order_post = Arc::clone(&order_a);
            added.push(layer_in_hook.register_forward_hook(move |_, _| {
                push(&order_post, "added post");
                None
            }));
        }
        None
    });
    layer.forward(&Tensor::ones([1, 2]));
    // The pre-hook phase had its snapshot already; the forward hooks' is taken after the forward.
    assert_eq!(taken(&order), ["outer", "added post"]);
    layer.forward(&Tensor::ones([1, 2]));
    assert_eq!(taken(&order), ["outer", "added pre", "added post"]);
    outer.remove();
    for handle in added.lock().unwrap().iter() {
        handle.remove();
    }
}

#[test]
fn a_pre_hook_that_removes_a_forward_hook_keeps_it_from_running() {
    let layer = Linear::<2, 2>::new();
    let order = log();
    let order_post = Arc::clone(&order);
    let post = Arc::new(layer.register_forward_hook(move |_, _| {
        push(&order_post, "post");
        None
    }));
    let post_in_pre = Arc::clone(&post);
    let pre = layer.register_forward_pre_hook(move |_| {
        post_in_pre.remove();
        None
    });
    layer.forward(&Tensor::ones([1, 2]));
    assert!(taken(&order).is_empty());
    pre.remove();
}

#[test]
fn hooks_fire_on_every_kind_of_block() {
    manual_seed(1);
    let order = log();
    let hook = |name: &'static str| {
        let order = Arc::clone(&order);
        move |_: &Tensor, y: &Tensor| {
            push(&order, &format!("{name} {:?}", y.shape()));
            None
        }
    };
    let net = sequential![Linear::<4, 8>::new(), ReLU, Linear::<8, 2>::new()];
    let mlp = Mlp { hidden: Linear::new(), out: Linear::new(), hooks: Hooks::new() };
    let boxed: Box<dyn Block> = Box::new(Linear::<4, 3>::new());
    let handles = [
        net.register_forward_hook(hook("sequential")),
        net.0.0.register_forward_hook(hook("0")),
        net.0.2.register_forward_hook(hook("2")),
        mlp.register_forward_hook(hook("mlp")),
        mlp.hidden.register_forward_hook(hook("mlp.hidden")),
        boxed.register_forward_hook(hook("boxed")),
    ];
    let x = Tensor::rand([5, 4]);
    net.forward(&x);
    assert_eq!(taken(&order), ["0 [5, 8]", "2 [5, 2]", "sequential [5, 2]"]);
    mlp.forward(&Batch::<4>::new(x.clone()));
    assert_eq!(taken(&order), ["mlp.hidden [5, 8]", "mlp [5, 2]"]);
    boxed.forward_tensor(&x);
    assert_eq!(taken(&order), ["boxed [5, 3]"]);
    // Hooks live in the block: moved into a Sequential or a Box, it keeps them.
    let in_sequential = sequential![Linear::<4, 4>::new(), boxed];
    in_sequential.forward(&x);
    assert_eq!(taken(&order), ["boxed [5, 3]"]);
    let moved = Box::new(mlp);
    moved.forward(&Batch::<4>::new(x.clone()));
    assert_eq!(taken(&order), ["mlp.hidden [5, 8]", "mlp [5, 2]"]);
    for handle in &handles {
        handle.remove();
    }
}

#[test]
fn the_gradient_flows_through_a_replaced_output() {
    manual_seed(2);
    let layer = Linear::<3, 2>::new();
    let x = Tensor::rand([4, 3]);
    layer.forward(&x).sum().backward();
    let plain = layer.weight().grad().unwrap().to_vec();
    layer.zero_grad();
    let handle = layer.register_forward_hook(|_, y| Some(y * 3.0));
    layer.forward(&x).sum().backward();
    handle.remove();
    let hooked = layer.weight().grad().unwrap().to_vec();
    for (h, p) in hooked.iter().zip(&plain) {
        assert!((h - 3.0 * p).abs() < 1e-5, "{h} != 3 * {p}");
    }
}

#[test]
fn a_replacement_of_the_wrong_width_panics_naming_the_block_and_the_hook() {
    let layer = Linear::<3, 2>::new();
    let handle = layer.register_forward_pre_hook(|_| Some(Tensor::ones([1, 5])));
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| layer.forward(&Batch::<3>::rand(1))));
    handle.remove();
    let payload = caught.unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "a forward pre-hook on Linear<3, 2> replaced its input by a tensor of shape [1, 5], which is not a `Batch<3>`"
    );
}

#[test]
fn a_model_with_hooks_runs_on_many_threads_and_hooks_may_register_hooks() {
    with_watchdog(|| {
        manual_seed(3);
        let net = Arc::new(Mlp { hidden: Linear::new(), out: Linear::new(), hooks: Hooks::new() });
        let calls = Arc::new(AtomicUsize::new(0));
        let (calls_in_hook, net_in_hook) = (Arc::clone(&calls), Arc::clone(&net));
        // A hook that registers and removes a hook on the same block while hooks run.
        let handle = net.out.register_forward_hook(move |_, _| {
            calls_in_hook.fetch_add(1, Ordering::SeqCst);
            net_in_hook.out.register_forward_pre_hook(|_| None).remove();
            None
        });
        let x = Tensor::rand([2, 4]);
        let expected = no_grad(|| net.forward(&Batch::<4>::new(x.clone())).to_vec());
        calls.store(0, Ordering::SeqCst);
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (net, x, expected) = (Arc::clone(&net), x.clone(), expected.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        assert_eq!(no_grad(|| net.forward(&Batch::<4>::new(x.clone())).to_vec()), expected);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 200);
        handle.remove();
    });
}

#[allow(dead_code)]
#[path = "../../examples/hooks.rs"]
mod hooks_example;

#[test]
fn the_example_walks_the_shapes_and_changes_values_with_hooks() {
    manual_seed(4);
    let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];
    assert_eq!(
        hooks_example::shape_walk(&net, &Tensor::rand([2, 20])),
        ["Linear output shape:\t[2, 256]", "ReLU output shape:\t[2, 256]", "Linear output shape:\t[2, 10]"]
    );
    let x = Tensor::rand([2, 20]);
    let (zeros, plain, halved) = hooks_example::inspect_and_change(&x);
    assert!(zeros > 0.0 && zeros < 1.0, "{zeros}");
    // Halving the hidden layer's output halves what the ReLU passes on; the last layer adds its bias.
    manual_seed(0);
    let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];
    let h: Tensor = net.0.0.forward(&x).relu().into();
    let expected = (&h * 0.5).linear(net.0.2.weight(), net.0.2.bias().map(|b| &**b)).to_vec();
    assert_eq!(plain, net.forward(&x).to_vec());
    for (got, want) in halved.iter().zip(&expected) {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
    let (seen, grad) = hooks_example::gradient_hook();
    assert_eq!(seen, vec![4.0, -8.0, 12.0]); // d(h²)/dh = 2h, h = 2x
    assert_eq!(grad, vec![16.0, -32.0, 48.0]); // 2 · 2 · 2h
}

#[test]
fn a_module_hook_runs_for_every_block_before_its_own_hooks_and_tells_the_path() {
    let net = sequential![Linear::<3, 4>::new(), sequential![ReLU, Linear::<4, 2>::new()]];
    let order = log();
    let order_global = Arc::clone(&order);
    // A global hook sees every thread's blocks (other tests run meanwhile): keep this thread's.
    let this_thread = std::thread::current().id();
    let global = blocks::nn::register_module_forward_hook(move |block, _, y| {
        if std::thread::current().id() == this_thread {
            push(&order_global, &format!("{} at '{}' {:?}", block.name(), block.path(), y.shape()));
        }
        None
    });
    let order_own = Arc::clone(&order);
    let own = net.0.0.register_forward_hook(move |_, _| {
        push(&order_own, "own hook of 0");
        None
    });
    net.forward(&Tensor::ones([1, 3]));
    global.remove();
    own.remove();
    assert_eq!(
        taken(&order),
        [
            "Linear at '0' [1, 4]",
            "own hook of 0",
            "ReLU at '1.0' [1, 4]",
            "Linear at '1.1' [1, 2]",
            "Sequential at '1' [1, 2]",
            "Sequential at '' [1, 2]",
        ]
    );
    net.forward(&Tensor::ones([1, 3]));
    assert!(taken(&order).is_empty());
}

use crate::support::convnets;

#[test]
fn lenets_shape_walk_by_a_hook_is_the_books_loop() {
    // Four Sigmoids (blocks of size zero): a hook for every block tells them apart by path.
    manual_seed(5);
    let net = convnets::lenet();
    for batch in [1, 3] {
        let x = Tensor::rand([batch, 1, 28, 28]);
        let this_thread = std::thread::current().id();
        let walked = Arc::new(Mutex::new(Vec::new()));
        let walked_in_hook = Arc::clone(&walked);
        let hook = blocks::nn::register_module_forward_hook(move |block, _, y| {
            let top_level = !block.path().is_empty() && !block.path().contains('.');
            if top_level && std::thread::current().id() == this_thread {
                walked_in_hook.lock().unwrap().push((block.name().to_string(), y.shape()));
            }
            None
        });
        net.forward(&x);
        hook.remove();
        let walked = walked.lock().unwrap().clone();
        assert_eq!(walked, convnets::output_shapes(&net, &x));
        assert_eq!(walked.len(), 12);
    }
}
