//! The settings check of `DistributedDataParallel`: the run's settings
//! that must agree on every rank (the data sampler's length, seed and
//! shuffling, the batch size, the bucket size, the dtype, and whatever the
//! program adds) are compared at construction, and every rank fails with
//! the first difference named, instead of training on mismatched shards or
//! crashing inside MPI on buffers of different sizes.

use serde_json::Value;

use super::{DistributedError, World};

/// Compares this rank's `settings` (name, value) with rank 0's,
/// collectively: `Ok` on every rank or an error on every rank, each naming
/// the first difference of the lowest rank that differs.
pub(crate) fn check_settings(world: &World, settings: &[(String, String)]) -> Result<(), DistributedError> {
    let as_json = |settings: &[(String, String)]| {
        let pairs = settings.iter().map(|(name, value)| Value::from(vec![name.clone(), value.clone()]));
        serde_json::to_vec(&Value::Array(pairs.collect())).expect("JSON of strings")
    };
    let mut bytes = if world.is_main() { as_json(settings) } else { Vec::new() };
    world.broadcast_bytes(&mut bytes);
    let main: Option<Vec<(String, String)>> = serde_json::from_slice::<Vec<(String, String)>>(&bytes).ok();
    let problem = match main {
        Some(main) => first_difference(world.rank(), settings, &main),
        None => Some("rank 0's settings could not be read".into()),
    };
    let verdicts = world.all_gather_i32(i32::from(problem.is_some()));
    let Some(first) = verdicts.iter().position(|&v| v != 0) else { return Ok(()) };
    // Every rank names the difference the lowest differing rank found.
    let mut message = problem.map(String::into_bytes).unwrap_or_default();
    world.broadcast_bytes_from(first, &mut message);
    let message = String::from_utf8_lossy(&message).into_owned();
    Err(DistributedError::Settings { rank: world.rank(), message })
}

/// The first setting of `mine` (on rank `rank`) that differs from rank 0's `main`.
pub(crate) fn first_difference(
    rank: usize,
    mine: &[(String, String)],
    main: &[(String, String)],
) -> Option<String> {
    for (index, (name, value)) in mine.iter().enumerate() {
        match main.iter().find(|(other, _)| other == name) {
            Some((_, theirs)) if theirs == value => {}
            Some((_, theirs)) => {
                return Some(format!("{name} is {value} on rank {rank}, but {theirs} on rank 0"));
            }
            None => {
                return Some(format!(
                    "setting {index} ({name} = {value}) on rank {rank} is not set on rank 0"
                ));
            }
        }
    }
    main.iter()
        .find(|(name, _)| !mine.iter().any(|(other, _)| other == name))
        .map(|(name, value)| format!("{name} is {value} on rank 0, but not set on rank {rank}"))
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_first_difference_is_named() {
        let main = settings(&[("batch size", "32"), ("sampler seed", "0")]);
        assert_eq!(first_difference(1, &main, &main), None);
        let other = settings(&[("batch size", "16"), ("sampler seed", "1")]);
        assert_eq!(
            first_difference(1, &other, &main).unwrap(),
            "batch size is 16 on rank 1, but 32 on rank 0"
        );
        assert_eq!(
            first_difference(2, &main[..1], &main).unwrap(),
            "sampler seed is 0 on rank 0, but not set on rank 2"
        );
        assert!(
            first_difference(1, &settings(&[("epochs", "3")]), &main).unwrap().contains("not set on rank 0")
        );
    }
}
