//! The command line's answers as text or JSON: rows from [`crate::answer`] in, bytes
//! out. Names are the navigator's cache's (labels of same-named symbols carry their
//! file), paths are shown as everywhere else, and every name and path is
//! terminal-safe.

use std::io::Write;

use serde::Serialize;

use crate::answer::{
    CallRow, Definitions, Direction, Navigator, Paths, QueryError, RefKind, RefRow, Section, Side,
};
use crate::callgraph::Step;
use crate::names::{clean, via_macro};

/// How many rows of each answer to print: all, or at most `--limit N`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limit(pub Option<usize>);

impl Limit {
    /// The first rows of `rows` to print, and how many are left out.
    pub fn cut<T>(self, rows: &[T]) -> (&[T], usize) {
        match self.0 {
            Some(n) if n < rows.len() => (&rows[..n], rows.len() - n),
            _ => (rows, 0),
        }
    }

    /// The line that says `left` rows were left out.
    fn left_out(self, left: usize) -> Option<String> {
        let n = self.0?;
        (left > 0).then(|| format!("... and {left} more (--limit {n}; without it, all)"))
    }

    /// Says on standard error how many JSON rows were left out.
    fn note_json(self, left: usize) {
        if let Some(line) = self.left_out(left) {
            eprintln!("nccnav: {}", line.trim_start_matches("... and "));
        }
    }
}

/// Writes rows of two columns, the first padded so that the second lines up; each row
/// may carry lines to print under it.
fn write_rows(
    out: &mut dyn Write,
    indent: &str,
    rows: &[(String, String, Vec<String>)],
) -> Result<(), QueryError> {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).min(40);
    for (first, rest, under) in rows {
        let line = format!("{indent}{first:<width$}  {rest}");
        writeln!(out, "{}", clean(line.trim_end()))?;
        for u in under {
            writeln!(out, "{}", clean(&format!("{indent}    -> {u}")))?;
        }
    }
    Ok(())
}

fn write_json(out: &mut dyn Write, values: &[serde_json::Value]) -> Result<(), QueryError> {
    let text = serde_json::to_string_pretty(values).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// The heading above one symbol's answer when the name means several; the indent of
/// what follows.
fn heading(
    nav: &mut Navigator,
    out: &mut dyn Write,
    s: &schema::Symbol,
    many: bool,
) -> Result<&'static str, QueryError> {
    if !many {
        return Ok("");
    }
    let head = nav.label(s.id)?;
    writeln!(out, "{}:", clean(&head))?;
    Ok("  ")
}

#[derive(Serialize)]
struct JsonDef<'a> {
    /// The symbol's id, as in `dump`.
    id: i64,
    name: String,
    kind: &'a str,
    linkage: &'a str,
    root: &'a str,
    file: &'a str,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    definition: bool,
}

/// `def`'s rows as JSON: one object a definition (or declaration, when nothing
/// defines the symbol), with the macro that made it.
pub fn definitions_json(
    nav: &mut Navigator,
    defs: &Definitions,
    limit: Limit,
) -> Result<Vec<serde_json::Value>, QueryError> {
    let mut values = Vec::new();
    for r in &defs.rows {
        let mut v = def_json(nav, &r.symbol, &r.def)?;
        if defs.modular {
            v["builtin"] = r.place.builtin.into();
            v["modules"] = r.place.modules.clone().into();
        }
        if let Some(target) = &r.alias_of {
            v["alias_of"] = target.display_name().into();
            v["alias_of_id"] = target.id.0.into();
        }
        if r.symbol.kind == schema::Kind::Macro && r.def.definition && last_of_name(defs, r) {
            let made = made_by(defs, &r.symbol.name);
            let (shown, left) = limit.cut(&made);
            let mut rows = Vec::new();
            for (s, d) in shown {
                rows.push(def_json(nav, s, d)?);
            }
            v["made"] = rows.into();
            if left > 0 {
                v["made_left_out"] = left.into();
            }
        }
        values.push(v);
    }
    Ok(values)
}

