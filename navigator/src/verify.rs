//! `nccnav DB verify`: how much of the compiler's own truth the database holds.
//!
//! The compiler's answers are the DWARF of the objects the build made (one per
//! translation unit recorded in the database; their relocations are applied while
//! reading):
//!
//! - definitions: every `DW_TAG_subprogram` that is defined (has code, or is the
//!   abstract instance of an inline function) and every file-scope `DW_TAG_variable`
//!   with a location, by name, declaring file and line, through `DW_AT_abstract_origin`
//!   and `DW_AT_specification` (a variable declared earlier in its file carries the line
//!   of that declaration: it is matched by name and file);
//! - call edges: each `DW_TAG_inlined_subroutine` and `DW_TAG_call_site` /
//!   `DW_TAG_GNU_call_site` with an origin is a call from the innermost enclosing
//!   function (or inlined function) to that origin. A function inside itself is one of
//!   gcc's split parts or clones, not a source call.
//!
//! A definition's name is classed by the source line DWARF gives: written there as is,
//! given as a macro argument (after `(` or `,`), or not there at all (made by token
//! pasting).
//!
//! And the objects' ELF symbol tables ([`symbols`]), which have what DWARF does not:
//! aliases.

mod symbols;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use gimli::{AttributeValue, EndianSlice, Reader, RelocateReader, RunTimeEndian};
use object::{Object, ObjectSection};
use schema::{Db, Trees};

use crate::answer::QueryError;
use crate::names::clean;

/// What `verify` was asked for.
pub struct VerifyOptions {
    pub misses: bool,
    /// Fail (exit status 3) below these percentages.
    pub min_definitions: Option<f64>,
    pub min_calls: Option<f64>,
    pub min_symbols: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum NameKind {
    Written,
    MacroArgument,
    Pasted,
}

impl NameKind {
    fn describe(self) -> &'static str {
        match self {
            NameKind::Written => "written at the definition line",
            NameKind::MacroArgument => "given as a macro argument",
            NameKind::Pasted => "made by token pasting",
        }
    }
}

/// A definition as DWARF tells it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
struct DwarfDef {
    name: String,
    /// The file, absolute: DWARF's and the database's paths are compared on disk.
    path: PathBuf,
    line: u32,
    /// The line is that of an earlier declaration (`DW_AT_specification`).
    declared_earlier: bool,
    variable: bool,
}

#[derive(Default)]
struct DwarfFacts {
    defs: HashSet<DwarfDef>,
    calls: HashSet<(String, String)>,
    objects: usize,
    missing: usize,
    unreadable: Vec<String>,
}

/// The relocations of one section, applied while gimli reads it.
#[derive(Clone, Copy, Debug)]
struct Relocs<'a>(&'a object::read::RelocationMap);

impl gimli::read::Relocate<usize> for Relocs<'_> {
    fn relocate_address(&self, offset: usize, value: u64) -> gimli::Result<u64> {
        Ok(self.0.relocate(offset as u64, value))
    }
    fn relocate_offset(&self, offset: usize, value: usize) -> gimli::Result<usize> {
        <usize as gimli::ReaderOffset>::from_u64(self.0.relocate(offset as u64, value as u64))
    }
}

/// What gimli reads the DWARF of one object through: its bytes with the section's
/// relocations applied.
type DwarfReader<'a> = RelocateReader<EndianSlice<'a, RunTimeEndian>, Relocs<'a>>;

