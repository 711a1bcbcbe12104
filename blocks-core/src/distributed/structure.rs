//! The structure check of `DistributedDataParallel`: every rank must hold
//! the same model (parameter and buffer count, shapes, which parameters
//! train), or the gradient buckets would not line up.

use serde_json::{Value, json};

use super::{DistributedError, World};
use crate::Tensor;
use crate::nn::Parameter;

/// One parameter or buffer as the structure check sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// `"parameter"` or `"buffer"`.
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    /// Whether it is trained (its gradient is all-reduced).
    pub(crate) trainable: bool,
}

impl Entry {
    pub(crate) fn parameter(name: &str, parameter: &Parameter) -> Entry {
        Entry {
            kind: "parameter",
            name: name.into(),
            shape: parameter.shape(),
            trainable: parameter.requires_grad(),
        }
    }

    pub(crate) fn buffer(name: &str, buffer: &Tensor) -> Entry {
        Entry { kind: "buffer", name: name.into(), shape: buffer.shape(), trainable: false }
    }

    fn to_json(&self) -> Value {
        json!([self.kind, self.name, self.shape, self.trainable])
    }

    fn from_json(value: &Value) -> Option<Entry> {
        let kind = match value.get(0)?.as_str()? {
            "parameter" => "parameter",
            "buffer" => "buffer",
            _ => return None,
        };
        let shape = value
            .get(2)?
            .as_array()?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()?;
        Some(Entry { kind, name: value.get(1)?.as_str()?.into(), shape, trainable: value.get(3)?.as_bool()? })
    }

    fn describe(&self) -> String {
        let frozen = if self.kind == "parameter" && !self.trainable { " (frozen)" } else { "" };
        format!("{} `{}` of shape {:?}{frozen}", self.kind, self.name, self.shape)
    }
}

/// Compares this rank's `entries` with rank 0's on every rank, collectively.
///
/// `local_problem` is something this rank found wrong on its own (an
/// uninitialized parameter); it is reported through the same exchange so
/// that every rank returns an error, never only some.
pub(crate) fn check(
    world: &World,
    entries: &[Entry],
    local_problem: Option<String>,
) -> Result<(), DistributedError> {
    let mut bytes = if world.is_main() {
        serde_json::to_vec(&Value::Array(entries.iter().map(Entry::to_json).collect()))
            .expect("JSON of plain values")
    } else {
        Vec::new()
    };
    world.broadcast_bytes(&mut bytes);
    let problem = local_problem.or_else(|| {
        let main: Option<Vec<Entry>> = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.as_array().map(|a| a.iter().map(Entry::from_json).collect()))
            .flatten();
        match main {
            Some(main) => first_difference(world.rank(), entries, &main),
            None => Some("rank 0's model description could not be read".into()),
        }
    });
    let verdicts = world.all_gather_i32(i32::from(problem.is_some()));
    let differing: Vec<usize> = (0..verdicts.len()).filter(|&r| verdicts[r] != 0).collect();
    match (problem, differing.is_empty()) {
        (None, true) => Ok(()),
        (Some(message), _) => Err(DistributedError::Structure { rank: world.rank(), message }),
        (None, false) => Err(DistributedError::Structure {
            rank: world.rank(),
            message: format!("rank(s) {differing:?} differ from rank 0 (their errors name the difference)"),
        }),
    }
}

/// The first way `mine` (on rank `rank`) differs from rank 0's `main`:
/// counts of parameters and buffers first, then entry by entry.
pub(crate) fn first_difference(rank: usize, mine: &[Entry], main: &[Entry]) -> Option<String> {
    for kind in ["parameter", "buffer"] {
        let count = |entries: &[Entry]| entries.iter().filter(|e| e.kind == kind).count();
        let (here, there) = (count(mine), count(main));
        if here != there {
            return Some(format!("rank {rank} has {here} {kind}s, rank 0 has {there}"));
        }
    }
    mine.iter().zip(main).enumerate().find_map(|(index, (a, b))| {
        (a.shape != b.shape || a.trainable != b.trainable || a.kind != b.kind).then(|| {
            format!("entry {index}: {} on rank {rank}, but {} on rank 0", a.describe(), b.describe())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &'static str, name: &str, shape: &[usize], trainable: bool) -> Entry {
        Entry { kind, name: name.into(), shape: shape.to_vec(), trainable }
    }

    #[test]
    fn the_first_difference_is_named() {
        let main = [
            entry("parameter", "0.weight", &[256, 64], true),
            entry("parameter", "0.bias", &[256], true),
            entry("buffer", "1.running_mean", &[256], false),
        ];
        assert_eq!(first_difference(1, &main, &main), None);
        let mut wider = main.clone();
        wider[1].shape = vec![128];
        assert_eq!(
            first_difference(1, &wider, &main).unwrap(),
            "entry 1: parameter `0.bias` of shape [128] on rank 1, but parameter `0.bias` of shape [256] on rank 0"
        );
        assert_eq!(first_difference(2, &main[..1], &main).unwrap(), "rank 2 has 1 parameters, rank 0 has 2");
        assert_eq!(first_difference(2, &main[..2], &main).unwrap(), "rank 2 has 0 buffers, rank 0 has 1");
        let mut frozen = main.clone();
        frozen[0].trainable = false;
        assert!(
            first_difference(1, &frozen, &main).unwrap().contains("of shape [256, 64] (frozen) on rank 1")
        );
    }

    #[test]
    fn entries_survive_the_json_round_trip() {
        let e = entry("buffer", "bn.running_var", &[3, 4], false);
        assert_eq!(Entry::from_json(&e.to_json()), Some(e));
        assert_eq!(Entry::from_json(&json!(["weights", "x", [1], true])), None);
    }
}
