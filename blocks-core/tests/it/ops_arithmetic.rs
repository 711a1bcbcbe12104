//! Arithmetic, reductions, matmul, linear, reshape and relu: known answers and
//! gradcheck on random shapes (broadcast shapes and size-1 axes included).

use crate::support;

use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{any_tensor, away_from_zero, broadcast_pair, check, shape, tensor};

#[test]
fn arithmetic_known_answers() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    let b = Tensor::from_vec(vec![10.0, 20.0], [2]);
    assert_eq!((&a + &b).to_vec(), vec![11.0, 22.0, 13.0, 24.0]);
    assert_eq!((&a - &b).to_vec(), vec![-9.0, -18.0, -7.0, -16.0]);
    assert_eq!((&a * &b).to_vec(), vec![10.0, 40.0, 30.0, 80.0]);
    assert_eq!((&b / &a).to_vec(), vec![10.0, 10.0, 10.0 / 3.0, 5.0]);
    assert_eq!((2.0 * &a).to_vec(), vec![2.0, 4.0, 6.0, 8.0]);
    assert_eq!((1.0 - &a).to_vec(), vec![0.0, -1.0, -2.0, -3.0]);
    assert_eq!((4.0 / &a).to_vec(), vec![4.0, 2.0, 4.0 / 3.0, 1.0]);
    assert_eq!((&a + 1.0).to_vec(), vec![2.0, 3.0, 4.0, 5.0]);
    assert_eq!((-&a).to_vec(), vec![-1.0, -2.0, -3.0, -4.0]);
}

#[test]
fn reductions_known_answers() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    assert_eq!(a.sum().item(), 21.0);
    assert_eq!(a.mean().item(), 3.5);
    assert_eq!(a.sum_dim(&[0], false).to_vec(), vec![5.0, 7.0, 9.0]);
    assert_eq!(a.sum_dim(&[1], true).shape(), vec![2, 1]);
    assert_eq!(a.mean_dim(&[-1], false).to_vec(), vec![2.0, 5.0]);
    assert_eq!(a.sum_dim(&[0, 1], false).item(), 21.0);
}

#[test]
fn matmul_known_answers_for_every_form() {
    let m = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    let v = Tensor::from_vec(vec![1.0, 0.0, -1.0], [3]);
    assert_eq!(v.matmul(&v).item(), 2.0);
    assert_eq!(m.matmul(&v).to_vec(), vec![-2.0, -2.0]);
    let u = Tensor::from_vec(vec![1.0, -1.0], [2]);
    assert_eq!(u.matmul(&m).to_vec(), vec![-3.0, -3.0, -3.0]);
    let mt = Tensor::from_vec(vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0], [3, 2]);
    assert_eq!(m.matmul(&mt).to_vec(), vec![14.0, 32.0, 32.0, 77.0]);
    let batch = Tensor::from_vec([m.to_vec(), m.to_vec()].concat(), [2, 2, 3]);
    let product = batch.matmul(&mt);
    assert_eq!(product.shape(), vec![2, 2, 2]);
    assert_eq!(product.to_vec(), vec![14.0, 32.0, 32.0, 77.0, 14.0, 32.0, 32.0, 77.0]);
}

