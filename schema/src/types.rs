//! Plain data exchanged with the rest of the project. No SQL here. A unit's facts
//! (`TuFacts`) serialize, for the indexer's facts cache.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                v: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(v).map($name)
            }
        }
    };
}

id_type!(FileId);
id_type!(SymbolId);
id_type!(TuId);

/// `path` with `.` removed and `..` resolved, without touching the file system (how
/// stored paths are made from what compilers and debug information say).
pub fn normalize_path(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Which directory a stored path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Root {
    /// The kernel source tree.
    Src,
    /// The kernel build tree (the `O=` directory): generated files.
    Obj,
    /// Neither: the path is absolute.
    Abs,
    /// An external module's directory (`make M=DIR`), which the file's `base` names.
    Ext,
}

/// What kind of thing a symbol is. The names are those of the `dump` format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    Function,
    Variable,
    Macro,
    Struct,
    Union,
    Enum,
    Typedef,
    Field,
    Enumerator,
    /// A function's parameter (`name` is the parameter's, `scope` the function's), for
    /// callbacks: a function passed as an argument is stored into it.
    Parameter,
    /// What a function returns, when it returns functions (`name` is `return`,
    /// `scope` the function's): its `return` statements store into it.
    Result,
}

/// How a function uses a global variable, a struct member, or another function (named
/// without being called: its address is taken).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Access {
    Read,
    Write,
    /// `&x`: the address is taken (`spin_lock(&mmlist_lock)`).
    Addr,
    /// A function-like macro expanded in the function's body (`WARN_ON_ONCE(...)`).
    Expand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Linkage {
    External,
    Internal,
    None,
}

/// Outcome of indexing one translation unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TuStatus {
    /// Parsed without errors; every fact was recorded.
    Ok,
    /// Parsed with errors: the facts that could be read were recorded.
    Partial,
    /// Nothing could be recorded (the indexer crashed, timed out or could not parse).
    Failed,
}

macro_rules! string_enum {
    ($ty:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($ty::$variant),)* _ => None }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl rusqlite::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }
        impl rusqlite::types::FromSql for $ty {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                $ty::parse(s).ok_or_else(|| rusqlite::types::FromSqlError::Other(
                    format!("unknown {} {s:?}", stringify!($ty)).into()))
            }
        }
    };
}

string_enum!(Root { Src = "src", Obj = "obj", Abs = "abs", Ext = "ext" });
string_enum!(Kind {
    Function = "function",
    Variable = "variable",
    Macro = "macro",
    Struct = "struct",
    Union = "union",
    Enum = "enum",
    Typedef = "typedef",
    Field = "field",
    Enumerator = "enumerator",
    Parameter = "parameter",
    Result = "result",
});
string_enum!(Access { Read = "read", Write = "write", Addr = "addr", Expand = "expand" });
string_enum!(Linkage { External = "external", Internal = "internal", None = "none" });
string_enum!(TuStatus { Ok = "ok", Partial = "partial", Failed = "failed" });

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub id: FileId,
    pub root: Root,
    /// For [`Root::Ext`], the external module's directory (absolute) that `path` is
    /// relative to; `None` for the other roots.
    pub base: Option<String>,
    pub path: String,
}

