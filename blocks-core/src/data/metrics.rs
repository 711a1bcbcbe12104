//! Classification read-outs: the predicted class per row and the accuracy.

use crate::Tensor;

/// The predicted class of each row of `logits` (`[N, C]`): the index of its
/// largest value, like `logits.argmax(dim=1).tolist()` (the first of equal maxima).
///
/// Panics unless `logits` is 2-D with at least one class.
///
/// ```
/// use blocks_core::{data::predict, Tensor};
/// let logits = Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 0.0, 0.5], [2, 3]);
/// assert_eq!(predict(&logits), vec![1, 0]);
/// ```
pub fn predict(logits: &Tensor) -> Vec<usize> {
    let shape = logits.shape();
    assert!(
        shape.len() == 2 && shape[1] > 0,
        "predict: logits must be [N, C] with C >= 1, got shape {shape:?}"
    );
    logits.argmax(1, false).to_vec()
}

/// How many rows of `logits` predict their label (d2l's `accuracy`, a count
/// to add up over batches).
///
/// Panics unless `logits` is `[N, C]` with N equal to the number of labels.
///
/// ```
/// use blocks_core::{data::correct, Tensor};
/// let logits = Tensor::from_vec(vec![0.1, 2.0, 3.0, 0.0], [2, 2]);
/// assert_eq!(correct(&logits, &[1, 1]), 1);
/// ```
pub fn correct(logits: &Tensor, labels: &[usize]) -> usize {
    let predicted = predict(logits);
    assert!(
        predicted.len() == labels.len(),
        "accuracy: {} rows of logits but {} labels",
        predicted.len(),
        labels.len()
    );
    predicted.iter().zip(labels).filter(|(p, l)| p == l).count()
}

/// The fraction of rows of `logits` whose prediction is their label, in
/// `[0, 1]` (NaN for no rows).
///
/// Panics unless `logits` is `[N, C]` with N equal to the number of labels.
///
/// ```
/// use blocks_core::{data::accuracy, Tensor};
/// let logits = Tensor::from_vec(vec![0.1, 2.0, 3.0, 0.0, 1.0, 0.0, 0.0, 1.0], [4, 2]);
/// assert_eq!(accuracy(&logits, &[1, 0, 1, 1]), 0.75);
/// ```
pub fn accuracy(logits: &Tensor, labels: &[usize]) -> f64 {
    correct(logits, labels) as f64 / labels.len() as f64
}
