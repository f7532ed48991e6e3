//! Header facts an earlier unit recorded, taken as they are instead of extracted again.
//!
//! Most of every unit's facts are its headers', the same in unit after unit. A
//! header's *key* says how this unit read it: the configuration, the header's name
//! and content, what the preprocessor skipped in it, and every macro expanded in it
//! (the preprocessing record's expansions written in the header, and the macros
//! named in their arguments, which one of them may expand without the record
//! listing it: `CALL(PICK, v)`) — with every macro
//! their definitions name in turn — each by its definitions' text and whether they
//! came before the header's `#include` (or as good as before: made through one of the
//! header's own `#include`s before its text may read the macro), and a function-like macro written in the
//! header also by where each definition is (its uses there name the macro's symbol,
//! which is named after the file and place). Two units that read a header under the same
//! key see the same tokens from it, so its facts (its chunk) are the same: a unit
//! finds the chunk under the key (the facts cache keeps them) and the walk leaves
//! the header's declarations alone.
//!
//! What makes a header read differently is in its key: another `-D` (a command-line
//! macro's value; and every `-D` but the per-file names Kbuild passes goes into the
//! configuration part of the key, as does every other flag but include directories,
//! dependency output and warnings), `-DMODULE`, a `#define` before the `#include`
//! (`pr_fmt`, `DEBUG`: then the name is expanded, or expands to something else), a
//! macro defined only after it (then it is not expanded in the header). A header
//! entered twice (trace headers; not one whose guard kept every later entry out), or
//! one whose macros name one that some file of the unit `#undef`s other than to
//! define it again at once (not in the header's own text, nor after the `#include`
//! that read it in a file read once) or names in a `#pragma pop_macro`, has no key:
//! its facts are always extracted.
//! A header whose function body holds the first declaration of something the unit
//! declares (`{ int g(int); return g(1); }`) is not recorded: a unit taking it looks
//! for declarations at file scope only. `__COUNTER__`'s value is not in the key; a header whose macros name it is
//! recorded only when its facts name nothing a numbered paste made (`Pasted`).
//! When bodies may be blanked ([`Config::blanking`], `NCCRS_BLANK=1`), the key also
//! holds the function bodies a later unit may blank before its parse ([`Bodies`]),
//! with every macro they name, expanded there or not: a unit that blanked them keys
//! the header as one that parsed them.
//! What the key leaves out: a declaration of another header that
//! reads differently when the header itself does not (a callee `static` in one unit
//! and `extern` in the other, chosen by that other header's own `#ifdef`s on a macro
//! the first never expands); the counter's value choosing a name that is not new
//! (`PASTE(f, __COUNTER__)()` calling a declared `f0`) or deciding a constant
//! condition (the kernel's counter macros only make new names).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use schema::{FileIx, NewSymbol, SymbolIx, TuFacts};
use serde::{Deserialize, Serialize};

use super::blank::{Blank, Bodies};
use super::text::past_comments;
use crate::clang::{Cursor, File, Sources, TranslationUnit};

/// A header's facts as a unit recorded them: the facts (its chunk), what its code
/// refers to that a unit declares when it does not define it (called, stored or
/// referred-to functions, used global variables, dead code's included), the chunk's
/// hash in the database ([`schema::chunk_hashes`]) and its name in the facts cache.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HeaderFacts {
    pub facts: TuFacts,
    pub refers: Vec<NewSymbol>,
    pub hash: String,
    pub chunk: [u8; 32],
}

/// What the walk of each keyed header refers to (see [`HeaderFacts::refers`]).
#[derive(Default)]
pub(super) struct Refers {
    /// The keyed header whose declaration is being walked, by its place in the list.
    pub current: Option<usize>,
    by_header: Vec<HashSet<SymbolIx>>,
    /// The keyed headers whose code names something through a declaration inside a
    /// function body (`{ int g(int); return g(1); }`): not recorded, since a unit
    /// taking their facts looks for declarations at file scope only.
    pub in_bodies: HashSet<usize>,
}

impl Refers {
    /// Whether references are noted at this point of the walk.
    pub fn noting(&self) -> bool {
        self.current.is_some()
    }

    /// Notes that the current header's code names `s` through the declaration `d`.
    pub fn note(&mut self, s: SymbolIx, d: Cursor<'_>) {
        if let Some(i) = self.current {
            if d.lexical_parent()
                .is_some_and(|p| p.kind() != crate::clang::kind::TRANSLATION_UNIT)
            {
                self.in_bodies.insert(i);
            }
            if self.by_header.len() <= i {
                self.by_header.resize_with(i + 1, HashSet::default);
            }
            self.by_header[i].insert(s);
        }
    }

    /// What the `i`th keyed header refers to, in order.
    pub fn of(&self, i: usize) -> Vec<SymbolIx> {
        let mut v: Vec<SymbolIx> = self
            .by_header
            .get(i)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        v.sort_unstable();
        v
    }
}

/// Changes whenever what goes into a key changes.
const FORMAT: &[u8] = b"nccrs header key 7";

/// A header's key (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeaderKey(pub [u8; 32]);

/// Built-in macros whose value changes within a unit or from unit to unit: a header
/// whose macros name one has no key.
const VARYING: [&[u8]; 5] = [
    b"__BASE_FILE__",
    b"__INCLUDE_LEVEL__",
    b"__TIMESTAMP__",
    b"__DATE__",
    b"__TIME__",
];

/// The one built-in macro whose value a header's key leaves out: `__COUNTER__` counts
/// up through the unit, so it reads differently wherever a header is included, but it
/// reaches a header's facts only through the names it makes (`__UNIQUE_ID(x)`,
/// `x` pasted to the counter's value). The facts of a header whose macros name it are
/// recorded only when they name no symbol such a paste made ([`Pasted`]).
const COUNTER: &[u8] = b"__COUNTER__";

/// The `-D` names Kbuild gives each file: they go into a header's key only through
/// the macros that name them.
const PER_FILE: [&str; 4] = [
    "KBUILD_MODNAME",
    "KBUILD_BASENAME",
    "KBUILD_MODFILE",
    "__KBUILD_MODNAME",
];

