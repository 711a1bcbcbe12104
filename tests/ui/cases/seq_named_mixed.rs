// PyTorch's nn.Sequential takes modules or one OrderedDict: named and
// unnamed blocks do not mix, and the first block that differs is blamed.
use blocks::prelude::*;

fn main() {
    let _named_first = sequential![hidden: Linear::<20, 256>::new(), ReLU, out: Linear::<256, 10>::new()];
    let _unnamed_first = sequential![Linear::<20, 256>::new(), act: ReLU, Linear::<256, 10>::new()];
}
