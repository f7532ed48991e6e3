//! Names and places, ready to show: the one cache of symbols and files that the
//! command line, the navigator and the pictures share, and the rules for showing them
//! (terminal-safe text, paths, labels of same-named symbols).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use schema::{Db, File, FileId, Location, Root, Symbol, SymbolId};

/// Text for a terminal: control characters (escape sequences, carriage returns, C1
/// controls) from file names or symbol names are shown as `\x1b`-style escapes.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a stored path is `tail` or ends in `/tail` (`FILE:NAME` takes any tail).
pub fn path_is(path: &str, tail: &str) -> bool {
    path == tail || path.strip_suffix(tail).is_some_and(|p| p.ends_with('/'))
}

/// A file's path as shown: relative to the source tree, to an external module's
/// directory, absolute, or marked as the build tree's.
pub fn shown_path(f: &File) -> String {
    match f.root {
        // An external module's files relative to its directory, as its developer
        // names them.
        Root::Src | Root::Abs | Root::Ext => f.path.clone(),
        Root::Obj => format!("{} (build tree)", f.path),
    }
}

/// `via MACRO`, or nothing.
pub fn via_macro(m: &Option<String>) -> String {
    m.as_deref().map(|m| format!("via {m}")).unwrap_or_default()
}

/// A place in a file, ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub file: FileId,
    /// The path as shown ([`shown_path`]).
    pub shown: String,
    pub line: u32,
    pub col: u32,
}

impl Site {
    /// `path:line:col`.
    pub fn full(&self) -> String {
        format!("{}:{}:{}", self.shown, self.line, self.col)
    }

    /// `path:line`.
    pub fn short(&self) -> String {
        format!("{}:{}", self.shown, self.line)
    }
}

/// Symbols and files, each read from the database once.
#[derive(Default)]
pub struct Names {
    symbols: HashMap<SymbolId, Symbol>,
    files: HashMap<FileId, File>,
    /// Whether a symbol shares its name (and scope) with another.
    shared: HashMap<SymbolId, bool>,
}

impl Names {
    pub fn symbol(&mut self, db: &Db, id: SymbolId) -> Result<&Symbol, schema::Error> {
        Ok(match self.symbols.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(db.symbol(id)?),
        })
    }

    pub fn file(&mut self, db: &Db, id: FileId) -> Result<&File, schema::Error> {
        Ok(match self.files.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(db.file(id)?),
        })
    }

    /// `name`, or `scope::name` for a field, a parameter or a local.
    pub fn name(&mut self, db: &Db, id: SymbolId) -> Result<String, schema::Error> {
        Ok(self.symbol(db, id)?.display_name())
    }

    pub fn site(&mut self, db: &Db, loc: Location) -> Result<Site, schema::Error> {
        let shown = shown_path(self.file(db, loc.file)?);
        Ok(Site {
            file: loc.file,
            shown,
            line: loc.line,
            col: loc.col,
        })
    }

    /// The file and line of the first definition (or declaration).
    pub fn home(&mut self, db: &Db, id: SymbolId) -> Result<Option<(String, u32)>, schema::Error> {
        let Some(d) = db.definitions(id)?.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some((shown_path(self.file(db, d.loc.file)?), d.loc.line)))
    }

    /// The name, with the file of its first definition when another symbol has the
    /// same name (two `static` functions called `init`): `init [fs/dcache.c]`.
    pub fn label(&mut self, db: &Db, id: SymbolId) -> Result<String, schema::Error> {
        let s = self.symbol(db, id)?.clone();
        let shared = match self.shared.get(&id) {
            Some(&b) => b,
            None => {
                let b = db.shares_name(&s)?;
                self.shared.insert(id, b);
                b
            }
        };
        if !shared {
            return Ok(s.display_name());
        }
        match self.home(db, id)? {
            Some((path, _)) => Ok(format!("{} [{path}]", s.display_name())),
            None => Ok(s.display_name()),
        }
    }
}
