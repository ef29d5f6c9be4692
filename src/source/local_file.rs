//! Reading a local log file in the fewest system calls and path lookups a small file allows.
//!
//! A month of an organization trail is 691,000 files of a few records each, where the open,
//! read and close of each file, not its parsing, are most of the cost (BENCHMARKS.md,
//! "System calls per small file"). Two things are saved per file:
//! - the stat that sizes a buffer: the file is read into a buffer kept from file to file;
//! - the walk of the path: a trail's file sits nine folders deep
//!   (`AWSLogs/o-.../111122223333/CloudTrail/us-east-1/2026/03/01/`), and opening it by its
//!   path looks up every folder again. It is opened relative to its folder's descriptor
//!   (openat), which a reader keeps open for the few folders it read from last: one lookup
//!   per file, and one walk per folder.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Folders a reader keeps open. A run reads each delivery hour's files in the listing's
/// (path) order, so a worker reads a folder's files of that hour one after the other; a few
/// descriptors cover the folder it is in and the ones another worker has just left, and
/// bound the descriptors held to this many per worker thread.
#[cfg(unix)]
const OPEN_FOLDERS: usize = 4;

/// Reads local files, keeping the buffer and the folders of the files it read last.
#[derive(Default)]
pub struct FileReader {
    #[cfg(unix)]
    folders: Vec<(PathBuf, std::os::fd::OwnedFd)>,
}

impl FileReader {
    /// Reads the file at `path` into `buf` (a buffer kept from object to object, whose bytes
    /// past the returned length are left over from earlier files) and returns its length.
    ///
    /// Open, one read, a read of 0, close: the fewest system calls a file can be read in.
    /// The buffer is grown to the listed size (and a byte, to see the end) when there is
    /// one, and doubled when a file fills it; day folders are listed without sizes
    /// (local::list_days), and then the buffer that held the largest file so far takes the
    /// next one whole. `File::read_to_end` into a cleared vector would stat the file to
    /// size it, or, without a hint, read in chunks from 8 KiB up.
    pub fn read(
        &mut self,
        path: &Path,
        listed_size: u64,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<usize> {
        const FIRST_BUFFER: usize = 64 * 1024;
        let mut file = self.open(path)?;
        let wanted = usize::try_from(listed_size)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .max(FIRST_BUFFER);
        if buf.len() < wanted {
            buf.resize(wanted, 0);
        }
        let mut len = 0;
        loop {
            if len == buf.len() {
                buf.resize(len.saturating_mul(2), 0);
            }
            match file.read(&mut buf[len..]) {
                Ok(0) => return Ok(len),
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens `path` relative to its folder's kept descriptor, opening the folder first when
    /// it is not kept. Whatever fails about the folder (gone, not readable) is left to the
    /// plain open of the path, whose error is then the one reported; so is a file the kept
    /// folder does not hold, in case the folder was replaced since it was opened (a kept
    /// descriptor names the folder it was opened on, not its path).
    #[cfg(unix)]
    fn open(&mut self, path: &Path) -> std::io::Result<std::fs::File> {
        use rustix::fs::{Mode, OFlags};
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            return std::fs::File::open(path);
        };
        if folder.as_os_str().is_empty() {
            return std::fs::File::open(path);
        }
        let kept = match self.folders.iter().rposition(|(f, _)| f == folder) {
            Some(i) => i,
            None => {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                let Ok(fd) = rustix::fs::open(folder, flags, Mode::empty()) else {
                    return std::fs::File::open(path);
                };
                if self.folders.len() == OPEN_FOLDERS {
                    self.folders.remove(0);
                }
                self.folders.push((folder.to_path_buf(), fd));
                self.folders.len() - 1
            }
        };
        let (_, fd) = &self.folders[kept];
        match rustix::fs::openat(fd, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(file) => Ok(std::fs::File::from(file)),
            Err(_) => {
                self.folders.remove(kept);
                std::fs::File::open(path)
            }
        }
    }

    #[cfg(not(unix))]
    fn open(&mut self, path: &Path) -> std::io::Result<std::fs::File> {
        std::fs::File::open(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_listed_without_its_size_is_read_whole_into_the_kept_buffer() {
        let dir = tempfile::tempdir().expect("temporary folder");
        // Larger than the first buffer, so it is grown while reading; then a smaller file,
        // which must not be given the larger one's leftover bytes.
        let large: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let small = b"{\"Records\":[]}".to_vec();
        let (large_path, small_path) = (dir.path().join("large"), dir.path().join("small"));
        std::fs::write(&large_path, &large).expect("write");
        std::fs::write(&small_path, &small).expect("write");
        let (mut reader, mut buf) = (FileReader::default(), Vec::new());
        let n = reader.read(&large_path, 0, &mut buf).expect("read");
        assert_eq!(&buf[..n], &large[..]);
        let n = reader.read(&small_path, 0, &mut buf).expect("read");
        assert_eq!(&buf[..n], &small[..]);
        // A listed size that is wrong (the file changed since) still reads what is there.
        let n = reader.read(&large_path, 10, &mut buf).expect("read");
        assert_eq!(n, large.len());
        assert!(reader.read(&dir.path().join("gone"), 0, &mut buf).is_err());
    }

    #[test]
    fn files_of_many_folders_are_read_from_the_right_folder() {
        // More folders than are kept open, visited out of order and again: each file must
        // come from its own folder, whichever descriptors are kept.
        let dir = tempfile::tempdir().expect("temporary folder");
        let folders = OPEN_FOLDERS_FOR_TEST * 3;
        let path = |f: usize| dir.path().join(format!("d{f}")).join("same-name.json");
        for f in 0..folders {
            std::fs::create_dir(dir.path().join(format!("d{f}"))).expect("mkdir");
            std::fs::write(path(f), format!("folder {f}")).expect("write");
        }
        let (mut reader, mut buf) = (FileReader::default(), Vec::new());
        for f in (0..folders)
            .chain((0..folders).rev())
            .chain([0, 7, 1, 7, 0])
        {
            let n = reader.read(&path(f), 0, &mut buf).expect("read");
            assert_eq!(&buf[..n], format!("folder {f}").as_bytes());
        }
        // A kept folder replaced by another of the same path (renamed away, made again): the
        // kept descriptor names the old one, so a file of the new one is read by its path.
        std::fs::rename(dir.path().join("d0"), dir.path().join("old")).expect("rename");
        std::fs::create_dir(dir.path().join("d0")).expect("mkdir");
        std::fs::write(dir.path().join("d0").join("other.json"), "new").expect("write");
        let n = reader.read(&dir.path().join("d0").join("other.json"), 0, &mut buf);
        assert_eq!(&buf[..n.expect("read")], b"new");
        let gone = reader.read(&dir.path().join("d1").join("gone.json"), 0, &mut buf);
        assert_eq!(
            gone.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::NotFound)
        );
    }

    #[cfg(unix)]
    const OPEN_FOLDERS_FOR_TEST: usize = OPEN_FOLDERS;
    #[cfg(not(unix))]
    const OPEN_FOLDERS_FOR_TEST: usize = 4;
}
