//! The layer blocks beyond what the PyTorch cases pin: Dropout in training
//! by its statistics, BatchNorm's int64 counter through a file, momentum
//! `None`, layers without running statistics, the typed LeNet's printout,
//! `apply` seeing convolutions as PyTorch's `type(m) == nn.Conv2d`, and
//! GroupNorm, Dropout2d, Embedding's `padding_idx` and LayerNorm's options as
//! blocks (keys, printouts, checks, modes).

/// The examples' networks (LeNet here); the rest is used by other tests.
#[allow(dead_code)]
use blocks::io::TensorFile;
use blocks::nn::{
    AvgPool2d, BatchNorm2d, BatchNormOptions, Conv2d, Dropout, Dropout2d, DynBatchNorm1d, DynConv2d,
    DynEmbedding, DynGroupNorm, Embedding, Flatten, GroupNorm, Images, LayerNorm, Linear, ModuleExt, ReLU,
    ToElement, apply,
};
use blocks::{Indices, Tensor, manual_seed, sequential};
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
        if let Some(conv) = m.downcast_ref::<DynConv2d>() {
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

/// The message of a panic, for tests that check it.
fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("it panics");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap()
}

#[test]
fn group_norm_has_pytorchs_keys_init_printout_and_checks() {
    let net = sequential![Conv2d::<3, 6, 3>::new(), GroupNorm::<3, 6>::new(), ReLU];
    let keys: Vec<String> = net.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["0.weight", "0.bias", "1.weight", "1.bias"]);
    assert!(
        blocks::nn::module_repr(&net).contains("(1): GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)")
    );
    let gn = GroupNorm::<3, 6>::new();
    assert_eq!(gn.core().weight().unwrap().to_vec(), vec![1.0; 6]);
    assert_eq!(gn.core().bias().unwrap().to_vec(), vec![0.0; 6]);
    let y: Images<6> = net.forward(&Images::<3>::new(Tensor::rand([2, 3, 7, 5])));
    assert_eq!(y.shape(), vec![2, 6, 5, 3]);
    // Without affine: no parameters, PyTorch's printout.
    let plain = DynGroupNorm::with_options(2, 4, 1e-5, false, true);
    assert!(plain.state_dict().keys().is_empty());
    assert_eq!(plain.to_string(), "GroupNorm(2, 4, eps=1e-05, affine=False, bias=False)");
    // bias=False keeps the weight only.
    let keys = DynGroupNorm::with_options(2, 4, 1e-5, true, false).state_dict().keys().len();
    assert_eq!(keys, 1);
    assert_eq!(
        panic_text(|| {
            DynGroupNorm::new(4, 6);
        }),
        "GroupNorm: num_channels (6) must be divisible by num_groups (4)"
    );
    let text = panic_text(|| {
        DynGroupNorm::new(2, 4).forward(&Tensor::rand([2, 6, 3]));
    });
    assert!(text.starts_with("GroupNorm(2, 4, eps=1e-05, affine=True, bias=True) takes [N, 4, *]"), "{text}");
    assert!(text.contains("[2, 6, 3]"), "{text}");
}

