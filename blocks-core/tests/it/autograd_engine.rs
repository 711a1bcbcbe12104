//! The autograd engine's behaviour: accumulation, graph freeing, deep graphs,
//! in-place rules and thread safety.

use blocks_core::{Tensor, no_grad};

#[test]
fn leaf_gradients_accumulate_until_zeroed() {
    let x = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    (&x * 3.0).sum().backward();
    (&x * 3.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
}

#[test]
fn a_tensor_used_twice_gets_the_sum_of_both_gradients() {
    let w = Tensor::from_vec(vec![2.0, -1.0, 0.5, 3.0], [2, 2]).requires_grad_(true);
    let x = Tensor::from_vec(vec![1.0, 1.0], [1, 2]);
    let h = x.linear(&w, None);
    let y = h.linear(&w, None).sum();
    y.backward();
    // y = x W^T W^T 1; dy/dW = g1^T x + g2^T h with g2 = 1, g1 = 1 W
    let expected = {
        let (w00, w01, w10, w11) = (2.0f32, -1.0, 0.5, 3.0);
        let h = [w00 + w01, w10 + w11];
        let g1 = [w00 + w10, w01 + w11];
        vec![g1[0] + h[0], g1[0] + h[1], g1[1] + h[0], g1[1] + h[1]]
    };
    assert_eq!(w.grad().unwrap().to_vec(), expected);
}

#[test]
fn a_ten_thousand_step_chain_neither_overflows_backward_nor_drop() {
    let x = Tensor::from_vec(vec![1.0f32], [1]).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..10_000 {
        y = &y * 1.0001;
    }
    let total = y.sum();
    total.backward();
    let expected = 1.0001f32.powi(10_000);
    let got = x.grad().unwrap().item();
    assert!((got - expected).abs() / expected < 1e-3, "{got} vs {expected}");
    // A second, unwalked chain is dropped without recursion too.
    let mut z = x.clone();
    for _ in 0..100_000 {
        z = &z + 1.0;
    }
    drop(z);
}

#[test]
#[should_panic(expected = "Trying to backward through the graph a second time")]
fn a_second_backward_through_a_freed_graph_panics() {
    let x = Tensor::ones([1]).requires_grad_(true);
    let y = (&x * &x).sum();
    y.backward();
    y.backward();
}

#[test]
#[should_panic(expected = "grad can be implicitly created only for scalar outputs")]
fn backward_on_a_non_scalar_panics() {
    let x = Tensor::ones([2]).requires_grad_(true);
    (&x * 2.0).backward();
}

#[test]
#[should_panic(expected = "a leaf Variable that requires grad is being used in an in-place operation.")]
fn in_place_on_a_leaf_that_requires_grad_panics() {
    let mut x = Tensor::ones([2]).requires_grad_(true);
    x /= 2.0;
}

#[test]
fn in_place_on_a_leaf_under_no_grad_updates_the_data() {
    let mut x = Tensor::ones([2]).requires_grad_(true);
    let handle = x.clone();
    no_grad(|| x -= 0.5);
    assert_eq!(handle.to_vec(), vec![0.5, 0.5]);
    assert!(x.same(&handle));
}

#[test]
fn halving_a_non_leaf_in_a_while_loop_gives_pytorchs_gradient() {
    let w = Tensor::from_vec(vec![4.0], [1]).requires_grad_(true);
    let mut x = &w * 2.0; // 8
    let mut halvings = 0;
    while x.sum().item() > 1.0 {
        x /= 2.0;
        halvings += 1;
    }
    x.sum().backward();
    assert_eq!(halvings, 3);
    assert_eq!(x.grad_fn(), Some("DivBackward0"));
    assert_eq!(w.grad().unwrap().to_vec(), vec![0.25]);
}

#[test]
#[should_panic(expected = "modified by an inplace operation")]
fn changing_a_saved_value_before_backward_is_detected() {
    let w = Tensor::ones([2]).requires_grad_(true);
    let x = Tensor::ones([2]);
    let y = (&w * &x).sum();
    x.data_mut()[[0]] = 5.0;
    y.backward();
}

#[test]
fn no_grad_records_nothing() {
    let w = Tensor::ones([2]).requires_grad_(true);
    let y = no_grad(|| (&w * 2.0).sum());
    assert!(!y.requires_grad());
    assert_eq!(y.grad_fn(), None);
}

#[test]
fn tensors_are_send_and_sync_and_serve_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
    let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    let outputs: Vec<f32> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let w = &w;
                scope.spawn(move || Tensor::full([1, 2], i as f32).linear(w, None).sum().item())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outputs, vec![0.0, 10.0, 20.0, 30.0]);
}
