//! The `Module` trait: what every block tells about itself (its parameters,
//! buffers and children under PyTorch's names), and what it gets from that.

use std::any::Any;
use std::collections::HashSet;

use crate::io::FileError;
use crate::nn::load_state::{load_into, state_dict_of};
use crate::nn::state_dict::{LoadError, LoadReport, StateDict, StateDictError};
use crate::nn::{BufferRef, Member, ParamRef, Parameter, TrainingFlag, Visitor};
use crate::{Element, Tensor, TensorBase};

/// `&dyn Module` and `&dyn Any` from any block, so that [`Module`]'s
/// provided methods (and `impl Module` for `Box`) can name the block as a
/// trait object. Implemented for every sized block; never by hand.
///
/// ```
/// use blocks_core::nn::{AsModule, ReLU};
/// assert!(ReLU.upcast_any().is::<ReLU>());
/// assert_eq!(ReLU.upcast().type_name(), "ReLU");
/// ```
pub trait AsModule {
    /// This block as `&dyn Module`.
    fn upcast(&self) -> &dyn Module;
    /// This block as `&dyn Any`.
    fn upcast_any(&self) -> &dyn Any;
}

impl<M: Module> AsModule for M {
    fn upcast(&self) -> &dyn Module {
        self
    }

    fn upcast_any(&self) -> &dyn Any {
        self
    }
}

/// A block: PyTorch's `nn.Module`.
///
/// A block implements [`type_name`](Module::type_name) and
/// [`visit`](Module::visit) (and [`extra_repr`](Module::extra_repr) when it
/// prints settings), usually through `#[derive(Module)]`. The trait holds
/// only what a container needs of a block (its name, members, identity and
/// mode); the rest, PyTorch's parameter names, state dicts, train/eval, is
/// [`ModuleExt`], implemented for every block. Every method takes `&self`:
/// parameters are shared handles and training flags are interior, so a
/// model can be shared across threads.
///
/// ```
/// use blocks_core::nn::{Module, ModuleExt, Parameter, Visitor};
/// use blocks_core::Tensor;
/// struct Scale(Parameter);
/// impl Module for Scale {
///     fn type_name(&self) -> String {
///         "Scale".into()
///     }
///     fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
///         visitor.parameter("weight", (&self.0).into());
///     }
/// }
/// assert_eq!(Scale(Parameter::new(Tensor::ones([2]))).num_params(), 2);
/// ```
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt};
/// let layer = Linear::<20, 256>::new();
/// let names: Vec<String> = layer.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// assert_eq!(layer.num_params(), 20 * 256 + 256);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a block",
    label = "not a block",
    note = "a block implements `Module`: put #[derive(Module)] on a struct whose fields are blocks, Parameters or #[module(buffer)] tensors, or write `impl Module` by hand"
)]
pub trait Module: AsModule + Send + Sync + 'static {
    /// PyTorch's class name, as printed: `Linear`, `Sequential`, `MLP`.
    fn type_name(&self) -> String;

    /// The description printed inside the parentheses of a block, like
    /// `in_features=20, out_features=256, bias=True` (PyTorch's `extra_repr`).
    fn extra_repr(&self) -> String {
        String::new()
    }

    /// Reports this block's own parameters, buffers and children, in order.
    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>);

    /// This block as `Any`, so [`apply`](crate::nn::apply) can act on chosen
    /// types (a `Box` answers with the block inside).
    ///
    /// ```
    /// use blocks_core::nn::{Module, ModuleExt, ReLU};
    /// let boxed: Box<dyn Module> = Box::new(ReLU);
    /// assert!(boxed.as_any().is::<ReLU>());
    /// ```
    fn as_any(&self) -> &dyn Any {
        self.upcast_any()
    }

    /// This block as a trait object (a `Box` answers with the block inside).
    ///
    /// ```
    /// use blocks_core::nn::{Module, ModuleExt, ReLU};
    /// assert_eq!(ReLU.as_dyn().type_name(), "ReLU");
    /// ```
    fn as_dyn(&self) -> &dyn Module {
        self.upcast()
    }

    /// The run-time block this one delegates to, if it is a typed front
    /// over one (`Linear<IN, OUT>` over `DynLinear`, `Conv2d<I, O, K>` over
    /// `DynConv2d`, a `LazyLinear` after its first forward over the `DynLinear`
    /// it became); `None` for every other block. What
    /// [`downcast_ref`](#method.downcast_ref) looks through:
    /// `block.downcast_ref::<DynLinear>()` finds every fully connected layer
    /// whatever its widths, PyTorch's `if type(m) == nn.Linear:`.
    ///
    /// ```
    /// use blocks_core::nn::{Conv2d, DynConv2d, DynLinear, Linear, Module, ModuleExt, ReLU};
    /// assert_eq!(Linear::<2, 3>::new().core().unwrap().type_name(), "Linear");
    /// assert!(ReLU.core().is_none());
    /// let conv = Conv2d::<1, 6, 5>::new();
    /// assert_eq!(conv.as_dyn().downcast_ref::<DynConv2d>().unwrap().out_channels(), 6);
    /// assert!(ReLU.as_dyn().downcast_ref::<DynLinear>().is_none());
    /// ```
    fn core(&self) -> Option<&dyn Module> {
        None
    }

    /// What this block registers directly, in order.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert_eq!(Linear::<2, 1>::new().members().len(), 2);
    /// ```
    fn members(&self) -> Vec<(String, Member<'_>)> {
        let mut out = Vec::new();
        self.visit(&mut out);
        out
    }

    /// Sets training mode on this block (its [`TrainingFlag`], if it visits
    /// one) and every block below it.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 2>::new();
    /// layer.set_training(false);
    /// assert!(!layer.is_training());
    /// ```
    fn set_training(&self, training: bool) {
        self.visit(&mut SetMode(training));
    }

    /// Whether the block is in training mode (PyTorch's `module.training`):
    /// its own [`TrainingFlag`]; a block without one answers for its first
    /// child, and a block with neither is in training mode.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert!(Linear::<2, 2>::new().is_training());
    /// ```
    fn is_training(&self) -> bool {
        let mut mode = ReadMode::default();
        self.visit(&mut mode);
        mode.own.or(mode.first_child).unwrap_or(true)
    }
}

