//! Does `sequential!` or `#[derive(Module)]` cost anything at run time?
//! The seed net's forward (Linear(20,256)-ReLU-Linear(256,10), batch 2 and
//! 256) three ways in the same run: the layers called by hand, the same
//! layers in a `sequential!`, and a derived block with a hand-written forward;
//! then the `sequential!` with a forward hook registered on another block
//! (the registry's slow path) and with a hook on each layer.
//!
//! `cargo bench --bench forward_overhead`

use std::hint::black_box;

use blocks::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Module)]
struct Mlp {
    hidden: Linear<20, 256>,
    out: Linear<256, 10>,
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.out.forward(&self.hidden.forward(x).relu())
    }
}

fn forward_overhead(c: &mut Criterion) {
    for batch in [2usize, 256] {
        manual_seed(0);
        let (hidden, out) = (Linear::<20, 256>::new(), Linear::<256, 10>::new());
        let x = Batch::<20>::rand(batch);
        let sequential = sequential![hidden.clone(), ReLU, out.clone()];
        let derived = Mlp { hidden: hidden.clone(), out: out.clone() };
        let (w1, b1) = (hidden.weight().tensor().clone(), hidden.bias().unwrap().tensor().clone());
        let (w2, b2) = (out.weight().tensor().clone(), out.bias().unwrap().tensor().clone());

        let mut group = c.benchmark_group(format!("forward/batch{batch}"));
        group.bench_function("tensor ops by hand", |b| {
            b.iter(|| black_box(x.linear(&w1, Some(&b1)).relu().linear(&w2, Some(&b2))))
        });
        group.bench_function("sequential!", |b| b.iter(|| black_box(sequential.forward(&x))));
        group.bench_function("derive(Module)", |b| b.iter(|| black_box(derived.forward(&x))));
        // Hooks: registered on another block (every run looks itself up), and
        // a forward hook on each of the three layers (returning None).
        let elsewhere = ReLU;
        let other = elsewhere.register_forward_hook(|_, _| None);
        group.bench_function("sequential!, a hook elsewhere", |b| {
            b.iter(|| black_box(sequential.forward(&x)))
        });
        let own = [
            sequential.0.0.register_forward_hook(|_, _| None),
            sequential.0.1.register_forward_hook(|_, _| None),
            sequential.0.2.register_forward_hook(|_, _| None),
        ];
        group.bench_function("sequential!, a hook on each layer", |b| {
            b.iter(|| black_box(sequential.forward(&x)))
        });
        other.remove();
        for handle in own {
            handle.remove();
        }
        group.finish();
    }
}

criterion_group!(benches, forward_overhead);
criterion_main!(benches);