#[test]
fn linear_matches_matmul_with_transposed_weight() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    let w = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2]);
    let b = Tensor::from_vec(vec![0.5, -0.5, 0.0], [3]);
    assert_eq!(x.linear(&w, Some(&b)).to_vec(), vec![1.5, 1.5, 3.0, 3.5, 3.5, 7.0]);
    assert_eq!(x.linear(&w, None).to_vec(), vec![1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
    let x3 = x.reshape(&[1, 2, 2]);
    assert_eq!(x3.linear(&w, Some(&b)).shape(), vec![1, 2, 3]);
}

#[test]
fn grad_fn_names_are_pytorchs() {
    let x = Tensor::ones([2, 3]).requires_grad_(true);
    let w = Tensor::ones([4, 3]).requires_grad_(true);
    let b = Tensor::ones([4]).requires_grad_(true);
    assert_eq!(x.linear(&w, Some(&b)).grad_fn(), Some("AddmmBackward0"));
    assert_eq!((&x + &x).grad_fn(), Some("AddBackward0"));
    assert_eq!((&x * 2.0).grad_fn(), Some("MulBackward0"));
    assert_eq!((&x / 2.0).grad_fn(), Some("DivBackward0"));
    assert_eq!(x.relu().grad_fn(), Some("ReluBackward0"));
    assert_eq!(x.sum().grad_fn(), Some("SumBackward0"));
    assert_eq!(x.mean().grad_fn(), Some("MeanBackward0"));
    assert_eq!(x.matmul(&w.reshape(&[3, 4])).grad_fn(), Some("MmBackward0"));
}

#[test]
#[should_panic(expected = "matmul: cannot multiply [2, 20] by [256, 10] (20 != 256)")]
fn matmul_shape_mismatch_names_both_shapes() {
    Tensor::zeros([2, 20]).matmul(&Tensor::zeros([256, 10]));
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [2] cannot be broadcast together")]
fn broadcast_mismatch_names_both_shapes() {
    let _ = &Tensor::zeros([2, 3]) + &Tensor::zeros([2]);
}

fn pair() -> impl Strategy<Value = (Tensor64, Tensor64)> {
    broadcast_pair().prop_flat_map(|(a, b)| (tensor(a, -2.0, 2.0), tensor(b, -2.0, 2.0)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn add_sub_mul_broadcast_pass_gradcheck((a, b) in pair()) {
        check(|t| &t[0] + &t[1], &[a.clone(), b.clone()])?;
        check(|t| &t[0] - &t[1], &[a.clone(), b.clone()])?;
        check(|t| &t[0] * &t[1], &[a, b])?;
    }

    #[test]
    fn div_broadcast_passes_gradcheck(
        (a, b) in broadcast_pair().prop_flat_map(|(a, b)| (tensor(a, -2.0, 2.0), away_from_zero(b, 0.5, 2.0)))
    ) {
        check(|t| &t[0] / &t[1], &[a, b])?;
    }

    #[test]
    fn scalar_ops_pass_gradcheck(a in any_tensor(3, 0.5, 2.0), s in -3.0f64..3.0) {
        check(|t| &t[0] + s, std::slice::from_ref(&a))?;
        check(|t| &t[0] - s, std::slice::from_ref(&a))?;
        check(|t| &t[0] * s, std::slice::from_ref(&a))?;
        check(|t| s - &t[0], std::slice::from_ref(&a))?;
        check(|t| s / &t[0], std::slice::from_ref(&a))?;
        check(|t| -&t[0], &[a])?;
    }

    #[test]
    fn reductions_pass_gradcheck(a in any_tensor(3, -2.0, 2.0), keepdim in any::<bool>(), d in 0isize..3) {
        let dim = d % a.ndim() as isize;
        check(|t| t[0].sum(), std::slice::from_ref(&a))?;
        check(|t| t[0].mean(), std::slice::from_ref(&a))?;
        check(|t| t[0].sum_dim(&[dim], keepdim), std::slice::from_ref(&a))?;
        check(|t| t[0].mean_dim(&[-1 - dim], keepdim), &[a])?;
    }

    #[test]
    fn matmul_passes_gradcheck(n in 1usize..4, k in 1usize..4, m in 1usize..4, batch in 1usize..3) {
        let a = Tensor64::rand([n, k]).requires_grad_(true);
        let b = Tensor64::rand([k, m]).requires_grad_(true);
        let v = Tensor64::rand([k]).requires_grad_(true);
        let w = Tensor64::rand([k]).requires_grad_(true);
        let bat = Tensor64::rand([batch, n, k]).requires_grad_(true);
        check(|t| t[0].matmul(&t[1]), &[a.clone(), b.clone()])?;
        check(|t| t[0].matmul(&t[1]), &[a, v.clone()])?;
        check(|t| t[0].matmul(&t[1]), &[v.clone(), b.clone()])?;
        check(|t| t[0].matmul(&t[1]), &[v, w])?;
        check(|t| t[0].matmul(&t[1]), &[bat, b])?;
    }

    #[test]
    fn linear_passes_gradcheck(lead in shape(2), i in 1usize..4, o in 1usize..4, bias in any::<bool>()) {
        let mut x_shape = lead;
        x_shape.push(i);
        let x = Tensor64::rand(&x_shape).requires_grad_(true);
        let w = Tensor64::randn([o, i]).requires_grad_(true);
        let b = Tensor64::randn([o]).requires_grad_(true);
        if bias {
            check(|t| t[0].linear(&t[1], Some(&t[2])), &[x, w, b])?;
        } else {
            check(|t| t[0].linear(&t[1], None), &[x, w])?;
        }
    }

    #[test]
    fn relu_and_reshape_pass_gradcheck(s in shape(3)) {
        let len: usize = s.iter().product();
        let a = Tensor64::randn(&s).requires_grad_(true);
        // Keep away from the kink at 0.
        let a = Tensor64::from_vec(a.to_vec().into_iter().map(|v| if v.abs() < 1e-3 { 0.5 } else { v }).collect(), &s)
            .requires_grad_(true);
        check(|t| t[0].relu(), std::slice::from_ref(&a))?;
        check(|t| t[0].reshape(&[len as isize]), &[a])?;
    }
}