#[test]
fn group_norm_behaves_the_same_in_eval_and_converts_to_float64() {
    let gn = DynGroupNorm::new(2, 4);
    gn.weight().unwrap().set_data(&Tensor::from_vec(vec![1.5, 0.5, 2.0, 1.0], [4]));
    let x = Tensor::rand([3, 4, 5]);
    let train = gn.forward(&x).to_vec();
    gn.eval();
    assert_eq!(gn.forward(&x).to_vec(), train);
    let wide = gn.to_f64();
    assert_eq!(wide.to_string(), gn.to_string());
    let y = wide.forward(&x.to_f64());
    for (a, b) in y.to_vec().iter().zip(&train) {
        assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn dropout2d_in_training_zeroes_whole_channels_and_is_the_identity_in_eval() {
    assert_eq!(Dropout2d::default().to_string(), "Dropout2d(p=0.5, inplace=False)");
    for p in [0.2, 0.5] {
        manual_seed(5);
        let layer = Dropout2d::new(p);
        let (n, c, hw) = (40, 100, 6);
        let x = (Tensor::rand([n, c, 2, 3]) + 0.5).requires_grad_(true);
        let y = layer.forward(&x);
        let scale = 1.0f32 / (1.0 - p) as f32;
        let (xs, ys) = (x.to_vec(), y.to_vec());
        let mut zeroed = 0;
        for (xc, yc) in xs.chunks(hw).zip(ys.chunks(hw)) {
            if yc[0] == 0.0 {
                zeroed += 1;
                assert!(yc.iter().all(|&v| v == 0.0), "p = {p}: a channel is zeroed whole");
            } else {
                assert!(
                    xc.iter().zip(yc).all(|(&a, &b)| b == a * scale),
                    "p = {p}: kept channels are scaled"
                );
            }
        }
        let (mean, sd) = ((n * c) as f64 * p, ((n * c) as f64 * p * (1.0 - p)).sqrt());
        assert!(
            (zeroed as f64 - mean).abs() <= 5.0 * sd,
            "p = {p}: {zeroed} channels zeroed, expected {mean}"
        );
        y.sum().backward();
        for (g, &b) in x.grad().unwrap().to_vec().iter().zip(&ys) {
            assert_eq!(*g, if b == 0.0 { 0.0 } else { scale }, "p = {p}: the gradient follows the mask");
        }
    }
    let net = sequential![Conv2d::<2, 4, 3>::new(), ReLU, Dropout2d::new(0.5), Conv2d::<4, 3, 1>::new()];
    net.eval();
    let x = Images::<2>::new(Tensor::rand([2, 2, 5, 5]));
    assert_eq!(net.forward(&x).to_vec(), net.forward(&x).to_vec());
    let layer = Dropout2d::new(0.5);
    layer.eval();
    let x = Tensor::rand([2, 3, 4, 4]);
    assert!(layer.forward(&x).same(&x));
    assert_eq!(
        panic_text(|| {
            Dropout2d::new(1.5);
        }),
        "dropout probability has to be between 0 and 1, but got 1.5"
    );
    assert_eq!(Dropout2d::new(1.0).p(), 1.0);
    assert_eq!(Dropout2d::new(0.0).p(), 0.0);
}

#[test]
fn embedding_padding_idx_is_zero_never_learns_and_prints_as_pytorch() {
    manual_seed(0);
    let embed = DynEmbedding::with_padding_idx(10, 3, 0);
    assert_eq!(embed.to_string(), "Embedding(10, 3, padding_idx=0)");
    assert_eq!(embed.weight().to_vec()[..3], [0.0; 3]);
    assert!(embed.weight().to_vec()[3..].iter().any(|&v| v != 0.0));
    let y = embed.forward(&Indices::from_vec(vec![0, 2, 0, 9], [2, 2]));
    (&y * &y).sum().backward();
    let grad = embed.weight().grad().unwrap().to_vec();
    assert_eq!(grad[..3], [0.0; 3], "the padding row gets no gradient");
    assert!(grad[6..9].iter().any(|&g| g != 0.0), "row 2 does");
    assert_eq!(DynEmbedding::with_padding_idx(10, 3, -10).padding_idx(), Some(0));
    assert_eq!(Embedding::<10, 3>::with_padding_idx(-1).to_string(), "Embedding(10, 3, padding_idx=9)");
    assert_eq!(embed.to_f64().padding_idx(), Some(0));
    for bad in [10, -11] {
        let text = panic_text(|| {
            DynEmbedding::with_padding_idx(10, 3, bad);
        });
        assert!(
            text.starts_with(&format!("Embedding: padding_idx {bad} must be within num_embeddings (10)"))
        );
    }
}

#[test]
fn layer_norm_prints_its_bias_as_pytorch() {
    let plain = LayerNorm::with_options([16], 1e-5, false, true);
    assert_eq!(plain.to_string(), "LayerNorm((16,), eps=1e-05, elementwise_affine=False, bias=False)");
    let no_bias = LayerNorm::with_options([2, 3], 1e-5, true, false);
    assert_eq!(no_bias.to_string(), "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=False)");
    let keys: Vec<String> = no_bias.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["weight"]);
    assert_eq!(no_bias.to_f64().to_string(), no_bias.to_string());
}