fn read_object(
    tu: &schema::Tu,
    source: Option<&Path>,
    facts: &mut DwarfFacts,
    symbols: &mut symbols::ElfSymbols,
) -> Result<(), String> {
    let data = std::fs::read(&tu.object).map_err(|e| e.to_string())?;
    let file = object::File::parse(&*data).map_err(|e| e.to_string())?;
    symbols.read(&file, tu.id, source);
    let endian = if file.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    let load = |id: gimli::SectionId| -> Result<(Cow<'_, [u8]>, object::read::RelocationMap), object::Error> {
        match file.section_by_name(id.name()) {
            Some(section) => Ok((section.uncompressed_data()?, section.relocation_map()?)),
            None => Ok((Cow::Borrowed(&[][..]), object::read::RelocationMap::default())),
        }
    };
    let sections = gimli::DwarfSections::load(load).map_err(|e| e.to_string())?;
    let dwarf = sections.borrow(|(data, relocs)| {
        RelocateReader::new(EndianSlice::new(data, endian), Relocs(relocs))
    });
    let mut units = dwarf.units();
    while let Some(header) = units.next().map_err(|e| e.to_string())? {
        let unit = dwarf.unit(header).map_err(|e| e.to_string())?;
        read_unit(&dwarf, &unit, facts).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Name, declaring file and line of a DIE, through its abstract origin and
/// specification; and whether the line came from an earlier declaration.
struct Named {
    name: Option<String>,
    file: Option<u64>,
    line: Option<u64>,
    declared_earlier: bool,
}

fn named<'a>(
    dwarf: &gimli::Dwarf<DwarfReader<'a>>,
    unit: &gimli::Unit<DwarfReader<'a>>,
    entry: &gimli::DebuggingInformationEntry<'_, '_, DwarfReader<'a>>,
) -> gimli::Result<Named> {
    let mut out = Named {
        name: None,
        file: None,
        line: None,
        declared_earlier: false,
    };
    let mut offset = None;
    let mut hops = 0;
    loop {
        let e;
        let entry = match offset {
            None => entry,
            Some(o) => {
                e = unit.entry(o)?;
                &e
            }
        };
        if out.name.is_none() {
            if let Some(v) = entry.attr_value(gimli::DW_AT_name)? {
                out.name = Some(dwarf.attr_string(unit, v)?.to_string_lossy()?.into_owned());
            }
        }
        if out.file.is_none() {
            out.file = match entry.attr_value(gimli::DW_AT_decl_file)? {
                Some(AttributeValue::FileIndex(i)) => Some(i),
                Some(v) => v.udata_value(),
                None => None,
            };
        }
        if out.line.is_none() {
            out.line = entry
                .attr_value(gimli::DW_AT_decl_line)?
                .and_then(|v| v.udata_value());
        }
        let next = [gimli::DW_AT_abstract_origin, gimli::DW_AT_specification]
            .into_iter()
            .find_map(|a| match entry.attr_value(a) {
                Ok(Some(AttributeValue::UnitRef(o))) => Some((a, o)),
                _ => None,
            });
        match next {
            Some((a, o)) if hops < 8 => {
                if a == gimli::DW_AT_specification && out.line.is_none() {
                    out.declared_earlier = true;
                }
                offset = Some(o);
                hops += 1;
            }
            _ => return Ok(out),
        }
    }
}

fn file_path<'a>(
    dwarf: &gimli::Dwarf<DwarfReader<'a>>,
    unit: &gimli::Unit<DwarfReader<'a>>,
    index: u64,
) -> gimli::Result<Option<PathBuf>> {
    let Some(program) = &unit.line_program else {
        return Ok(None);
    };
    let header = program.header();
    let Some(file) = header.file(index) else {
        return Ok(None);
    };
    let name = dwarf.attr_string(unit, file.path_name())?;
    let name = PathBuf::from(name.to_string_lossy()?.into_owned());
    if name.is_absolute() {
        return Ok(Some(name));
    }
    let mut dir = PathBuf::new();
    if let Some(comp) = &unit.comp_dir {
        dir.push(comp.to_string_lossy()?.into_owned());
    }
    if let Some(d) = file.directory(header) {
        let d = dwarf.attr_string(unit, d)?;
        dir.push(d.to_string_lossy()?.into_owned());
    }
    Ok(Some(dir.join(name)))
}

/// An inlined function's code inside the function being read: where it is in the
/// DIE tree, its name, and its address ranges.
struct Inlined {
    depth: isize,
    name: String,
    ranges: Vec<(u64, u64)>,
}

