//! The storage and the backward pass under threads: the patterns that used to
//! deadlock (cross loads, `a += b` against `b += a`, readers against writers,
//! a step while a read guard is alive) finish with the right values, and
//! backward passes through one shared graph from several threads give the
//! exact sum of their gradients.
//!
//! Every scenario runs under a watchdog: it fails the test after a generous
//! bound instead of hanging CI. No assertion depends on timing.

use crate::watchdog;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::support::panic_message;
use blocks_core::nn::{DynLinear, ModuleExt};
use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
use blocks_core::{Tensor, no_grad};
use watchdog::{together, within_watchdog};

fn uniform(tensor: &Tensor) -> f32 {
    let values = tensor.to_vec();
    assert!(values.iter().all(|&v| v == values[0]), "a torn update: {values:?}");
    values[0]
}

#[test]
fn two_models_loading_each_others_state_dicts_at_once_finish_with_whole_tensors() {
    within_watchdog("cross loads", || {
        let a = DynLinear::new(8, 4);
        let b = DynLinear::new(8, 4);
        let originals = [a.state_dict(), b.state_dict()].map(|state| {
            state.iter().map(|(key, tensor)| (key.to_string(), tensor.to_vec())).collect::<Vec<_>>()
        });
        let (a, b) = (Arc::new(a), Arc::new(b));
        let bodies: Vec<Box<dyn FnOnce() + Send>> = vec![
            {
                let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                Box::new(move || {
                    for _ in 0..2_000 {
                        a.load_state_dict(&b.state_dict()).expect("same architecture");
                    }
                })
            },
            {
                let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                Box::new(move || {
                    for _ in 0..2_000 {
                        b.load_state_dict(&a.state_dict()).expect("same architecture");
                    }
                })
            },
        ];
        together(bodies);
        // Each tensor of each model holds, whole, the values it or its twin started with.
        for model in [&a, &b] {
            for (key, tensor) in model.state_dict().iter() {
                let now = tensor.to_vec();
                let known = originals.iter().any(|state| state.iter().any(|(k, v)| k == key && *v == now));
                assert!(known, "{key} holds values neither model started with: {now:?}");
            }
        }
    });
}

#[test]
fn a_plus_equals_b_against_b_plus_equals_a_finishes_without_torn_values() {
    within_watchdog("a += b / b += a", || {
        let a = Tensor::ones([64, 64]);
        let b = Tensor::full([64, 64], 2.0);
        let bodies: Vec<Box<dyn FnOnce() + Send>> = vec![
            {
                let (mut a, b) = (a.clone(), b.clone());
                Box::new(move || {
                    for _ in 0..5_000 {
                        a += &b;
                        a *= 0.5;
                    }
                })
            },
            {
                let (a, mut b) = (a.clone(), b.clone());
                Box::new(move || {
                    for _ in 0..5_000 {
                        b += &a;
                        b *= 0.5;
                    }
                })
            },
        ];
        together(bodies);
        // Each update is whole: every element of a tensor saw the same operands.
        // (The values themselves depend on the interleaving.)
        let (a, b) = (uniform(&a), uniform(&b));
        assert!(a > 0.0 && b > 0.0, "a = {a}, b = {b}");
    });
}

#[test]
fn readers_of_x_plus_y_and_y_plus_x_run_alongside_writers_of_both() {
    const WRITES: usize = 3_000;
    within_watchdog("readers and writers", || {
        let x = Tensor::zeros([32, 32]);
        let y = Tensor::full([32, 32], 1000.0);
        // Replaced wholesale by `set_data` while the others are read and incremented.
        let z = Tensor::full([32, 32], 500.0);
        let mut bodies: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
        for flip in [false, true] {
            let (x, y, z) = (x.clone(), y.clone(), z.clone());
            bodies.push(Box::new(move || {
                for _ in 0..WRITES {
                    let sum = if flip { &y + &x } else { &x + &y };
                    let value = uniform(&sum);
                    assert!((1000.0..=1000.0 + 2.0 * WRITES as f32).contains(&value), "{value}");
                    assert_eq!(value.fract(), 0.0);
                    let value = uniform(&(if flip { &z + &x } else { &x + &z }));
                    assert!((500.0..=501.0 + WRITES as f32).contains(&value), "{value}");
                    assert_eq!(value.fract(), 0.0);
                }
            }));
        }
        for target in [x.clone(), y.clone()] {
            bodies.push(Box::new(move || {
                let mut target = target;
                for _ in 0..WRITES {
                    target += 1.0;
                }
            }));
        }
        {
            let z = z.clone();
            bodies.push(Box::new(move || {
                for i in 0..WRITES {
                    // A write that replaces the values wholesale.
                    z.set_data(&Tensor::full([32, 32], 500.0 + (i % 2) as f32));
                }
            }));
        }
        together(bodies);
        // In-place increments are never lost, whatever the interleaving.
        assert_eq!(x.to_vec(), vec![WRITES as f32; 32 * 32]);
        assert_eq!(y.to_vec(), vec![1000.0 + WRITES as f32; 32 * 32]);
        assert_eq!(z.to_vec(), vec![500.0 + ((WRITES - 1) % 2) as f32; 32 * 32]);
    });
}

