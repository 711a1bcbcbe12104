//! The parameters of a recurrent unit ([`CellWeights`]: `W_ih`, `W_hh`,
//! `b_ih`, `b_hh`, LSTM's `W_hr`) and of a stack of them
//! ([`StackWeights`], one per layer and direction), under PyTorch's keys
//! (`weight_ih_l0`, `bias_hh_l1_reverse`, ...), drawn as PyTorch draws them.

use crate::nn::layers::recurrent::options::Spec;
use crate::nn::{DeepCopy, MapElement, Mapper, Parameter, Visitor, register_parameter};
use crate::{Element, Tensor};

/// One unit's parameters: `weight_ih` `(G·H, in)`, `weight_hh` `(G·H, H')`,
/// `bias_ih`, `bias_hh` `(G·H)` and LSTM's projection `weight_hr` `(P, H)`,
/// G the number of gates and H' the width of the hidden state (P with a
/// projection, else H).
#[derive(Clone)]
pub(crate) struct CellWeights<E: Element = f32> {
    pub(crate) weight_ih: Parameter<E>,
    pub(crate) weight_hh: Parameter<E>,
    pub(crate) bias_ih: Option<Parameter<E>>,
    pub(crate) bias_hh: Option<Parameter<E>>,
    pub(crate) weight_hr: Option<Parameter<E>>,
}

impl CellWeights {
    /// A unit of `gates` gates taking `input` features, every value drawn
    /// from U(-1/√hidden, 1/√hidden), PyTorch's `reset_parameters`.
    pub(crate) fn new(gates: usize, input: usize, hidden: usize, proj: usize, bias: bool) -> Self {
        let state = if proj > 0 { proj } else { hidden };
        let weights = CellWeights {
            weight_ih: Parameter::new(Tensor::zeros([gates * hidden, input])),
            weight_hh: Parameter::new(Tensor::zeros([gates * hidden, state])),
            bias_ih: bias.then(|| Parameter::new(Tensor::zeros([gates * hidden]))),
            bias_hh: bias.then(|| Parameter::new(Tensor::zeros([gates * hidden]))),
            weight_hr: (proj > 0).then(|| Parameter::new(Tensor::zeros([proj, hidden]))),
        };
        weights.reset(hidden);
        weights
    }
}

impl<E: Element> CellWeights<E> {
    /// Draws every value from U(-1/√hidden, 1/√hidden), in PyTorch's order.
    pub(crate) fn reset(&self, hidden: usize) {
        let bound = 1.0 / (hidden as f64).sqrt();
        for parameter in self.parameters() {
            crate::nn::init::uniform_(parameter, -bound, bound);
        }
    }

    /// The parameters in PyTorch's order.
    pub(crate) fn parameters(&self) -> impl Iterator<Item = &Parameter<E>> {
        [
            Some(&self.weight_ih),
            Some(&self.weight_hh),
            self.bias_ih.as_ref(),
            self.bias_hh.as_ref(),
            self.weight_hr.as_ref(),
        ]
        .into_iter()
        .flatten()
    }

    /// Reports the parameters as `weight_ih{suffix}`, ... (PyTorch's order).
    pub(crate) fn visit<'m>(&'m self, suffix: &str, visitor: &mut dyn Visitor<'m>) {
        register_parameter(visitor, &format!("weight_ih{suffix}"), &self.weight_ih);
        register_parameter(visitor, &format!("weight_hh{suffix}"), &self.weight_hh);
        if let Some(bias) = &self.bias_ih {
            register_parameter(visitor, &format!("bias_ih{suffix}"), bias);
        }
        if let Some(bias) = &self.bias_hh {
            register_parameter(visitor, &format!("bias_hh{suffix}"), bias);
        }
        if let Some(projection) = &self.weight_hr {
            register_parameter(visitor, &format!("weight_hr{suffix}"), projection);
        }
    }
}

impl<E: Element> MapElement for CellWeights<E> {
    type As<F: Element> = CellWeights<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> CellWeights<F> {
        CellWeights {
            weight_ih: self.weight_ih.map_element(mapper),
            weight_hh: self.weight_hh.map_element(mapper),
            bias_ih: self.bias_ih.map_element(mapper),
            bias_hh: self.bias_hh.map_element(mapper),
            weight_hr: self.weight_hr.map_element(mapper),
        }
    }
}

/// A cell's own parameters, keys without a suffix (`weight_ih`, ...), as
/// `nn.LSTMCell` names them.
impl<E: Element, Owner: ?Sized> crate::nn::field::Field<Owner> for CellWeights<E> {
    fn visit_field<'m>(&'m self, _: &str, visitor: &mut dyn Visitor<'m>) {
        self.visit("", visitor);
    }
}

impl<E: Element> DeepCopy for CellWeights<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

/// The units of a stacked (and maybe bidirectional) layer: layer `l`,
/// direction `d` at `l · directions + d`, keys suffixed `_l{l}` and
/// `_l{l}_reverse`, as PyTorch's `_flat_weights_names`.
#[derive(Clone)]
pub(crate) struct StackWeights<E: Element = f32> {
    pub(crate) cells: Vec<CellWeights<E>>,
    pub(crate) directions: usize,
}

impl StackWeights {
    /// The units of `spec`, drawn as PyTorch draws them.
    pub(crate) fn new(spec: &Spec) -> Self {
        let o = &spec.options;
        let mut cells = Vec::with_capacity(o.num_layers * spec.directions());
        for layer in 0..o.num_layers {
            let input = if layer == 0 { spec.input_size } else { spec.output_size() };
            for _ in 0..spec.directions() {
                cells.push(CellWeights::new(spec.mode.gates(), input, spec.hidden_size, o.proj_size, o.bias));
            }
        }
        StackWeights { cells, directions: spec.directions() }
    }
}

impl<E: Element> StackWeights<E> {
    /// The unit of `layer`, direction `direction` (1 for the reverse pass).
    pub(crate) fn cell(&self, layer: usize, direction: usize) -> &CellWeights<E> {
        &self.cells[layer * self.directions + direction]
    }
}

/// The units' parameters at the layer's own level, under PyTorch's keys.
impl<E: Element, Owner: ?Sized> crate::nn::field::Field<Owner> for StackWeights<E> {
    fn visit_field<'m>(&'m self, _: &str, visitor: &mut dyn Visitor<'m>) {
        for (index, cell) in self.cells.iter().enumerate() {
            let (layer, direction) = (index / self.directions, index % self.directions);
            let reverse = if direction == 1 { "_reverse" } else { "" };
            cell.visit(&format!("_l{layer}{reverse}"), visitor);
        }
    }
}

impl<E: Element> MapElement for StackWeights<E> {
    type As<F: Element> = StackWeights<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> StackWeights<F> {
        StackWeights { cells: self.cells.map_element(mapper), directions: self.directions }
    }
}

impl<E: Element> DeepCopy for StackWeights<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}
