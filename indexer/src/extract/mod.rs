//! Reading facts out of a parsed translation unit.
//!
//! - `macros`: where each macro expansion is written, to name the macro a fact came
//!   out of;
//! - `sink`: the unit's facts as they are found, files and symbols interned, each
//!   fact once;
//! - `symbols`: symbols and their USRs, and the symbols that stand for pointers;
//! - `decls`: declarations at file scope;
//! - `body`: function bodies: calls and uses;
//! - `expansions`: where function-like macros are expanded in function bodies;
//! - `dead`: code this configuration never runs, whose calls are recorded as dead;
//! - `stores`: what initializers, assignments and arguments store into pointers;
//! - `expr`: looking through what wraps an expression;
//! - `skipped`: the lines the preprocessor skipped in each file;
//! - `text`: reading source text past blanks and comments.
//!
//! - `headers`: the keys under which a header's facts are the same in every unit, so
//!   that a header an earlier unit recorded is not extracted again;
//! - `blank`: the function bodies of such headers, blanked before a unit's parse.
//!
//! Two passes over the unit: the preprocessing record first (macro expansions and
//! definitions, inclusions), so that every declaration and call can be told which
//! macro it came out of and each header has its key; then the declarations, but for
//! those of headers whose facts are taken as recorded.

pub mod blank;
mod body;
mod dead;
mod decls;
mod expansions;
mod expr;
pub mod headers;
mod macros;
mod sink;
mod skipped;
mod stores;
mod symbols;
#[cfg(test)]
mod tests;
mod text;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use schema::{FileIx, NewFile, NewSymbol, SymbolIx, TuFacts, TuStatus};

use crate::clang::{kind, File, Severity, Sources, TranslationUnit, Visit};
use crate::paths::PathMapper;

/// The facts of one translation unit and how well it parsed.
pub struct Extraction {
    pub facts: TuFacts,
    pub status: TuStatus,
    pub reason: Option<String>,
    /// The headers this walk extracted that have a key, to be recorded under it.
    pub headers: Vec<RecordedHeader>,
    /// Set when headers were blanked before the parse whose facts are not recorded
    /// under the key this unit reads them with (all of them when the unit has
    /// errors): the facts are incomplete, and the unit must be parsed again with
    /// those headers whole. The headers' paths as blanked.
    pub unblank: Option<Vec<std::ffi::OsString>>,
    /// How many headers' facts were taken as recorded.
    pub reused: usize,
    /// The time spent keying headers, and taking the facts of those recorded.
    pub keying: std::time::Duration,
    pub taking: std::time::Duration,
    /// The chunk hashes of the headers taken as recorded, and their chunks' names in
    /// the facts cache.
    pub known: std::collections::HashMap<FileIx, schema::KnownChunk>,
    pub chunks: std::collections::HashMap<FileIx, [u8; 32]>,
}

/// A header this walk extracted, to be recorded under its key: what its code refers
/// to that a unit declares when it does not define it, and its function bodies that
/// a later unit may blank.
pub struct RecordedHeader {
    pub file: NewFile,
    pub key: headers::HeaderKey,
    pub refers: Vec<NewSymbol>,
    pub bodies: blank::Bodies,
}

/// Where the header facts earlier units recorded are found.
pub trait Recorded {
    /// The facts of a header read under `key`, if recorded.
    fn header(&mut self, key: &headers::HeaderKey) -> Option<headers::HeaderFacts>;

    /// Whether facts are recorded under `key`.
    fn has(&mut self, key: &headers::HeaderKey) -> bool {
        self.header(key).is_some()
    }
}

/// Header facts to take as recorded instead of extracting them: the unit's files, how
/// to key them, and where the facts are.
pub struct Reuse<'a, 'tu> {
    pub sources: &'a Sources<'tu>,
    pub config: &'a headers::Config,
    pub recorded: &'a mut dyn Recorded,
    /// The function bodies blanked before the parse, by file ([`blank::Bodies`]):
    /// each of these files must be taken as recorded.
    pub blanked: &'a HashMap<File<'tu>, &'tu blank::Blank>,
}

