//! `verify`'s second truth: the ELF symbol tables of the build's C objects. DWARF has
//! no aliases (`sys_read`, a second name of `__se_sys_read`'s code); the symbol table
//! has every function and variable the object defines, under every name.
//!
//! Each defined `FUNC` and `OBJECT` symbol of each object is looked for among the
//! database's definitions of functions and variables of that name in the files its
//! unit read: a `static` of another unit's file is another symbol, and a weak
//! `sys_io_setup` of `kernel/sys_ni.c` is not found through `fs/aio.c`'s. Names the
//! compiler makes are counted apart: its clones and parts (`.isra.0`, `.constprop.0`,
//! `.part.0`, `.cold`), its numbered function statics (`__already_done.12`,
//! `__func__.3`: every name with a dot, which C names cannot have); and
//! `__UNIQUE_ID_*`, which macros make with `__COUNTER__` (a number that depends on
//! everything expanded before it).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSymbol, SymbolKind};
use schema::{FileId, TuId};

use crate::names::clean;

/// The defined symbols of the objects read.
#[derive(Default)]
pub(super) struct ElfSymbols {
    /// (name, local, the unit, its source file on disk)
    symbols: Vec<(String, bool, TuId, Option<PathBuf>)>,
    /// Names the compiler made.
    made: usize,
}

impl ElfSymbols {
    /// Reads the defined functions and variables of the object of `unit`, compiled
    /// from `source`.
    pub(super) fn read(&mut self, file: &object::File<'_>, unit: TuId, source: Option<&Path>) {
        for s in file.symbols() {
            if !matches!(s.kind(), SymbolKind::Text | SymbolKind::Data)
                || s.is_undefined()
                || s.is_common()
            {
                continue;
            }
            let Ok(name) = s.name() else { continue };
            if name.is_empty() {
                continue;
            }
            if compiler_made(name) {
                self.made += 1;
                continue;
            }
            self.symbols.push((
                name.to_owned(),
                s.is_local(),
                unit,
                source.map(Path::to_path_buf),
            ));
        }
    }

    /// Looks for each symbol among `sites`, the database's definitions of functions
    /// and variables as (name, file); `read` has the files each unit read.
    pub(super) fn compare(&self, sites: &[(&str, FileId)], read: &[(TuId, FileId)]) -> Report {
        let mut files_of: HashMap<&str, Vec<FileId>> = HashMap::new();
        for (n, f) in sites {
            files_of.entry(*n).or_default().push(*f);
        }
        let read: HashSet<(TuId, FileId)> = read.iter().copied().collect();
        let mut report = Report {
            made: self.made,
            ..Report::default()
        };
        for (name, local, unit, source) in &self.symbols {
            let files = files_of.get(name.as_str());
            let found =
                files.is_some_and(|files| files.iter().any(|f| read.contains(&(*unit, *f))));
            let counts = if *local {
                &mut report.local
            } else {
                &mut report.global
            };
            counts.0 += 1;
            if found {
                counts.1 += 1;
                continue;
            }
            let why = if files.is_some() {
                Why::OtherFile
            } else {
                Why::Nowhere
            };
            *report.why.entry(why).or_default() += 1;
            report
                .misses
                .push((name.clone(), *local, source.clone(), why));
        }
        report
    }
}

/// The names the compiler makes (every name with a dot), and `__UNIQUE_ID_*`.
fn compiler_made(name: &str) -> bool {
    name.contains('.') || name.starts_with("__UNIQUE_ID_")
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(super) enum Why {
    /// A name the database has, defined only in files the symbol's unit did not read.
    OtherFile,
    /// The database has no function or variable of that name.
    Nowhere,
}

impl Why {
    fn describe(self) -> &'static str {
        match self {
            Why::OtherFile => {
                "a local symbol whose name is defined only in files its unit did not read"
            }
            Why::Nowhere => "no function or variable of that name is recorded",
        }
    }
}

/// How many symbols were found, of each kind.
#[derive(Default)]
pub(super) struct Report {
    /// (all, found)
    global: (usize, usize),
    local: (usize, usize),
    made: usize,
    why: HashMap<Why, usize>,
    misses: Vec<(String, bool, Option<PathBuf>, Why)>,
}

impl Report {
    /// The share of the symbols found, in percent.
    pub(super) fn recall(&self) -> f64 {
        super::pct(self.global.1 + self.local.1, self.global.0 + self.local.0)
    }

    pub(super) fn write(
        &self,
        out: &mut dyn Write,
        misses: bool,
        shown: impl Fn(&Path) -> String,
    ) -> std::io::Result<()> {
        let (all, found) = (self.global.0 + self.local.0, self.global.1 + self.local.1);
        writeln!(
            out,
            "ELF symbols: {found} of {all} defined functions and variables in the objects' symbol tables are recorded ({:.2}%)",
            self.recall()
        )?;
        for (what, (all, found)) in [("global", self.global), ("local", self.local)] {
            writeln!(
                out,
                "  {what:<8} {found} of {all} ({:.2}%)",
                super::pct(found, all)
            )?;
        }
        let mut why: Vec<_> = self.why.iter().collect();
        why.sort();
        for (w, n) in why {
            let sample: Vec<String> = self
                .misses
                .iter()
                .filter(|m| m.3 == *w)
                .take(4)
                .map(|m| clean(&m.0))
                .collect();
            writeln!(
                out,
                "  missing, {}: {n} (e.g. {})",
                w.describe(),
                sample.join(", ")
            )?;
        }
        writeln!(
            out,
            "  not counted: {} names the compiler makes (.isra, .constprop, .part, .cold, numbered function statics) or __COUNTER__ numbers (__UNIQUE_ID_*); objects assembled from .S files are not read",
            self.made
        )?;
        if misses {
            for (name, local, source, why) in &self.misses {
                let at = match source {
                    Some(s) => format!(" in {}", clean(&shown(s))),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "missing symbol: {} ({}{at}): {}",
                    clean(name),
                    if *local { "local" } else { "global" },
                    why.describe()
                )?;
            }
        }
        Ok(())
    }
}
