//! The layer blocks beyond what the PyTorch cases pin: Dropout in training
//! by its statistics, BatchNorm's int64 counter through a file, momentum
//! `None`, layers without running statistics, the typed LeNet's printout,
//! and `apply` seeing convolutions as PyTorch's `type(m) == nn.Conv2d`.

/// The examples' networks (LeNet here); the rest is used by other tests.
#[allow(dead_code)]
use blocks::io::TensorFile;
use blocks::nn::{
    AvgPool2d, BatchNorm2d, BatchNormOptions, Conv2d, Dropout, DynBatchNorm1d, Flatten, Images, Linear,
    Module, ReLU, apply,
};
use blocks::{Tensor, manual_seed, sequential};
use convnets::lenet;

use crate::support::convnets;

#[test]
fn dropout_in_training_zeroes_about_p_and_scales_the_rest() {
    for p in [0.1, 0.3, 0.5, 0.8] {
        manual_seed(7);
        let layer = Dropout::new(p);
        let n = 100_000usize;
        let x = Tensor::rand([n]).requires_grad_(true);
        let y = layer.forward(&x);
        let (xs, ys) = (x.to_vec(), y.to_vec());
        let zeros = ys.iter().filter(|&&v| v == 0.0).count() as f64;
        // Binomial(n, p): within 5 standard deviations of n·p.
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        assert!((zeros - mean).abs() <= 5.0 * sd, "p = {p}: {zeros} zeros, expected {mean} ± {}", 5.0 * sd);
        let scale = 1.0f32 / (1.0 - p) as f32;
        for (i, (&a, &b)) in xs.iter().zip(&ys).enumerate() {
            assert!(b == 0.0 || b == a * scale, "p = {p}: element {i}: {a} became {b}, not 0 or x/(1-p)");
        }
        // The mean is kept (within 5 standard errors of the kept values' scaled mean).
        let (mx, my) = (xs.iter().sum::<f32>() / n as f32, ys.iter().sum::<f32>() / n as f32);
        assert!((mx - my).abs() < 5.0 * (scale / (n as f32).sqrt()), "p = {p}: mean {mx} became {my}");
        y.sum().backward();
        let grad = x.grad().expect("gradient").to_vec();
        for (i, (&g, &b)) in grad.iter().zip(&ys).enumerate() {
            let expected = if b == 0.0 && xs[i] != 0.0 { 0.0 } else { scale };
            assert_eq!(g, expected, "p = {p}: gradient at {i} (output {b})");
        }
    }
}

#[test]
fn dropout_is_the_identity_in_eval_and_follows_its_parent() {
    let net = sequential![Linear::<4, 8>::new(), ReLU, Dropout::new(0.5), Linear::<8, 2>::new()];
    net.eval();
    let x = Tensor::rand([3, 4]);
    assert_eq!(net.forward(&x).to_vec(), net.forward(&x).to_vec());
    let layer = Dropout::new(0.5);
    layer.eval();
    let x = Tensor::rand([10]);
    assert!(layer.forward(&x).same(&x));
    layer.train();
    manual_seed(1);
    assert!(layer.forward(&Tensor::ones([1000])).to_vec().contains(&0.0));
}

