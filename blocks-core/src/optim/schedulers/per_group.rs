//! A schedule's setting for every parameter group at once or one per group,
//! as `torch.optim.lr_scheduler` takes `max_lr`, `base_momentum`, ...: a
//! float, or a list as long as `optimizer.param_groups`.

use crate::optim::ConfigError;

/// One value for every parameter group (PyTorch's float), or one per group
/// (PyTorch's list, which must have one value per group).
///
/// ```
/// use blocks_core::optim::PerGroup;
/// assert_eq!(PerGroup::from(0.9).for_groups("max_momentum", 2).unwrap(), vec![0.9, 0.9]);
/// assert_eq!(PerGroup::from([0.8, 0.7]).for_groups("base_momentum", 2).unwrap(), vec![0.8, 0.7]);
/// assert!(PerGroup::from(vec![0.8]).for_groups("base_momentum", 2).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum PerGroup {
    /// The same value for every group.
    All(f64),
    /// One value per group.
    Each(Vec<f64>),
}

impl PerGroup {
    /// The value of each of `groups` groups, or PyTorch's `ValueError`
    /// message for a list of another length, naming the setting `name`.
    ///
    /// # Errors
    ///
    /// A list whose length is not `groups`.
    ///
    /// ```
    /// let error = blocks_core::optim::PerGroup::from([0.1, 0.2, 0.3]).for_groups("max_lr", 2).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "max_lr must have the same length as optimizer.param_groups. max_lr has 3 values, param_groups has 2."
    /// );
    /// ```
    pub fn for_groups(&self, name: &str, groups: usize) -> Result<Vec<f64>, ConfigError> {
        match self {
            PerGroup::All(value) => Ok(vec![*value; groups]),
            PerGroup::Each(values) if values.len() == groups => Ok(values.clone()),
            PerGroup::Each(values) => Err(ConfigError::new(format!(
                "{name} must have the same length as optimizer.param_groups. {name} has {} values, param_groups \
                 has {groups}.",
                values.len()
            ))),
        }
    }
}

impl From<f64> for PerGroup {
    fn from(value: f64) -> Self {
        PerGroup::All(value)
    }
}

impl From<Vec<f64>> for PerGroup {
    fn from(values: Vec<f64>) -> Self {
        PerGroup::Each(values)
    }
}

impl<const N: usize> From<[f64; N]> for PerGroup {
    fn from(values: [f64; N]) -> Self {
        PerGroup::Each(values.into())
    }
}
