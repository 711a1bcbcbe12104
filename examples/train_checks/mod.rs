//! The checks `train_digits` makes before it trains: every number flag in
//! a range that makes sense (clap value parsers, so a bad value is refused
//! with a message naming the flag), and `--save`/`--plot` paths that can be
//! written, so that a bad path is found before the training, not after it.

use std::path::{Path, PathBuf};

/// More epochs than this would run for days: refused.
pub const MAX_EPOCHS: u64 = 100_000;
/// Batch sizes and hidden widths are at most this (2^20).
pub const MAX_WIDTH: u64 = 1 << 20;

/// An integer in `1..=max`.
fn count(value: &str, max: u64) -> Result<usize, String> {
    let n: u64 = value.trim().parse().map_err(|_| format!("{value:?} is not a whole number"))?;
    if !(1..=max).contains(&n) {
        return Err(format!("{n} is not in 1..={max}"));
    }
    usize::try_from(n).map_err(|_| format!("{n} does not fit this machine's usize"))
}

/// `--epochs`: a whole number in `1..=MAX_EPOCHS`.
pub fn epochs(value: &str) -> Result<usize, String> {
    count(value, MAX_EPOCHS)
}

/// `--batch-size` and `--hidden`: a whole number in `1..=MAX_WIDTH`.
pub fn width(value: &str) -> Result<usize, String> {
    count(value, MAX_WIDTH)
}

/// A finite number in `low..=high`.
fn number(value: &str, low: f64, high: f64) -> Result<f64, String> {
    let x: f64 = value.trim().parse().map_err(|_| format!("{value:?} is not a number"))?;
    if !x.is_finite() || x < low || x > high {
        return Err(format!("{x} is not a finite number in [{low}, {high}]"));
    }
    Ok(x)
}

/// `--lr`, `--weight-decay`: finite and at least 0 (as PyTorch's optimizers
/// ask), at most 1,000.
pub fn non_negative(value: &str) -> Result<f64, String> {
    number(value, 0.0, 1e3)
}

/// `--momentum`: in `[0, 1]`.
pub fn momentum(value: &str) -> Result<f64, String> {
    number(value, 0.0, 1.0)
}

/// `--test-fraction`: strictly between 0 and 1, so both sets have images.
pub fn fraction(value: &str) -> Result<f64, String> {
    let x = number(value, 0.0, 1.0)?;
    if x == 0.0 || x == 1.0 {
        return Err(format!("{x} leaves no training or no test images; use a fraction between 0 and 1"));
    }
    Ok(x)
}

/// Whether a file can be written at `path` (given as `flag`): an existing
/// regular file (through its links) will be replaced; a folder or a device
/// is refused; a new file needs an existing folder that takes a new file
/// (tried with a probe file, removed at once).
pub fn writable(path: &Path, flag: &str) -> Result<(), String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => {}
        Ok(metadata) => {
            let what = if metadata.is_dir() { "a directory" } else { "a device or other special file" };
            return Err(format!("{flag} {shown}: it is {what}, not a regular file"));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(format!("{flag} {shown}: {error}")),
    }
    // Through a link, the file goes beside the link's target.
    let target = std::fs::read_link(path)
        .map(|link| path.parent().map_or(link.clone(), |folder| folder.join(&link)))
        .unwrap_or_else(|_| path.to_path_buf());
    let folder = match target.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(format!("{flag} {shown}: the folder {} does not exist", folder.display()));
    }
    let probe = folder.join(format!(".train_digits-probe-{}", std::process::id()));
    std::fs::File::create(&probe)
        .map_err(|error| format!("{flag} {shown}: cannot write in {}: {error}", folder.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