#[test]
fn num_batches_tracked_is_saved_and_loaded_as_int64() {
    let bn = BatchNorm2d::<3>::new();
    for _ in 0..3 {
        bn.forward(&Images::<3>::new(Tensor::rand([2, 3, 4, 4])));
    }
    assert_eq!(bn.parameter("num_batches_tracked").unwrap().item(), 3.0);
    assert!(
        bn.state_dict().to_string().ends_with("('num_batches_tracked', tensor(3))])"),
        "{}",
        bn.state_dict()
    );
    let dir = std::env::temp_dir().join(format!("blocks-layer-blocks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bn.safetensors");
    bn.save(&path).unwrap();
    let file = TensorFile::read(&path).unwrap();
    assert_eq!(file.dtype("num_batches_tracked").unwrap(), "I64", "saved as int64");
    assert_eq!(file.integers("num_batches_tracked").unwrap(), (vec![3], vec![]));
    assert_eq!(file.shape("running_mean").unwrap(), vec![3]);
    let copy = BatchNorm2d::<3>::new();
    copy.load(&path).unwrap();
    assert_eq!(copy.parameter("num_batches_tracked").unwrap().item(), 3.0);
    assert_eq!(
        copy.parameter("running_var").unwrap().to_vec(),
        bn.parameter("running_var").unwrap().to_vec()
    );
    // Saved again from the loaded state dict, still int64.
    copy.state_dict().save(&path).unwrap();
    assert_eq!(TensorFile::read(&path).unwrap().integers("num_batches_tracked").unwrap().0, vec![3]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn momentum_none_keeps_a_cumulative_average() {
    let bn = DynBatchNorm1d::new(1, BatchNormOptions { momentum: None, ..Default::default() });
    assert!(bn.to_string().contains("momentum=None"));
    bn.forward(&Tensor::from_vec(vec![1.0, 3.0], [2, 1])); // mean 2, unbiased var 2
    bn.forward(&Tensor::from_vec(vec![5.0, 9.0], [2, 1])); // mean 7, unbiased var 8
    assert_eq!(bn.parameter("running_mean").unwrap().to_vec(), vec![4.5]);
    assert_eq!(bn.parameter("running_var").unwrap().to_vec(), vec![5.0]);
    assert_eq!(bn.parameter("num_batches_tracked").unwrap().item(), 2.0);
}

#[test]
fn without_running_stats_batch_norm_uses_the_batch_in_eval_too() {
    let bn = DynBatchNorm1d::new(
        2,
        BatchNormOptions { track_running_stats: false, affine: false, ..Default::default() },
    );
    assert!(bn.state_dict().is_empty());
    bn.eval();
    let y = bn.forward(&Tensor::from_vec(vec![1.0, 10.0, 3.0, 30.0], [2, 2]));
    for (a, b) in y.to_vec().iter().zip([-1.0, -1.0, 1.0, 1.0]) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

/// d2l's LeNet, typed, prints as PyTorch prints it (the `lenet` case's `module_repr`).
#[test]
fn typed_lenet_prints_as_pytorch() {
    let net = lenet();
    let case = TensorFile::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/conformance/layers/lenet.io.safetensors"
    ))
    .unwrap();
    assert_eq!(net.to_string(), case.metadata()["module_repr"]);
    assert_eq!(net.forward(&Images::<1>::new(Tensor::rand([2, 1, 28, 28]))).shape(), vec![2, 10]);
    // Every conv found as `type(m) == nn.Conv2d` finds it, whatever its channels.
    let mut convs = Vec::new();
    apply(&net, |m| {
        if let Some(conv) = m.as_conv2d() {
            convs.push((conv.in_channels(), conv.out_channels()));
        }
    });
    assert_eq!(convs, [(1, 6), (6, 16)]);
}

#[test]
#[should_panic(
    expected = "Linear<400, 120> takes 400 input features, but got a tensor of shape [1, 256] (at block 2)"
)]
fn after_flatten_the_next_linear_checks_its_width_at_run_time() {
    let net = sequential![Conv2d::<1, 16, 5>::new(), Flatten::default(), Linear::<400, 120>::new()];
    net.forward(&Images::<1>::new(Tensor::rand([1, 1, 8, 8])));
}

/// Runs `f` on another thread, failing (never hanging) after 60 s.
fn within_watchdog<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(f());
    });
    receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not finish within the watchdog's 60 s (or panicked)"))
}

#[test]
fn one_cnn_shared_by_many_threads() {
    let net = std::sync::Arc::new(sequential![
        Conv2d::<1, 4, 3>::new().padding(1),
        BatchNorm2d::<4>::new(),
        ReLU,
        Dropout::new(0.5),
        AvgPool2d::new(2),
        Flatten::default(),
        Linear::<256, 3>::new(),
    ]);
    let x = Tensor::rand([2, 1, 16, 16]);
    // Eval: every thread sees the same answer as one thread alone.
    net.eval();
    let expected = net.forward(&x).to_vec();
    let (threads, rounds) = (8, 25);
    let shared = (net.clone(), x.clone());
    let answers = within_watchdog("eval forwards on 8 threads", move || {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (net, x) = (shared.0.clone(), shared.1.clone());
                std::thread::spawn(move || (0..rounds).map(|_| net.forward(&x).to_vec()).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("thread")).collect::<Vec<_>>()
    });
    assert_eq!(answers.len(), threads * rounds);
    assert!(answers.iter().all(|a| *a == expected), "a thread saw another answer in eval mode");
    // Train: every forward is counted once in num_batches_tracked, and the
    // running statistics stay finite.
    net.train();
    let shared = (net.clone(), x.clone());
    within_watchdog("train forwards on 8 threads", move || {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (net, x) = (shared.0.clone(), shared.1.clone());
                std::thread::spawn(move || {
                    for _ in 0..rounds {
                        net.forward(&x).sum().backward();
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().expect("thread"));
    });
    assert_eq!(net.parameter("1.num_batches_tracked").unwrap().item(), (threads * rounds) as f32);
    assert!(net.parameter("1.running_var").unwrap().to_vec().iter().all(|v| v.is_finite() && *v > 0.0));
}
