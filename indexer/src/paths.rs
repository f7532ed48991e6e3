//! Where files are stored: relative to the source tree, the build tree, or absolute.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use schema::{NewFile, Root};

/// Maps the file names libclang reports to stored paths, caching each answer.
pub struct PathMapper {
    cwd: PathBuf,
    trees: Vec<(PathBuf, Root)>,
    cache: HashMap<OsString, NewFile>,
}

pub use schema::normalize_path as normalize;

/// An absolute, symlink-free form of `path` (lexical when the file does not exist).
pub fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    std::fs::canonicalize(&joined).unwrap_or_else(|_| normalize(&joined))
}

/// A path as the database stores it: itself when it is UTF-8, else with each byte
/// that is not part of valid UTF-8 written as `\xNN` (and nothing else changed).
pub fn stored_path(path: &OsStr) -> String {
    let mut out = String::new();
    for chunk in path.as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

impl PathMapper {
    pub fn new(cwd: &Path, srctree: Option<&Path>, objtree: Option<&Path>) -> PathMapper {
        let mut trees: Vec<(PathBuf, Root)> = Vec::new();
        if let Some(s) = srctree {
            trees.push((absolute(cwd, s), Root::Src));
        }
        if let Some(o) = objtree {
            let o = absolute(cwd, o);
            // In an in-tree build both are the same directory: call it the source tree.
            if !trees.iter().any(|(t, _)| *t == o) {
                trees.push((o, Root::Obj));
            }
        }
        // The most specific tree wins (an O= directory inside the source tree).
        trees.sort_by_key(|(t, _)| std::cmp::Reverse(t.as_os_str().len()));
        PathMapper {
            cwd: cwd.to_owned(),
            trees,
            cache: HashMap::new(),
        }
    }

    /// Stored root and path of `name`.
    pub fn file(&mut self, name: &OsStr) -> NewFile {
        if let Some(f) = self.cache.get(name) {
            return f.clone();
        }
        let abs = absolute(&self.cwd, Path::new(name));
        let (root, path) = self
            .trees
            .iter()
            .find_map(|(tree, root)| {
                abs.strip_prefix(tree)
                    .ok()
                    .map(|rel| (*root, rel.to_path_buf()))
            })
            .unwrap_or((Root::Abs, abs));
        let f = NewFile {
            root,
            path: stored_path(path.as_os_str()),
        };
        self.cache.insert(name.to_owned(), f.clone());
        f
    }
}
