//! Hooks live in the block (PyTorch's `_forward_hooks`): each block of a
//! `sequential!` has its own, also two `ReLU`s; they move with the block
//! (returned from a function, into a `Vec` or a `Box`); a new block starts
//! with none; a clone copies them. Global hooks are told the true path of a
//! block that a hand-written `forward` calls (`0.p1_1`).

use std::sync::{Arc, Mutex};

use crate::support::watchdog::with_watchdog;
use blocks::nn::{HookHandle, hooks_of, register_module_forward_hook};
use blocks::prelude::*;

type Log = Arc<Mutex<Vec<(String, Vec<f32>)>>>;

/// A forward hook recording `name` and the input it was given.
fn record(log: &Log, name: &str) -> impl Fn(&Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static {
    let (log, name) = (Arc::clone(log), name.to_string());
    move |x, _| {
        log.lock().unwrap().push((name.clone(), x.to_vec()));
        None
    }
}

fn taken(log: &Log) -> Vec<(String, Vec<f32>)> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn every_block_of_a_sequential_has_its_own_hooks_even_two_relus() {
    manual_seed(3);
    let net = sequential![Linear::<4, 6>::new(), ReLU, Linear::<6, 6>::new(), ReLU, Linear::<6, 2>::new()];
    let x = Tensor::rand([3, 4]) - 0.5;
    // What each block is given, computed block by block before any hook exists.
    let h0 = net.0.0.forward(&x);
    let h1 = h0.relu();
    let h2 = net.0.2.forward(&h1);
    let h3 = h2.relu();
    let expected =
        [("0", x.to_vec()), ("1", h0.to_vec()), ("2", h1.to_vec()), ("3", h2.to_vec()), ("4", h3.to_vec())];

    let log: Log = Arc::default();
    let handles = [
        net.0.0.register_forward_hook(record(&log, "0")),
        net.0.1.register_forward_hook(record(&log, "1")),
        net.0.2.register_forward_hook(record(&log, "2")),
        net.0.3.register_forward_hook(record(&log, "3")),
        net.0.4.register_forward_hook(record(&log, "4")),
    ];
    let y = net.forward(&x);
    let seen = taken(&log);
    let seen: Vec<(&str, &Vec<f32>)> = seen.iter().map(|(name, input)| (name.as_str(), input)).collect();
    let expected: Vec<(&str, &Vec<f32>)> = expected.iter().map(|(name, input)| (*name, input)).collect();
    assert_eq!(seen, expected, "each hook ran once, for its own block");
    assert_eq!(y.shape(), vec![3, 2]);

    // Removing the first ReLU's hook leaves the second's.
    handles[1].remove();
    net.forward(&x);
    let names: Vec<String> = taken(&log).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["0", "2", "3", "4"]);
    for handle in &handles {
        handle.remove();
    }
}

use crate::hooks::Mlp;

/// A model whose hooks are registered where it is made, then returned.
fn hooked_model(log: &Log) -> (Mlp, [HookHandle; 2]) {
    let model = Mlp { hidden: Linear::new(), out: Linear::new(), hooks: Hooks::new() };
    let handles = [
        model.register_forward_hook(record(log, "mlp")),
        model.hidden.register_forward_hook(record(log, "hidden")),
    ];
    (model, handles)
}

fn names(log: &Log) -> Vec<String> {
    taken(log).into_iter().map(|(name, _)| name).collect()
}

#[test]
fn hooks_move_with_the_block_returned_and_into_a_vec_and_a_box() {
    let log: Log = Arc::default();
    let x = Batch::<4>::rand(2);
    let (model, handles) = hooked_model(&log);
    model.forward(&x);
    assert_eq!(names(&log), ["hidden", "mlp"]);

    let mut models = vec![Mlp { hidden: Linear::new(), out: Linear::new(), hooks: Hooks::new() }];
    models.push(model); // moved into a Vec (which may move it again as it grows)
    models.reserve(100);
    models[0].forward(&x);
    assert!(names(&log).is_empty(), "the other model has no hooks");
    models[1].forward(&x);
    assert_eq!(names(&log), ["hidden", "mlp"]);

    let boxed: Box<dyn Block> = Box::new(models.pop().unwrap());
    boxed.forward_tensor(&Tensor::rand([2, 4]));
    assert_eq!(names(&log), ["hidden", "mlp"], "a boxed block runs its hooks once");

    // The handles still remove them, wherever the block went.
    for handle in &handles {
        handle.remove();
    }
    boxed.forward_tensor(&Tensor::rand([2, 4]));
    assert!(names(&log).is_empty());
}

#[test]
fn a_new_block_starts_without_hooks_and_a_clone_copies_them() {
    let log: Log = Arc::default();
    let x = Tensor::from_vec(vec![-1.0, 2.0], [2]);
    for _ in 0..4 {
        // Each made where the last one was dropped: none inherits another's hooks.
        let relu = ReLU;
        assert!(hooks_of(&relu).unwrap().is_empty());
        let _keep = relu.register_forward_hook(record(&log, "relu"));
        relu.forward(&x);
        assert_eq!(names(&log), ["relu"]);
    }

    let relu = ReLU;
    let handle = relu.register_forward_pre_hook(|x| Some(x * 2.0));
    let copy = relu.clone();
    assert_eq!(copy.forward(&x).to_vec(), vec![0.0, 4.0]);
    handle.remove(); // from the original only, as after `copy.deepcopy`
    assert_eq!(relu.forward(&x).to_vec(), vec![0.0, 2.0]);
    assert_eq!(copy.forward(&x).to_vec(), vec![0.0, 4.0]);
}

