//! `deep_copy()` is `copy.deepcopy(net)`: no storage shared with the
//! original, ties within the copy kept, buffers and training flags copied;
//! `clone()` keeps sharing. Deep copies on one thread leave other threads'
//! clones sharing, under a watchdog.

use std::sync::mpsc;
use std::time::Duration;

use blocks::prelude::*;

#[derive(Module, Clone)]
struct Tied {
    encoder: Linear<4, 4>,
    decoder: Linear<4, 4>,
    #[module(buffer)]
    scale: Tensor,
    training: TrainingFlag,
}

fn tied() -> Tied {
    let encoder = Linear::<4, 4>::new();
    Tied {
        decoder: encoder.clone(),
        encoder,
        scale: Tensor::from_vec(vec![2.0], [1]),
        training: TrainingFlag::default(),
    }
}

#[test]
fn a_deep_copy_has_the_values_and_shares_no_storage() {
    manual_seed(0);
    let net = sequential![Linear::<3, 5>::new(), ReLU, Linear::<5, 2>::new()];
    let copy = net.deep_copy();
    assert_eq!(copy.state_dict().keys(), net.state_dict().keys());
    let (originals, copies) = (net.parameters(), copy.parameters());
    assert_eq!(originals.len(), copies.len());
    for (original, copied) in originals.iter().zip(&copies) {
        assert!(!original.same(copied));
        assert_eq!(original.to_vec(), copied.to_vec());
        assert!(copied.is_leaf() && copied.requires_grad());
    }
    let x = Tensor::rand([4, 3]);
    assert_eq!(copy.forward(&x).to_vec(), net.forward(&x).to_vec());

    // Training the copy leaves the original alone.
    let before = net.state_dict();
    let mut opt = Sgd::new(copy.parameters(), SgdConfig { lr: 0.5, ..Default::default() });
    copy.forward(&x).sum().backward();
    opt.step();
    assert!(net.parameters().iter().all(|p| p.grad().is_none()));
    assert_ne!(copy.0.0.weight().to_vec(), net.0.0.weight().to_vec());
    for (name, tensor) in before.iter() {
        assert_eq!(tensor.to_vec(), net.state_dict().get(name).unwrap().to_vec(), "{name}");
    }
    // Clone still shares, as every Rust handle does.
    assert!(net.clone().0.0.weight().same(net.0.0.weight()));
}

#[test]
fn tied_weights_stay_tied_within_the_copy_and_buffers_and_modes_are_copied() {
    manual_seed(1);
    let net = tied();
    net.eval();
    let copy = net.deep_copy();
    assert!(copy.encoder.weight().same(copy.decoder.weight()), "the tie is kept");
    assert!(copy.encoder.bias().unwrap().same(copy.decoder.bias().unwrap()));
    assert!(!copy.encoder.weight().same(net.encoder.weight()));
    assert_eq!(copy.parameters().len(), net.parameters().len()); // 2 (shared ones count once), as PyTorch
    assert_eq!(net.parameters().len(), 2);

    assert!(!copy.scale.same(&net.scale));
    assert_eq!(copy.scale.to_vec(), vec![2.0]);
    copy.scale.data_mut().fill(7.0);
    assert_eq!(net.scale.to_vec(), vec![2.0]);

    assert!(!copy.is_training(), "eval mode is copied");
    copy.train();
    assert!(copy.is_training() && !net.is_training(), "and is the copy's own");
}

#[test]
fn a_deep_copy_on_one_thread_leaves_clones_on_other_threads_sharing() {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let shared = Tensor::ones([8]);
        let cloner = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    assert!(shared.clone().same(&shared));
                }
            })
        };
        for _ in 0..200 {
            let net = tied();
            let copy = net.deep_copy();
            assert!(!copy.encoder.weight().same(net.encoder.weight()));
        }
        cloner.join().unwrap();
        assert!(shared.clone().same(&shared), "no copy outside a deep copy");
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => std::panic::resume_unwind(worker.join().unwrap_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deep copies did not finish in 60 s"),
    }
}

#[test]
fn a_deep_copy_of_a_lazy_block_initializes_on_its_own() {
    manual_seed(2);
    let net = sequential![LazyLinear::new(3), ReLU];
    let copy = net.deep_copy();
    assert_eq!(blocks::nn::uninitialized_parameters(&copy).len(), 2);
    copy.forward(&Tensor::rand([2, 5]));
    assert!(blocks::nn::uninitialized_parameters(&copy).is_empty());
    assert_eq!(copy.0.0.weight().shape(), vec![3, 5]);
    // The original still waits for its own first input, of any width.
    assert_eq!(blocks::nn::uninitialized_parameters(&net).len(), 2);
    net.forward(&Tensor::rand([2, 7]));
    assert_eq!((net.0.0.weight().shape(), copy.0.0.weight().shape()), (vec![3, 7], vec![3, 5]));
}

/// A block written by hand: its deep copy calls `deep_copy_with` on each
/// field with the mapper it is given, so a tie with a derived sibling holds.
#[derive(Clone)]
struct Scale(Parameter);

impl Module for Scale {
    fn type_name(&self) -> String {
        "Scale".into()
    }
    fn visit<'m>(&'m self, visitor: &mut dyn blocks::nn::Visitor<'m>) {
        visitor.parameter("weight", (&self.0).into());
    }
}

impl DeepCopy for Scale {
    fn deep_copy_with(&self, mapper: &mut blocks::nn::Mapper) -> Self {
        Scale(self.0.deep_copy_with(mapper))
    }
}

#[derive(Module)]
struct Pair {
    first: Scale,
    second: Scale,
}

#[test]
fn a_hand_written_block_deep_copies_through_the_callers_mapper_and_keeps_ties() {
    let weight = Parameter::new(Tensor::from_vec(vec![1.0, 2.0], [2]));
    let net = Pair { first: Scale(weight.clone()), second: Scale(weight) };
    let copy = net.deep_copy();
    assert!(copy.first.0.same(&copy.second.0), "one parameter used twice stays one");
    assert!(!copy.first.0.same(&net.first.0));
    assert_eq!(copy.first.0.to_vec(), vec![1.0, 2.0]);
    assert_eq!(copy.parameters().len(), 1);
    // Clone of a tensor is a plain handle: it shares.
    assert!(net.first.0.tensor().clone().same(&net.second.0));
}