impl File {
    /// Whether the file is a system header (`/usr/include/unistd.h`, clang's resource
    /// headers under `/usr/lib`): outside the build's trees. The rule of `read.rs`'s
    /// `SYSTEM_FILE`.
    pub fn is_system(&self) -> bool {
        self.root == Root::Abs
            && (self.path.starts_with("/usr/include/") || self.path.starts_with("/usr/lib/"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub id: SymbolId,
    pub name: String,
    /// For a field, the struct or union it belongs to.
    pub scope: Option<String>,
    pub kind: Kind,
    pub linkage: Linkage,
}

impl Symbol {
    /// `name`, or `scope::name` for a field (and a parameter: `function::param`).
    pub fn display_name(&self) -> String {
        match &self.scope {
            Some(s) => format!("{s}::{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

/// Where a symbol is defined (or, for `definition == false`, declared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub symbol: SymbolId,
    pub loc: Location,
    /// The macro invoked at that place, when the name came out of a macro expansion.
    pub macro_name: Option<String>,
    pub definition: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallEdge {
    pub caller: SymbolId,
    /// A function for a direct call; the field or pointer variable for an indirect one.
    pub callee: SymbolId,
    pub site: Location,
    pub indirect: bool,
    /// The macro whose expansion holds the call.
    pub macro_name: Option<String>,
    /// In code this configuration never runs (see [`NewCall::dead`]).
    pub dead: bool,
    /// The caller is an alias of the callee (see [`NewCall::alias`]).
    pub alias: bool,
}

/// `value` was stored into `target` at `site`: a function into a member, variable or
/// parameter, or one pointer copied into another (`value` is then that pointer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    pub target: SymbolId,
    pub value: SymbolId,
    pub site: Location,
    pub macro_name: Option<String>,
    /// `value` is a pointer copied, not a function.
    pub copy: bool,
    /// The function whose body, or the variable whose initializer, holds the store
    /// (unknown in a database written before schema 7 that was not indexed again).
    pub within: Option<SymbolId>,
}

/// `function` reads, writes or takes the address of `symbol` (a global variable, a
/// struct member, or a function named without a call) at `site`; for a use in the
/// initializer of a file-scope variable, `function` is that variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    pub symbol: SymbolId,
    pub function: SymbolId,
    pub access: Access,
    pub site: Location,
    pub macro_name: Option<String>,
}

/// A call through a pointer that may reach a function: the call, and the member or
/// pointer it goes through (the call's callee) from which the function is reachable by
/// stores and copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndirectCall {
    pub call: CallEdge,
    pub function: SymbolId,
}

/// What a definition was compiled into: the units that define it in their own source
/// file (not a header they include), as built-in code or as parts of modules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DefinedIn {
    /// A unit compiled into the kernel itself defines it.
    pub builtin: bool,
    /// The modules whose units define it, by name.
    pub modules: Vec<String>,
}

/// One translation unit as the build compiled it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tu {
    pub id: TuId,
    /// The object file, absolute.
    pub object: String,
    pub source: Option<FileId>,
    pub directory: String,
    pub command: Vec<String>,
    pub module: bool,
    /// For a unit of a loadable module, the module's name (`KBUILD_MODNAME`).
    pub modname: Option<String>,
    pub status: TuStatus,
    pub reason: Option<String>,
}

// ---- What the indexer hands over for one translation unit ----

macro_rules! fact_index {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The position of a ", $what, " in [`TuFacts`].")]
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        pub struct $name(pub u32);

        impl $name {
            pub fn get(self) -> usize {
                self.0 as usize
            }
        }
    };
}

fact_index!(FileIx, "file");
fact_index!(SymbolIx, "symbol");

/// A file seen by a translation unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewFile {
    pub root: Root,
    /// As [`File::base`].
    pub base: Option<String>,
    pub path: String,
}

impl NewFile {
    /// A file relative to one of the kernel's trees, or absolute: no `base`.
    pub fn new(root: Root, path: impl Into<String>) -> NewFile {
        NewFile {
            root,
            base: None,
            path: path.into(),
        }
    }

