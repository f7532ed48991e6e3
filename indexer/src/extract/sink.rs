//! The facts of one translation unit as the walk finds them: files and symbols
//! interned (each gets one position in [`TuFacts`], a typed index), and each fact
//! recorded once however often the walk meets it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::hash::Hash;

use schema::{
    Access, FileIx, NewCall, NewDefinition, NewFile, NewStore, NewSymbol, NewUse, SymbolIx, TuFacts,
};

use crate::clang::File;
use crate::paths::PathMapper;

/// Where a fact is written, and the macro it came out of.
#[derive(Clone, Debug)]
pub(super) struct Place {
    pub file: FileIx,
    pub line: u32,
    pub col: u32,
    pub macro_name: Option<String>,
}

/// A kind of fact: what makes two of them the same, and where they are kept.
pub(super) trait Fact: Sized {
    type Key: Hash + Eq;
    fn key(&self) -> Self::Key;
    fn list(facts: &mut TuFacts) -> &mut Vec<Self>;
    fn seen(seen: &mut Seen) -> &mut HashSet<Self::Key>;
}

/// The facts already recorded, by kind.
#[derive(Default)]
pub(super) struct Seen {
    definitions: HashSet<(SymbolIx, FileIx, u32, u32)>,
    /// Each call's position in the unit's calls.
    call_at: HashMap<(SymbolIx, SymbolIx, FileIx, u32, u32), usize>,
    stores: HashSet<(SymbolIx, SymbolIx, FileIx, u32, u32)>,
    uses: HashSet<(SymbolIx, SymbolIx, Access, FileIx, u32, u32)>,
}

impl Fact for NewDefinition {
    type Key = (SymbolIx, FileIx, u32, u32);
    fn key(&self) -> Self::Key {
        (self.symbol, self.file, self.line, self.col)
    }
    fn list(facts: &mut TuFacts) -> &mut Vec<Self> {
        &mut facts.definitions
    }
    fn seen(seen: &mut Seen) -> &mut HashSet<Self::Key> {
        &mut seen.definitions
    }
}

impl Fact for NewStore {
    type Key = (SymbolIx, SymbolIx, FileIx, u32, u32);
    fn key(&self) -> Self::Key {
        (self.target, self.value, self.file, self.line, self.col)
    }
    fn list(facts: &mut TuFacts) -> &mut Vec<Self> {
        &mut facts.stores
    }
    fn seen(seen: &mut Seen) -> &mut HashSet<Self::Key> {
        &mut seen.stores
    }
}

impl Fact for NewUse {
    type Key = (SymbolIx, SymbolIx, Access, FileIx, u32, u32);
    fn key(&self) -> Self::Key {
        (
            self.symbol,
            self.function,
            self.access,
            self.file,
            self.line,
            self.col,
        )
    }
    fn list(facts: &mut TuFacts) -> &mut Vec<Self> {
        &mut facts.uses
    }
    fn seen(seen: &mut Seen) -> &mut HashSet<Self::Key> {
        &mut seen.uses
    }
}

pub(super) struct Sink<'tu, 'p> {
    paths: &'p mut PathMapper,
    main_path: NewFile,
    pub facts: TuFacts,
    files: HashMap<File<'tu>, FileIx>,
    /// Each file's position by its stored name.
    named: HashMap<NewFile, FileIx>,
    /// USR (as rewritten by the extractor) -> symbol.
    symbols: HashMap<String, SymbolIx>,
    seen: Seen,
    /// The owners of the calls recorded dead and then met live.
    pub revived: rustc_hash::FxHashSet<FileIx>,
}

impl<'tu, 'p> Sink<'tu, 'p> {
    /// An empty sink for the unit whose source file is `main`: the main file comes
    /// first, since facts that belong to the unit rather than to the header they
    /// mention (declarations of what it calls) need it from the start.
    pub fn new(paths: &'p mut PathMapper, main: &std::ffi::OsStr) -> Sink<'tu, 'p> {
        let main_path = paths.file(main);
        let mut facts = TuFacts::default();
        let main_file = facts.push_file(main_path.clone());
        facts.main_file = Some(main_file);
        let named = HashMap::from_iter([(main_path.clone(), main_file)]);
        Sink {
            paths,
            main_path,
            facts,
            files: HashMap::default(),
            named,
            symbols: HashMap::default(),
            seen: Seen::default(),
            revived: Default::default(),
        }
    }

