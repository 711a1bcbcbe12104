//! d2l "File I/O": saving and loading a tensor, a list of tensors, a dict of
//! tensors, and a model's parameters, then checking that a clone loaded from
//! the file computes the same outputs. The files are safetensors files,
//! which PyTorch reads with `safetensors.torch.load_file`.
//!
//! Run with `cargo run --example file_io`. The files go to a temporary
//! directory, removed at the end. The functions are shared with
//! `tests/it/examples_output.rs`, which checks what this prints.

use std::collections::BTreeMap;
use std::path::Path;

use blocks::io::{FileError, load, save};
use blocks::nn::LoadError;
use blocks::prelude::*;

/// ```python
/// x = torch.arange(4)
/// torch.save(x, 'x-file')
/// x2 = torch.load('x-file')
/// ```
/// (`torch.arange(4)` is int64; blocks' tensors are float, so `x` is `[0., 1., 2., 3.]`.)
pub fn tensor(dir: &Path) -> Result<(Tensor, Tensor), FileError> {
    let x = Tensor::arange(0.0, 4.0, 1.0);
    save(&x, dir.join("x-file"))?;
    let x2: Tensor = load(dir.join("x-file"))?;
    Ok((x, x2))
}

/// ```python
/// y = torch.zeros(4)
/// torch.save([x, y], 'x-files')
/// x2, y2 = torch.load('x-files')
/// ```
pub fn list(dir: &Path, x: &Tensor) -> Result<(Tensor, Tensor), FileError> {
    let y = Tensor::zeros([4]);
    save(&[x.clone(), y], dir.join("x-files"))?;
    let [x2, y2]: [Tensor; 2] = load(dir.join("x-files"))?;
    Ok((x2, y2))
}

/// ```python
/// mydict = {'x': x, 'y': y}
/// torch.save(mydict, 'mydict')
/// mydict2 = torch.load('mydict')
/// ```
pub fn dict(dir: &Path, x: &Tensor) -> Result<BTreeMap<String, Tensor>, FileError> {
    let mydict = BTreeMap::from([("x".to_string(), x.clone()), ("y".to_string(), Tensor::zeros([4]))]);
    save(&mydict, dir.join("mydict"))?;
    load(dir.join("mydict"))
}

/// ```python
/// class MLP(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.hidden = nn.LazyLinear(256)
///         self.output = nn.LazyLinear(10)
///     def forward(self, x):
///         return self.output(F.relu(self.hidden(x)))
/// ```
#[derive(Module)]
#[module(name = "MLP")]
pub struct Mlp {
    hidden: Linear<20, 256>,
    output: Linear<256, 10>,
}

impl Mlp {
    /// Both layers freshly initialized.
    pub fn new() -> Self {
        Mlp { hidden: Linear::new(), output: Linear::new() }
    }
}

impl Default for Mlp {
    fn default() -> Self {
        Self::new()
    }
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.output.forward(&self.hidden.forward(x).relu())
    }
}

/// ```python
/// net = MLP()
/// X = torch.randn(size=(2, 20))
/// Y = net(X)
/// torch.save(net.state_dict(), 'mlp.params')
/// clone = MLP()
/// clone.load_state_dict(torch.load('mlp.params'))
/// clone.eval()
/// Y_clone = clone(X)
/// ```
/// Returns `Y` and `Y_clone`.
pub fn model(dir: &Path) -> Result<(Batch<10>, Batch<10>), LoadError> {
    let net = Mlp::new();
    let x = Batch::<20>::new(Tensor::randn([2, 20]));
    let y = net.forward(&x);
    net.save(dir.join("mlp.params"))?;

    let clone = Mlp::new();
    clone.load(dir.join("mlp.params"))?;
    clone.eval();
    let y_clone = clone.forward(&x);
    Ok((y, y_clone))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    manual_seed(0);
    let dir = std::env::temp_dir().join(format!("blocks-file-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    println!("# Loading and saving tensors");
    let (x, x2) = tensor(&dir)?;
    println!("{x2}");
    println!("{:?}", list(&dir, &x)?);
    println!("{:?}", dict(&dir, &x)?);

    println!("\n# Loading and saving model parameters");
    let (y, y_clone) = model(&dir)?;
    // Y_clone == Y
    println!("{}", y_clone.eq(&*y).mask_repr());

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