    /// What names the file across databases: `root:path`, or `ext:BASE:path`.
    pub fn key(&self) -> String {
        match &self.base {
            Some(b) => format!("{}:{b}:{}", self.root, self.path),
            None => format!("{}:{}", self.root, self.path),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewSymbol {
    pub usr: String,
    pub name: String,
    pub scope: Option<String>,
    pub kind: Kind,
    pub linkage: Linkage,
}

/// Indexes below point into [`TuFacts::files`] and [`TuFacts::symbols`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDefinition {
    pub symbol: SymbolIx,
    pub file: FileIx,
    pub line: u32,
    pub col: u32,
    pub macro_name: Option<String>,
    pub definition: bool,
    /// The file whose content this fact comes from: the definition's own file (for a
    /// declaration of something called, the calling unit's main file).
    pub owner: FileIx,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCall {
    pub caller: SymbolIx,
    pub callee: SymbolIx,
    pub file: FileIx,
    pub line: u32,
    pub col: u32,
    pub indirect: bool,
    pub macro_name: Option<String>,
    /// The file holding the caller's body.
    pub owner: FileIx,
    /// Written in code this configuration never runs: an arm a constant condition
    /// never takes (`if (0)`, `IS_ENABLED(CONFIG_X)` off, `sizeof(n) <= 4 ? a : b`),
    /// `_Generic`'s other associations.
    #[serde(default)]
    pub dead: bool,
    /// The caller is a second name of the callee's code (`sys_read`, declared with
    /// `__attribute__((alias("__se_sys_read")))`), at the alias's declaration: calling
    /// one is calling the other.
    #[serde(default)]
    pub alias: bool,
    /// A weak alias (`cond_syscall`'s `.weak sys_io_setup`): another file's definition
    /// of the name, if the build has one, is the one linked.
    #[serde(default)]
    pub weak: bool,
}

/// `value` (a function, or a pointer copied) stored into `target`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStore {
    pub target: SymbolIx,
    pub value: SymbolIx,
    pub file: FileIx,
    pub line: u32,
    pub col: u32,
    pub macro_name: Option<String>,
    /// The function whose body, or the variable whose initializer, holds the store.
    pub within: SymbolIx,
    /// The file holding the store: the function body or the initializer.
    pub owner: FileIx,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUse {
    pub symbol: SymbolIx,
    pub function: SymbolIx,
    pub access: Access,
    pub file: FileIx,
    pub line: u32,
    pub col: u32,
    pub macro_name: Option<String>,
    /// The file holding the function's body.
    pub owner: FileIx,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TuRecord {
    pub object: String,
    pub source: Option<NewFile>,
    pub directory: String,
    pub command: Vec<String>,
    pub module: bool,
    /// As [`Tu::modname`].
    pub modname: Option<String>,
    pub status: TuStatus,
    pub reason: Option<String>,
    /// A name of the unit's facts (the indexer's facts cache key), when known: a unit
    /// recorded with the same record and the same name is not written again.
    pub facts: Option<String>,
}

/// The directories a database's relative paths are relative to: what a kernel
/// build's writers agree on (absolute paths; both `None` outside a kernel build).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trees {
    pub srctree: Option<String>,
    pub objtree: Option<String>,
}

impl Trees {
    /// These trees with the source tree at `srctree` when given (`--srctree DIR`: a
    /// copy of the tree elsewhere than the build had it).
    pub fn with_srctree(mut self, srctree: Option<&std::path::Path>) -> Trees {
        if let Some(s) = srctree {
            self.srctree = Some(s.to_string_lossy().into_owned());
        }
        self
    }

    /// Where a stored file is on this machine, if the database says.
    pub fn on_disk(&self, f: &File) -> Option<std::path::PathBuf> {
        let under =
            |dir: &Option<String>| dir.as_ref().map(|d| std::path::Path::new(d).join(&f.path));
        match f.root {
            Root::Abs => Some(f.path.clone().into()),
            Root::Src => under(&self.srctree),
            // An in-tree build records the one tree as the source tree.
            Root::Obj => under(&self.objtree).or_else(|| under(&self.srctree)),
            Root::Ext => under(&f.base),
        }
    }
}

/// Everything one translation unit contributes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TuFacts {
    /// Index into `files` of the main source file, if it was parsed.
    pub main_file: Option<FileIx>,
    pub files: Vec<NewFile>,
    pub symbols: Vec<NewSymbol>,
    pub definitions: Vec<NewDefinition>,
    pub calls: Vec<NewCall>,
    pub stores: Vec<NewStore>,
    pub uses: Vec<NewUse>,
    /// Every file the preprocessor entered, with the lines it skipped there (empty
    /// when it skipped none): the code this configuration compiled out.
    #[serde(default)]
    pub skipped: Vec<NewSkipped>,
}

/// Ranges of lines, `(first, last)`, 1-based and inclusive, ascending and apart.
pub type LineRanges = Vec<(u32, u32)>;

/// The lines of one file a unit's preprocessor skipped: `(first, last)`, 1-based and
/// inclusive, ascending and apart — the lines between a conditional directive it did
/// not take and the directive that ended it (`#else`, `#elif`, `#endif`), not those
/// directives themselves. So the line before each range is the directive that began
/// skipping. A file entered more than once by the unit lists only the lines every
/// entry skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSkipped {
    pub file: FileIx,
    pub lines: LineRanges,
}

impl TuFacts {
    /// Adds a file; its position.
    pub fn push_file(&mut self, f: NewFile) -> FileIx {
        self.files.push(f);
        FileIx((self.files.len() - 1) as u32)
    }

    /// Adds a symbol; its position.
    pub fn push_symbol(&mut self, s: NewSymbol) -> SymbolIx {
        self.symbols.push(s);
        SymbolIx((self.symbols.len() - 1) as u32)
    }

    /// How many facts (definitions, calls, stores, uses) these are.
    pub fn fact_count(&self) -> usize {
        self.definitions.len() + self.calls.len() + self.stores.len() + self.uses.len()
    }

    /// Calls `f` with each fact's owner and the symbols it names (definitions, calls,
    /// stores, uses).
    pub fn for_each_owned(&self, mut f: impl FnMut(FileIx, &[SymbolIx])) {
        for d in &self.definitions {
            f(d.owner, &[d.symbol]);
        }
        for c in &self.calls {
            f(c.owner, &[c.caller, c.callee]);
        }
        for st in &self.stores {
            f(st.owner, &[st.target, st.value, st.within]);
        }
        for u in &self.uses {
            f(u.owner, &[u.symbol, u.function]);
        }
    }
}

impl std::ops::Index<FileIx> for TuFacts {
    type Output = NewFile;
    fn index(&self, i: FileIx) -> &NewFile {
        &self.files[i.get()]
    }
}

impl std::ops::Index<SymbolIx> for TuFacts {
    type Output = NewSymbol;
    fn index(&self, i: SymbolIx) -> &NewSymbol {
        &self.symbols[i.get()]
    }
}

impl std::ops::IndexMut<SymbolIx> for TuFacts {
    fn index_mut(&mut self, i: SymbolIx) -> &mut NewSymbol {
        &mut self.symbols[i.get()]
    }
}

/// Counts reported by [`crate::Db::write_tu`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// The unit was recorded already, with the same record and facts: nothing written.
    pub unchanged: bool,
    /// Files whose facts were new (a chunk written).
    pub files_recorded: usize,
    /// Files whose facts the database already had (a chunk shared).
    pub files_skipped: usize,
    /// Chunks that no translation unit needed any more.
    pub chunks_dropped: usize,
    pub definitions: usize,
    pub calls: usize,
    pub stores: usize,
    pub uses: usize,
}