/// What the parse's arguments say about every header: the flags that change how
/// code reads, and the command line's macros.
pub struct Config {
    identity: Vec<u8>,
    /// Whether headers' bodies may be blanked: only then are they part of the key.
    blanking: bool,
    /// Each command-line macro's value (`None`: `-U`), the last one given.
    cmdline: HashMap<String, Option<String>>,
}

impl Config {
    /// From libclang's arguments; `tool` names this nccrs and its libclang.
    pub fn new(args: &[String], tool: &[u8]) -> Config {
        let mut identity = Vec::new();
        let mut field = |b: &[u8]| {
            identity.extend_from_slice(&(b.len() as u64).to_le_bytes());
            identity.extend_from_slice(b);
        };
        field(FORMAT);
        field(tool);
        let mut cmdline = HashMap::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let joined = |flag: &str, it: &mut std::slice::Iter<'_, String>| {
                if a == flag {
                    it.next().cloned()
                } else {
                    a.strip_prefix(flag).map(str::to_owned)
                }
            };
            if let Some(d) = joined("-D", &mut it) {
                let (name, value) = d.split_once('=').unwrap_or((&d, "1"));
                if !PER_FILE.contains(&name) {
                    field(format!("-D{d}").as_bytes());
                }
                cmdline.insert(name.to_owned(), Some(value.to_owned()));
                continue;
            }
            if let Some(u) = joined("-U", &mut it) {
                field(format!("-U{u}").as_bytes());
                cmdline.insert(u, None);
                continue;
            }
            let with_value = [
                "-I",
                "-isystem",
                "-iquote",
                "-idirafter",
                "-include",
                "-imacros",
                "-o",
                "-MF",
                "-MT",
                "-MQ",
            ];
            if with_value.contains(&a.as_str()) {
                it.next();
                continue;
            }
            let dropped = [
                "-I",
                "-W",
                "-MD",
                "-MMD",
                "-isystem",
                "-iquote",
                "-idirafter",
            ];
            if dropped.iter().any(|p| a.starts_with(p)) || a == "-c" {
                continue;
            }
            field(a.as_bytes());
        }
        Config {
            identity,
            cmdline,
            blanking: false,
        }
    }

    /// Whether headers are keyed so that a unit may blank their bodies.
    pub fn blanks(&self) -> bool {
        self.blanking
    }

    /// The same, keying headers so that a unit may blank their bodies
    /// ([`super::blank::Bodies`]): another key, another facts cache entry.
    pub fn blanking(mut self) -> Config {
        self.blanking = true;
        self.identity.extend_from_slice(BODIES);
        self
    }
}

impl Config {
    /// The name under which the function bodies of a header with this content, read
    /// with these arguments, are kept ([`Bodies`]): known before the parse.
    pub fn bodies_key(&self, content: &[u8]) -> [u8; 32] {
        self.bodies_key_of(blake3::hash(content).as_bytes())
    }

    /// [`Config::bodies_key`] of the content whose BLAKE3 hash is `content_hash`.
    pub fn bodies_key_of(&self, content_hash: &[u8; 32]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(BODIES);
        h.update(&(self.identity.len() as u64).to_le_bytes());
        h.update(&self.identity);
        h.update(content_hash);
        *h.finalize().as_bytes()
    }
}

/// Changes whenever what [`Bodies`] holds, or how they are chosen, changes.
const BODIES: &[u8] = b"nccrs header bodies 2";

/// The symbols whose name a macro made by pasting a number to something
/// (`__UNIQUE_ID(x)`: `__UNIQUE_ID_x123`), which may be the value of [`COUNTER`]: a
/// header whose key leaves the counter out is not recorded when its facts name one,
/// or a symbol named after one (a member of such a struct, a function's static
/// variable).
#[derive(Default)]
pub(super) struct Pasted {
    symbols: HashSet<SymbolIx>,
    names: Vec<String>,
}

impl Pasted {
    /// Notes a new symbol, declared by `c`.
    pub fn note(&mut self, c: Cursor<'_>, s: SymbolIx, name: &str) {
        // A pasted name is spelled in no file (in the preprocessor's scratch space).
        if name.bytes().any(|b| b.is_ascii_digit()) && c.location().spelling_location().is_none() {
            self.symbols.insert(s);
            self.names.push(name.to_owned());
        }
    }

    /// The files among `headers` whose facts name a pasted symbol.
    pub fn owners_naming(&self, facts: &TuFacts, headers: &HashSet<FileIx>) -> HashSet<FileIx> {
        let mut found = HashSet::default();
        if headers.is_empty() || self.symbols.is_empty() {
            return found;
        }
        // A symbol named after one (`__UNIQUE_ID_x123` in its USR) holds its name.
        let Ok(named) = aho_corasick::AhoCorasick::new(&self.names) else {
            // Too many names for the automaton: every header that names any counts.
            return headers.clone();
        };
        let pasted = |s: SymbolIx| self.symbols.contains(&s) || named.is_match(&facts[s].usr);
        facts.for_each_owned(|owner, symbols| {
            if headers.contains(&owner)
                && !found.contains(&owner)
                && symbols.iter().any(|&s| pasted(s))
            {
                found.insert(owner);
            }
        });
        found
    }
}

/// What the parse showed of each file, for [`Record::keys`].
pub(super) struct Seen<'a, 'tu> {
    /// The macro expansions written there: where each starts, in order, and the
    /// macro's name.
    pub written: &'a HashMap<File<'tu>, Vec<(u32, &'a str)>>,
    /// The insides of the function bodies the parse found.
    pub bodies: &'a HashMap<File<'tu>, Vec<(u32, u32)>>,
    /// The bodies this parse did not read (blanked before it).
    pub blanked: &'a HashMap<File<'tu>, &'tu Blank>,
}

/// A header's key, as [`Record::keys`] gives it.
pub(super) struct Keyed<'tu> {
    pub file: File<'tu>,
    pub key: HeaderKey,
    /// Whether the key leaves `__COUNTER__` out.
    pub counted: bool,
    pub bodies: Bodies,
}