/// What every block can do, from its [`Module`]: PyTorch's `train`/`eval`,
/// its parameters, buffers and children by name, state dicts and files.
/// Implemented for every block; in the prelude.
///
/// ```
/// use blocks_core::nn::{Linear, ModuleExt};
/// let layer = Linear::<20, 256>::new();
/// let names: Vec<String> = layer.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// assert_eq!(layer.num_params(), 20 * 256 + 256);
/// ```
pub trait ModuleExt: Module {
    /// Training mode, like `net.train()`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 2>::new();
    /// layer.eval();
    /// layer.train();
    /// assert!(layer.is_training());
    /// ```
    fn train(&self) {
        self.set_training(true);
    }

    /// Evaluation mode, like `net.eval()`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 2>::new();
    /// layer.eval();
    /// assert!(!layer.is_training());
    /// ```
    fn eval(&self) {
        self.set_training(false);
    }

    /// The direct children with their names, like `named_children()`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
    /// let net = Sequential::new((Linear::<2, 3>::new(), ReLU));
    /// let names: Vec<String> = net.named_children().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["0", "1"]);
    /// ```
    fn named_children(&self) -> Vec<(String, &dyn Module)> {
        self.members()
            .into_iter()
            .filter_map(|(name, m)| match m {
                Member::Child(child) => Some((name, child)),
                _ => None,
            })
            .collect()
    }

    /// Every block in the tree: this one first (named `""`), then each
    /// child's subtree in order, like `named_modules()`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
    /// let net = Sequential::new((Linear::<2, 3>::new(), ReLU));
    /// let names: Vec<String> = net.named_modules().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["", "0", "1"]);
    /// ```
    fn named_modules(&self) -> Vec<(String, &dyn Module)> {
        let mut out = vec![(String::new(), self.as_dyn())];
        let mut index = 0;
        while index < out.len() {
            let (prefix, module) = (out[index].0.clone(), out[index].1);
            let children: Vec<_> = module
                .named_children()
                .into_iter()
                .map(|(name, child)| (join(&prefix, &name), child))
                .collect();
            out.splice(index + 1..index + 1, children);
            index += 1;
        }
        out
    }

