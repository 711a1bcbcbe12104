//! What `interpolate` resizes to: `size` or `scale_factor`, each one
//! number for every spatial dim or one per dim, and
//! `recompute_scale_factor`, as `torch.nn.functional.interpolate` takes them
//! (and PyTorch's words when they do not fit the input).

use crate::optim::pyrepr::float;

/// One value for every spatial dim (PyTorch's int or float), or one per dim
/// (PyTorch's tuple).
///
/// ```
/// use blocks_core::PerDim;
/// assert_eq!(PerDim::<f64>::from(2.0).for_dims(3), Some(vec![2.0; 3]));
/// assert_eq!(PerDim::<usize>::from([4, 5]).for_dims(2), Some(vec![4, 5]));
/// assert_eq!(PerDim::<usize>::from([4, 5]).for_dims(3), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum PerDim<T> {
    /// The same value for every spatial dim.
    All(T),
    /// One value per spatial dim.
    Each(Vec<T>),
}

impl<T: Clone> PerDim<T> {
    /// The values for an input of `dims` spatial dims, or `None` when a
    /// tuple has another length.
    ///
    /// ```
    /// assert_eq!(blocks_core::PerDim::All(3).for_dims(1), Some(vec![3]));
    /// ```
    pub fn for_dims(&self, dims: usize) -> Option<Vec<T>> {
        match self {
            PerDim::All(value) => Some(vec![value.clone(); dims]),
            PerDim::Each(values) => (values.len() == dims).then(|| values.clone()),
        }
    }

    /// Every value given.
    ///
    /// ```
    /// assert_eq!(blocks_core::PerDim::<usize>::from((1, 2, 3)).values(), vec![1, 2, 3]);
    /// ```
    pub fn values(&self) -> Vec<T> {
        match self {
            PerDim::All(value) => vec![value.clone()],
            PerDim::Each(values) => values.clone(),
        }
    }

    /// As Python prints it: `2`, `(2,)`, `(2, 3)`, each value by `item`.
    fn python(&self, item: impl Fn(&T) -> String) -> String {
        match self {
            PerDim::All(value) => item(value),
            PerDim::Each(values) if values.len() == 1 => format!("({},)", item(&values[0])),
            PerDim::Each(values) => format!("({})", values.iter().map(item).collect::<Vec<_>>().join(", ")),
        }
    }
}

impl<T> From<T> for PerDim<T> {
    fn from(value: T) -> Self {
        PerDim::All(value)
    }
}

impl<T, const N: usize> From<[T; N]> for PerDim<T> {
    fn from(values: [T; N]) -> Self {
        PerDim::Each(values.into())
    }
}

impl<T> From<Vec<T>> for PerDim<T> {
    fn from(values: Vec<T>) -> Self {
        PerDim::Each(values)
    }
}

impl<T> From<(T, T)> for PerDim<T> {
    fn from((a, b): (T, T)) -> Self {
        PerDim::Each(vec![a, b])
    }
}

impl<T> From<(T, T, T)> for PerDim<T> {
    fn from((a, b, c): (T, T, T)) -> Self {
        PerDim::Each(vec![a, b, c])
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Size(PerDim<usize>),
    ScaleFactor(PerDim<f64>),
}

/// The output of `interpolate`, like its `size`, `scale_factor` and
/// `recompute_scale_factor` arguments: a size, or a factor (the size then
/// `floor(input · scale_factor)`, and the source positions computed from
/// `1 / scale_factor` unless `recompute_scale_factor`, which computes them
/// from the sizes).
///
/// ```
/// use blocks_core::InterpolateSize;
/// assert_eq!(InterpolateSize::scale_factor([2.0, 1.5]).output(&[3, 4]), Ok(vec![6, 6]));
/// assert_eq!(InterpolateSize::size(5).output(&[3, 4, 2]), Ok(vec![5, 5, 5]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InterpolateSize {
    target: Target,
    recompute_scale_factor: bool,
}

impl InterpolateSize {
    /// The output's spatial sizes (`size=`): one for every dim, or one per dim.
    ///
    /// ```
    /// let size = blocks_core::InterpolateSize::size((5, 7));
    /// assert_eq!(size.output(&[2, 2]), Ok(vec![5, 7]));
    /// ```
    pub fn size(size: impl Into<PerDim<usize>>) -> Self {
        InterpolateSize { target: Target::Size(size.into()), recompute_scale_factor: false }
    }

