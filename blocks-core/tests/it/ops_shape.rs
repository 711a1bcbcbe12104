//! Shape ops (transpose, t, permute, flatten, unsqueeze, squeeze, view,
//! expand): known answers, PyTorch's grad_fn names and messages, and
//! gradcheck on random shapes with size-1 axes and negative dims.

use crate::support;

use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{check, shape, tensor};

/// 0, 1, 2, ... in `shape`.
fn arange(shape: &[usize]) -> Tensor {
    let len: usize = shape.iter().product();
    Tensor::arange(0.0, len as f32, 1.0).reshape(&shape.iter().map(|&d| d as isize).collect::<Vec<_>>())
}

#[test]
fn transpose_and_t_known_answers() {
    let x = arange(&[2, 3]);
    assert_eq!(x.t().shape(), vec![3, 2]);
    assert_eq!(x.t().to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert_eq!(x.transpose(1, 0).to_vec(), x.t().to_vec());
    let y = arange(&[2, 2, 3]).transpose(0, 2);
    assert_eq!(y.shape(), vec![3, 2, 2]);
    // y[i, j, k] = x[k, j, i] = 6k + 3j + i
    assert_eq!(y.to_vec(), vec![0.0, 6.0, 3.0, 9.0, 1.0, 7.0, 4.0, 10.0, 2.0, 8.0, 5.0, 11.0]);
    assert_eq!(arange(&[2, 2, 3]).transpose(-1, -3).to_vec(), y.to_vec());
    assert_eq!(x.transpose(1, 1).to_vec(), x.to_vec());
    let v = arange(&[3]);
    assert_eq!(v.t().to_vec(), vec![0.0, 1.0, 2.0]);
    assert_eq!(Tensor::scalar(2.0).t().item(), 2.0);
    assert_eq!(Tensor::scalar(2.0).transpose(0, -1).shape(), Vec::<usize>::new());
}

#[test]
fn permute_known_answers() {
    let x = arange(&[2, 3, 4]);
    let y = x.permute(&[2, 0, 1]);
    assert_eq!(y.shape(), vec![4, 2, 3]);
    let values = y.to_vec();
    for k in 0..4 {
        for i in 0..2 {
            for j in 0..3 {
                // y[k, i, j] = x[i, j, k] = 12i + 4j + k
                assert_eq!(values[k * 6 + i * 3 + j], (12 * i + 4 * j + k) as f32);
            }
        }
    }
    assert_eq!(x.permute(&[-1, 0, -2]).to_vec(), values);
    assert_eq!(x.permute(&[0, 1, 2]).to_vec(), x.to_vec());
    assert_eq!(Tensor::scalar(1.5).permute(&[]).item(), 1.5);
}

#[test]
fn flatten_unsqueeze_squeeze_view_known_answers() {
    let x = arange(&[2, 3, 4]);
    assert_eq!(x.flatten(0, 1).shape(), vec![6, 4]);
    assert_eq!(x.flatten(1, -1).shape(), vec![2, 12]);
    assert_eq!(x.flatten_all().shape(), vec![24]);
    assert_eq!(x.flatten_all().to_vec(), x.to_vec());
    assert_eq!(Tensor::scalar(3.0).flatten_all().shape(), vec![1]);

    assert_eq!(x.unsqueeze(0).shape(), vec![1, 2, 3, 4]);
    assert_eq!(x.unsqueeze(3).shape(), vec![2, 3, 4, 1]);
    assert_eq!(x.unsqueeze(-1).shape(), vec![2, 3, 4, 1]);
    assert_eq!(x.unsqueeze(-4).shape(), vec![1, 2, 3, 4]);
    assert_eq!(x.unsqueeze(1).to_vec(), x.to_vec());
    assert_eq!(Tensor::scalar(3.0).unsqueeze(0).shape(), vec![1]);

    let y = arange(&[1, 2, 1, 3, 1]);
    assert_eq!(y.squeeze().shape(), vec![2, 3]);
    assert_eq!(y.squeeze().to_vec(), y.to_vec());
    assert_eq!(Tensor::ones([1, 1]).squeeze().shape(), Vec::<usize>::new());
    assert_eq!(y.squeeze_dim(2).shape(), vec![1, 2, 3, 1]);
    assert_eq!(y.squeeze_dim(-1).shape(), vec![1, 2, 1, 3]);
    assert_eq!(y.squeeze_dim(1).shape(), vec![1, 2, 1, 3, 1]);
    assert_eq!(Tensor::scalar(3.0).squeeze_dim(0).shape(), Vec::<usize>::new());

    assert_eq!(x.view(&[4, -1]).shape(), vec![4, 6]);
    assert_eq!(x.view(&[4, -1]).to_vec(), x.to_vec());
}

#[test]
fn flatten_of_a_single_dim_returns_the_tensor_itself() {
    let x = Tensor::ones([2, 3]).requires_grad_(true);
    assert!(x.flatten(1, -1).same(&x));
    let v = Tensor::ones([3]);
    assert!(v.flatten_all().same(&v));
}

#[test]
fn expand_known_answers_and_summed_gradient() {
    let x = Tensor::from_vec(vec![1.0, 2.0], [2, 1]).requires_grad_(true);
    let y = x.expand(&[3, -1, 4]);
    assert_eq!(y.shape(), vec![3, 2, 4]);
    assert_eq!(y.to_vec(), [[1.0f32; 4], [2.0; 4]].concat().repeat(3));
    let w = arange(&[3, 2, 4]);
    (&y * &w).sum().backward();
    // d/dx[i] = sum over the copies of x[i] of w = sum_{b, k} w[b, i, k]
    let expected: Vec<f32> =
        (0..2).map(|i| (0..3).flat_map(|b| (0..4).map(move |k| (8 * b + 4 * i + k) as f32)).sum()).collect();
    assert_eq!(x.grad().unwrap().to_vec(), expected);

    assert_eq!(Tensor::scalar(5.0).expand(&[2, 2]).to_vec(), vec![5.0; 4]);
    assert_eq!(Tensor::ones([3]).expand(&[0, 3]).shape(), vec![0, 3]);
    assert_eq!(Tensor::ones([1]).expand_as(&Tensor::zeros([2, 3])).shape(), vec![2, 3]);
    assert_eq!(arange(&[3]).broadcast_to(&[2, 3]).to_vec(), vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
    assert_eq!(arange(&[2, 3]).expand(&[2, 3]).to_vec(), arange(&[2, 3]).to_vec());
}

#[test]
fn transpose_gradient_reaches_the_input_in_its_own_layout() {
    let x = arange(&[2, 3]).requires_grad_(true);
    let w = arange(&[3, 2]);
    (&x.t() * &w).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), w.t().to_vec());
    let p = arange(&[2, 3, 4]).requires_grad_(true);
    let q = arange(&[4, 2, 3]);
    (&p.permute(&[2, 0, 1]) * &q).sum().backward();
    assert_eq!(p.grad().unwrap().to_vec(), q.permute(&[1, 2, 0]).to_vec());
}