use crate::conformance_layers::Inception;

#[test]
fn global_hooks_see_the_path_of_blocks_a_hand_written_forward_calls() {
    with_watchdog(|| {
        let net = sequential![Inception::new(3, 2, [2, 3], [1, 2], 2), ReLU];
        let paths = Arc::new(Mutex::new(Vec::new()));
        let paths_in_hook = Arc::clone(&paths);
        let this_thread = std::thread::current().id();
        let handle = register_module_forward_hook(move |block, _, y| {
            if std::thread::current().id() == this_thread {
                paths_in_hook.lock().unwrap().push(format!(
                    "{} {} {:?}",
                    block.path(),
                    block.name(),
                    y.shape()
                ));
            }
            None
        });
        net.forward(&Tensor::rand([1, 3, 5, 5]));
        handle.remove();
        let paths = paths.lock().unwrap().clone();
        assert_eq!(
            paths,
            [
                "0.p1_1 DynConv [1, 2, 5, 5]",
                "0.p2_1 DynConv [1, 2, 5, 5]",
                "0.p2_2 DynConv [1, 3, 5, 5]",
                "0.p3_1 DynConv [1, 1, 5, 5]",
                "0.p3_2 DynConv [1, 2, 5, 5]",
                "0.p4_1 MaxPool2d [1, 3, 5, 5]",
                "0.p4_2 DynConv [1, 2, 5, 5]",
                "0 Inception [1, 9, 5, 5]",
                "1 ReLU [1, 9, 5, 5]",
                " Sequential [1, 9, 5, 5]",
            ]
        );
    });
}

#[derive(Module)]
struct NoHooks {
    layer: Linear<2, 2>,
}

/// Panics at the caller's line, naming the block.
#[test]
fn registering_on_a_block_without_hooks_panics_naming_it_at_the_callers_line() {
    let block = NoHooks { layer: Linear::new() };
    let register = || block.register_forward_hook(|_, _| None);
    let line = line!() - 1;
    let (message, site) = crate::support::panic_site(register);
    assert_eq!(site, format!("{}:{line}", file!()));
    assert!(
        message.starts_with("NoHooks keeps no hooks of its own: give it a field `hooks: Hooks`"),
        "{message}"
    );
    // Its layers keep theirs.
    let _ = block.layer.register_forward_hook(|_, _| None);
}

/// Every layer of the crate keeps hooks of its own (a new layer that forgot
/// its `Hooks` field fails here).
#[test]
fn every_layer_of_the_crate_keeps_hooks() {
    use blocks::nn::{
        DynBatchNorm1d, DynConv1d, DynEmbedding, DynGroupNorm, ELU, Embedding, GELU, LeakyReLU, LogSoftmax,
        SiLU, Softmax, Softplus,
    };
    let layers: Vec<(&str, Box<dyn Module>)> = vec![
        ("ReLU", Box::new(ReLU)),
        ("Sigmoid", Box::new(Sigmoid)),
        ("Tanh", Box::new(Tanh)),
        ("SiLU", Box::new(SiLU)),
        ("Identity", Box::new(Identity)),
        ("GELU", Box::new(GELU::default())),
        ("LeakyReLU", Box::new(LeakyReLU::new(0.1))),
        ("ELU", Box::new(ELU::new(1.0))),
        ("Softplus", Box::new(Softplus::new(1.0, 20.0))),
        ("Softmax", Box::new(Softmax::new(1))),
        ("LogSoftmax", Box::new(LogSoftmax::new(1))),
        ("MaxPool2d", Box::new(MaxPool2d::new(2))),
        ("AvgPool2d", Box::new(AvgPool2d::new(2))),
        ("AdaptiveAvgPool2d", Box::new(AdaptiveAvgPool2d::new(1))),
        ("Flatten", Box::new(Flatten::default())),
        ("Dropout", Box::new(Dropout::new(0.5))),
        ("Dropout2d", Box::new(Dropout2d::new(0.5))),
        ("Linear", Box::new(Linear::<2, 3>::new())),
        ("DynLinear", Box::new(DynLinear::new(2, 3))),
        ("LazyLinear", Box::new(LazyLinear::new(3))),
        ("Conv2d", Box::new(Conv2d::<1, 2, 3>::new())),
        ("Conv1d", Box::new(DynConv1d::new(1, 2, [3]))),
        ("BatchNorm2d", Box::new(BatchNorm2d::<3>::new())),
        ("BatchNorm1d", Box::new(DynBatchNorm1d::new(3, Default::default()))),
        ("LayerNorm", Box::new(LayerNorm::new([4]))),
        ("GroupNorm", Box::new(DynGroupNorm::new(2, 4))),
        ("Embedding", Box::new(DynEmbedding::new(5, 2))),
        ("Embedding typed", Box::new(Embedding::<5, 2>::new())),
        ("Sequential", Box::new(sequential![ReLU])),
        ("DynSequential", Box::new(DynSequential::new())),
    ];
    for (name, layer) in &layers {
        assert!(hooks_of(layer.as_ref()).is_some(), "{name} keeps no hooks");
    }
}