/// A call site not yet given its caller: clang puts every call site of a function
/// directly under the function, even those of code inlined into it, so the caller is
/// found by the call's return address among the inlined functions' ranges.
struct Site {
    /// The return address, when given.
    pc: Option<u64>,
    /// The innermost enclosing scope in the DIE tree: its depth and name.
    depth: isize,
    caller: Option<String>,
    callee: String,
}

/// The calls of one function: the inlined code in it and its call sites.
#[derive(Default)]
struct FunctionBody {
    inlined: Vec<Inlined>,
    sites: Vec<Site>,
}

impl FunctionBody {
    /// Records each call site against the innermost function its return address lies
    /// in: an inlined function deeper than the site's DIE scope, else that scope.
    fn flush(&mut self, facts: &mut DwarfFacts) {
        for site in self.sites.drain(..) {
            let inner = site.pc.and_then(|pc| {
                let at = pc.saturating_sub(1);
                self.inlined
                    .iter()
                    .filter(|i| i.depth > site.depth)
                    .filter(|i| i.ranges.iter().any(|&(b, e)| b <= at && at < e))
                    .max_by_key(|i| i.depth)
            });
            let caller = inner.map(|i| i.name.as_str()).or(site.caller.as_deref());
            if let Some(caller) = caller {
                if caller != site.callee {
                    facts.calls.insert((caller.to_owned(), site.callee.clone()));
                }
            }
        }
        self.inlined.clear();
    }
}

fn read_unit<'a>(
    dwarf: &gimli::Dwarf<DwarfReader<'a>>,
    unit: &gimli::Unit<DwarfReader<'a>>,
    facts: &mut DwarfFacts,
) -> gimli::Result<()> {
    let mut entries = unit.entries();
    let mut depth: isize = 0;
    // Enclosing functions and inlined functions: (depth, name).
    let mut scopes: Vec<(isize, Option<String>)> = Vec::new();
    let mut files: HashMap<u64, Option<PathBuf>> = HashMap::new();
    let mut body = FunctionBody::default();
    while let Some((delta, entry)) = entries.next_dfs()? {
        depth += delta;
        while scopes.last().is_some_and(|(d, _)| *d >= depth) {
            scopes.pop();
        }
        if scopes.is_empty() {
            // Out of the last function: its call sites are complete.
            body.flush(facts);
        }
        let tag = entry.tag();
        let has = |a| entry.attr_value(a).map(|v| v.is_some());
        match tag {
            gimli::DW_TAG_subprogram => {
                let n = named(dwarf, unit, entry)?;
                let defined = !has(gimli::DW_AT_declaration)?
                    && !has(gimli::DW_AT_artificial)?
                    && (has(gimli::DW_AT_low_pc)?
                        || has(gimli::DW_AT_ranges)?
                        || has(gimli::DW_AT_inline)?);
                if defined {
                    record_def(dwarf, unit, &n, false, &mut files, facts)?;
                }
                scopes.push((depth, n.name));
            }
            gimli::DW_TAG_inlined_subroutine => {
                let n = named(dwarf, unit, entry)?;
                record_call(&scopes, n.name.as_deref(), facts);
                if let Some(name) = &n.name {
                    let mut ranges = Vec::new();
                    let mut iter = dwarf.die_ranges(unit, entry)?;
                    while let Some(r) = iter.next()? {
                        ranges.push((r.begin, r.end));
                    }
                    body.inlined.push(Inlined {
                        depth,
                        name: name.clone(),
                        ranges,
                    });
                }
                scopes.push((depth, n.name));
            }
            gimli::DW_TAG_call_site | gimli::DW_TAG_GNU_call_site => {
                let origin = [gimli::DW_AT_call_origin, gimli::DW_AT_abstract_origin]
                    .into_iter()
                    .find_map(|a| match entry.attr_value(a) {
                        Ok(Some(AttributeValue::UnitRef(o))) => Some(o),
                        _ => None,
                    });
                if let Some(o) = origin {
                    let callee = unit.entry(o)?;
                    let n = named(dwarf, unit, &callee)?;
                    let pc = match [gimli::DW_AT_call_return_pc, gimli::DW_AT_low_pc]
                        .into_iter()
                        .find_map(|a| entry.attr_value(a).ok().flatten())
                    {
                        Some(v) => dwarf.attr_address(unit, v)?,
                        None => None,
                    };
                    let (scope_depth, caller) = scopes
                        .iter()
                        .rev()
                        .find(|(_, n)| n.is_some())
                        .map(|(d, n)| (*d, n.clone()))
                        .unwrap_or((0, None));
                    if let Some(callee) = n.name {
                        body.sites.push(Site {
                            pc,
                            depth: scope_depth,
                            caller,
                            callee,
                        });
                    }
                }
            }
            gimli::DW_TAG_variable
                if depth == 1 && has(gimli::DW_AT_location)? && !has(gimli::DW_AT_declaration)? =>
            {
                let n = named(dwarf, unit, entry)?;
                record_def(dwarf, unit, &n, true, &mut files, facts)?;
            }
            _ => {}
        }
    }
    body.flush(facts);
    Ok(())
}

