//! The facts of one translation unit as the walk finds them: files and symbols
//! interned (each gets one position in [`TuFacts`], a typed index), and each fact
//! recorded once however often the walk meets it.

use std::collections::{HashMap, HashSet};
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
    /// USR (as rewritten by the extractor) -> symbol.
    symbols: HashMap<String, SymbolIx>,
    seen: Seen,
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
        Sink {
            paths,
            main_path,
            facts,
            files: HashMap::new(),
            symbols: HashMap::new(),
            seen: Seen::default(),
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
        let i = if nf == self.main_path {
            self.main_file()
        } else {
            self.facts.push_file(nf)
        };
        self.files.insert(f, i);
        i
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
                if !call.dead {
                    self.facts.calls[i].dead = false;
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