    /// The factors the input's spatial sizes are multiplied by (`scale_factor=`).
    ///
    /// ```
    /// let scale = blocks_core::InterpolateSize::scale_factor(1.5);
    /// assert_eq!(scale.output(&[3]), Ok(vec![4]));
    /// ```
    pub fn scale_factor(scale_factor: impl Into<PerDim<f64>>) -> Self {
        InterpolateSize { target: Target::ScaleFactor(scale_factor.into()), recompute_scale_factor: false }
    }

    /// PyTorch's `recompute_scale_factor`: with `true`, the source positions
    /// are computed from the input and output sizes instead of the factor
    /// (refused with a size, as PyTorch refuses it).
    ///
    /// ```
    /// let scale = blocks_core::InterpolateSize::scale_factor(1.7).recompute_scale_factor(true);
    /// assert_eq!(scale.scales(1), vec![None]);
    /// ```
    pub fn recompute_scale_factor(self, recompute: bool) -> Self {
        InterpolateSize { recompute_scale_factor: recompute, ..self }
    }

    /// The output sizes for spatial sizes `input`, or PyTorch's message on
    /// a size or factor tuple of another length, a factor that is not a
    /// positive finite number, or `recompute_scale_factor` with a size.
    ///
    /// ```
    /// use blocks_core::InterpolateSize;
    /// assert_eq!(InterpolateSize::scale_factor([1.5, 0.5]).output(&[3, 3]), Ok(vec![4, 1]));
    /// assert!(InterpolateSize::scale_factor(-1.0).output(&[3, 3]).is_err());
    /// ```
    pub fn output(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let dims = input.len();
        match &self.target {
            Target::Size(size) => {
                if self.recompute_scale_factor {
                    return Err("recompute_scale_factor is not meaningful with an explicit size.".into());
                }
                size.for_dims(dims).ok_or_else(|| {
                    format!(
                        "Input and output must have the same number of spatial dimensions, but got input with \
                         spatial dimensions of {input:?} and output size of {}. Please provide input tensor in \
                         (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.",
                        size.python(|s| s.to_string())
                    )
                })
            }
            Target::ScaleFactor(scales) => {
                let factors = scales.for_dims(dims).ok_or_else(|| {
                    format!(
                        "Input and scale_factor must have the same number of spatial dimensions, but got input \
                         with spatial dimensions of {input:?} and scale_factor of shape {}. Please provide input \
                         tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.",
                        scales.python(|&s| float(s))
                    )
                })?;
                input
                    .iter()
                    .zip(factors)
                    .map(|(&size, s)| {
                        let out = (size as f64 * s).floor();
                        if s.is_finite() && s > 0.0 && out < usize::MAX as f64 {
                            Ok(out as usize)
                        } else {
                            Err(format!("scale_factor must be a positive finite number, got {}", float(s)))
                        }
                    })
                    .collect()
            }
        }
    }

    /// The factor each of `dims` spatial dims' source positions are computed
    /// from (`None`: from the sizes), as PyTorch passes `scales` to its kernels.
    ///
    /// ```
    /// use blocks_core::InterpolateSize;
    /// assert_eq!(InterpolateSize::scale_factor(2.0).scales(2), vec![Some(2.0), Some(2.0)]);
    /// assert_eq!(InterpolateSize::size(4).scales(1), vec![None]);
    /// ```
    pub fn scales(&self, dims: usize) -> Vec<Option<f64>> {
        match &self.target {
            Target::ScaleFactor(scales) if !self.recompute_scale_factor => {
                scales.for_dims(dims).map_or(vec![None; dims], |s| s.into_iter().map(Some).collect())
            }
            _ => vec![None; dims],
        }
    }

    /// As `nn.Upsample` prints it: `size=(5, 7)` or `scale_factor=2.0`.
    ///
    /// ```
    /// assert_eq!(blocks_core::InterpolateSize::scale_factor([2.0, 1.0]).python(), "scale_factor=(2.0, 1.0)");
    /// ```
    pub fn python(&self) -> String {
        match &self.target {
            Target::Size(size) => format!("size={}", size.python(|s| s.to_string())),
            Target::ScaleFactor(scales) => format!("scale_factor={}", scales.python(|&s| float(s))),
        }
    }
}