fn record_call(scopes: &[(isize, Option<String>)], callee: Option<&str>, facts: &mut DwarfFacts) {
    let caller = scopes.iter().rev().find_map(|(_, n)| n.as_deref());
    if let (Some(caller), Some(callee)) = (caller, callee) {
        if caller != callee {
            facts.calls.insert((caller.to_owned(), callee.to_owned()));
        }
    }
}

fn record_def<'a>(
    dwarf: &gimli::Dwarf<DwarfReader<'a>>,
    unit: &gimli::Unit<DwarfReader<'a>>,
    n: &Named,
    variable: bool,
    files: &mut HashMap<u64, Option<PathBuf>>,
    facts: &mut DwarfFacts,
) -> gimli::Result<()> {
    let (Some(name), Some(file), Some(line)) = (&n.name, n.file, n.line) else {
        return Ok(());
    };
    let stored = match files.get(&file) {
        Some(s) => s.clone(),
        None => {
            let s = file_path(dwarf, unit, file)?.map(|p| schema::normalize_path(&p));
            files.insert(file, s.clone());
            s
        }
    };
    if let Some(path) = stored {
        facts.defs.insert(DwarfDef {
            name: name.clone(),
            path,
            line: line as u32,
            declared_earlier: n.declared_earlier,
            variable,
        });
    }
    Ok(())
}

/// Reads source lines to class names, one file at a time.
#[derive(Default)]
struct Sources {
    cache: HashMap<PathBuf, Option<Vec<String>>>,
}

impl Sources {
    fn line(&mut self, path: &Path, line: u32) -> Option<&str> {
        let text = self.cache.entry(path.to_owned()).or_insert_with(|| {
            std::fs::read(path).ok().map(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
        });
        text.as_ref()
            .and_then(|l| l.get(line.checked_sub(1)? as usize))
            .map(String::as_str)
    }

    fn kind(&mut self, d: &DwarfDef) -> NameKind {
        let Some(text) = self.line(&d.path, d.line) else {
            return NameKind::Written;
        };
        let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut from = 0;
        while let Some(i) = text[from..].find(&d.name) {
            let start = from + i;
            let end = start + d.name.len();
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
                let prev = text[..start].trim_end().chars().next_back();
                return if matches!(prev, Some('(' | ',')) {
                    NameKind::MacroArgument
                } else {
                    NameKind::Written
                };
            }
            from = end;
        }
        NameKind::Pasted
    }
}

