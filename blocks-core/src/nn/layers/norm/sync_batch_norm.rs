//! `nn.SyncBatchNorm`: batch normalization whose training statistics are
//! those of the whole batch, split across the ranks of data-parallel
//! training.

use crate::error::or_panic;
use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::layers::norm::batch_norm::Running;
use crate::nn::{
    BatchNormOptions, DeepCopy, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor,
    register_parameter,
};
use crate::{Element, Tensor, TensorBase};

/// Batch normalization over the channel dim (dim 1) of inputs of at least
/// two dims, with the statistics of the **whole** batch when the batch is
/// split across the ranks of a [`distributed`](crate::distributed) job, like
/// `nn.SyncBatchNorm(num_features)`.
///
/// In training, on more than one rank, each rank's forward sums its
/// channels' counts, means and squared deviations with the other ranks'
/// (all-reduces, at most the world's timeout), normalizes with the whole
/// batch's mean and biased variance, and blends the whole batch's mean and
/// unbiased variance into its running statistics; its backward sums the
/// per-channel `Σ ∂L/∂y` and `Σ ∂L/∂y · x̂` the same way, so each rank's
/// input gradient is the one a single process on the whole batch computes.
/// The weight and bias gradients are the rank's own (its part of the sum),
/// which data-parallel training then averages. Every rank must run the
/// forward and the backward alike (the same number of times). In eval, or
/// in a single process (no MPI running, or a world of one), it is a plain
/// [`DynBatchNorm`](crate::nn::DynBatchNorm), as PyTorch's is.
///
/// Keys and printout are PyTorch's:
///
/// ```
/// use blocks_core::nn::{BatchNormOptions, Module, ModuleExt, SyncBatchNorm};
/// use blocks_core::Tensor;
/// let bn = SyncBatchNorm::new(3, BatchNormOptions::default());
/// assert_eq!(bn.to_string(), "SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)");
/// let keys: Vec<String> = bn.state_dict().keys().into_iter().map(String::from).collect();
/// assert_eq!(keys, ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
/// let y = bn.forward(&Tensor::rand([4, 3, 2, 2])); // one process: BatchNorm2d's result
/// assert_eq!(y.shape(), vec![4, 3, 2, 2]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct SyncBatchNorm<E: Element = f32> {
    num_features: usize,
    options: BatchNormOptions,
    weight: Option<Parameter<E>>,
    bias: Option<Parameter<E>>,
    running: Option<Running<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl SyncBatchNorm {
    /// A layer over `num_features` channels: weight 1, bias 0, running mean
    /// 0, running variance 1, no batches tracked, as PyTorch starts it.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, SyncBatchNorm};
    /// let bn = SyncBatchNorm::new(8, BatchNormOptions { momentum: None, ..Default::default() });
    /// assert_eq!(bn.num_features(), 8);
    /// ```
    pub fn new(num_features: usize, options: BatchNormOptions) -> Self {
        let affine = options.affine;
        SyncBatchNorm {
            hooks: Hooks::new(),
            num_features,
            options,
            weight: affine.then(|| Parameter::new(Tensor::ones([num_features]))),
            bias: (affine && options.bias).then(|| Parameter::new(Tensor::zeros([num_features]))),
            running: options.track_running_stats.then(|| Running::new(num_features)),
            training: TrainingFlag::default(),
        }
    }
}

impl<E: Element> SyncBatchNorm<E> {
    /// The number of channels.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, SyncBatchNorm};
    /// assert_eq!(SyncBatchNorm::new(4, BatchNormOptions::default()).num_features(), 4);
    /// ```
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The per-channel scale, if the layer is affine.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, SyncBatchNorm};
    /// assert_eq!(SyncBatchNorm::new(2, BatchNormOptions::default()).weight().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn weight(&self) -> Option<&Parameter<E>> {
        self.weight.as_ref()
    }

    /// The per-channel shift, if the layer has one.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, SyncBatchNorm};
    /// assert_eq!(SyncBatchNorm::new(2, BatchNormOptions::default()).bias().unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }

    /// The sum across the ranks when a forward in training has other ranks
    /// to sync with (PyTorch's `need_sync`).
    fn across(&self) -> Option<crate::ops::batch_norm::Reduce> {
        #[cfg(feature = "mpi")]
        if crate::distributed::running_world_size().is_some_and(|size| size > 1) {
            return Some(std::sync::Arc::new(|values: &mut [f64]| {
                crate::distributed::all_reduce_sum_world(values, "SyncBatchNorm: an all-reduce of statistics")
            }));
        }
        None
    }
}