    /// Every parameter and buffer with PyTorch's dotted name, in `state_dict`
    /// order: a block's own tensors, then each child's subtree. Shared
    /// tensors appear under every name.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Member, Module, ModuleExt};
    /// let names: Vec<String> = Linear::<2, 1>::new().named_members().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["weight", "bias"]);
    /// ```
    fn named_members(&self) -> Vec<(String, Member<'_>)> {
        let mut out = Vec::new();
        collect_tensors(self.as_dyn(), "", &mut out);
        out
    }

    /// Every float32 trainable parameter with PyTorch's dotted name
    /// (`net.0.weight`), in PyTorch's order; a parameter shared by several
    /// blocks is listed once, under its first name. The float32 form of
    /// [`named_parameters_of`](ModuleExt::named_parameters_of) (float32 is
    /// PyTorch's default dtype; a float64 model lists its parameters with
    /// `named_parameters_of::<f64>()`).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<3, 1>::new();
    /// assert_eq!(layer.named_parameters()[1].0, "bias");
    /// ```
    fn named_parameters(&self) -> Vec<(String, Parameter)> {
        named_parameters_of(self.as_dyn())
    }

    /// The float32 trainable parameters, each once, in PyTorch's order: what
    /// an optimizer takes (`Sgd::new(net.parameters(), ..)`); see
    /// [`parameters_of`](ModuleExt::parameters_of) for a float64 model.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert_eq!(Linear::<3, 1>::new().parameters().len(), 2);
    /// ```
    fn parameters(&self) -> Vec<Parameter> {
        self.named_parameters().into_iter().map(|(_, p)| p).collect()
    }

