//! The body of the `load_safetensors` fuzz target (`fuzz/`), run in
//! `cargo test` on stable: on every committed seed, and on deterministic
//! mutations of the small ones (truncations, byte changes in the header,
//! forged header lengths, random edits). Nothing may panic. The seeds, the
//! forged lengths and every 16th truncation are also read from a file on
//! disk, whose reader must agree with the one from memory.

#[path = "../../../fuzz/src/load_safetensors.rs"]
mod body;

use std::path::{Path, PathBuf};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn every_seed_runs_and_the_state_dicts_load() {
    let seeds = seeds();
    assert!(seeds.len() >= 19, "the conformance files and PyTorch fixtures are committed as seeds");
    for (name, bytes) in &seeds {
        let loaded = body::load_safetensors_from_disk(bytes);
        // int64 tensors (training targets, BatchNorm's num_batches_tracked)
        // load too, as integer entries, so every seed is a state dict.
        assert!(loaded.is_some(), "{name}");
    }
    let tied = seeds.iter().find(|(n, _)| n == "tied.model.safetensors").unwrap();
    // save_model's aliases (4.weight, 4.bias) come back as entries.
    assert_eq!(body::load_safetensors(&tied.1), Some(8));
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn header_end(bytes: &[u8]) -> usize {
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (8 + len).min(bytes.len())
}

#[test]
fn truncations_and_header_edits_never_panic() {
    for (name, bytes) in seeds().into_iter().filter(|(_, b)| b.len() <= 4096) {
        for cut in 0..bytes.len() {
            // Every 16th cut also through a file on disk (the two readers agree).
            let load = if cut % 16 == 0 { body::load_safetensors_from_disk } else { body::load_safetensors };
            assert!(load(&bytes[..cut]).is_none(), "{name} cut at {cut} loaded");
        }
        let end = header_end(&bytes);
        for position in 0..end {
            for value in [0x00, 0xff, b'9', b'"', b']', b'-'] {
                let mut edited = bytes.clone();
                edited[position] = value;
                body::load_safetensors(&edited);
            }
        }
        for forged in [0, 1, 7, end as u64 - 9, end as u64 - 7, u32::MAX as u64, 100_000_001, u64::MAX] {
            let mut edited = bytes.clone();
            edited[..8].copy_from_slice(&forged.to_le_bytes());
            body::load_safetensors_from_disk(&edited);
        }
    }
}

#[test]
fn random_edits_never_panic() {
    let seeds = seeds();
    let small: Vec<&Vec<u8>> = seeds.iter().map(|(_, b)| b).filter(|b| b.len() <= 4096).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let digits = b"0123456789";
    for _ in 0..4000 {
        let mut bytes = small[rng.below(small.len())].clone();
        for _ in 0..1 + rng.below(4) {
            if bytes.len() < 9 {
                break;
            }
            let end = header_end(&bytes);
            match if end > 8 { rng.below(4) } else { 2 + rng.below(2) } {
                // A digit changed or added inside the header: shapes and offsets.
                0 => {
                    let at = 8 + rng.below(end - 8);
                    bytes[at] = digits[rng.below(10)];
                }
                1 => {
                    let at = 8 + rng.below(end - 8);
                    bytes.insert(at, digits[rng.below(10)]);
                }
                // Any byte anywhere.
                2 => {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                // Truncated or extended data.
                _ => {
                    if rng.below(2) == 0 {
                        bytes.truncate(rng.below(bytes.len()));
                    } else {
                        bytes.extend(std::iter::repeat_n(0, 1 + rng.below(16)));
                    }
                }
            }
        }
        body::load_safetensors(&bytes);
    }
}