/// The walk over one translation unit.
struct Extractor<'tu, 'p> {
    sink: sink::Sink<'tu, 'p>,
    macros: macros::MacroIndex<'tu>,
    /// Functions and variables this unit refers to without defining them, whose
    /// declaration is recorded.
    declared: HashSet<SymbolIx>,
    /// Variables whose tentative definition (`int x;`) is recorded.
    tentative: HashSet<SymbolIx>,
    /// Above 0 while the walk is in code this configuration never runs (an arm a
    /// constant condition never takes, `_Generic`'s other associations): the calls
    /// found there are recorded as dead.
    dead: u32,
    /// What the code of each keyed header refers to that the unit declares when it
    /// does not define it.
    refers: headers::Refers,
    /// The text of the files asked about (where `__builtin_choose_expr` is written).
    texts: HashMap<crate::clang::File<'tu>, Option<Vec<u8>>>,
    /// The text of every file the parse read, when the caller has it (read once for
    /// the unit): where an attribute or `__builtin_choose_expr` is spelled.
    sources: HashMap<crate::clang::File<'tu>, &'tu [u8]>,
    /// Functions declared as aliases of another (`sys_read` of `__se_sys_read`),
    /// joined to their target when the walk is over.
    aliases: Vec<decls::Alias>,
    /// The bodies walked, by file: start and end offsets, the function, the file that
    /// owns its facts. Where a macro expanded there is recorded when the walk is over.
    bodies: HashMap<File<'tu>, Vec<(u32, u32, SymbolIx, FileIx)>>,
    /// For each member of a union met, the other members that hold functions: what is
    /// stored through one member is read through the others.
    unions: HashMap<SymbolIx, Vec<SymbolIx>>,
    /// `return` statements of static functions of the unit's own file whose result
    /// nothing has read yet (`module_init`'s `__inittest`, a type check never called):
    /// stored when the walk is over, if the unit reads the result by then.
    pending_results: Vec<(Body, crate::clang::Cursor<'tu>)>,
    /// The symbols a paste named with a number (maybe `__COUNTER__`'s).
    pasted: headers::Pasted,
}

impl Extractor<'_, '_> {
    /// Takes the facts of a header as an earlier unit recorded them, and adds to
    /// `wanted` what its code refers to.
    fn take(
        &mut self,
        h: headers::HeaderFacts,
        wanted: &mut HashMap<String, Vec<SymbolIx>>,
        taken: &mut Taken,
    ) {
        let symbols = self.sink.adopt(&h.facts);
        if let Some(owner) = h.facts.files.first().filter(|_| !h.hash.is_empty()) {
            let facts = h.facts.fact_count();
            let owner = self.sink.named_file(owner.clone());
            if h.chunk != [0; 32] {
                taken.chunks.insert(owner, h.chunk);
            }
            taken.known.insert(
                owner,
                schema::KnownChunk {
                    hash: h.hash,
                    facts,
                },
            );
            taken
                .symbols
                .insert(owner, (symbols.clone(), digest(h.facts.symbols.iter())));
        }
        // A variable the header defines is defined: an `int x;` elsewhere is no
        // tentative definition of it.
        for d in &h.facts.definitions {
            if d.definition && h.facts[d.symbol].kind == schema::Kind::Variable {
                self.tentative.insert(symbols[d.symbol.get()]);
            }
        }
        for s in h.refers {
            let i = match self.sink.known(&s.usr) {
                Some(i) => i,
                None => self.sink.add_symbol(s.clone()),
            };
            let v = wanted.entry(s.name).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        }
    }
}

/// The headers taken as recorded: each one's chunk hash in the database and its
/// chunk's name in the facts cache, which hold while the unit leaves the header's
/// facts as recorded; and what to check that by.
#[derive(Default)]
struct Taken {
    known: std::collections::HashMap<FileIx, schema::KnownChunk>,
    chunks: std::collections::HashMap<FileIx, [u8; 32]>,
    /// Where the chunk's symbols are among the unit's, and a digest of the symbols
    /// as recorded: a symbol the unit knew otherwise (a parameter named by another
    /// declaration) or renamed since makes the chunk another.
    symbols: HashMap<FileIx, (Vec<SymbolIx>, u64)>,
}

impl Taken {
    /// Drops what no longer holds once the walk is over: the headers whose symbols
    /// read otherwise in `facts`, or whose calls the walk found live too.
    fn check(&mut self, facts: &TuFacts, revived: &HashSet<FileIx>) {
        for (owner, (symbols, recorded)) in &self.symbols {
            if revived.contains(owner) || digest(symbols.iter().map(|&s| &facts[s])) != *recorded {
                self.known.remove(owner);
                self.chunks.remove(owner);
            }
        }
    }
}

/// A digest of symbols, in order.
fn digest<'a>(symbols: impl Iterator<Item = &'a NewSymbol>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for s in symbols {
        s.hash(&mut h);
    }
    h.finish()
}

/// The function whose body is being walked (or the file-scope variable whose
/// initializer is: what it refers to is used by that variable).
#[derive(Clone)]
struct Body {
    sym: SymbolIx,
    /// The file holding the body: its calls and uses belong to it.
    owner: FileIx,
    usr: String,
    name: String,
    /// USR of each parameter -> its position.
    params: HashMap<String, usize>,
    /// Whether the function returns functions (a pointer to them, or to where they
    /// are held): what its `return` statements give is stored into its result.
    returns_function: bool,
}