    /// Every float32 buffer with its dotted name, like `named_buffers()`
    /// (see [`named_buffers_of`](ModuleExt::named_buffers_of) for float64).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert!(Linear::<3, 1>::new().named_buffers().is_empty());
    /// ```
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        named_buffers_of(self.as_dyn())
    }

    /// Every trainable parameter of element type `E` with its dotted name,
    /// each once, in PyTorch's order: the one path for either element type
    /// ([`named_parameters`](ModuleExt::named_parameters) is its float32 form,
    /// PyTorch's default dtype). A float64 model (after
    /// [`to_f64`](crate::nn::ToElement::to_f64), PyTorch's `net.double()`) gives
    /// its parameters with `E = f64`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ToElement};
    /// let net = Linear::<3, 1>::new().to_f64();
    /// assert_eq!(net.named_parameters_of::<f64>()[0].0, "weight");
    /// assert!(net.named_parameters_of::<f32>().is_empty());
    /// ```
    fn named_parameters_of<E: Element>(&self) -> Vec<(String, Parameter<E>)>
    where
        Self: Sized,
    {
        named_parameters_of(self.as_dyn())
    }

    /// The parameters of element type `E`, each once, in PyTorch's order:
    /// what an optimizer of a float64 model takes
    /// (`Sgd::new(net.parameters_of::<f64>(), ..)`).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ToElement};
    /// assert_eq!(Linear::<3, 1>::new().to_f64().parameters_of::<f64>().len(), 2);
    /// ```
    fn parameters_of<E: Element>(&self) -> Vec<Parameter<E>>
    where
        Self: Sized,
    {
        self.named_parameters_of().into_iter().map(|(_, p)| p).collect()
    }

    /// Every buffer of element type `E` with its dotted name
    /// ([`named_buffers`](ModuleExt::named_buffers) is its float32 form).
    ///
    /// ```
    /// use blocks_core::nn::{BatchNorm1d, Module, ModuleExt, ToElement};
    /// let norm = BatchNorm1d::<2>::new().to_f64();
    /// assert_eq!(norm.named_buffers_of::<f64>()[0].0, "running_mean");
    /// ```
    fn named_buffers_of<E: Element>(&self) -> Vec<(String, TensorBase<E>)>
    where
        Self: Sized,
    {
        named_buffers_of(self.as_dyn())
    }

    /// The number of trainable values of either element type (shared
    /// parameters counted once).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert_eq!(Linear::<20, 256>::new().num_params(), 5376);
    /// ```
    fn num_params(&self) -> usize {
        unique_parameters(self.as_dyn()).iter().map(|p| p.numel()).sum()
    }

    /// Clears every parameter's gradient (sets it to `None`, PyTorch's default).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// use blocks_core::Tensor;
    /// let layer = Linear::<2, 1>::new();
    /// layer.forward(&Tensor::ones([1, 2])).sum().backward();
    /// layer.zero_grad();
    /// assert!(layer.weight().grad().is_none());
    /// ```
    fn zero_grad(&self) {
        for p in unique_parameters(self.as_dyn()) {
            p.zero_grad();
        }
    }

    /// The parameter or buffer with dotted name `name` (`net.parameter("2.bias")`).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 1>::new();
    /// assert!(layer.parameter("bias").unwrap().same(layer.bias().unwrap()));
    /// ```
    fn parameter(&self, name: &str) -> Option<Tensor> {
        self.named_members().into_iter().find(|(key, _)| key == name).and_then(|(_, m)| match m {
            Member::Parameter(p) => p.get().map(|p| p.tensor().clone()),
            Member::Buffer(t) => t.get().cloned(),
            Member::Child(_) => None,
        })
    }

    /// The block with dotted name `name` (`"0.net.2"`), like `get_submodule`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
    /// let net = Sequential::new((Linear::<2, 3>::new(), ReLU));
    /// assert_eq!(net.submodule("1").unwrap().type_name(), "ReLU");
    /// ```
    fn submodule(&self, name: &str) -> Option<&dyn Module> {
        self.named_modules().into_iter().find(|(key, _)| key == name).map(|(_, m)| m)
    }

    /// Sets `requires_grad` on every parameter: `false` freezes the block,
    /// like `net.requires_grad_(False)`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 1>::new();
    /// layer.requires_grad_(false);
    /// assert!(!layer.weight().requires_grad());
    /// ```
    fn requires_grad_(&self, requires_grad: bool) {
        for p in unique_parameters(self.as_dyn()) {
            p.set_requires_grad(requires_grad);
        }
    }

    /// Every parameter and buffer under its key, like `net.state_dict()`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert_eq!(Linear::<2, 1>::new().state_dict().keys(), vec!["weight", "bias"]);
    /// ```
    fn state_dict(&self) -> StateDict {
        state_dict_of(self.as_dyn())
    }

    /// Copies `state` into the parameters and buffers, like
    /// `net.load_state_dict(state)` (strict): one error lists every missing
    /// key, every unexpected key and every shape mismatch, and nothing is
    /// changed when it fails.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let (a, b) = (Linear::<2, 1>::new(), Linear::<2, 1>::new());
    /// b.load_state_dict(&a.state_dict()).unwrap();
    /// assert_eq!(a.weight().to_vec(), b.weight().to_vec());
    /// ```
    fn load_state_dict(&self, state: &StateDict) -> Result<LoadReport, StateDictError> {
        load_into(self.as_dyn(), state, true)
    }

    /// [`load_state_dict`](ModuleExt::load_state_dict) with PyTorch's `strict`
    /// flag: when `false`, missing and unexpected keys are returned instead of
    /// refused (shape mismatches are still errors).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, StateDict};
    /// let report = Linear::<2, 1>::new().load_state_dict_with(&StateDict::new(), false).unwrap();
    /// assert_eq!(report.missing_keys.len(), 2);
    /// ```
    fn load_state_dict_with(&self, state: &StateDict, strict: bool) -> Result<LoadReport, StateDictError> {
        load_into(self.as_dyn(), state, strict)
    }

    /// Saves the state dict to a safetensors file that PyTorch loads with
    /// `load_state_dict(safetensors.torch.load_file(path))`; atomic.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let path = std::env::temp_dir().join("blocks-doc-save-module.safetensors");
    /// let layer = Linear::<2, 1>::new();
    /// layer.save(&path).unwrap();
    /// let copy = Linear::<2, 1>::new();
    /// copy.load(&path).unwrap();
    /// assert_eq!(copy.bias().unwrap().to_vec(), layer.bias().unwrap().to_vec());
    /// ```
    fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), FileError>
    where
        Self: Sized,
    {
        self.state_dict().save(path)
    }

    /// Loads a safetensors file written by PyTorch (`save_file` or
    /// `save_model`) or by [`save`](ModuleExt::save), strictly.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert!(Linear::<2, 1>::new().load("missing.safetensors").is_err());
    /// ```
    fn load(&self, path: impl AsRef<std::path::Path>) -> Result<LoadReport, LoadError>
    where
        Self: Sized,
    {
        let state = StateDict::read(path)?;
        Ok(self.load_state_dict(&state)?)
    }
}

