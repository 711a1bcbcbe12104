//! An optimizer's hyper-parameters listed once, under PyTorch's
//! `param_groups` keys: the one list a config writes, from which its saved
//! form ([`Rule::to_json`](super::rule::Rule::to_json)) and the reading of
//! that form ([`Rule::from_json`](super::rule::Rule::from_json)) both come,
//! so a new hyper-parameter is added in one place.

use serde_json::{Map, Value};

use super::StateError;
use super::optimizer::{group_bool, group_f64};

/// One hyper-parameter of a config, borrowed so it can be read or written.
pub enum Field<'a> {
    /// A number such as `lr` or `eps`.
    Number(&'a mut f64),
    /// A pair such as `betas`, saved as a list of two numbers.
    Pair(&'a mut (f64, f64)),
    /// A flag such as `maximize`.
    Flag(&'a mut bool),
}

/// A config whose hyper-parameters are listed by key. Sealed with
/// [`Rule`](super::rule::Rule): it sits in a private module.
pub trait Fields: Copy + Default {
    /// Every hyper-parameter a saved group holds, under PyTorch's key.
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)>;
}

/// The hyper-parameters under their keys, as PyTorch's `param_groups` hold them.
pub(crate) fn to_json<C: Fields>(mut config: C) -> Map<String, Value> {
    config
        .fields()
        .into_iter()
        .map(|(key, field)| {
            let value = match field {
                Field::Number(x) => Value::from(*x),
                Field::Pair(&mut (a, b)) => Value::from(vec![a, b]),
                Field::Flag(flag) => Value::from(*flag),
            };
            (key.to_owned(), value)
        })
        .collect()
}

/// Reads [`to_json`]'s form: every key must be there with a value of its kind.
pub(crate) fn from_json<C: Fields>(group: &Map<String, Value>) -> Result<C, StateError> {
    let mut config = C::default();
    for (key, field) in config.fields() {
        match field {
            Field::Number(x) => *x = group_f64(group, key)?,
            Field::Pair(pair) => *pair = group_pair(group, key)?,
            Field::Flag(flag) => *flag = group_bool(group, key)?,
        }
    }
    Ok(config)
}

/// The `betas` pair of a saved group.
fn group_pair(group: &Map<String, Value>, key: &str) -> Result<(f64, f64), StateError> {
    match group.get(key).and_then(Value::as_array).map(Vec::as_slice) {
        Some([a, b]) => a.as_f64().zip(b.as_f64()),
        _ => None,
    }
    .ok_or_else(|| StateError::new(format!("param_groups: {key:?} must be a pair of numbers")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{AdamConfig, SgdConfig};

    #[test]
    fn a_config_round_trips_through_its_saved_form() {
        let adam = AdamConfig { lr: 0.5, betas: (0.8, 0.9), amsgrad: true, ..Default::default() };
        let saved = to_json(adam);
        assert_eq!(saved["betas"], serde_json::json!([0.8, 0.9]));
        assert_eq!(saved["amsgrad"], Value::Bool(true));
        assert_eq!(from_json::<AdamConfig>(&saved).unwrap(), adam);
        let sgd = SgdConfig { momentum: 0.9, nesterov: true, ..Default::default() };
        assert_eq!(from_json::<SgdConfig>(&to_json(sgd)).unwrap(), sgd);
    }

    #[test]
    fn a_missing_or_mistyped_key_is_named() {
        let mut saved = to_json(AdamConfig::default());
        saved.insert("betas".into(), serde_json::json!([0.9]));
        let error = from_json::<AdamConfig>(&saved).unwrap_err().to_string();
        assert!(error.contains("\"betas\" must be a pair of numbers"), "{error}");
        saved.remove("eps");
        saved.insert("betas".into(), serde_json::json!([0.9, 0.99]));
        let error = from_json::<AdamConfig>(&saved).unwrap_err().to_string();
        assert!(error.contains("no number \"eps\""), "{error}");
        saved.insert("eps".into(), serde_json::json!(1e-8));
        saved.insert("amsgrad".into(), serde_json::json!(1));
        let error = from_json::<AdamConfig>(&saved).unwrap_err().to_string();
        assert!(error.contains("no boolean \"amsgrad\""), "{error}");
    }
}