#[test]
fn grad_fn_names_are_pytorchs() {
    let x = Tensor::ones([2, 1, 3]).requires_grad_(true);
    let m = Tensor::ones([2, 3]).requires_grad_(true);
    assert_eq!(x.transpose(0, 2).grad_fn(), Some("TransposeBackward0"));
    assert_eq!(m.t().grad_fn(), Some("TBackward0"));
    assert_eq!(x.permute(&[2, 0, 1]).grad_fn(), Some("PermuteBackward0"));
    assert_eq!(x.flatten(0, 1).grad_fn(), Some("ViewBackward0"));
    assert_eq!(x.flatten_all().grad_fn(), Some("ViewBackward0"));
    assert_eq!(x.view(&[-1]).grad_fn(), Some("ViewBackward0"));
    assert_eq!(x.unsqueeze(0).grad_fn(), Some("UnsqueezeBackward0"));
    assert_eq!(x.squeeze().grad_fn(), Some("SqueezeBackward0"));
    assert_eq!(x.squeeze_dim(1).grad_fn(), Some("SqueezeBackward1"));
    assert_eq!(x.squeeze_dim(0).grad_fn(), Some("SqueezeBackward1"));
    assert_eq!(x.expand(&[4, 2, 5, 3]).grad_fn(), Some("ExpandBackward0"));
    assert_eq!(x.broadcast_to(&[2, 2, 3]).grad_fn(), Some("ExpandBackward0"));
}