/// Where a store is written: in the body of a function or the initializer of a
/// variable (`within`), in a file (`owner`, which the fact belongs to).
#[derive(Clone, Copy)]
struct Holder {
    within: SymbolIx,
    owner: FileIx,
}

impl Body {
    fn holder(&self) -> Holder {
        Holder {
            within: self.sym,
            owner: self.owner,
        }
    }
}

/// Extracts every fact of `tu`. `main` is the path of its source file as given to the
/// compiler. With `reuse`, the headers whose facts are recorded under their key are
/// taken from there.
pub fn extract<'tu>(
    tu: &'tu TranslationUnit<'_>,
    main: &std::ffi::OsStr,
    paths: &mut PathMapper,
    reuse: Option<Reuse<'_, 'tu>>,
) -> Extraction {
    let mut x = Extractor {
        sink: sink::Sink::new(paths, main),
        macros: macros::MacroIndex::default(),
        declared: HashSet::default(),
        tentative: HashSet::default(),
        dead: 0,
        refers: headers::Refers::default(),
        texts: HashMap::default(),
        sources: reuse
            .as_ref()
            .map(|r| r.sources.text.iter().map(|(f, t)| (*f, *t)).collect())
            .unwrap_or_default(),
        aliases: Vec::new(),
        bodies: HashMap::default(),
        unions: HashMap::default(),
        pending_results: Vec::new(),
        pasted: headers::Pasted::default(),
    };
    let own_sources;
    let sources = match &reuse {
        Some(r) => r.sources,
        None => {
            own_sources = tu.sources();
            &own_sources
        }
    };
    let skipped = skipped::skipped(tu, sources, &mut x.sink);
    let root = tu.cursor();
    let mut record = match reuse {
        Some(_) => headers::Record::new(&sources.files),
        None => headers::Record::default(),
    };
    let mut definitions = Vec::new();
    let mut expansions = Vec::new();
    // The insides of the function bodies, by file: what a later unit may blank (found
    // only when headers are keyed for it).
    let blanks = reuse.as_ref().is_some_and(|r| r.config.blanks());
    let mut bodies: HashMap<File<'tu>, Vec<(u32, u32)>> = HashMap::default();
    root.visit_children(|c| {
        let k = c.kind();
        match k {
            kind::MACRO_EXPANSION => {
                if let Some(pos) = x.macros.expansion(c) {
                    expansions.push((c, pos));
                }
            }
            kind::MACRO_DEFINITION => definitions.push(c),
            kind::FUNCTION_DECL if blanks && c.is_definition() => {
                c.visit_children(|b| {
                    if b.kind() == kind::COMPOUND_STMT {
                        if let Some((f, start, end)) = b.extent_in_file() {
                            if end > start + 1 {
                                bodies.entry(f).or_default().push((start + 1, end - 1));
                            }
                        }
                    }
                    Visit::Continue
                });
            }
            _ => {}
        }
        if reuse.is_some() && matches!(k, kind::MACRO_DEFINITION | kind::INCLUSION_DIRECTIVE) {
            record.entity(c, k);
        }
        Visit::Continue
    });

    // Headers recorded under their key are taken as they are (not into a unit that
    // has errors, whose headers may read otherwise).
    let mut recorded: HashSet<File<'tu>> = HashSet::default();
    // With whether the key leaves `__COUNTER__` out.
    let mut keyed: Vec<(File<'tu>, NewFile, headers::HeaderKey, bool, blank::Bodies)> = Vec::new();
    // What those headers refer to, by name: declared by the unit where it does not
    // define it.
    let mut wanted: HashMap<String, Vec<SymbolIx>> = HashMap::default();
    let t = std::time::Instant::now();
    let (mut keying, mut taking) = Default::default();
    let mut taken = Taken::default();
    let blanked = reuse.as_ref().map(|r| r.blanked);
    // The blanked headers whose facts are not recorded under their key here.
    let mut missed: Vec<std::ffi::OsString> = Vec::new();
    // The blanked headers with a key.
    let mut keyed_blanks: HashSet<File<'tu>> = HashSet::default();
    if let Some(reuse) = reuse.filter(|_| !tu.has_errors()) {
        let written = x.macros.written_by_file();
        let keys = record.keys(
            tu,
            reuse.sources,
            headers::Seen {
                written: &written,
                bodies: &bodies,
                blanked: reuse.blanked,
            },
            reuse.config,
            |f| {
                let name = x.sink.file_name(f);
                let header = !x.sink.is_main(&name);
                (name.key().into_bytes(), header)
            },
        );
        keying = t.elapsed();
        let t = std::time::Instant::now();
        for k in keys {
            let blank = reuse.blanked.get(&k.file);
            if blank.is_some() {
                keyed_blanks.insert(k.file);
            }
            // Once a blanked header is missed, the unit is parsed again: the other
            // blanked headers are only looked up, to leave whole those missed too.
            if !missed.is_empty() {
                if let Some(b) = blank.filter(|_| !reuse.recorded.has(&k.key)) {
                    missed.push(b.path.clone());
                }
                continue;
            }
            match reuse.recorded.header(&k.key) {
                Some(h) => {
                    x.take(h, &mut wanted, &mut taken);
                    recorded.insert(k.file);
                }
                // A blanked header whose facts are not recorded cannot be extracted.
                None => match blank {
                    Some(b) => missed.push(b.path.clone()),
                    None => {
                        keyed.push((k.file, x.sink.file_name(k.file), k.key, k.counted, k.bodies))
                    }
                },
            }
        }
        taking = t.elapsed();
    }
    // A blanked header without a key cannot be taken either; a unit with errors takes
    // none.
    if let Some(blanked) = blanked {
        for (f, b) in blanked {
            if !keyed_blanks.contains(f) {
                missed.push(b.path.clone());
            }
        }
    }
    if !missed.is_empty() {
        return Extraction {
            facts: TuFacts::default(),
            status: TuStatus::Failed,
            reason: None,
            headers: Vec::new(),
            unblank: Some(missed),
            reused: 0,
            keying,
            taking,
            known: Default::default(),
            chunks: Default::default(),
        };
    }
    // Each declaration's file, unless it is one of those taken as recorded.
    let walked = |c: &crate::clang::Cursor<'tu>| {
        let file = c.location().file_location().map(|p| p.file);
        (!file.is_some_and(|f| recorded.contains(&f))).then_some(file)
    };
    for c in definitions {
        if walked(&c).is_some() {
            x.macro_definition(c);
        }
    }
    let keyed_at: HashMap<File<'tu>, usize> = keyed
        .iter()
        .enumerate()
        .map(|(i, (f, _, _, _, _))| (*f, i))
        .collect();
    // The keyed headers with an `#include` inside a declaration (`enum { #include
    // <linux/sched/sd_flags.h> }` in `topology.h`): walking them gives facts of the
    // included file, which their key does not cover, so they are not recorded under it.
    let mut spilled: HashSet<usize> = HashSet::default();
    root.visit_children(|c| {
        if let Some(file) = walked(&c) {
            let keyed_ix = file.and_then(|f| keyed_at.get(&f).copied());
            x.refers.current = keyed_ix;
            x.top_level(c);
            if let Some((i, f)) = keyed_ix.zip(file) {
                if !spilled.contains(&i) && record.includes_inside(c, f) {
                    spilled.insert(i);
                }
            }
        }
        if !wanted.is_empty() {
            x.declare_wanted(c, &wanted);
        }
        Visit::Continue
    });
    x.refers.current = None;
    x.join_aliases();
    x.results_read();
    x.expansions_in_bodies(&expansions);
    let refers = std::mem::take(&mut x.refers);
    // The headers keyed without `__COUNTER__` whose facts name what it may have made.
    let at: Vec<Option<FileIx>> = keyed
        .iter()
        .map(|(f, _, _, counted, _)| counted.then(|| x.sink.file(*f)))
        .collect();
    let naming = x
        .pasted
        .owners_naming(&x.sink.facts, &at.iter().flatten().copied().collect());
    let revived = std::mem::take(&mut x.sink.revived);
    let mut facts = x.sink.facts;
    facts.skipped = skipped;

    // A variable used before its tentative definition (`int x;` further down) looked
    // undefined when it was met: it is not.
    let defined: HashSet<SymbolIx> = facts
        .definitions
        .iter()
        .filter(|d| d.definition)
        .map(|d| d.symbol)
        .collect();
    facts
        .definitions
        .retain(|d| d.definition || !defined.contains(&d.symbol));
    taken.check(&facts, &revived);

    let errors: Vec<_> = tu
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity >= Severity::Error)
        .collect();
    let (status, reason) = match errors.first() {
        None => (TuStatus::Ok, None),
        Some(first) => {
            let more = match errors.len() {
                1 => String::new(),
                n => format!(" (and {} more errors)", n - 1),
            };
            (TuStatus::Partial, Some(format!("{}{more}", first.text)))
        }
    };
    let headers = keyed
        .into_iter()
        .enumerate()
        .filter(|(i, _)| {
            !spilled.contains(i)
                && !refers.in_bodies.contains(i)
                && !at[*i].is_some_and(|f| naming.contains(&f))
        })
        .map(|(i, (_, file, key, _, bodies))| RecordedHeader {
            file,
            key,
            refers: refers.of(i).iter().map(|&s| facts[s].clone()).collect(),
            bodies,
        })
        .collect();
    Extraction {
        facts,
        status,
        reason,
        headers,
        unblank: None,
        reused: recorded.len(),
        keying,
        taking,
        known: taken.known,
        chunks: taken.chunks,
    }
}
