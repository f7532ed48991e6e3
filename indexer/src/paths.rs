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
    /// Paths relative to the kernel's source tree, its build tree and an external
    /// module's directory (each given absolute or relative to `cwd`), else absolute.
    pub fn new(
        cwd: &Path,
        srctree: Option<&Path>,
        objtree: Option<&Path>,
        extmod: Option<&Path>,
    ) -> PathMapper {
        let mut trees: Vec<(PathBuf, Root)> = Vec::new();
        for (tree, root) in [
            (srctree, Root::Src),
            (objtree, Root::Obj),
            (extmod, Root::Ext),
        ] {
            let Some(t) = tree else { continue };
            let t = absolute(cwd, t);
            // In an in-tree build source and build tree are the same directory: call
            // it the source tree.
            if !trees.iter().any(|(known, _)| *known == t) {
                trees.push((t, root));
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
        let f = self
            .trees
            .iter()
            .find_map(|(tree, root)| {
                let rel = abs.strip_prefix(tree).ok()?;
                Some(NewFile {
                    root: *root,
                    base: (*root == Root::Ext).then(|| stored_path(tree.as_os_str())),
                    path: stored_path(rel.as_os_str()),
                })
            })
            .unwrap_or_else(|| NewFile::new(Root::Abs, stored_path(abs.as_os_str())));
        self.cache.insert(name.to_owned(), f.clone());
        f
    }
}
