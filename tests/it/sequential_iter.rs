//! `net.iter()`: a typed `Sequential`'s blocks as `&dyn Block`s, PyTorch's
//! `for layer in net:` (d2l's layer-by-layer shape walk), by position, past
//! twelve blocks, and for named entries.

use blocks::prelude::*;

/// Each block's class name and the shape it gives, walking `net`.
fn walk<'a>(blocks: impl Iterator<Item = &'a dyn Block>, x: &Tensor) -> Vec<(String, Vec<usize>)> {
    let mut x = x.clone();
    blocks
        .map(|layer| {
            x = layer.forward_tensor(&x);
            (layer.type_name(), x.shape())
        })
        .collect()
}

#[test]
fn iter_walks_the_blocks_in_order_with_their_outputs() {
    manual_seed(0);
    let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];
    let x = Tensor::rand([2, 20]);
    let walked = walk(net.iter(), &x);
    assert_eq!(
        walked,
        [("Linear".into(), vec![2, 256]), ("ReLU".into(), vec![2, 256]), ("Linear".into(), vec![2, 10])]
    );
    // The walk computes what the whole net does.
    let mut y = x.clone();
    for layer in net.iter() {
        y = layer.forward_tensor(&y);
    }
    assert_eq!(y.to_vec(), net.forward(&x).to_vec());
}

#[test]
fn iter_goes_past_twelve_blocks_and_through_named_entries() {
    let net = sequential![
        Linear::<3, 4>::new(),
        ReLU,
        Linear::<4, 5>::new(),
        ReLU,
        Linear::<5, 6>::new(),
        ReLU,
        Linear::<6, 7>::new(),
        ReLU,
        Linear::<7, 8>::new(),
        ReLU,
        Linear::<8, 9>::new(),
        ReLU,
        Linear::<9, 2>::new(),
    ];
    let walked = walk(net.iter(), &Tensor::rand([1, 3]));
    let widths: Vec<usize> = walked.iter().map(|(_, shape)| shape[1]).collect();
    assert_eq!(widths, [4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 2]);

    let named = sequential![hidden: Linear::<3, 4>::new(), act: Sigmoid, out: Linear::<4, 1>::new()];
    let names: Vec<String> = named.iter().map(|layer| layer.type_name()).collect();
    assert_eq!(names, ["Linear", "Sigmoid", "Linear"]);
    assert_eq!(walk(named.iter(), &Tensor::rand([5, 3])).last().unwrap().1, vec![5, 1]);
}