/// A macro definition of the unit, in the order the preprocessor met them.
struct Definition<'tu> {
    /// Its place among the preprocessing record's entities.
    ordinal: u32,
    /// Where its text is, when in a file; built-in and command-line ones have none.
    text: Option<(File<'tu>, u32, u32)>,
}

/// What the keys need from the walk over the preprocessing record.
#[derive(Default)]
pub(super) struct Record<'tu> {
    next: u32,
    definitions: HashMap<String, Vec<Definition<'tu>>>,
    /// Where each file was first `#include`d.
    included: HashMap<File<'tu>, u32>,
    /// Where each file's `#include`s are, in order: byte offset, and place among the
    /// preprocessing record's entities.
    directives: HashMap<File<'tu>, Vec<(u32, u32)>>,
    /// The file whose `#include` first included each file, and where it is.
    includer: HashMap<File<'tu>, (File<'tu>, u32)>,
    /// The unit's files by identity: an `#include` names a file by the name it was
    /// looked up by, its source locations by the first name libclang met (an unsaved
    /// file's), which may differ.
    files: HashMap<[u64; 3], File<'tu>>,
}

impl<'tu> Record<'tu> {
    /// A record for a unit whose files are `files` (as its source locations name
    /// them).
    pub fn new(files: &[File<'tu>]) -> Record<'tu> {
        // (An identity two files share — files that exist only as unsaved files —
        // tells nothing.)
        let mut by_id: HashMap<[u64; 3], Option<File<'tu>>> = HashMap::default();
        for f in files {
            if let Some(id) = f.unique_id() {
                by_id
                    .entry(id)
                    .and_modify(|e| *e = None)
                    .or_insert(Some(*f));
            }
        }
        Record {
            files: by_id
                .into_iter()
                .filter_map(|(id, f)| Some((id, f?)))
                .collect(),
            ..Record::default()
        }
    }

    /// Notes a preprocessing record entity: a macro definition or an inclusion.
    pub fn entity(&mut self, c: Cursor<'tu>, kind: clang_sys::CXCursorKind) {
        let ordinal = self.next;
        self.next += 1;
        match kind {
            crate::clang::kind::MACRO_DEFINITION => {
                self.definitions
                    .entry(c.spelling())
                    .or_default()
                    .push(Definition {
                        ordinal,
                        text: c.extent_in_file(),
                    });
            }
            crate::clang::kind::INCLUSION_DIRECTIVE => {
                let included = c.included_file().map(|f| {
                    f.unique_id()
                        .and_then(|u| self.files.get(&u))
                        .copied()
                        .unwrap_or(f)
                });
                if let Some(f) = included {
                    self.included.entry(f).or_insert(ordinal);
                }
                if let Some(p) = c.location().file_location() {
                    self.directives
                        .entry(p.file)
                        .or_default()
                        .push((p.offset, ordinal));
                    if let Some(f) = included {
                        self.includer.entry(f).or_insert((p.file, p.offset));
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `file` is `header` or was first read by an `#include` within it.
    fn within(&self, file: File<'tu>, header: File<'tu>) -> bool {
        file == header || self.read_through(file, header, |_| ()).is_some()
    }

    /// The `#include` in `header`'s text (its offset) through which `file` was first
    /// read, if it was; `on_way` is told each file between them.
    fn read_through(
        &self,
        mut file: File<'tu>,
        header: File<'tu>,
        mut on_way: impl FnMut(File<'tu>),
    ) -> Option<u32> {
        for _ in 0..64 {
            let &(by, at) = self.includer.get(&file)?;
            if by == header {
                return Some(at);
            }
            on_way(by);
            file = by;
        }
        None
    }

    /// Whether the declaration `c`, written in `file`, has an `#include` inside it
    /// (`enum {` / `#include <linux/sched/sd_flags.h>` / `};` in `topology.h`): walking
    /// it then gives facts of the included file, which the header's own facts do not
    /// hold.
    pub fn includes_inside(&self, c: Cursor<'tu>, file: File<'tu>) -> bool {
        let Some(directives) = self.directives.get(&file) else {
            return false;
        };
        // Most declarations have no `#include` after where they are named: no extent.
        let Some(at) = c.location().file_location() else {
            return false;
        };
        if directives.last().is_none_or(|&(o, _)| o <= at.offset) {
            return false;
        }
        // The first `#include` after the declaration's start is inside it when it
        // comes before its end.
        c.extent_in_file().is_some_and(|(f, start, end)| {
            let after = directives.partition_point(|&(o, _)| o <= start);
            f == file && directives.get(after).is_some_and(|&(o, _)| o < end)
        })
    }

    /// The key of each header of `tu` that has one (see the module's documentation),
    /// whether it leaves `__COUNTER__` out, and the header's [`Bodies`]. `name` gives
    /// a file's stored name and whether it is a header (not the unit's own file).
    pub fn keys(
        &self,
        tu: &'tu TranslationUnit<'_>,
        sources: &Sources<'tu>,
        seen: Seen<'_, 'tu>,
        config: &Config,
        mut name: impl FnMut(File<'tu>) -> (Vec<u8>, bool),
    ) -> Vec<Keyed<'tu>> {
        let Seen {
            written,
            bodies,
            blanked,
        } = seen;
        let skipped = tu.skipped_ranges();
        let contents = &sources.text;
        // The unit's macros, numbered; the names `#undef`ed in any of its files.
        let macros: Vec<(&str, &Vec<Definition<'tu>>)> = self
            .definitions
            .iter()
            .map(|(n, d)| (n.as_str(), d))
            .collect();
        let number: HashMap<&[u8], u32> = macros
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_bytes(), i as u32))
            .collect();
        // Where each macro is `#undef`ed: the file and the offset.
        let mut undefined: Vec<Vec<(File<'tu>, usize)>> = vec![Vec::new(); macros.len()];
        // The macros a `#pragma pop_macro` (or `_Pragma`) may give back whatever
        // definition the unit had when it pushed them: read otherwise from unit to
        // unit wherever it stands.
        let mut popped: HashSet<u32> = HashSet::default();
        for (&file, text) in contents {
            undefs(text, |u, at| {
                if let Some(&m) = number.get(u) {
                    undefined[m as usize].push((file, at));
                }
            });
            popped.extend(pops(text).filter_map(|u| number.get(u).copied()));
        }
        // Whether header `f` may read macro `m` with some of its definitions undone: an
        // `#undef` of it anywhere but in `f`'s own text after its last `#include`
        // (what follows it is `f`'s text, which is in its key, not a file that could
        // define the macro again), or after the `#include` that read `f` in a file
        // read once.
        let undone = |m: u32, f: File<'tu>| {
            popped.contains(&m)
                || undefined[m as usize].iter().any(|&(u, at)| {
                    let own = u == f
                        && self
                            .directives
                            .get(&f)
                            .and_then(|d| d.last())
                            .is_none_or(|&(last, _)| (last as usize) < at);
                    let after = self.includer.get(&f).is_some_and(|&(i, inc)| {
                        i == u && (inc as usize) < at && sources.entered.get(&u) == Some(&1)
                    });
                    !own && !after
                })
        };
        // Each macro's digest (its name and its definitions' text) and the macros
        // its definitions name, worked out when first needed.
        let mut digest: Vec<Option<[u8; 16]>> = vec![None; macros.len()];
        // The macros a macro's definitions name and whether they name [`COUNTER`],
        // or `None` when they name one of [`VARYING`]; worked out when first needed.
        type Names = Option<(Vec<u32>, bool)>;
        let mut deps: Vec<Option<Names>> = vec![None; macros.len()];
        // The files the command line's `-include`s read (`kconfig.h` and the
        // configuration it includes): part of every key.
        let mut preincluded = Vec::new();
        for f in &sources.preincluded {
            if let Some(text) = contents.get(f) {
                preincluded.extend_from_slice(&sources.hash(text));
            }
        }
        let text_of = |d: &Definition<'tu>| {
            let (file, start, _) = d.text?;
            Some(definition_text(contents.get(&file)?, start))
        };
        let names_of = |m: u32| -> Names {
            let mut v: Vec<u32> = Vec::new();
            let (mut varying, mut counter) = (false, false);
            for t in macros[m as usize].1.iter().filter_map(text_of) {
                scan(t, |id| {
                    varying |= VARYING.contains(&id);
                    counter |= id == COUNTER;
                    v.extend(number.get(id).copied());
                });
            }
            v.sort_unstable();
            v.dedup();
            (!varying).then_some((v, counter))
        };
        // Whether a macro's definitions say `extern` before a name they do not make
        // by a paste (a declaration in a function body declares what the rest of
        // the unit sees; `compiletime_assert`'s `extern void prefix ## suffix(void)`
        // declares a name made with `__COUNTER__`) or `_Pragma` (which acts on
        // what follows, and which a blanked body's dropping macro drops), or name
        // one of [`VARYING`], through the macros they name; worked out when first
        // needed. (Names a paste makes are not followed.)
        let mut reach: Vec<Option<bool>> = vec![None; macros.len()];
        let mut reaches = |m: u32, deps: &mut Vec<Option<Names>>| -> bool {
            if let Some(r) = reach[m as usize] {
                return r;
            }
            let mut seen: HashSet<u32> = HashSet::default();
            let mut work = vec![m];
            let mut found = false;
            while let Some(x) = work.pop() {
                if !seen.insert(x) {
                    continue;
                }
                let declares = macros[x as usize].1.iter().filter_map(text_of).any(|t| {
                    declares_by_name(t)
                        || memchr::memmem::find(t, b"_Pragma").is_some()
                        || memchr::memmem::find(t, b"__pragma").is_some()
                });
                match deps[x as usize].get_or_insert_with(|| names_of(x)) {
                    Some((d, _)) if !declares => work.extend(d.iter().copied()),
                    _ => {
                        found = true;
                        break;
                    }
                }
            }
            reach[m as usize] = Some(found);
            found
        };
        // The stored name of each file that defines a macro keyed by its place.
        let mut defined_in: HashMap<File<'tu>, Vec<u8>> = HashMap::default();
        // Marks the macros met in the current header's walk (its number).
        let mut met = vec![u32::MAX; macros.len()];
        let mut keys = Vec::new();
        for (n, &f) in sources.files.iter().enumerate() {
            let Some(text) = contents.get(&f) else {
                continue;
            };
            // A header entered again is read again, unless its include guard keeps it
            // out: then every entry but the first reads nothing (a header that
            // includes itself through others, as `device.h` does).
            if sources.entered[&f] != 1
                && !(tu.guarded(f)
                    && guard(text)
                        .and_then(|g| number.get(g))
                        .is_some_and(|&g| undefined[g as usize].is_empty()))
            {
                continue;
            }
            let (stored, header) = name(f);
            if !header {
                continue;
            }
            let Some(&at) = self.included.get(&f) else {
                continue;
            };
            let direct = written.get(&f).map_or(&[][..], Vec::as_slice);
            if direct.iter().any(|(_, n)| VARYING.contains(&n.as_bytes())) {
                continue;
            }
            let mut counted = direct.iter().any(|(_, n)| n.as_bytes() == COUNTER);
            // The bodies a unit may blank: those this parse did not read, or those it
            // found that qualify (see [`Bodies`]).
            let ranges: Vec<(u32, u32)> = match blanked.get(&f) {
                Some(b) => b.ranges.clone(),
                None if !config.blanking => Vec::new(),
                None => {
                    let mut found: Vec<(u32, u32)> = bodies.get(&f).cloned().unwrap_or_default();
                    found.sort_unstable();
                    found.dedup();
                    found.retain(|&(s, e)| {
                        let (s, e) = (s as usize, e as usize);
                        s > 0
                            && s <= e
                            && text.get(s - 1) == Some(&b'{')
                            && text.get(e) == Some(&b'}')
                            // No directive (one may follow a comment on its
                            // line: any `#` counts), and identifiers as the
                            // scan reads them: no line splice, `$` or other byte
                            // beyond ASCII.
                            && !text[s..e].iter().any(|&b| b == b'#' || b == b'$' || b >= 0x80)
                            && !spliced(&text[s..e])
                            && {
                                let mut quiet = true;
                                scan(
                                    &text[s..e],
                                    |id| {
                                        quiet &= id != b"extern"
                                            && id != b"_Pragma"
                                            && id != b"__pragma"
                                            && !VARYING.contains(&id)
                                            && number
                                                .get(id)
                                                .is_none_or(|&m| !reaches(m, &mut deps));
                                    },
                                );
                                quiet
                            }
                    });
                    found
                }
            };
            // The expansions written in those bodies are left to the scan of their
            // names below: a unit that blanked them read them at other places.
            let direct: Vec<&(u32, &str)> = direct
                .iter()
                .filter(|(at, _)| {
                    let i = ranges.partition_point(|&(_, e)| e <= *at);
                    ranges.get(i).is_none_or(|&(s, _)| *at < s)
                })
                .collect();
            // The macros expanded in the header, and those their definitions name;
            // with every macro its bodies name, expanded there or not: what a unit
            // that blanked them cannot see expanded.
            let mut closure: Vec<u32> = Vec::new();
            let mut work: Vec<u32> = direct
                .iter()
                .filter_map(|(_, n)| number.get(n.as_bytes()).copied())
                .collect();
            // Only a macro defined before the header or within it can be expanded
            // there: one the unit defines after it cannot. (A file entered more than
            // once may define it within the header although first read elsewhere.)
            let visible = |m: u32| {
                macros[m as usize].1.iter().any(|d| {
                    d.ordinal < at
                        || d.text.is_some_and(|(file, _, _)| {
                            self.within(file, f)
                                || sources.entered.get(&file).is_some_and(|&n| n > 1)
                        })
                })
            };
            // The macros a unit may expand there without the preprocessing record
            // listing them: those named in the bodies a unit may blank, and in the
            // arguments of every invocation written there (a name not followed by
            // `(` is expanded only once the invoked macro's text has put it in
            // place: `CALL(PICK, v)` with `#define CALL(m, v) m(v)`).
            let mut varying = false;
            let mut names = |t: &[u8], work: &mut Vec<u32>| {
                scan(t, |id| {
                    counted |= id == COUNTER;
                    varying |= VARYING.contains(&id);
                    work.extend(number.get(id).copied().filter(|&m| visible(m)));
                });
            };
            let mut outside = false;
            for &(s, e) in &ranges {
                match text.get(s as usize..e as usize) {
                    Some(body) => names(body, &mut work),
                    None => outside = true,
                }
            }
            // The macros written in the header: expanded there, or named in a body a
            // unit may blank (whose uses of them the recorded facts hold).
            let mut here = work.clone();
            let mut past = 0;
            for &&(start, name) in &direct {
                if start < past {
                    continue; // within the arguments of the one before
                }
                if let Some(args) = arguments(text, start as usize + name.len()) {
                    past = (args.as_ptr() as usize - text.as_ptr() as usize + args.len()) as u32;
                    names(args, &mut work);
                }
            }
            if varying || outside {
                continue;
            }
            here.sort_unstable();
            here.dedup();
            let mut ok = true;
            while let Some(m) = work.pop() {
                if std::mem::replace(&mut met[m as usize], n as u32) == n as u32 {
                    continue;
                }
                if undone(m, f) {
                    ok = false;
                    break;
                }
                closure.push(m);
                let d = deps[m as usize].get_or_insert_with(|| names_of(m));
                let Some((d, counter)) = d else {
                    ok = false;
                    break;
                };
                counted |= *counter;
                work.extend(d.iter().copied());
            }
            if !ok {
                continue;
            }
            // In an order that does not depend on the numbering: by digest.
            let mut entries: Vec<([u8; 16], u32)> = closure
                .into_iter()
                .map(|m| {
                    let d = digest[m as usize].get_or_insert_with(|| {
                        let (name, defs) = macros[m as usize];
                        let mut h = blake3::Hasher::new();
                        h.update(&(name.len() as u64).to_le_bytes());
                        h.update(name.as_bytes());
                        for d in defs {
                            let (tag, t): (&[u8], &[u8]) = match text_of(d) {
                                Some(t) => (b"t", t),
                                None => match config.cmdline.get(name) {
                                    Some(v) => (b"c", v.as_deref().unwrap_or("").as_bytes()),
                                    None => (b"b", b""),
                                },
                            };
                            h.update(tag);
                            h.update(&(t.len() as u64).to_le_bytes());
                            h.update(t);
                        }
                        let mut out = [0; 16];
                        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
                        out
                    });
                    (*d, m)
                })
                .collect();
            entries.sort_unstable();
            // The macros this header's text may read before each of its `#include`s
            // (worked out for those through which a keyed macro is defined).
            let mut read_before: HashMap<u32, Option<HashSet<u32>>> = HashMap::default();
            // Whether a definition counts as made before the header's `#include`: it
            // was, or a file the header itself includes makes it (first read there)
            // before the header's text may read the macro — no name written before
            // that `#include` is the macro or reaches it. Then the header reads the
            // same whichever of its own `#include`s or an earlier file's made it,
            // and include order alone makes no new key.
            let mut before = |def: &Definition<'tu>, m: u32, deps: &mut Vec<Option<Names>>| {
                if def.ordinal < at {
                    return true;
                }
                let Some((file, _, _)) = def.text else {
                    return false;
                };
                if file == f || sources.entered.get(&file) != Some(&1) {
                    return false;
                }
                // The header's `#include` through which the file was first read; and
                // whether a file on the way was entered more than once (which of its
                // entries read the next one, the first says nothing of).
                let mut loose = false;
                let Some(inc) = self.read_through(file, f, |by| {
                    loose |= sources.entered.get(&by) != Some(&1);
                }) else {
                    return false;
                };
                // The definition came while that `#include` was read: after it, and
                // before the header's next one.
                let Some(directives) = self.directives.get(&f) else {
                    return false;
                };
                let Ok(k) = directives.binary_search_by_key(&inc, |&(o, _)| o) else {
                    return false;
                };
                let during = directives[k].1 < def.ordinal
                    && match directives.get(k + 1) {
                        Some(&(_, next)) => def.ordinal < next,
                        None => !loose,
                    };
                if !during {
                    return false;
                }
                let reads = read_before.entry(inc).or_insert_with(|| {
                    let prefix = text.get(..inc as usize)?;
                    // (A name split by a line splice, or spelled with `$` or bytes
                    // beyond ASCII, the scan would not read whole; one a paste
                    // makes, it would not read at all.)
                    if prefix.iter().any(|&b| b == b'\\' || b == b'$' || b >= 0x80) {
                        return None;
                    }
                    let mut work = Vec::new();
                    scan(prefix, |id| work.extend(number.get(id).copied()));
                    let mut seen = HashSet::default();
                    while let Some(x) = work.pop() {
                        if seen.insert(x) {
                            let pastes = macros[x as usize]
                                .1
                                .iter()
                                .filter_map(text_of)
                                .any(|t| memchr::memmem::find(t, b"##").is_some());
                            if pastes {
                                return None;
                            }
                            let (d, _) = deps[x as usize]
                                .get_or_insert_with(|| names_of(x))
                                .as_ref()?;
                            work.extend(d.iter().copied());
                        }
                    }
                    Some(seen)
                });
                reads.as_ref().is_some_and(|r| !r.contains(&m))
            };
            let mut buf: Vec<u8> = Vec::with_capacity(entries.len() * 18 + 256);
            let mut field = |b: &[u8]| {
                buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
                buf.extend_from_slice(b);
            };
            field(&config.identity);
            field(&preincluded);
            field(&stored);
            let text_hash = sources.hash(text);
            field(&text_hash);
            field(&[u8::from(counted)]);
            let skips = skipped.get(&f).map_or(&[][..], Vec::as_slice);
            field(&(skips.len() as u64).to_le_bytes());
            for (a, b) in skips {
                field(&a.to_le_bytes());
                field(&b.to_le_bytes());
            }
            field(&(ranges.len() as u64).to_le_bytes());
            for (a, b) in &ranges {
                field(&a.to_le_bytes());
                field(&b.to_le_bytes());
            }
            for (d, m) in entries {
                buf.extend_from_slice(&d);
                // Which definitions came before the header's `#include`, or as good.
                for def in macros[m as usize].1 {
                    buf.push(u8::from(before(def, m, &mut deps)));
                }
                // A function-like macro expanded in the header is a symbol of the
                // file and place that define it, which its uses there name: where
                // each definition is, not only what it says.
                let (name_m, defs) = macros[m as usize];
                // (A name the text does not spell whole, split by a line splice,
                // counts as function-like.)
                let function_like = |d: &&Definition<'tu>| {
                    text_of(d).is_some_and(|t| {
                        !t.starts_with(name_m.as_bytes()) || t.get(name_m.len()) == Some(&b'(')
                    })
                };
                if here.binary_search(&m).is_ok() {
                    for (file, start, _) in defs.iter().filter(function_like).filter_map(|d| d.text)
                    {
                        let defined_in = defined_in.entry(file).or_insert_with(|| name(file).0);
                        buf.extend_from_slice(&(defined_in.len() as u64).to_le_bytes());
                        buf.extend_from_slice(defined_in);
                        buf.extend_from_slice(&start.to_le_bytes());
                    }
                }
                buf.push(b';');
            }
            keys.push(Keyed {
                file: f,
                key: HeaderKey(*blake3::hash(&buf).as_bytes()),
                counted,
                bodies: Bodies {
                    key: config.bodies_key_of(&text_hash),
                    ranges,
                },
            });
        }
        keys
    }
}

/// The arguments of a macro invocation whose name ends at `at` in `text`, without
/// their parentheses: from past the `(` (blanks and comments before it) to its
/// matching `)`, or to the end of the text if none matches. `None` when no `(`
/// follows (an object-like macro, or a function-like one named without arguments).
fn arguments(text: &[u8], at: usize) -> Option<&[u8]> {
    let rest = past_comments(text.get(at..)?)?;
    let open = rest.strip_prefix(b"(")?;
    let mut depth = 1usize;
    let mut i = 0;
    while i < open.len() {
        match open[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&open[..i]);
                }
            }
            b'"' | b'\'' => {
                let q = open[i];
                i += 1;
                while i < open.len() && open[i] != q && open[i] != b'\n' {
                    i += if open[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if open.get(i + 1) == Some(&b'*') => {
                i += memchr::memmem::find(&open[i + 2..], b"*/").map_or(open.len(), |e| e + 3);
            }
            b'/' if open.get(i + 1) == Some(&b'/') => {
                i += memchr::memchr(b'\n', &open[i..]).unwrap_or(open.len() - i);
            }
            _ => {}
        }
        i += 1;
    }
    Some(open)
}

/// The text of the macro definition that starts at `start`: up to the end of its
/// logical line (a definition's extent ends at the start of its last token).
fn definition_text(text: &[u8], start: u32) -> &[u8] {
    let start = (start as usize).min(text.len());
    let mut end = start;
    while end < text.len() {
        if text[end] == b'\n' {
            let continued = text[start..end]
                .iter()
                .rev()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\r'))
                == Some(&b'\\');
            if !continued {
                break;
            }
        }
        end += 1;
    }
    &text[start..end]
}

/// The macro of a header's include guard, when its text starts with `#ifndef NAME`
/// and `#define NAME` (after comments): an entry of the header within its first one
/// (through a file it includes) then reads nothing.
fn guard(text: &[u8]) -> Option<&[u8]> {
    // The next directive: `#`, spaces, `word`, spaces; what follows it.
    fn directive<'t>(rest: &'t [u8], word: &[u8]) -> Option<&'t [u8]> {
        let rest = past_comments(rest)?.strip_prefix(b"#")?.trim_ascii_start();
        let rest = rest.strip_prefix(word)?;
        let after = rest.trim_ascii_start();
        (after.len() < rest.len()).then_some(after)
    }
    let rest = directive(text, b"ifndef")?;
    let (name, rest) = rest.split_at(ident_len(rest));
    let defined = directive(rest, b"define")?;
    let ok = !name.is_empty() && defined.starts_with(name) && ident_len(defined) == name.len();
    (ok && wrapped(text)).then_some(name)
}

/// Whether the first conditional directive of `text` ends at its last directive, with
/// only comments after it (libclang also calls a `#pragma once` file guarded).
fn wrapped(text: &[u8]) -> bool {
    let mut depth = 0u32;
    let mut at = 0;
    for line in text.split(|&b| b == b'\n') {
        at += line.len() + 1;
        let Some(d) = line.trim_ascii_start().strip_prefix(b"#") else {
            continue;
        };
        let d = d.trim_ascii_start();
        if d.starts_with(b"if") {
            depth += 1;
        } else if d.starts_with(b"endif") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                break;
            }
        }
    }
    if depth != 0 {
        return false;
    }
    // Nothing but comments and blanks after it.
    past_comments(text.get(at..).unwrap_or_default()).is_some_and(<[u8]>::is_empty)
}

