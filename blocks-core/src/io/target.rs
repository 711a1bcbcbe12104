//! Where a save really writes: the file a path names after following its
//! symbolic links, checked to be a regular file (or not to exist yet), so
//! that a save through a link replaces the file the link points to (the
//! link stays), and a save to a directory or a device (`/dev/null`) is
//! refused before anything is written.

use std::io;
use std::path::{Path, PathBuf};

/// How many links a path may go through, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// The file that saving to `path` should replace: `path` itself, or the end
/// of its chain of symbolic links (relative links read from their own
/// folder), which may not exist yet.
///
/// ```ignore
/// std::os::unix::fs::symlink("real.safetensors", "link.safetensors")?;
/// assert_eq!(save_target(Path::new("link.safetensors"))?, PathBuf::from("./real.safetensors"));
/// ```
///
/// # Errors
///
/// An [`io::Error`] (kind `InvalidInput`) saying what the path is when it
/// names something other than a regular file (a directory, a device, a
/// FIFO, a socket), or when its links loop; any error reading its metadata.
pub(crate) fn save_target(path: &Path) -> io::Result<PathBuf> {
    let mut target = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let metadata = match std::fs::symlink_metadata(&target) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(target),
            other => other?,
        };
        let kind = metadata.file_type();
        if kind.is_file() {
            return Ok(target);
        }
        if !kind.is_symlink() {
            let what = describe(&kind);
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("it is {what}, not a regular file; nothing was written"),
            ));
        }
        let link = std::fs::read_link(&target)?;
        target = match target.parent() {
            Some(folder) if link.is_relative() => folder.join(link),
            _ => link,
        };
    }
    Err(io::Error::new(io::ErrorKind::InvalidInput, "too many levels of symbolic links; nothing was written"))
}

/// What a file that is neither regular nor a link is, in words.
fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_and_missing_files_are_their_own_target() {
        let dir = std::env::temp_dir().join(format!("blocks-save-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.safetensors");
        assert_eq!(save_target(&missing).unwrap(), missing);
        std::fs::write(dir.join("real"), b"x").unwrap();
        assert_eq!(save_target(&dir.join("real")).unwrap(), dir.join("real"));
        let error = save_target(&dir).unwrap_err();
        assert_eq!(error.to_string(), "it is a directory, not a regular file; nothing was written");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_loops_refused() {
        let dir = std::env::temp_dir().join(format!("blocks-save-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("b", dir.join("a")).unwrap();
        std::os::unix::fs::symlink("c", dir.join("b")).unwrap();
        assert_eq!(save_target(&dir.join("a")).unwrap(), dir.join("c"));
        std::os::unix::fs::symlink("loop", dir.join("loop")).unwrap();
        assert!(save_target(&dir.join("loop")).unwrap_err().to_string().starts_with("too many levels"));
        assert_eq!(
            save_target(Path::new("/dev/null")).unwrap_err().to_string(),
            "it is a character device, not a regular file; nothing was written"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