    /// The unit's own source file.
    pub fn main_file(&self) -> FileIx {
        FileIx(0)
    }

    /// The position of file `f`, added on first sight.
    pub fn file(&mut self, f: File<'tu>) -> FileIx {
        if let Some(&i) = self.files.get(&f) {
            return i;
        }
        let nf = self.paths.file(&f.name());
        let i = self.named_file(nf);
        self.files.insert(f, i);
        i
    }

    /// The stored name of file `f`.
    pub fn file_name(&mut self, f: File<'tu>) -> NewFile {
        match self.files.get(&f) {
            Some(&i) => self.facts[i].clone(),
            None => self.paths.file(&f.name()),
        }
    }

    /// Whether `f` is the unit's own source file.
    pub fn is_main(&self, f: &NewFile) -> bool {
        *f == self.main_path
    }

    /// The position of the file stored as `nf`, added on first sight.
    pub fn named_file(&mut self, nf: NewFile) -> FileIx {
        if let Some(&i) = self.named.get(&nf) {
            return i;
        }
        let i = self.facts.push_file(nf.clone());
        self.named.insert(nf, i);
        i
    }

    /// Adds the facts of `part`, a self-contained set of facts (a header's, as an
    /// earlier unit recorded them), its files and symbols joined to the unit's; where
    /// each of its symbols went.
    pub fn adopt(&mut self, part: &TuFacts) -> Vec<SymbolIx> {
        let files: Vec<FileIx> = part
            .files
            .iter()
            .map(|f| self.named_file(f.clone()))
            .collect();
        let symbols: Vec<SymbolIx> = part
            .symbols
            .iter()
            .map(|s| match self.known(&s.usr) {
                Some(i) => i,
                None => self.add_symbol(s.clone()),
            })
            .collect();
        let file = |i: FileIx| files[i.get()];
        let sym = |i: SymbolIx| symbols[i.get()];
        for d in &part.definitions {
            self.add(NewDefinition {
                symbol: sym(d.symbol),
                file: file(d.file),
                owner: file(d.owner),
                ..d.clone()
            });
        }
        for c in &part.calls {
            self.add_call(NewCall {
                caller: sym(c.caller),
                callee: sym(c.callee),
                file: file(c.file),
                owner: file(c.owner),
                ..c.clone()
            });
        }
        for st in &part.stores {
            self.add(NewStore {
                target: sym(st.target),
                value: sym(st.value),
                within: sym(st.within),
                file: file(st.file),
                owner: file(st.owner),
                ..st.clone()
            });
        }
        for u in &part.uses {
            self.add(NewUse {
                symbol: sym(u.symbol),
                function: sym(u.function),
                file: file(u.file),
                owner: file(u.owner),
                ..u.clone()
            });
        }
        symbols
    }

    /// The symbol known by `usr`, if it was met before.
    pub fn known(&self, usr: &str) -> Option<SymbolIx> {
        self.symbols.get(usr).copied()
    }

    /// Adds `symbol`, known by its USR from now on.
    pub fn add_symbol(&mut self, symbol: NewSymbol) -> SymbolIx {
        let usr = symbol.usr.clone();
        let i = self.facts.push_symbol(symbol);
        self.symbols.insert(usr, i);
        i
    }

    /// Records a call unless it is recorded already; a call met both in code that runs
    /// and in code that does not (one macro's two arms) is live.
    pub fn add_call(&mut self, call: NewCall) {
        let key = (call.caller, call.callee, call.file, call.line, call.col);
        match self.seen.call_at.get(&key) {
            Some(&i) => {
                if !call.dead && self.facts.calls[i].dead {
                    self.facts.calls[i].dead = false;
                    self.revived.insert(self.facts.calls[i].owner);
                }
            }
            None => {
                self.seen.call_at.insert(key, self.facts.calls.len());
                self.facts.calls.push(call);
            }
        }
    }

    /// Records `fact` unless an equal one (by its kind's key) is recorded already.
    pub fn add<F: Fact>(&mut self, fact: F) {
        if F::seen(&mut self.seen).insert(fact.key()) {
            F::list(&mut self.facts).push(fact);
        }
    }
}
