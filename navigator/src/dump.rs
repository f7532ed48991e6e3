//! `nccnav DB dump`: every fact, one JSON object a line, as the product contract
//! describes it; and `dump --canonical`: the same objects with every id replaced by
//! what it names, sorted, so that two databases with the same facts print the same
//! lines (used to compare builds).

use std::collections::HashMap;
use std::io::Write;

use schema::{CallEdge, Definition, DumpVisitor, File, Store, Symbol, Tu, Use};
use serde::Serialize;

use crate::answer::{Navigator, QueryError};

/// Every fact of `db`; `canonical`: with ids replaced by what they name, sorted.
pub fn dump(nav: &Navigator, canonical: bool, out: &mut dyn Write) -> Result<(), QueryError> {
    let mut v = Dumper {
        out,
        canonical: canonical.then(Canonical::default),
    };
    nav.facts(&mut v)?;
    for (file, lines) in nav.db().all_skipped_lines()? {
        v.line(&DumpSkipped {
            ty: "skipped",
            file: file.0,
            lines,
        })?;
    }
    v.finish()
}

/// The lines of a file every unit that read it skipped (`#ifdef CONFIG_FOO` not
/// taken): `[first, last]` ranges.
#[derive(Serialize)]
struct DumpSkipped {
    #[serde(rename = "type")]
    ty: &'static str,
    file: i64,
    lines: Vec<(u32, u32)>,
}

/// Writes the `dump` format of the README: one JSON object a line; or, canonical, the same
/// objects with every id replaced by what it names, sorted.
struct Dumper<'a> {
    out: &'a mut dyn Write,
    canonical: Option<Canonical>,
}

/// What the ids of a database name, and the lines of its canonical dump.
#[derive(Default)]
struct Canonical {
    /// A file's `root:path` (`ext:BASE:path`).
    files: HashMap<i64, String>,
    /// A symbol's kind, name, linkage and defining file.
    symbols: HashMap<i64, String>,
    lines: Vec<String>,
}

/// Keys whose value is a file id.
const FILE_KEYS: &[&str] = &["file", "source"];
/// Keys whose value is a symbol id.
const SYMBOL_KEYS: &[&str] = &[
    "symbol", "caller", "callee", "member", "function", "from", "within",
];

impl Canonical {
    /// `line` with its own id dropped and the ids it refers to replaced.
    fn line(&self, mut line: serde_json::Value) -> String {
        if let Some(obj) = line.as_object_mut() {
            obj.remove("id");
            for (k, v) in obj.iter_mut() {
                let Some(id) = v.as_i64() else { continue };
                let named = if FILE_KEYS.contains(&k.as_str()) {
                    self.files.get(&id)
                } else if SYMBOL_KEYS.contains(&k.as_str()) {
                    self.symbols.get(&id)
                } else {
                    continue;
                };
                *v = named.cloned().unwrap_or_else(|| format!("?{id}")).into();
            }
        }
        line.to_string()
    }
}

#[derive(Serialize)]
struct DumpFile<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: i64,
    root: &'a str,
    /// An external module's directory, for root `ext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a str>,
    path: &'a str,
}

#[derive(Serialize)]
struct DumpSymbol<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: i64,
    name: &'a str,
    kind: &'a str,
    linkage: &'a str,
    file: Option<i64>,
    line: Option<u32>,
    col: Option<u32>,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    definition: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

#[derive(Serialize)]
struct DumpDef<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    symbol: i64,
    file: i64,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    definition: bool,
}

#[derive(Serialize)]
struct DumpCall<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    caller: i64,
    callee: i64,
    file: i64,
    line: u32,
    col: u32,
    indirect: bool,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    /// Only on a call in code this configuration never runs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dead: bool,
    /// Only on the call that joins an alias to its target.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    alias: bool,
}

#[derive(Serialize)]
struct DumpStore<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    /// The member, variable or parameter stored into.
    member: i64,
    /// The function stored, or for a copy of one pointer into another, `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<i64>,
    file: i64,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    /// The function whose body, or the variable whose initializer, holds the store.
    within: Option<i64>,
}

#[derive(Serialize)]
struct DumpUse<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    function: i64,
    symbol: i64,
    access: &'a str,
    file: i64,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
}

#[derive(Serialize)]
struct DumpTu<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: i64,
    object: &'a str,
    source: Option<i64>,
    directory: &'a str,
    command: &'a [String],
    module: bool,
    /// The module's name (`KBUILD_MODNAME`) for a unit of a loadable module.
    #[serde(skip_serializing_if = "Option::is_none")]
    modname: Option<&'a str>,
    status: &'a str,
    reason: Option<&'a str>,
}