#[test]
fn a_step_and_set_data_while_a_read_guard_is_alive_finish_with_the_right_values() {
    within_watchdog("step during a read guard", || {
        let w = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
        let mut optimizer = Sgd::new([&w], SgdConfig { lr: 0.5, ..Default::default() });
        (&w * &w).sum().backward(); // grad = 2w = [2, 4]
        let before = w.data();
        optimizer.step();
        assert_eq!(w.to_vec(), vec![0.0, 0.0], "w - 0.5 * 2w");
        assert_eq!(
            before.to_owned().into_raw_vec_and_offset().0,
            vec![1.0, 2.0],
            "the guard keeps what it saw"
        );
        let still = w.data();
        w.set_data(&Tensor::from_vec(vec![7.0, 8.0], [2]));
        assert_eq!(w.to_vec(), vec![7.0, 8.0]);
        assert_eq!(still[[0]], 0.0);
        // A write guard alive while the same thread reads and writes elsewhere.
        let mut guard = w.data_mut();
        guard[[0]] = -1.0;
        assert_eq!(w.to_vec(), vec![7.0, 8.0], "not swapped in before the guard drops");
        optimizer.zero_grad();
        drop(guard);
        assert_eq!(w.to_vec(), vec![-1.0, 8.0]);
    });
}

#[test]
fn concurrent_retaining_backward_passes_through_one_graph_sum_exactly() {
    const THREADS: usize = 4;
    const PASSES: usize = 10;
    const LEN: usize = 262_144;
    within_watchdog("concurrent backward", || {
        let x = Tensor::ones([LEN]).requires_grad_(true);
        let h = &x * 2.0; // a shared non-leaf, reached twice per pass
        h.retain_grad();
        let y = (&(&h * &h) + &h).sum(); // dy/dh = 2h + 1 = 5, dy/dx = 10
        let bodies: Vec<Box<dyn FnOnce() + Send>> = (0..THREADS)
            .map(|_| {
                let y = y.clone();
                Box::new(move || {
                    for _ in 0..PASSES {
                        y.backward_with_options(None, true);
                    }
                }) as Box<dyn FnOnce() + Send>
            })
            .collect();
        together(bodies);
        let passes = (THREADS * PASSES) as f32;
        assert_eq!(x.grad().unwrap().to_vec(), vec![10.0 * passes; LEN]);
        assert_eq!(h.grad().unwrap().to_vec(), vec![5.0 * passes; LEN]);
    });
}

#[test]
fn a_second_pass_without_retain_graph_errors_and_leaves_the_gradient_alone() {
    within_watchdog("second pass", second_pass_errors);
}

fn second_pass_errors() {
    let x = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    let y = (&(&x * 3.0) * &x).sum(); // dy/dx = 6x
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 12.0]);
    let message = panic_message(|| y.backward());
    assert!(message.starts_with("Trying to backward through the graph a second time"), "{message}");
    assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 12.0]);
}

#[test]
fn concurrent_freeing_passes_let_exactly_one_through() {
    within_watchdog("concurrent freeing backward", || {
        for _ in 0..50 {
            let x = Tensor::ones([1000]).requires_grad_(true);
            let y = (&(&x * 2.0) * &x).sum(); // dy/dx = 4x
            let bodies: Vec<Box<dyn FnOnce() + Send>> = (0..4)
                .map(|_| {
                    let y = y.clone();
                    Box::new(move || {
                        let _ = catch_unwind(AssertUnwindSafe(|| y.backward()));
                    }) as Box<dyn FnOnce() + Send>
                })
                .collect();
            together(bodies);
            assert_eq!(x.grad().unwrap().to_vec(), vec![4.0; 1000], "one pass, never more or less");
        }
    });
}

#[test]
fn a_pass_that_fails_puts_back_the_grad_fns_it_took_and_did_not_use() {
    let x = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    let mut h = &x * 1.0;
    let y = &h * &h; // saves h for backward
    no_grad(|| h += 1.0); // modifies a saved value: the pass fails at y's own step
    let seed = Tensor::ones([2]);
    let message = panic_message(|| y.backward_with(&seed));
    assert!(message.contains("modified by an inplace operation"), "{message}");
    // The failed pass did not free what it had not run: it fails the same
    // way again, not with "backward through the graph a second time".
    let message = panic_message(|| y.backward_with(&seed));
    assert!(message.contains("modified by an inplace operation"), "{message}");
    assert!(x.grad().is_none());
}

#[test]
fn a_long_chain_is_walked_and_dropped_without_recursion_while_retained() {
    within_watchdog("100,000-op chain", || {
        let x = Tensor::from_vec(vec![1.0f32], [1]).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = &y + 1.0;
        }
        let total = y.sum();
        total.backward_with_options(None, true);
        total.backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![2.0]);
        drop((total, y));
    });
}

#[test]
fn materializing_a_parameter_from_inside_its_own_make_finishes() {
    within_watchdog("re-entrant materialize", || {
        let w = blocks_core::nn::Parameter::uninitialized(&[Some(3), None]);
        let outer = w
            .materialize_with(|| {
                assert_eq!(w.materialize_with(|| Tensor::ones([3, 5])), Ok(true));
                Tensor::zeros([3, 5])
            })
            .expect("the shapes fit");
        assert!(!outer, "the inner call materialized it first");
        assert_eq!(w.to_vec(), vec![1.0; 15]);
    });
}