/// Takes a tensor `[N, C, ...]` (a typed one as a plain one).
impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for SyncBatchNorm<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        let shape = x.shape();
        if shape.len() < 2 {
            panic!(
                "SyncBatchNorm: expected at least 2D input (got {}D input, of shape {shape:?}){}",
                shape.len(),
                crate::nn::path::describe()
            );
        }
        if shape[1] != self.num_features {
            panic!(
                "{self} takes {} channels (in dimension 1), but got a tensor of shape {shape:?}{}",
                self.num_features,
                crate::nn::path::describe()
            );
        }
        let eps = E::of(self.options.eps);
        let (weight, bias) = (self.weight.as_deref(), self.bias.as_deref());
        let training = self.training.get();
        match &self.running {
            Some(running) if !training => x.batch_norm_eval(&running.mean, &running.var, weight, bias, eps),
            running => {
                let (y, stats) = match self.across().filter(|_| training) {
                    Some(reduce) => or_panic(x.batch_norm_train_across(weight, bias, eps, reduce)),
                    None => x.batch_norm_train(weight, bias, eps),
                };
                if let Some(running) = running.as_ref().filter(|_| training) {
                    let count = running.num_batches_tracked.update_data(|tracked| {
                        tracked.map_inplace(|n| *n += 1.0);
                        tracked.iter().next().copied().unwrap_or(1.0)
                    });
                    stats.update_running(&running.mean, &running.var, self.options.momentum, count as u64);
                }
                y
            }
        }
    }
}

#[diagnostic::do_not_recommend]
impl<E: Element> Module for SyncBatchNorm<E> {
    fn type_name(&self) -> String {
        "SyncBatchNorm".to_string()
    }

    fn extra_repr(&self) -> String {
        self.options.repr(self.num_features)
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        if let Some(weight) = &self.weight {
            register_parameter(visitor, "weight", weight);
        }
        if let Some(bias) = &self.bias {
            register_parameter(visitor, "bias", bias);
        }
        if let Some(running) = &self.running {
            running.visit(visitor);
        }
        visitor.training_flag(&self.training);
        visitor.hooks(&self.hooks);
    }
}

impl<E: Element> MapElement for SyncBatchNorm<E> {
    type As<F: Element> = SyncBatchNorm<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> SyncBatchNorm<F> {
        SyncBatchNorm {
            hooks: self.hooks.clone(),
            num_features: self.num_features,
            options: self.options,
            weight: self.weight.map_element(mapper),
            bias: self.bias.map_element(mapper),
            running: self.running.as_ref().map(|running| running.map_element(mapper)),
            training: self.training.clone(),
        }
    }
}

/// The copy is the map to the layer's own element type.
impl<E: Element> DeepCopy for SyncBatchNorm<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::SyncBatchNorm;
    use crate::nn::ModuleExt;
    use crate::nn::{BatchNormOptions, DynBatchNorm2d};
    use crate::{Tensor, manual_seed};

    #[test]
    fn in_one_process_it_is_batch_norm() {
        manual_seed(3);
        let (sync, plain) = (
            SyncBatchNorm::new(3, BatchNormOptions::default()),
            DynBatchNorm2d::new(3, BatchNormOptions::default()),
        );
        let weight = Tensor::randn([3]);
        sync.weight().unwrap().set_data(&weight);
        plain.weight().unwrap().set_data(&weight);
        let x = Tensor::randn([4, 3, 2, 2]);
        let (xa, xb) = (x.detach().requires_grad_(true), x.detach().requires_grad_(true));
        let (ya, yb) = (sync.forward(&xa), plain.forward(&xb));
        assert_eq!(ya.to_vec(), yb.to_vec());
        (&ya * &ya).sum().backward();
        (&yb * &yb).sum().backward();
        assert_eq!(xa.grad().unwrap().to_vec(), xb.grad().unwrap().to_vec());
        assert_eq!(
            sync.weight().unwrap().grad().unwrap().to_vec(),
            plain.weight().unwrap().grad().unwrap().to_vec()
        );
        let (a, b) = (sync.named_buffers(), plain.named_buffers());
        assert_eq!(a.len(), 3); // running_mean, running_var, num_batches_tracked
        for ((name, a), (_, b)) in a.iter().zip(&b) {
            assert_eq!(a.to_vec(), b.to_vec(), "{name}");
        }
        sync.eval();
        plain.eval();
        assert_eq!(sync.forward(&x).to_vec(), plain.forward(&x).to_vec());
    }
}