/// The kernel's cleanup.h names the functions that `__attribute__((cleanup))` calls:
/// `class_NAME_destructor` (guard, scoped_guard, CLASS) and `__free_NAME` (`__free`).
fn is_cleanup(callee: &str) -> bool {
    (callee.starts_with("class_") && callee.ends_with("_destructor"))
        || callee.starts_with("__free_")
        || (callee.starts_with("__scoped_") && callee.ends_with("_cleanup"))
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Runs `verify`; returns whether every threshold was met.
pub fn verify(db: &Db, opts: &VerifyOptions, out: &mut dyn Write) -> Result<bool, QueryError> {
    let trees = db.trees()?;
    // The database's files, each where it is on disk.
    let files = db.files()?;
    let on_disk: HashMap<schema::FileId, PathBuf> = files
        .iter()
        .filter_map(|f| Some((f.id, schema::normalize_path(&trees.on_disk(f)?))))
        .collect();
    // Objects assembled from `.S` files are not checked: their facts are read from
    // the objects themselves.
    let assembly: HashSet<schema::FileId> = files
        .iter()
        .filter(|f| schema::is_assembly(&f.path))
        .map(|f| f.id)
        .collect();
    let mut facts = DwarfFacts::default();
    let mut elf = symbols::ElfSymbols::default();
    for tu in db.tus()? {
        if tu.source.is_some_and(|f| assembly.contains(&f)) {
            continue;
        }
        let object = PathBuf::from(&tu.object);
        if !object.is_file() {
            // Its compile failed, or the object was removed since.
            facts.missing += 1;
            continue;
        }
        let source = tu
            .source
            .and_then(|f| on_disk.get(&f))
            .map(PathBuf::as_path);
        match read_object(&tu, source, &mut facts, &mut elf) {
            Ok(()) => facts.objects += 1,
            Err(e) => facts.unreadable.push(format!("{}: {e}", tu.object)),
        }
    }

    let all_sites = db.definition_sites()?;
    let sites: Vec<(&str, &Path, u32)> = all_sites
        .iter()
        .filter_map(|(n, f, l)| Some((n.as_str(), on_disk.get(f)?.as_path(), *l)))
        .collect();
    let exact: HashSet<(&str, &Path, u32)> = sites.iter().map(|(n, p, l)| (*n, *p, *l)).collect();
    let by_file: HashSet<(&str, &Path)> = sites.iter().map(|(n, p, _)| (*n, *p)).collect();
    let mut by_name: HashMap<&str, Vec<(&Path, u32)>> = HashMap::new();
    for (n, p, l) in &sites {
        by_name.entry(*n).or_default().push((*p, *l));
    }
    // DWARF gives a variable the line of its first declaration
    // (`static const struct file_operations shm_file_operations;` before its use):
    // the definition comes later in the file, or, for a name defined once, in a file
    // the first one includes (init/version.c and version-timestamp.c).
    let declared_before_definition = |d: &DwarfDef| {
        d.variable
            && by_name.get(d.name.as_str()).is_some_and(|defs| {
                let here: Vec<u32> = defs
                    .iter()
                    .filter(|(p, _)| *p == d.path)
                    .map(|(_, l)| *l)
                    .collect();
                (here.is_empty() && defs.len() == 1) || here.iter().any(|l| *l > d.line)
            })
    };
    let direct: HashSet<(String, String)> = db.direct_call_names()?.into_iter().collect();
    let indirect: HashSet<(String, String)> = db.indirect_call_names()?.into_iter().collect();

    let mut sources = Sources::default();
    let mut defs: Vec<&DwarfDef> = facts.defs.iter().collect();
    defs.sort();
    let mut by_kind: BTreeMap<NameKind, (usize, usize)> = BTreeMap::new();
    let mut def_misses = Vec::new();
    for d in &defs {
        let k = sources.kind(d);
        let found = exact.contains(&(d.name.as_str(), d.path.as_path(), d.line))
            || (d.declared_earlier && by_file.contains(&(d.name.as_str(), d.path.as_path())))
            || (k != NameKind::Pasted && declared_before_definition(d));
        let e = by_kind.entry(k).or_default();
        e.0 += 1;
        if found {
            e.1 += 1;
        } else {
            def_misses.push((*d, k));
        }
    }
    let mut calls: Vec<&(String, String)> = facts.calls.iter().collect();
    calls.sort();
    let (mut found_direct, mut found_indirect, mut cleanup, mut builtin) = (0, 0, 0, 0);
    let mut call_misses = Vec::new();
    for c in &calls {
        // GCC names the string functions it knows by their builtins (`memset()` in the
        // source is `__builtin_memset` in arm64's DWARF).
        let as_written =
            c.1.strip_prefix("__builtin_")
                .map(|f| (c.0.clone(), f.to_owned()));
        if direct.contains(*c) || as_written.as_ref().is_some_and(|w| direct.contains(w)) {
            found_direct += 1;
        } else if indirect.contains(*c) {
            found_indirect += 1;
        } else if is_cleanup(&c.1) {
            cleanup += 1;
        } else if as_written.is_some() {
            // A call the compiler made itself: `= {}` or a struct copy as memset or
            // memcpy.
            builtin += 1;
        } else {
            call_misses.push(*c);
        }
    }

    let precision = precision(&facts, &direct, db.dead_direct_call_names()?);
    let named: Vec<(&str, schema::FileId)> =
        all_sites.iter().map(|(n, f, _)| (n.as_str(), *f)).collect();
    let elf = elf.compare(&named, &db.unit_files()?);

    let def_total = defs.len();
    let def_found: usize = by_kind.values().map(|v| v.1).sum();
    writeln!(
        out,
        "objects read: {} ({} not there: not built or removed; {} could not be read)",
        facts.objects,
        facts.missing,
        facts.unreadable.len()
    )?;
    for u in facts.unreadable.iter().take(10) {
        writeln!(out, "  {}", clean(u))?;
    }
    writeln!(
        out,
        "definitions: {def_found} of {def_total} in the DWARF are recorded ({:.2}%)",
        pct(def_found, def_total)
    )?;
    for (k, (all, found)) in &by_kind {
        writeln!(
            out,
            "  {:<32} {found} of {all} ({:.2}%)",
            k.describe(),
            pct(*found, *all)
        )?;
    }
    // Calls the compiler adds for `__attribute__((cleanup))` are not source calls.
    let call_total = calls.len() - cleanup - builtin;
    writeln!(
        out,
        "call edges: {found_direct} of {call_total} in the DWARF are recorded as direct calls ({:.2}%)",
        pct(found_direct, call_total)
    )?;
    writeln!(
        out,
        "  {found_indirect} more through a pointer the callee was stored into (inlining made them direct); {} not found",
        call_misses.len()
    )?;
    writeln!(
        out,
        "  not counted: {cleanup} calls the compiler adds for __attribute__((cleanup)) (cleanup.h's class_*_destructor, __free_*)"
    )?;
    writeln!(
        out,
        "  not counted: {builtin} calls to __builtin_* functions that no source line writes (the compiler's own memset, memcpy for initializers and copies)"
    )?;
    precision.write(out)?;
    elf.write(out, opts.misses, |p| shown_on_disk(&trees, p))?;
    if opts.misses {
        for (d, k) in &def_misses {
            let file = shown_on_disk(&trees, &d.path);
            writeln!(
                out,
                "missing definition: {} {}:{} ({})",
                clean(&d.name),
                clean(&file),
                d.line,
                k.describe()
            )?;
        }
        for (a, b) in &call_misses {
            writeln!(out, "missing call: {} -> {}", clean(a), clean(b))?;
        }
    }
    let mut ok = true;
    if let Some(min) = opts.min_definitions {
        for (k, (all, found)) in &by_kind {
            if pct(*found, *all) < min {
                writeln!(
                    out,
                    "below the threshold: definitions {} at {:.2}% < {min}%",
                    k.describe(),
                    pct(*found, *all)
                )?;
                ok = false;
            }
        }
    }
    if let Some(min) = opts.min_symbols {
        if elf.recall() < min {
            writeln!(
                out,
                "below the threshold: ELF symbols at {:.2}% < {min}%",
                elf.recall()
            )?;
            ok = false;
        }
    }
    if let Some(min) = opts.min_calls {
        if pct(found_direct, call_total) < min {
            writeln!(
                out,
                "below the threshold: call edges at {:.2}% < {min}%",
                pct(found_direct, call_total)
            )?;
            ok = false;
        }
    }
    Ok(ok)
}

/// The recorded direct calls (caller name, callee name) whose caller the compiler
/// emitted, by whether the DWARF has them and, when not, why not as far as can be
/// told.
struct Precision {
    total: usize,
    in_dwarf: usize,
    /// Only in code this configuration never runs.
    dead: Vec<(String, String)>,
    /// Only in code this configuration never runs, and yet in the DWARF: a condition
    /// taken for constant that the compiler did not fold. Should be none.
    dead_in_dwarf: Vec<(String, String)>,
    /// The callee is nowhere in the DWARF: an inline whose body left nothing (empty,
    /// or folded away at every call).
    no_trace: Vec<(String, String)>,
    /// Neither: inlined and optimized away, made a tail call or a jump, merged...
    other: Vec<(String, String)>,
}

fn precision(
    facts: &DwarfFacts,
    live: &HashSet<(String, String)>,
    dead: Vec<(String, String)>,
) -> Precision {
    let functions: HashSet<&str> = facts
        .defs
        .iter()
        .filter(|d| !d.variable)
        .map(|d| d.name.as_str())
        .collect();
    let dead: HashSet<(String, String)> = dead.into_iter().filter(|c| !live.contains(c)).collect();
    let mut recorded: Vec<(&(String, String), bool)> = live
        .iter()
        .map(|c| (c, false))
        .chain(dead.iter().map(|c| (c, true)))
        .filter(|(c, _)| functions.contains(c.0.as_str()))
        .collect();
    recorded.sort();
    let mut p = Precision {
        total: recorded.len(),
        in_dwarf: 0,
        dead: Vec::new(),
        dead_in_dwarf: Vec::new(),
        no_trace: Vec::new(),
        other: Vec::new(),
    };
    for (c, is_dead) in recorded {
        let builtin = (c.0.clone(), format!("__builtin_{}", c.1));
        if facts.calls.contains(c) || facts.calls.contains(&builtin) {
            p.in_dwarf += 1;
            if is_dead {
                p.dead_in_dwarf.push(c.clone());
            }
        } else if is_dead {
            p.dead.push(c.clone());
        } else if !functions.contains(c.1.as_str()) {
            p.no_trace.push(c.clone());
        } else {
            p.other.push(c.clone());
        }
    }
    p
}

impl Precision {
    fn write(&self, out: &mut dyn Write) -> Result<(), QueryError> {
        writeln!(
            out,
            "precision: {} of {} recorded direct calls whose caller the compiler emitted are in the DWARF ({:.2}%); the others:",
            self.in_dwarf,
            self.total,
            pct(self.in_dwarf, self.total)
        )?;
        for (what, list) in [
            ("dead in this configuration", &self.dead),
            (
                "to a function the DWARF does not have (an inline that left nothing)",
                &self.no_trace,
            ),
            (
                "other optimizations (inlined away, tail calls)",
                &self.other,
            ),
            (
                "of those in the DWARF, recorded only as dead (should be none)",
                &self.dead_in_dwarf,
            ),
        ] {
            let sample: Vec<String> = list
                .iter()
                .step_by((list.len() / 4).max(1))
                .take(4)
                .map(|(a, b)| format!("{} -> {}", clean(a), clean(b)))
                .collect();
            writeln!(
                out,
                "  {what}: {}{}",
                list.len(),
                if sample.is_empty() {
                    String::new()
                } else {
                    format!(" (e.g. {})", sample.join(", "))
                }
            )?;
        }
        Ok(())
    }
}

/// A file on disk as the navigator shows it: relative to the source tree, marked as
/// the build tree's, or absolute.
fn shown_on_disk(trees: &Trees, path: &Path) -> String {
    let under = |t: &Option<String>| t.as_ref().and_then(|t| path.strip_prefix(t).ok());
    match (under(&trees.objtree), under(&trees.srctree)) {
        // The build tree may lie inside the source tree: the longer match wins.
        (Some(o), Some(s)) if o.as_os_str().len() < s.as_os_str().len() => {
            format!("{} (build tree)", o.display())
        }
        (_, Some(s)) => s.display().to_string(),
        (Some(o), None) => format!("{} (build tree)", o.display()),
        (None, None) => path.display().to_string(),
    }
}