/// The length of the identifier `text` starts with.
fn ident_len(text: &[u8]) -> usize {
    text.iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(text.len())
}

/// Whether what follows an `#undef NAME` (`rest`, from the end of the name) defines
/// the name again before anything else: only blanks, comments and other `#undef`s and
/// `#define`s in between, as in `#undef NULL` / `#define NULL ...`. Then no
/// `#include` sees the name undefined. Anything it cannot read so counts as
/// something else.
fn redefined(rest: &[u8], name: &[u8]) -> bool {
    let mut text = rest;
    loop {
        // To the next line; the directive's own may hold a splice or a comment.
        let Some(end) = logical_line_end(text) else {
            return false;
        };
        let Some(t) = past_comments(&text[end..]) else {
            return false;
        };
        let Some(d) = t.strip_prefix(b"#") else {
            return false;
        };
        let d = d.trim_ascii_start();
        if let Some(def) = d.strip_prefix(b"define") {
            let def = def.trim_ascii_start();
            if def.starts_with(name)
                && !def
                    .get(name.len())
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                return true;
            }
        } else if !d.starts_with(b"undef") {
            return false;
        }
        text = d;
    }
}

/// Where the logical line `text` starts in ends: past its newline, or `None` at the
/// end of the text. A backslash before the newline continues the line.
fn logical_line_end(text: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let nl = from + memchr::memchr(b'\n', &text[from..])?;
        let spliced = text[..nl]
            .strip_suffix(b"\r")
            .unwrap_or(&text[..nl])
            .ends_with(b"\\");
        if !spliced {
            return Some(nl + 1);
        }
        from = nl + 1;
    }
}

