//! PyTorch's nested access, `rgnet[0][1][0]`, on blocks whose types are not
//! known in code: indexing a `dyn Module` or `dyn Block` by position or by
//! name gives a child as `&dyn Module`, and `downcast_ref` gives a block back
//! with its own type (and its typed accessors, such as `bias()`).

use std::ops::Index;

use crate::nn::ModuleExt;
use crate::nn::{Block, Module};

fn child_at(module: &dyn Module, index: usize) -> &dyn Module {
    let children = module.named_children();
    let count = children.len();
    children.into_iter().nth(index).map(|(_, child)| child).unwrap_or_else(|| {
        panic!("index {index} is out of range: this {} has {count} children", module.type_name())
    })
}

fn child_named<'m>(module: &'m dyn Module, name: &str) -> &'m dyn Module {
    let children = module.named_children();
    let names: Vec<String> = children.iter().map(|(key, _)| format!("{key:?}")).collect();
    children.into_iter().find(|(key, _)| key == name).map(|(_, child)| child).unwrap_or_else(|| {
        panic!(
            "this {} has no child named {name:?}; its children are [{}]",
            module.type_name(),
            names.join(", ")
        )
    })
}

/// `m[i]`: child `i` in registration order, which for `Sequential`,
/// `DynSequential` and lists is PyTorch's `net[i]`. Panics past the end.
///
/// ```
/// use blocks_core::nn::{LazyLinear, Module, ModuleExt, ReLU, Sequential};
/// let block1 = Sequential::new((LazyLinear::new(8), ReLU, LazyLinear::new(4), ReLU));
/// let module: &dyn Module = &block1;
/// assert_eq!(module[2].extra_repr(), "in_features=0, out_features=4, bias=True");
/// ```
impl Index<usize> for dyn Module {
    type Output = dyn Module;

    fn index(&self, index: usize) -> &dyn Module {
        child_at(self, index)
    }
}

/// `m["name"]`: the child registered under `name` (a field's key, a
/// `DynSequential` name), like `getattr(m, name)`. Panics, listing the
/// names, if there is none.
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
/// let net = Sequential::new((Linear::<2, 3>::new(), ReLU));
/// let module: &dyn Module = &net;
/// assert_eq!(module["1"].type_name(), "ReLU");
/// ```
impl Index<&str> for dyn Module {
    type Output = dyn Module;

    fn index(&self, name: &str) -> &dyn Module {
        child_named(self, name)
    }
}

/// `b[i]`: child `i` of a boxed block, as for `dyn Module`.
///
/// ```
/// use blocks_core::nn::{Block, LazyLinear, Module, ModuleExt, ReLU, Sequential};
/// let block: Box<dyn Block> = Box::new(Sequential::new((LazyLinear::new(8), ReLU)));
/// assert_eq!(block[1].type_name(), "ReLU");
/// ```
impl Index<usize> for dyn Block {
    type Output = dyn Module;

    fn index(&self, index: usize) -> &dyn Module {
        child_at(self.as_dyn(), index)
    }
}

/// `b["name"]`: the child of a boxed block registered under `name`.
///
/// ```
/// use blocks_core::nn::{Block, LazyLinear, Module, ModuleExt, ReLU, Sequential};
/// let block: Box<dyn Block> = Box::new(Sequential::new((LazyLinear::new(8), ReLU)));
/// assert_eq!(block["0"].type_name(), "LazyLinear");
/// ```
impl Index<&str> for dyn Block {
    type Output = dyn Module;

    fn index(&self, name: &str) -> &dyn Module {
        child_named(self.as_dyn(), name)
    }
}

impl dyn Module + '_ {
    /// This block as a `T`, if it is one or a typed front over one
    /// (through [`Module::core`]), or `None`: the way back from `net[0][1]`
    /// to typed accessors, and PyTorch's `type(m) == nn.Linear` in an
    /// [`apply`](crate::nn::apply) function (`m.downcast_ref::<DynLinear>()`
    /// finds every fully connected layer whatever its widths;
    /// `layer.as_dyn().downcast_ref()` on a block of a known type).
    ///
    /// ```
    /// use blocks_core::nn::{LazyLinear, Module, ModuleExt, ReLU, Sequential};
    /// let net = Sequential::new((LazyLinear::new(8), ReLU));
    /// let module: &dyn Module = &net;
    /// let layer = module[0].downcast_ref::<LazyLinear>().unwrap();
    /// assert_eq!(layer.out_features(), 8);
    /// assert!(module[1].downcast_ref::<LazyLinear>().is_none());
    /// ```
    pub fn downcast_ref<T: Module>(&self) -> Option<&T> {
        let mut block: &dyn Module = self;
        loop {
            if let Some(found) = block.as_any().downcast_ref() {
                return Some(found);
            }
            block = block.core()?;
        }
    }
}

impl dyn Block {
    /// This block as its own type `T`, or `None` if it is another type.
    ///
    /// ```
    /// use blocks_core::nn::{Block, DynLinear, ReLU};
    /// let block: Box<dyn Block> = Box::new(DynLinear::new(4, 2));
    /// assert_eq!(block.downcast_ref::<DynLinear>().unwrap().in_features(), 4);
    /// assert!(block.downcast_ref::<ReLU>().is_none());
    /// ```
    pub fn downcast_ref<T: Module>(&self) -> Option<&T> {
        self.as_dyn().downcast_ref()
    }
}