impl<M: Module + ?Sized> ModuleExt for M {}

/// Sets the mode on a block's own flag and on each child's subtree.
struct SetMode(bool);

impl<'m> Visitor<'m> for SetMode {
    fn parameter(&mut self, _: &str, _: ParamRef<'m>) {}
    fn buffer(&mut self, _: &str, _: BufferRef<'m>) {}
    fn child(&mut self, _: &str, child: &'m dyn Module) {
        child.set_training(self.0);
    }
    fn training_flag(&mut self, flag: &'m TrainingFlag) {
        flag.set(self.0);
    }
}

/// Reads a block's own flag, and its first child's mode.
#[derive(Default)]
struct ReadMode {
    own: Option<bool>,
    first_child: Option<bool>,
}

impl<'m> Visitor<'m> for ReadMode {
    fn parameter(&mut self, _: &str, _: ParamRef<'m>) {}
    fn buffer(&mut self, _: &str, _: BufferRef<'m>) {}
    fn child(&mut self, _: &str, child: &'m dyn Module) {
        if self.own.is_none() && self.first_child.is_none() {
            self.first_child = Some(child.is_training());
        }
    }
    fn training_flag(&mut self, flag: &'m TrainingFlag) {
        self.own.get_or_insert(flag.get());
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

fn collect_tensors<'m>(module: &'m dyn Module, prefix: &str, out: &mut Vec<(String, Member<'m>)>) {
    let members = module.members();
    for (name, member) in &members {
        if !matches!(member, Member::Child(_)) {
            out.push((join(prefix, name), *member));
        }
    }
    for (name, member) in members {
        if let Member::Child(child) = member {
            collect_tensors(child, &join(prefix, &name), out);
        }
    }
}

/// Every parameter of either element type, each once, in PyTorch's order.
fn unique_parameters(module: &dyn Module) -> Vec<ParamRef<'_>> {
    let mut seen = HashSet::new();
    module
        .named_members()
        .into_iter()
        .filter_map(|(_, member)| match member {
            Member::Parameter(p) if seen.insert(p.identity()) => Some(p),
            _ => None,
        })
        .collect()
}

/// The parameters of element type `E` under their dotted names, each once.
pub(crate) fn named_parameters_of<E: Element>(module: &dyn Module) -> Vec<(String, Parameter<E>)> {
    let mut seen = HashSet::new();
    module
        .named_members()
        .into_iter()
        .filter_map(|(name, member)| match member.parameter::<E>() {
            Some(p) if seen.insert(p.identity()) => Some((name, p.clone())),
            _ => None,
        })
        .collect()
}

/// The buffers of element type `E` under their dotted names.
fn named_buffers_of<E: Element>(module: &dyn Module) -> Vec<(String, TensorBase<E>)> {
    module
        .named_members()
        .into_iter()
        .filter_map(|(name, m)| Some((name, m.buffer::<E>()?.clone())))
        .collect()
}