/// One definition as `def --json` prints it.
fn def_json(
    nav: &mut Navigator,
    s: &schema::Symbol,
    d: &schema::Definition,
) -> Result<serde_json::Value, QueryError> {
    let (db, names) = nav.parts();
    let f = names.file(db, d.loc.file)?.clone();
    let j = JsonDef {
        id: s.id.0,
        name: s.display_name(),
        kind: s.kind.as_str(),
        linkage: s.linkage.as_str(),
        root: f.root.as_str(),
        file: &f.path,
        line: d.loc.line,
        col: d.loc.col,
        macro_name: d.macro_name.as_deref(),
        definition: d.definition,
    };
    Ok(serde_json::to_value(j).map_err(std::io::Error::other)?)
}

/// Whether `r` is the last definition `def` found of a macro of its name: what a
/// macro made is known by the macro's name, so it is told once, after all of them.
fn last_of_name(defs: &Definitions, r: &crate::answer::DefRow) -> bool {
    let last = defs.rows.iter().rev().find(|o| {
        o.symbol.kind == schema::Kind::Macro && o.def.definition && o.symbol.name == r.symbol.name
    });
    last.is_some_and(|l| std::ptr::eq(l, r))
}

/// What the expansions of the macro `name` made, of those `def` found.
fn made_by<'d>(defs: &'d Definitions, name: &str) -> Vec<&'d (schema::Symbol, schema::Definition)> {
    defs.made
        .iter()
        .filter(|(_, d)| d.macro_name.as_deref() == Some(name))
        .collect()
}

/// `def`.
pub fn definitions(
    nav: &mut Navigator,
    defs: &Definitions,
    json: bool,
    limit: Limit,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    if json {
        let values = definitions_json(nav, defs, limit)?;
        return write_json(out, &values);
    }
    let mut printed = std::collections::HashSet::new();
    for r in &defs.rows {
        let (s, d) = (&r.symbol, &r.def);
        let f = nav.site(d.loc)?.shown;
        let what = if d.definition { "" } else { ", declared only" };
        let via = d
            .macro_name
            .as_deref()
            .map(|m| format!("  via {m}"))
            .unwrap_or_default();
        let linkage = match s.linkage {
            schema::Linkage::None => what.trim_start_matches(", ").to_owned(),
            l => format!("{l}{what}"),
        };
        let linkage = if linkage.is_empty() {
            String::new()
        } else {
            format!(" ({linkage})")
        };
        let mut parts: Vec<String> = Vec::new();
        if defs.modular && r.place.builtin {
            parts.push("built-in".to_owned());
        }
        if !r.place.modules.is_empty() {
            parts.push(format!("module {}", r.place.modules.join(", ")));
        }
        let place = if parts.is_empty() {
            String::new()
        } else {
            format!("  [{}]", parts.join("; "))
        };
        let alias = match &r.alias_of {
            Some(target) => format!("  alias of {}", target.display_name()),
            None => String::new(),
        };
        let line = format!(
            "{}:{}:{}: {} {}{linkage}{alias}{via}{place}",
            f,
            d.loc.line,
            d.loc.col,
            s.kind,
            s.display_name()
        );
        // Two fields of one name at one place (the kernel's struct_group) read the same.
        if printed.insert(line.clone()) {
            writeln!(out, "{}", clean(&line))?;
        }
        if s.kind == schema::Kind::Macro && d.definition && last_of_name(defs, r) {
            made_text(nav, defs, &s.name, limit, out)?;
        }
    }
    for s in &defs.undefined {
        writeln!(
            out,
            "{}: {} called, but neither defined nor declared in any indexed file",
            clean(&s.display_name()),
            s.kind
        )?;
    }
    Ok(())
}