impl Dumper<'_> {
    fn line<T: Serialize>(&mut self, v: &T) -> Result<(), QueryError> {
        match &mut self.canonical {
            None => {
                serde_json::to_writer(&mut *self.out, v).map_err(std::io::Error::from)?;
                self.out.write_all(b"\n")?;
            }
            Some(c) => {
                let value = serde_json::to_value(v).map_err(std::io::Error::from)?;
                let line = c.line(value);
                c.lines.push(line);
            }
        }
        Ok(())
    }

    /// Writes the canonical dump's lines, sorted.
    fn finish(self) -> Result<(), QueryError> {
        if let Some(mut c) = self.canonical {
            c.lines.sort_unstable();
            for l in &c.lines {
                self.out.write_all(l.as_bytes())?;
                self.out.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

impl DumpVisitor for Dumper<'_> {
    type Error = QueryError;

    fn file(&mut self, f: &File) -> Result<(), QueryError> {
        if let Some(c) = &mut self.canonical {
            let key = schema::NewFile {
                root: f.root,
                base: f.base.clone(),
                path: f.path.clone(),
            }
            .key();
            c.files.insert(f.id.0, key);
        }
        self.line(&DumpFile {
            ty: "file",
            id: f.id.0,
            root: f.root.as_str(),
            base: f.base.as_deref(),
            path: &f.path,
        })
    }

    fn symbol(&mut self, s: &Symbol, defs: &[Definition]) -> Result<(), QueryError> {
        let mut primary = defs.first();
        if let Some(c) = &mut self.canonical {
            // Ids follow the order units were written in: of several definitions,
            // the first by what it names, not by id.
            let key = |d: &Definition| {
                (
                    !d.definition,
                    c.files.get(&d.loc.file.0).cloned().unwrap_or_default(),
                    d.loc.line,
                    d.loc.col,
                )
            };
            primary = defs.iter().min_by_key(|d| key(d));
            let file = primary
                .and_then(|d| c.files.get(&d.loc.file.0))
                .map_or("", String::as_str);
            let name = format!(
                "{} {} {} {file}",
                s.kind.as_str(),
                s.display_name(),
                s.linkage.as_str()
            );
            c.symbols.insert(s.id.0, name);
        }
        self.line(&DumpSymbol {
            ty: "symbol",
            id: s.id.0,
            name: &s.name,
            kind: s.kind.as_str(),
            linkage: s.linkage.as_str(),
            file: primary.map(|d| d.loc.file.0),
            line: primary.map(|d| d.loc.line),
            col: primary.map(|d| d.loc.col),
            macro_name: primary.and_then(|d| d.macro_name.as_deref()),
            definition: primary.is_some_and(|d| d.definition),
            scope: s.scope.as_deref(),
        })
    }

    fn definition(&mut self, d: &Definition) -> Result<(), QueryError> {
        self.line(&DumpDef {
            ty: "def",
            symbol: d.symbol.0,
            file: d.loc.file.0,
            line: d.loc.line,
            col: d.loc.col,
            macro_name: d.macro_name.as_deref(),
            definition: d.definition,
        })
    }

    fn call(&mut self, c: &CallEdge) -> Result<(), QueryError> {
        self.line(&DumpCall {
            ty: "call",
            caller: c.caller.0,
            callee: c.callee.0,
            file: c.site.file.0,
            line: c.site.line,
            col: c.site.col,
            indirect: c.indirect,
            macro_name: c.macro_name.as_deref(),
            dead: c.dead,
            alias: c.alias,
        })
    }

    fn store(&mut self, st: &Store) -> Result<(), QueryError> {
        self.line(&DumpStore {
            ty: "store",
            member: st.target.0,
            function: (!st.copy).then_some(st.value.0),
            from: st.copy.then_some(st.value.0),
            file: st.site.file.0,
            line: st.site.line,
            col: st.site.col,
            macro_name: st.macro_name.as_deref(),
            within: st.within.map(|w| w.0),
        })
    }

    fn use_(&mut self, u: &Use) -> Result<(), QueryError> {
        self.line(&DumpUse {
            ty: "use",
            function: u.function.0,
            symbol: u.symbol.0,
            access: u.access.as_str(),
            file: u.site.file.0,
            line: u.site.line,
            col: u.site.col,
            macro_name: u.macro_name.as_deref(),
        })
    }

    fn tu(&mut self, t: &Tu) -> Result<(), QueryError> {
        self.line(&DumpTu {
            ty: "tu",
            id: t.id.0,
            object: &t.object,
            source: t.source.map(|f| f.0),
            directory: &t.directory,
            command: &t.command,
            module: t.module,
            modname: t.modname.as_deref(),
            status: t.status.as_str(),
            reason: t.reason.as_deref(),
        })
    }
}
