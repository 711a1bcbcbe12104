//! A save killed midway leaves its temporary file; the next save of the
//! same target removes it, and never touches a save still being written or
//! a file that is not one of its temporaries.
//!
//! The kill is real: this test binary runs itself as a child process that
//! stops in the middle of a save, and is killed there.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use blocks_core::Tensor;
use blocks_core::io::{TensorFile, save_tensors, write_atomically};

const CHILD_TARGET: &str = "BLOCKS_STALE_TEMPORARY_TARGET";

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-stale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn temporaries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

/// Kills the child when the test ends, whatever happens.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run only as the child of `a_save_killed_midway_is_cleaned_up_by_the_next_save`:
/// starts a save of the target in the environment and stops in its middle.
#[test]
#[ignore = "a helper process, run by a_save_killed_midway_is_cleaned_up_by_the_next_save"]
fn child_stops_in_the_middle_of_a_save() {
    let Some(target) = std::env::var_os(CHILD_TARGET) else { return };
    let _ = write_atomically(Path::new(&target), |file| {
        file.write_all(b"half of a file")?;
        file.sync_all()?;
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    });
}

#[test]
fn a_save_killed_midway_is_cleaned_up_by_the_next_save() {
    let dir = folder("killed");
    let target = dir.join("model.safetensors");
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_stops_in_the_middle_of_a_save", "--ignored", "--nocapture"])
        .env(CHILD_TARGET, &target)
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    // Watchdog: the child's temporary file appears well within 30 s.
    let start = Instant::now();
    while temporaries(&dir).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the child never started its save");
        assert!(child.0.try_wait().unwrap().is_none(), "the child ended before its save");
        std::thread::sleep(Duration::from_millis(10));
    }
    // While the child is alive its save is in progress: a save now keeps it.
    save_tensors(&target, &[("w", &Tensor::ones([2]))], &[]).unwrap();
    assert_eq!(temporaries(&dir).len(), 1, "a save in progress is left alone");

    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let leftover = temporaries(&dir);
    assert_eq!(leftover.len(), 1, "the killed save left its temporary file");
    assert!(leftover[0].starts_with(".model.safetensors."), "{leftover:?}");

    save_tensors(&target, &[("w", &Tensor::zeros([3]))], &[]).unwrap();
    assert!(temporaries(&dir).is_empty(), "left: {:?}", temporaries(&dir));
    assert_eq!(TensorFile::read(&target).unwrap().shape("w").unwrap(), vec![3]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn only_the_targets_own_unlocked_temporaries_are_removed() {
    let dir = folder("simulated");
    let target = dir.join("w.safetensors");
    // Left by killed saves of this target (any process id, any count).
    for stale in [".w.safetensors.4242.0.tmp", ".w.safetensors.1.17.tmp"] {
        std::fs::write(dir.join(stale), b"partial").unwrap();
    }
    // A save in progress (locked), another target's leftover, files that merely look alike.
    let in_progress = std::fs::File::create(dir.join(".w.safetensors.77.3.tmp")).unwrap();
    in_progress.lock().unwrap();
    let kept = [
        ".other.safetensors.4242.0.tmp",
        ".w.safetensors.notes.tmp",
        ".w.safetensors.12.tmp",
        ".w.safetensors.1.2.3.tmp",
        "w.safetensors.4242.0.tmp",
    ];
    for name in kept {
        std::fs::write(dir.join(name), b"keep").unwrap();
    }

    save_tensors(&target, &[("w", &Tensor::ones([1]))], &[]).unwrap();

    let mut expected: Vec<String> =
        kept.iter().map(|s| s.to_string()).chain([".w.safetensors.77.3.tmp".to_string()]).collect();
    expected.sort();
    assert_eq!(temporaries(&dir), expected);
    drop(in_progress);
    // Once its process let go of it, the next save removes it too.
    save_tensors(&target, &[("w", &Tensor::ones([1]))], &[]).unwrap();
    expected.retain(|n| n != ".w.safetensors.77.3.tmp");
    assert_eq!(temporaries(&dir), expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn saves_racing_to_one_target_from_many_threads_all_succeed_and_leave_nothing() {
    let dir = folder("racing");
    let target = dir.join("r.safetensors");
    let (sender, receiver) = std::sync::mpsc::channel();
    for t in 0..4 {
        let (target, sender) = (target.clone(), sender.clone());
        std::thread::spawn(move || {
            let results: Vec<bool> = (0..25)
                .map(|_| save_tensors(&target, &[("w", &Tensor::full([4], t as f32))], &[]).is_ok())
                .collect();
            sender.send(results).unwrap();
        });
    }
    for _ in 0..4 {
        let results = receiver.recv_timeout(Duration::from_secs(30)).expect("the saves finished (watchdog)");
        assert!(results.iter().all(|ok| *ok), "every save succeeded");
    }
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
    assert_eq!(TensorFile::read(&target).unwrap().shape("w").unwrap(), vec![4]);
    std::fs::remove_dir_all(&dir).unwrap();
}