/// `def MACRO`'s list of what the macro's expansions made: counted by kind, then a
/// row each.
fn made_text(
    nav: &mut Navigator,
    defs: &Definitions,
    name: &str,
    limit: Limit,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let made = made_by(defs, name);
    if made.is_empty() {
        return Ok(());
    }
    let definitions = defs
        .rows
        .iter()
        .filter(|r| {
            r.symbol.kind == schema::Kind::Macro && r.def.definition && r.symbol.name == name
        })
        .count();
    let mut kinds: Vec<(schema::Kind, usize)> = Vec::new();
    for (s, _) in &made {
        match kinds.iter_mut().find(|(k, _)| *k == s.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((s.kind, 1)),
        }
    }
    let counts: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let whose = match definitions {
        1 => "its expansions".to_owned(),
        n => format!("the expansions of a {name} (any of these {n} definitions)"),
    };
    writeln!(
        out,
        "  made by {whose}: {} ({})",
        made.len(),
        counts.join(", ")
    )?;
    let (shown, left) = limit.cut(&made);
    let mut rows = Vec::new();
    for (s, d) in shown {
        let site = nav.site(d.loc)?.full();
        rows.push((format!("{} {}", s.kind, nav.label(s.id)?), site, Vec::new()));
    }
    write_rows(out, "    ", &rows)?;
    if let Some(l) = limit.left_out(left) {
        writeln!(out, "    {l}")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonCall<'a> {
    caller: String,
    callee: String,
    /// Symbol ids, as in `dump`: they tell same-named statics apart.
    caller_id: i64,
    callee_id: i64,
    root: &'a str,
    file: &'a str,
    line: u32,
    col: u32,
    indirect: bool,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
}

/// One call as JSON, and how many of the functions behind a call through a pointer
/// `limit` left out.
fn call_json(
    nav: &mut Navigator,
    row: &CallRow,
    dir: Direction,
    limit: Limit,
) -> Result<(serde_json::Value, usize), QueryError> {
    let e = &row.edge;
    let caller = nav.symbol(e.caller)?;
    let callee = nav.symbol(e.callee)?;
    let (db, names) = nav.parts();
    let f = names.file(db, e.site.file)?.clone();
    let v = JsonCall {
        caller: caller.display_name(),
        callee: callee.display_name(),
        caller_id: caller.id.0,
        callee_id: callee.id.0,
        root: f.root.as_str(),
        file: &f.path,
        line: e.site.line,
        col: e.site.col,
        indirect: e.indirect,
        macro_name: e.macro_name.as_deref(),
    };
    let mut v = serde_json::to_value(v).map_err(std::io::Error::other)?;
    if e.dead {
        v["dead"] = true.into();
    }
    if e.alias {
        v["alias"] = true.into();
    }
    if schema::is_assembly(&f.path) {
        v["assembly"] = true.into();
    }
    if let Some(via) = row.via {
        let via = nav.symbol(via)?;
        v["via"] = via.display_name().into();
        v["via_id"] = via.id.0.into();
    }
    let mut left = 0;
    if dir == Direction::Callees && e.indirect {
        let mut targets = Vec::new();
        let behind = nav.behind(e.callee)?;
        let (shown, l) = limit.cut(&behind);
        left = l;
        for &t in shown {
            let sym = nav.symbol(t)?;
            targets.push(serde_json::json!({"name": sym.name, "id": sym.id.0}));
        }
        v["targets"] = targets.into();
        if left > 0 {
            v["targets_left_out"] = left.into();
        }
    }
    Ok((v, left))
}

/// An answer as JSON rows, and how many rows (and functions behind calls through
/// pointers) a limit left out.
#[derive(Debug, Default)]
pub struct JsonRows {
    pub rows: Vec<serde_json::Value>,
    pub left: usize,
}

/// The rows of every section, each made by `row`, at most `limit` of each section.
fn json_rows<R>(
    nav: &mut Navigator,
    sections: &[Section<R>],
    limit: Limit,
    mut row: impl FnMut(&mut Navigator, &Section<R>, &R) -> Result<serde_json::Value, QueryError>,
) -> Result<JsonRows, QueryError> {
    let mut all = JsonRows::default();
    for sec in sections {
        let (rows, left) = limit.cut(&sec.rows);
        all.left += left;
        for r in rows {
            all.rows.push(row(nav, sec, r)?);
        }
    }
    Ok(all)
}

/// `callers` or `callees` as JSON rows, a call each.
pub fn calls_json(
    nav: &mut Navigator,
    sections: &[Section<CallRow>],
    dir: Direction,
    limit: Limit,
) -> Result<JsonRows, QueryError> {
    let mut all = JsonRows::default();
    for sec in sections {
        let (rows, l) = limit.cut(&sec.rows);
        all.left += l;
        for row in rows {
            let (v, l) = call_json(nav, row, dir, limit)?;
            all.rows.push(v);
            all.left += l;
        }
    }
    Ok(all)
}

/// `callers` and `callees`.
pub fn calls(
    nav: &mut Navigator,
    sections: &[Section<CallRow>],
    dir: Direction,
    json: bool,
    limit: Limit,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let many = sections.len() > 1;
    if json {
        let all = calls_json(nav, sections, dir, limit)?;
        limit.note_json(all.left);
        return write_json(out, &all.rows);
    }
    for sec in sections {
        let indent = heading(nav, out, &sec.symbol, many)?;
        if sec.rows.is_empty() {
            let none = match dir {
                Direction::Callers => "no recorded callers",
                Direction::Callees => "no recorded calls",
            };
            let why = match nav.not_called(&sec.symbol) {
                Some(n) if n.functions.is_empty() => {
                    format!(": {} is {}", sec.symbol.display_name(), n.what)
                }
                Some(n) => format!(
                    ": {} is {}; calls written through it are recorded against the functions its definition names: {}",
                    sec.symbol.display_name(),
                    n.what,
                    n.functions.join(", ")
                ),
                None => String::new(),
            };
            writeln!(out, "{}", clean(&format!("{indent}({none}{why})")))?;
        }
        let mut lines: Vec<(String, String, Vec<String>)> = Vec::new();
        let (rows, left) = limit.cut(&sec.rows);
        for row in rows {
            let e = &row.edge;
            let other = match dir {
                Direction::Callers => e.caller,
                Direction::Callees => e.callee,
            };
            let kind = nav.symbol(other)?.kind;
            let name = nav.label(other)?;
            let place = nav.site(e.site)?;
            let site = place.full();
            let mut notes = Vec::new();
            if e.macro_name.is_some() {
                notes.push(via_macro(&e.macro_name));
            }
            if e.dead {
                notes.push(DEAD_NOTE.to_owned());
            }
            if e.alias {
                notes.push(match dir {
                    Direction::Callers => "[alias]".to_owned(),
                    Direction::Callees => "[alias target]".to_owned(),
                });
            }
            if schema::is_assembly(&place.shown) {
                notes.push(ASSEMBLY_NOTE.to_owned());
            }
            let mut targets = Vec::new();
            match (dir, row.via) {
                (Direction::Callers, Some(via)) => {
                    let via = nav.symbol(via)?;
                    notes.push(format!("[indirect via {}]", via.display_name()));
                }
                (Direction::Callees, _) if e.indirect => {
                    notes.push(format!("[indirect call through {kind}]"));
                    let behind = nav.behind(e.callee)?;
                    let (shown, more) = limit.cut(&behind);
                    for &t in shown {
                        targets.push(nav.label(t)?);
                    }
                    if behind.is_empty() {
                        targets.push("(no function recorded as stored there)".to_owned());
                    }
                    targets.extend(limit.left_out(more));
                }
                _ => {}
            }
            lines.push((name, format!("{site}  {}", notes.join("  ")), targets));
        }
        write_section(out, indent, &lines, limit, left)?;
        if !nav.dead {
            let dead = match dir {
                Direction::Callers => nav.dead_callers_of(sec.symbol.id, sec.symbol.kind)?,
                Direction::Callees => nav.dead_callees_of(sec.symbol.id)?,
            };
            if !dead.is_empty() {
                writeln!(
                    out,
                    "{indent}({} more in code this configuration never runs: --dead lists them)",
                    dead.len()
                )?;
            }
        }
    }
    Ok(())
}

/// What a call in code this configuration never runs is marked with (`--dead`).
pub const DEAD_NOTE: &str = "[dead in this configuration]";

/// The note of a call written in assembly (read from its object).
pub const ASSEMBLY_NOTE: &str = "[from assembly]";

/// A `--json` answer: its rows, and on standard error how many `--limit` left out.
fn end_json(out: &mut dyn Write, all: JsonRows, limit: Limit) -> Result<(), QueryError> {
    limit.note_json(all.left);
    write_json(out, &all.rows)
}

/// A section's rows, then the line that says how many `--limit` cut, if it did.
fn write_section(
    out: &mut dyn Write,
    indent: &str,
    rows: &[(String, String, Vec<String>)],
    limit: Limit,
    left: usize,
) -> Result<(), QueryError> {
    write_rows(out, indent, rows)?;
    if let Some(line) = limit.left_out(left) {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

/// `stores` as JSON rows, a store each.
pub fn stores_json(
    nav: &mut Navigator,
    sections: &[Section<schema::Store>],
    limit: Limit,
) -> Result<JsonRows, QueryError> {
    json_rows(nav, sections, limit, |nav, _, st| {
        let target = nav.symbol(st.target)?;
        let value = nav.symbol(st.value)?;
        let within = match st.within {
            Some(w) => Some(nav.symbol(w)?),
            None => None,
        };
        let (db, names) = nav.parts();
        let f = names.file(db, st.site.file)?;
        Ok(serde_json::json!({
            "member": target.display_name(),
            "member_id": target.id.0,
            "value": value.display_name(),
            "value_id": value.id.0,
            "copy": st.copy,
            "root": f.root.as_str(),
            "file": f.path,
            "line": st.site.line,
            "col": st.site.col,
            "macro": st.macro_name,
            "within": within.as_ref().map(|w| w.display_name()),
            "within_id": within.as_ref().map(|w| w.id.0),
        }))
    })
}

/// `stores`: for a member, variable or parameter what was stored into it, for a
/// function where it was stored.
pub fn stores(
    nav: &mut Navigator,
    sections: &[Section<schema::Store>],
    json: bool,
    limit: Limit,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    if json {
        return end_json(out, stores_json(nav, sections, limit)?, limit);
    }
    let many = sections.len() > 1;
    for sec in sections {
        let side = Navigator::side(&sec.symbol);
        let indent = heading(nav, out, &sec.symbol, many)?;
        if sec.rows.is_empty() {
            let none = match side {
                Side::OfFunction => "never stored into a pointer",
                Side::OfPointer => "nothing recorded as stored here",
            };
            writeln!(out, "{indent}({none})")?;
        }
        let mut lines = Vec::new();
        let (rows, left) = limit.cut(&sec.rows);
        for st in rows {
            let target = nav.symbol(st.target)?;
            let value = nav.symbol(st.value)?;
            let name = match side {
                Side::OfFunction => format!("into {}", nav.label(target.id)?),
                Side::OfPointer if st.copy => format!("copy of {}", nav.label(value.id)?),
                Side::OfPointer => nav.label(value.id)?,
            };
            let site = nav.site(st.site)?.full();
            let mut notes = vec![site];
            if let Some(w) = st.within {
                notes.push(format!("in {}", nav.label(w)?));
            }
            notes.push(via_macro(&st.macro_name));
            lines.push((name, notes.join("  "), Vec::new()));
        }
        write_section(out, indent, &lines, limit, left)?;
    }
    Ok(())
}

/// `uses` as JSON rows, a use each.
pub fn uses_json(
    nav: &mut Navigator,
    sections: &[Section<schema::Use>],
    limit: Limit,
) -> Result<JsonRows, QueryError> {
    json_rows(nav, sections, limit, |nav, _, u| {
        let function = nav.symbol(u.function)?;
        let symbol = nav.symbol(u.symbol)?;
        let (db, names) = nav.parts();
        let f = names.file(db, u.site.file)?;
        Ok(serde_json::json!({
            "function": function.display_name(),
            "function_id": function.id.0,
            "symbol": symbol.display_name(),
            "symbol_id": symbol.id.0,
            "access": u.access.as_str(),
            "root": f.root.as_str(),
            "file": f.path,
            "line": u.site.line,
            "col": u.site.col,
            "macro": u.macro_name,
        }))
    })
}

/// `uses`: for a global variable or a member the functions that read, write or take
/// its address; for a function the globals and members it uses.
pub fn uses(
    nav: &mut Navigator,
    sections: &[Section<schema::Use>],
    json: bool,
    limit: Limit,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    if json {
        return end_json(out, uses_json(nav, sections, limit)?, limit);
    }
    let many = sections.len() > 1;
    for sec in sections {
        let side = Navigator::side(&sec.symbol);
        let indent = heading(nav, out, &sec.symbol, many)?;
        if sec.rows.is_empty() {
            writeln!(out, "{indent}(no recorded uses)")?;
        }
        let mut lines = Vec::new();
        let (rows, left) = limit.cut(&sec.rows);
        for u in rows {
            let name = match side {
                Side::OfFunction => nav.label(u.symbol)?,
                Side::OfPointer => nav.label(u.function)?,
            };
            let site = nav.site(u.site)?.full();
            let via = via_macro(&u.macro_name);
            let access = u.access.as_str();
            lines.push((name, format!("{access:<5}  {site}  {via}"), Vec::new()));
        }
        write_section(out, indent, &lines, limit, left)?;
    }
    Ok(())
}

/// `refs` as JSON rows, a place each.
pub fn refs_json(
    nav: &mut Navigator,
    sections: &[Section<RefRow>],
    limit: Limit,
) -> Result<JsonRows, QueryError> {
    json_rows(nav, sections, limit, |nav, sec, r| {
        let within = match r.within {
            Some(w) => Some(nav.symbol(w)?),
            None => None,
        };
        let other = match r.kind.other() {
            Some(o) => Some(nav.symbol(o)?),
            None => None,
        };
        let (db, names) = nav.parts();
        let f = names.file(db, r.site.file)?;
        let mut v = serde_json::json!({
            "symbol": sec.symbol.display_name(),
            "symbol_id": sec.symbol.id.0,
            "kind": r.kind.word(),
            "other": other.as_ref().map(|o| o.display_name()),
            "other_id": other.as_ref().map(|o| o.id.0),
            "within": within.as_ref().map(|w| w.display_name()),
            "within_id": within.as_ref().map(|w| w.id.0),
            "root": f.root.as_str(),
            "file": f.path,
            "line": r.site.line,
            "col": r.site.col,
            "macro": r.macro_name,
        });
        if r.dead {
            v["dead"] = true.into();
        }
        Ok(v)
    })
}

/// `refs`: every place the compiled code refers to a symbol, with the function (or
/// the initialized variable) it is in; one line a place, in file and line order.
pub fn refs(
    nav: &mut Navigator,
    sections: &[Section<RefRow>],
    json: bool,
    limit: Limit,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    if json {
        return end_json(out, refs_json(nav, sections, limit)?, limit);
    }
    let many = sections.len() > 1;
    for sec in sections {
        let (rows, left) = limit.cut(&sec.rows);
        let indent = heading(nav, out, &sec.symbol, many)?;
        if sec.rows.is_empty() {
            let none = match sec.symbol.kind {
                schema::Kind::Macro => {
                    "no recorded expansions: only those written in a function's body are \
                     recorded, not those inside other macros' definitions, nor object-like \
                     macros (nor any in a database written before schema 11)"
                }
                schema::Kind::Struct
                | schema::Kind::Union
                | schema::Kind::Enum
                | schema::Kind::Typedef => "the uses of types are not recorded",
                _ => "no recorded references",
            };
            writeln!(out, "{indent}({none})")?;
        }
        let mut lines = Vec::new();
        for r in rows {
            let within = match r.within {
                Some(w) => nav.label(w)?,
                None => "(unknown)".to_owned(),
            };
            let what = match r.kind {
                RefKind::StoredInto(o) => format!("stored into {}", nav.label(o)?),
                RefKind::Stores(o) => format!("store of {}", nav.label(o)?),
                k => k.word().to_owned(),
            };
            let site = nav.site(r.site)?.full();
            let via = via_macro(&r.macro_name);
            let dead = if r.dead { DEAD_NOTE } else { "" };
            let note = [site, what, via, dead.to_owned()]
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join("  ");
            lines.push((within, note, Vec::new()));
        }
        write_section(out, indent, &lines, limit, left)?;
    }
    Ok(())
}

fn step_json(nav: &mut Navigator, st: &Step) -> Result<serde_json::Value, QueryError> {
    let via = match st.via {
        Some(p) => Some(nav.symbol(p)?.display_name()),
        None => None,
    };
    let caller = nav.symbol(st.caller)?.display_name();
    let callee = nav.symbol(st.callee)?.display_name();
    let (db, names) = nav.parts();
    let f = names.file(db, st.site.file)?;
    let mut v = serde_json::json!({
        "caller": caller,
        "callee": callee,
        "caller_id": st.caller.0,
        "callee_id": st.callee.0,
        "root": f.root.as_str(),
        "file": f.path,
        "line": st.site.line,
        "col": st.site.col,
        "macro": st.macro_name,
        "via": via,
    });
    if st.dead {
        v["dead"] = true.into();
    }
    if st.alias {
        v["alias"] = true.into();
    }
    if schema::is_assembly(&f.path) {
        v["assembly"] = true.into();
    }
    Ok(v)
}

/// `path`'s paths as JSON: an array of calls each.
pub fn paths_json(
    nav: &mut Navigator,
    found: &Paths,
) -> Result<Vec<serde_json::Value>, QueryError> {
    let mut all = Vec::new();
    for steps in &found.paths {
        let mut v = Vec::new();
        for st in steps {
            v.push(step_json(nav, st)?);
        }
        all.push(serde_json::Value::Array(v));
    }
    Ok(all)
}

/// `path FROM TO`.
pub fn paths(
    nav: &mut Navigator,
    found: &Paths,
    from: &str,
    to: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let no_path = || QueryError::NoPath {
        from: clean(from),
        to: clean(to),
    };
    if json {
        let all = paths_json(nav, found)?;
        write_json(out, &all)?;
        return if found.paths.is_empty() {
            Err(no_path())
        } else {
            Ok(())
        };
    }
    let Some(len) = found.paths.first().map(Vec::len) else {
        return Err(no_path());
    };
    let calls = if len == 1 { "call" } else { "calls" };
    let max = crate::answer::MAX_PATHS;
    let count = match found.paths.len() {
        _ if found.more => format!(", more than {max} paths (the first {max} shown)"),
        1 => String::new(),
        n => format!(", {n} paths"),
    };
    writeln!(
        out,
        "{}",
        clean(&format!("{from} -> {to}: {len} {calls}{count}"))
    )?;
    for (i, steps) in found.paths.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let mut rows = Vec::new();
        if let Some(first) = steps.first() {
            rows.push((nav.label(first.caller)?, String::new(), Vec::new()));
        }
        for st in steps {
            let place = nav.site(st.site)?;
            let mut notes = vec![place.full()];
            if st.macro_name.is_some() {
                notes.push(via_macro(&st.macro_name));
            }
            if let Some(p) = st.via {
                notes.push(format!("[indirect via {}]", nav.symbol(p)?.display_name()));
            }
            if st.dead {
                notes.push(DEAD_NOTE.to_owned());
            }
            if st.alias {
                notes.push("[alias target]".to_owned());
            }
            if schema::is_assembly(&place.shown) {
                notes.push(ASSEMBLY_NOTE.to_owned());
            }
            let name = format!("-> {}", nav.label(st.callee)?);
            rows.push((name, notes.join("  "), Vec::new()));
        }
        write_rows(out, "  ", &rows)?;
    }
    Ok(())
}

/// What to tell a reader of a database that is not complete yet, if anything: how far
/// its indexing is.
pub fn pending_note(db: &std::path::Path) -> Option<String> {
    let progress = schema::pending::progress(db);
    if !progress.busy() {
        return None;
    }
    let (done, total) = progress.done_of();
    Some(format!(
        "indexing: {done} of {total} compiles indexed so far; `nccrs --wait {}` waits for the rest",
        clean(&db.display().to_string())
    ))
}

/// The longest reason quoted in a one-line note.
const REASON_CHARS: usize = 100;

/// What to tell a reader about units that could not be indexed, if any: the first
/// with its reason, and how many more.
pub fn failed_note(nav: &mut Navigator) -> Option<String> {
    let failed = nav.failed_units().ok()?;
    let (source, reason) = failed.first()?;
    let mut reason: String = reason.lines().next().unwrap_or("").to_owned();
    if reason.chars().count() > REASON_CHARS {
        reason = reason.chars().take(REASON_CHARS).collect::<String>() + "...";
    }
    let more = match failed.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(clean(&format!(
        "{} unit(s) could not be indexed: {source} ({reason}){more}; `nccnav {} dump | grep failed` lists them",
        failed.len(),
        nav.db().path().display()
    )))
}