#[test]
fn try_forms_return_errors_naming_the_shapes() {
    let x = Tensor::zeros([2, 3]);
    assert_eq!(
        x.try_permute(&[0]).unwrap_err().to_string(),
        "permute: the number of dims in [0] (1) does not match the tensor's (2) for shape [2, 3]"
    );
    assert_eq!(
        x.try_permute(&[0, 2]).unwrap_err().to_string(),
        "permute: Dimension out of range (expected to be in range of [-2, 1], but got 2) for shape [2, 3]"
    );
    assert_eq!(
        x.try_expand(&[3]).unwrap_err().to_string(),
        "expand: the number of sizes provided (1) must be greater or equal to the number of \
         dimensions in the tensor (2); target sizes [3], tensor shape [2, 3]"
    );
    assert_eq!(
        x.try_expand(&[-1, 2, 3]).unwrap_err().to_string(),
        "expand: the expanded size of the tensor (-1) isn't allowed in a leading, non-existing \
         dimension 0; target sizes [-1, 2, 3], tensor shape [2, 3]"
    );
    assert_eq!(
        x.try_expand(&[2, -2]).unwrap_err().to_string(),
        "expand: invalid size -2 at dimension 1; target sizes [2, -2], tensor shape [2, 3]"
    );
    assert_eq!(
        x.try_view(&[4, -1]).unwrap_err().to_string(),
        "view: shape [4, -1] is invalid for input of shape [2, 3] (6 elements)"
    );
    assert!(x.try_permute(&[1, 0]).is_ok());
    assert!(x.try_expand(&[5, 2, 3]).is_ok());
}

#[test]
#[should_panic(expected = "transpose: Dimension out of range (expected to be in range of [-2, 1], \
                           but got 2) for shape [2, 3]")]
fn transpose_out_of_range_names_the_shape() {
    Tensor::zeros([2, 3]).transpose(0, 2);
}

#[test]
#[should_panic(expected = "t: expects a tensor with <= 2 dimensions, but got shape [2, 3, 4] (3D)")]
fn t_refuses_three_dims() {
    Tensor::zeros([2, 3, 4]).t();
}

#[test]
#[should_panic(expected = "permute: dim 1 appears more than once in [1, -2, 0] (shape [2, 3, 4])")]
fn permute_refuses_repeated_dims() {
    Tensor::zeros([2, 3, 4]).permute(&[1, -2, 0]);
}

#[test]
#[should_panic(expected = "flatten: start_dim cannot come after end_dim (start_dim -1, end_dim 0) \
                           for a tensor of shape [2, 3]")]
fn flatten_refuses_reversed_dims() {
    Tensor::zeros([2, 3]).flatten(-1, 0);
}

#[test]
#[should_panic(expected = "unsqueeze: Dimension out of range (expected to be in range of [-3, 2], \
                           but got 3) for shape [2, 3]")]
fn unsqueeze_out_of_range_names_the_shape() {
    Tensor::zeros([2, 3]).unsqueeze(3);
}

#[test]
#[should_panic(expected = "squeeze: Dimension out of range (expected to be in range of [-2, 1], \
                           but got -3) for shape [2, 1]")]
fn squeeze_dim_out_of_range_names_the_shape() {
    Tensor::zeros([2, 1]).squeeze_dim(-3);
}

#[test]
#[should_panic(expected = "expand: the expanded size of the tensor (4) must match the existing size (3) \
                           at non-singleton dimension 1; target sizes [2, 4], tensor shape [2, 3]")]
fn expand_mismatch_names_both_shapes() {
    Tensor::zeros([2, 3]).expand(&[2, 4]);
}

#[test]
#[should_panic(expected = "view: shape [4, -1] is invalid for input of shape [2, 3] (6 elements)")]
fn view_of_a_bad_shape_names_both_shapes() {
    Tensor::zeros([2, 3]).view(&[4, -1]);
}

/// A random tensor of 1 to 4 dims, with a dim index into it and whether to
/// count that dim from the end.
fn tensor_and_dim() -> impl Strategy<Value = (Tensor64, usize, bool)> {
    shape(4).prop_flat_map(|s| {
        let ndim = s.len();
        (tensor(s, -2.0, 2.0), 0..ndim, any::<bool>())
    })
}