/// `text` without its line splices (a backslash and a newline).
fn unspliced(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr(b'\\', text).is_none() {
        return text.into();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match &text[i..] {
            [b'\\', b'\n', ..] => i += 2,
            [b'\\', b'\r', b'\n', ..] => i += 3,
            [b, ..] => {
                out.push(*b);
                i += 1;
            }
            [] => break,
        }
    }
    out.into()
}

/// Calls `undef` on each macro a text `#undef`s other than to define it again at once,
/// with where the `undef` is (an `#undef` in a comment counts too). The `#` (or `%:`)
/// may have blanks, comments and line splices around it and the name; whatever reads
/// as an `#undef` with more around it counts too, the safe side for the keys.
fn undefs(text: &[u8], mut undef: impl FnMut(&[u8], usize)) {
    let line_start = |at: usize| {
        text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    };
    for at in memchr::memmem::find_iter(text, b"undef") {
        // The logical line up to `undef`: lines joined by splices.
        let mut line = line_start(at);
        while line > 0 {
            let prev = &text[..line - 1];
            if !prev.strip_suffix(b"\r").unwrap_or(prev).ends_with(b"\\") {
                break;
            }
            line = line_start(line - 1);
        }
        // `#` or `%:` with only comments after it, and before it only comments or the
        // end of one begun on an earlier line.
        let before = unspliced(&text[line..at]);
        let directive = |b: &[u8]| {
            let b = b.trim_ascii_start();
            b.strip_prefix(b"#")
                .or_else(|| b.strip_prefix(b"%:"))
                .and_then(past_comments)
                .is_some_and(<[u8]>::is_empty)
        };
        let seen = past_comments(&before).is_some_and(directive)
            || memchr::memmem::rfind(&before, b"*/").is_some_and(|e| directive(&before[e + 2..]));
        if !seen {
            continue;
        }
        // The name, past blanks, comments and splices.
        let rest = &text[at + 5..];
        if rest
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            continue; // `#undefined`, not `#undef NAME`
        }
        let end = logical_line_end(rest).unwrap_or(rest.len());
        let directive = unspliced(&rest[..end]);
        let Some(named) = past_comments(&directive) else {
            continue;
        };
        let name = &named[..ident_len(named)];
        if !name.is_empty() && !redefined(rest, name) {
            undef(name, at);
        }
    }
}

