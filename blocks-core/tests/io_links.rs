//! Saving through symbolic links and to paths that are not regular files:
//! a save through a link replaces the file the link points to (atomically,
//! its temporary file beside the target) and the link stays a link; a
//! directory, `/dev/null` (the tests run as root, so a rename over it would
//! replace the device) and a link to either are refused before anything is
//! written.
#![cfg(unix)]

use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};

use blocks_core::Tensor;
use blocks_core::io::{TensorFile, save, save_tensors};
use blocks_core::nn::{Linear, ModuleExt};

/// A fresh folder of its own for each test.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-io-links-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn saved_x(path: &Path) -> Vec<f32> {
    TensorFile::read(path).unwrap().tensor("x").unwrap().to_vec()
}

#[test]
fn a_save_through_a_link_replaces_its_target_and_keeps_the_link() {
    let (links, store) = (folder("links"), folder("store"));
    let real = store.join("model.safetensors");
    save_tensors(&real, &[("x", &Tensor::zeros([3]))], &[]).unwrap();
    // An absolute link, and a relative one to it (a chain of two).
    let link = links.join("latest.safetensors");
    symlink(&real, &link).unwrap();
    let relative = links.join("again.safetensors");
    symlink("latest.safetensors", &relative).unwrap();

    save_tensors(&relative, &[("x", &Tensor::ones([3]))], &[]).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays");
    assert!(std::fs::symlink_metadata(&relative).unwrap().file_type().is_symlink());
    assert_eq!(saved_x(&real), vec![1.0; 3], "the real checkpoint has the new weights");
    assert_eq!(saved_x(&link), vec![1.0; 3]);
    // No temporary file is left in either folder.
    assert_eq!(entries(&links), vec!["again.safetensors", "latest.safetensors"]);
    assert_eq!(entries(&store), vec!["model.safetensors"]);

    // A model's state saved through the link lands in the target too.
    let model = Linear::<2, 3>::new();
    save(&model.state_dict(), &link).unwrap();
    assert_eq!(TensorFile::read(&real).unwrap().names(), vec!["bias", "weight"]);
    std::fs::remove_dir_all(&links).unwrap();
    std::fs::remove_dir_all(&store).unwrap();
}

#[test]
fn a_dangling_link_gets_its_target_created() {
    let dir = folder("dangling");
    let link = dir.join("link.safetensors");
    symlink("made.safetensors", &link).unwrap();
    save_tensors(&link, &[("x", &Tensor::ones([2]))], &[]).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(saved_x(&dir.join("made.safetensors")), vec![1.0; 2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dev_null_a_directory_and_links_to_them_are_refused_before_writing() {
    let dir = folder("refused");
    let x = Tensor::ones([2]);
    let null = Path::new("/dev/null");
    assert!(std::fs::metadata(null).unwrap().file_type().is_char_device());

    let error = save_tensors(null, &[("x", &x)], &[]).unwrap_err().to_string();
    assert_eq!(
        error,
        "cannot save to /dev/null: it is a character device, not a regular file; nothing was written"
    );
    let to_null = dir.join("null.safetensors");
    symlink(null, &to_null).unwrap();
    let error = save_tensors(&to_null, &[("x", &x)], &[]).unwrap_err().to_string();
    assert!(error.ends_with("it is a character device, not a regular file; nothing was written"), "{error}");
    // /dev/null is still the device, and nothing was left beside it.
    assert!(std::fs::metadata(null).unwrap().file_type().is_char_device());
    assert!(
        !entries(Path::new("/dev")).iter().any(|name| name.starts_with(".null.")),
        "a temporary file in /dev"
    );

    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let error = save_tensors(&sub, &[("x", &x)], &[]).unwrap_err().to_string();
    assert!(error.ends_with("it is a directory, not a regular file; nothing was written"), "{error}");
    assert!(sub.is_dir());
    let looping = dir.join("loop");
    symlink("loop", &looping).unwrap();
    let error = save_tensors(&looping, &[("x", &x)], &[]).unwrap_err().to_string();
    assert!(error.contains("too many levels of symbolic links"), "{error}");
    assert_eq!(entries(&dir), vec!["loop", "null.safetensors", "sub"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