/// `axis` written as PyTorch users may: as is, or counted from the end.
fn as_dim(axis: usize, ndim: usize, negative: bool) -> isize {
    if negative { axis as isize - ndim as isize } else { axis as isize }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn transpose_and_t_pass_gradcheck((x, a, neg) in tensor_and_dim(), b in 0usize..4) {
        let ndim = x.ndim();
        let (d0, d1) = (as_dim(a, ndim, neg), (b % ndim) as isize);
        check(|t| t[0].transpose(d0, d1), std::slice::from_ref(&x))?;
        let m = x.reshape(&[x.shape()[0] as isize, -1]).detach().requires_grad_(true);
        check(|t| t[0].t(), &[m])?;
    }

    #[test]
    fn permute_passes_gradcheck(
        (x, order) in shape(4).prop_flat_map(|s| {
            let order = Just((0..s.len()).collect::<Vec<_>>()).prop_shuffle();
            (tensor(s, -2.0, 2.0), order)
        }),
        neg in any::<bool>(),
    ) {
        let ndim = x.ndim();
        let dims: Vec<isize> = order.iter().map(|&a| as_dim(a, ndim, neg)).collect();
        let permuted = x.permute(&dims);
        let shape = x.shape();
        prop_assert_eq!(permuted.shape(), order.iter().map(|&a| shape[a]).collect::<Vec<_>>());
        check(|t| t[0].permute(&dims), &[x])?;
    }

    #[test]
    fn flatten_passes_gradcheck((x, a, neg) in tensor_and_dim(), b in 0usize..4) {
        let ndim = x.ndim();
        let (start, end) = (a.min(b % ndim), a.max(b % ndim));
        let flat = x.flatten(as_dim(start, ndim, neg), end as isize);
        prop_assert_eq!(flat.ndim(), ndim - (end - start));
        prop_assert_eq!(flat.to_vec(), x.to_vec());
        check(|t| t[0].flatten(as_dim(start, ndim, neg), end as isize), std::slice::from_ref(&x))?;
        check(|t| t[0].flatten_all(), &[x])?;
    }

    #[test]
    fn unsqueeze_and_squeeze_pass_gradcheck((x, a, neg) in tensor_and_dim(), extra in any::<bool>()) {
        let ndim = x.ndim();
        // unsqueeze takes ndim + 1 positions: the end too.
        let at = if extra { ndim } else { a };
        let dim = as_dim(at, ndim + 1, neg);
        prop_assert_eq!(x.unsqueeze(dim).shape()[at], 1);
        check(|t| t[0].unsqueeze(dim), std::slice::from_ref(&x))?;
        check(|t| t[0].squeeze(), std::slice::from_ref(&x))?;
        check(|t| t[0].squeeze_dim(as_dim(a, ndim, neg)), &[x])?;
    }

    #[test]
    fn expand_passes_gradcheck(
        (x, target) in (shape(3), prop::collection::vec(any::<bool>(), 3), prop::collection::vec(1usize..=3, 0..=2))
            .prop_flat_map(|(full, ones, lead)| {
                let small: Vec<usize> = full.iter().zip(&ones).map(|(&d, &one)| if one { 1 } else { d }).collect();
                let mut target: Vec<isize> = lead.iter().map(|&d| d as isize).collect();
                // Keep a dim with -1 where it is not expanded, as users write it.
                target.extend(full.iter().zip(&small).map(|(&f, &s)| if f == s && f % 2 == 0 { -1 } else { f as isize }));
                (tensor(small, -2.0, 2.0), Just(target))
            }),
    ) {
        check(|t| t[0].expand(&target), std::slice::from_ref(&x))?;
        let target_shape: Vec<usize> = x.expand(&target).shape();
        let other = Tensor64::zeros(&target_shape);
        check(|t| t[0].expand_as(&other), &[x])?;
    }

    #[test]
    fn shape_ops_compose_with_batched_matmul(batch in 1usize..3, n in 1usize..4, k in 1usize..4) {
        // The gradient a batched matmul receives must be row-major: feed it
        // through transpose and permute.
        let a = Tensor64::rand([batch, n, k]).requires_grad_(true);
        let b = Tensor64::rand([batch, k, n]).requires_grad_(true);
        check(|t| t[0].matmul(&t[1]).transpose(-1, -2), &[a.clone(), b.clone()])?;
        check(|t| t[0].matmul(&t[1]).permute(&[2, 0, 1]).transpose(0, 2).flatten(1, 2), &[a, b])?;
    }
}