/// Calls `ident` on each identifier a text names (outside comments and literals).
fn scan<'a>(text: &'a [u8], mut ident: impl FnMut(&'a [u8])) {
    let ident_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let ident_rest = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    let n = text.len();
    while i < n {
        let b = text[i];
        match b {
            b'/' if text.get(i + 1) == Some(&b'/') => {
                while i < n && text[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if text.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < n && !(text[i] == b'*' && text.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b'"' | b'\'' => {
                // A literal ends with its quote or, unterminated, at the line's end.
                i += 1;
                while i < n && text[i] != b && text[i] != b'\n' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ if ident_start(b) => {
                let s = i;
                while i < n && ident_rest(text[i]) {
                    i += 1;
                }
                ident(&text[s..i]);
            }
            _ if b.is_ascii_digit() => {
                // A preprocessing number (`0x1fUL`, `1e+5`) names nothing.
                i += 1;
                while i < n
                    && (ident_rest(text[i])
                        || text[i] == b'.'
                        || (matches!(text[i], b'+' | b'-')
                            && matches!(text[i - 1], b'e' | b'E' | b'p' | b'P')))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
}

/// Whether a macro definition's text says `extern` before a declared name that no
/// paste makes: `##` between the `extern` and the `(`, `;`, `=` or `,` after it.
fn declares_by_name(text: &[u8]) -> bool {
    memchr::memmem::find_iter(text, b"extern").any(|at| {
        let rest = &text[at + b"extern".len()..];
        let end = rest
            .iter()
            .position(|b| matches!(b, b'(' | b';' | b'=' | b','))
            .unwrap_or(rest.len());
        memchr::memmem::find(&rest[..end], b"##").is_none()
    })
}

/// Whether `text` has a line splice: a backslash, blanks and a line end (clang takes
/// `\\ ` before a line end for one too).
fn spliced(text: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', text).any(|at| {
        let rest = &text[at + 1..];
        let blank = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | 0x0b | 0x0c))
            .unwrap_or(rest.len());
        matches!(rest.get(blank), Some(b'\n' | b'\r'))
    })
}

/// The names `text`'s `pop_macro` pragmas name (`#pragma pop_macro("X")`, and in
/// `_Pragma("pop_macro(\"X\")")`): the first identifier after each `pop_macro`.
fn pops(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memmem::find_iter(text, b"pop_macro").filter_map(move |at| {
        let rest = &text[at + b"pop_macro".len()..];
        let start = rest
            .iter()
            .take(16)
            .position(|b| b.is_ascii_alphabetic() || *b == b'_')?;
        let name = &rest[start..];
        Some(&name[..ident_len(name)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identifiers of `text`, each once.
    fn words(text: &[u8]) -> Vec<String> {
        let mut idents: Vec<String> = Vec::new();
        scan(text, |i| {
            let i = String::from_utf8_lossy(i).into_owned();
            if !idents.contains(&i) {
                idents.push(i)
            }
        });
        idents
    }

    /// What `text` `#undef`s, as `undefs` reads it.
    fn undone(text: &[u8]) -> Vec<String> {
        let mut found = Vec::new();
        undefs(text, |u, at| {
            assert_eq!(&text[at..at + 5], b"undef");
            found.push(String::from_utf8_lossy(u).into_owned());
        });
        found
    }

    #[test]
    fn words_skip_comments_literals_and_numbers() {
        let text: &[u8] = b"#define A(x) B(x) /* C */ // D\n\"E\" 'F' 0x1fUL G_1\n#include <l.h>\n";
        assert_eq!(
            words(text),
            ["define", "A", "x", "B", "G_1", "include", "l", "h"]
        );
    }

    #[test]
    fn undefs_read_directives_with_comments_and_splices_around_them() {
        // `J` is defined again at once; `K` is not, nor `L` before an `#include`.
        let text: &[u8] = b"  #  undef H\n#undef\tI\n#undef J\n#undef K\n\n#define J_ 1\n\
            #define J(x) x\n#undef L\n#include <l.h>\n#define L 1\n";
        assert_eq!(undone(text), ["H", "I", "K", "L"]);
        // Comments around the `#` and the name, splices, the `%:` digraph.
        let text: &[u8] = b"/* a */ #undef M\n# /**/ undef N\n#undef /* n */ O\n#undef/**/P\n\
            %:undef Q\n#\\\nundef R\n#undef S\\\nT\n/* x\n */ #undef U\n# /* # */ undef V\n";
        assert_eq!(undone(text), ["M", "N", "O", "P", "Q", "R", "ST", "U", "V"]);
        // Not an `#undef`: another directive, a word, a name after a comment's end.
        let text: &[u8] = b"#undefined X\n#ifdef my_undef\nint undef;\n";
        assert!(undone(text).is_empty());
        // Defined again at once, past comments; not when an `#include` follows a
        // comment, nor a line of code that starts with `*`.
        let text: &[u8] = b"#undef A\n/* again */\n  #define A 1\n\
            #undef B\n/* t */ #include \"t.h\"\n#define B 1\n\
            #undef C\n/* the header\n */ #include \"t.h\"\n#define C 1\n\
            #undef D\n*p = 1;\n#define D 1\n";
        assert_eq!(undone(text), ["B", "C", "D"]);
    }

    #[test]
    fn an_include_guard_is_an_ifndef_and_its_define_first() {
        let g = b"/* SPDX */\n// x\n#ifndef _A_H\n#define _A_H\nint a;\n#endif\n";
        assert_eq!(guard(g), Some(&b"_A_H"[..]));
        assert_eq!(
            guard(b"#  ifndef B\n# define B 1\n#endif\n"),
            Some(&b"B"[..])
        );
        // The guard defined only after something else, or another name: none.
        assert_eq!(
            guard(b"#ifndef C\n#include <d.h>\n#define C\n#endif\n"),
            None
        );
        assert_eq!(guard(b"#ifndef C\n#define CC\n#endif\n"), None);
        assert_eq!(guard(b"int x;\n#ifndef C\n#define C\n#endif\n"), None);
        assert_eq!(guard(b"#ifndefC\n#define C\n"), None);
        // The guard must wrap the whole file, nested conditionals and all.
        assert_eq!(
            guard(b"#ifndef D\n#define D\n#if X\nint a;\n#endif\n#endif /* D */\n// end\n"),
            Some(&b"D"[..])
        );
        assert_eq!(
            guard(b"#ifndef G\n#define G\n#endif\n#pragma once\nint M;\n"),
            None
        );
        assert_eq!(guard(b"#ifndef G\n#define G\nint a;\n"), None);
    }

    #[test]
    fn a_definition_runs_to_the_end_of_its_logical_line() {
        let t = b"#define A 1\n#define B(x) \\\n  (x + \\\n 2)\nint y;\n";
        assert_eq!(definition_text(t, 8), b"A 1");
        assert_eq!(definition_text(t, 20), b"B(x) \\\n  (x + \\\n 2)");
    }

    #[test]
    fn per_file_names_include_directories_and_warnings_are_not_the_configuration() {
        let a = Config::new(
            &[
                "-DKBUILD_MODNAME=\"a\"".into(),
                "-Iinclude".into(),
                "-I".into(),
                "x".into(),
                "-Wall".into(),
                "-O2".into(),
            ],
            b"t",
        );
        let b = Config::new(&["-DKBUILD_MODNAME=\"b\"".into(), "-O2".into()], b"t");
        assert_eq!(a.identity, b.identity);
        assert_eq!(a.cmdline["KBUILD_MODNAME"].as_deref(), Some("\"a\""));
        let m = Config::new(&["-DMODULE".into(), "-O2".into()], b"t");
        assert_ne!(m.identity, b.identity);
    }
}
