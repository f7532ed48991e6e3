//! Reading facts out of a parsed translation unit.

use std::collections::{HashMap, HashSet};

use schema::{Kind, Linkage, NewCall, NewDefinition, NewFile, NewSymbol, TuFacts, TuStatus};

use crate::clang::{kind, Cursor, File, Severity, SourceLocation, TranslationUnit, Visit};
use crate::paths::PathMapper;

/// The facts of one translation unit and how well it parsed.
pub struct Extraction {
    pub facts: TuFacts,
    pub status: TuStatus,
    pub reason: Option<String>,
}

struct Ctx<'tu, 'p> {
    paths: &'p mut PathMapper,
    main_path: NewFile,
    facts: TuFacts,
    files: HashMap<File<'tu>, usize>,
    symbols: HashMap<String, usize>,
    /// Start of each macro expansion written in a file -> index into `macro_names`.
    expansions: HashMap<(File<'tu>, u32), u32>,
    macro_names: Vec<String>,
    macro_ids: HashMap<String, u32>,
    seen_defs: HashSet<(usize, usize, u32, u32)>,
    seen_calls: HashSet<(usize, usize, usize, u32, u32)>,
    declared: HashSet<usize>,
    tentative: HashSet<usize>,
}

/// Extracts every fact of `tu`. `main` is the path of its source file as given to the
/// compiler.
pub fn extract(tu: &TranslationUnit<'_>, main: &std::ffi::OsStr, paths: &mut PathMapper) -> Extraction {
    let main_path = paths.file(main);
    // The main file comes first: facts that belong to the unit rather than to the
    // header they mention (declarations of what it calls) need it from the start.
    let facts = TuFacts {
        main_file: Some(0),
        files: vec![main_path.clone()],
        ..TuFacts::default()
    };
    let mut ctx = Ctx {
        paths,
        main_path,
        facts,
        files: HashMap::new(),
        symbols: HashMap::new(),
        expansions: HashMap::new(),
        macro_names: Vec::new(),
        macro_ids: HashMap::new(),
        seen_defs: HashSet::new(),
        seen_calls: HashSet::new(),
        declared: HashSet::new(),
        tentative: HashSet::new(),
    };
    let root = tu.cursor();

    // Preprocessing entities first, so that every declaration and call can be told
    // which macro expansion it came out of.
    root.visit_children(|c| {
        match c.kind() {
            kind::MACRO_EXPANSION => ctx.macro_expansion(c),
            kind::MACRO_DEFINITION => ctx.macro_definition(c),
            _ => {}
        }
        Visit::Continue
    });
    root.visit_children(|c| {
        ctx.top_level(c);
        Visit::Continue
    });

    // A variable used before its tentative definition (`int x;` further down) looked
    // undefined when it was met: it is not.
    let defined: HashSet<usize> = ctx
        .facts
        .definitions
        .iter()
        .filter(|d| d.definition)
        .map(|d| d.symbol)
        .collect();
    ctx.facts
        .definitions
        .retain(|d| d.definition || !defined.contains(&d.symbol));

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
    Extraction {
        facts: ctx.facts,
        status,
        reason,
    }
}

/// Resolved position of a name or call site.
struct Place {
    file: usize,
    line: u32,
    col: u32,
    macro_name: Option<String>,
}

impl<'tu> Ctx<'tu, '_> {
    fn file_index(&mut self, f: File<'tu>) -> usize {
        if let Some(&i) = self.files.get(&f) {
            return i;
        }
        let nf = self.paths.file(&f.name());
        let i = if nf == self.main_path {
            0
        } else {
            self.facts.files.push(nf);
            self.facts.files.len() - 1
        };
        self.files.insert(f, i);
        i
    }

    fn macro_expansion(&mut self, c: Cursor<'tu>) {
        let Some(pos) = c.location().file_location() else {
            return;
        };
        let name = c.spelling();
        let next = self.macro_names.len() as u32;
        let id = *self.macro_ids.entry(name.clone()).or_insert(next);
        if id == next {
            self.macro_names.push(name);
        }
        self.expansions.insert((pos.file, pos.offset), id);
    }

    /// The macro whose expansion produced `loc`, if any.
    /// The macro that produced `loc`: the innermost one whose name is written in the
    /// file (`access_ok` rather than the `unlikely` around it), else the outermost
    /// invocation (for a name passed as a macro argument). A macro named like the
    /// thing itself (`#define x x`) tells nothing and is passed over.
    fn macro_at(&self, loc: SourceLocation<'tu>, own_name: &str) -> Option<String> {
        let written = loc.file_location().map(|p| (p.file, p.offset));
        let outermost = loc.expansion_location().map(|p| (p.file, p.offset));
        [written, outermost]
            .into_iter()
            .flatten()
            .filter_map(|k| self.expansions.get(&k))
            .map(|&i| &self.macro_names[i as usize])
            .find(|m| *m != own_name)
            .cloned()
    }

    fn place(&mut self, loc: SourceLocation<'tu>, own_name: &str) -> Option<Place> {
        let pos = loc.file_location()?;
        let file = self.file_index(pos.file);
        Some(Place {
            file,
            line: pos.line,
            col: pos.col,
            macro_name: self.macro_at(loc, own_name),
        })
    }

    /// The symbol of declaration `c`, created on first sight.
    fn symbol(&mut self, c: Cursor<'tu>, kind: Kind, scope: Option<String>) -> Option<usize> {
        let mut usr = c.usr();
        if usr.is_empty() {
            return None;
        }
        // clang names file-local entities (statics, macros, anonymous types) after the
        // *base name* of their file: `fs/x/core.c` and `drivers/y/core.c` would collide.
        // C types have no linkage: `struct stat` of the kernel and of the C library,
        // or one `struct getdents_callback` in each of two files, are different types.
        // Both get the path of the file that defines them.
        let typeish = matches!(
            kind,
            Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Typedef
                | Kind::Field
                | Kind::Enumerator
        );
        if typeish || (usr.starts_with("c:") && !usr.starts_with("c:@")) {
            let first = c.definition().unwrap_or_else(|| c.canonical());
            if let Some(pos) = first.location().expansion_location() {
                let f = self.file_index(pos.file);
                let f = &self.facts.files[f];
                usr = format!("{usr}@{}:{}", f.root, f.path);
            }
        }
        if let Some(&i) = self.symbols.get(&usr) {
            return Some(i);
        }
        let linkage = match kind {
            Kind::Function | Kind::Variable => match c.linkage() {
                crate::clang::Linkage::Internal => Linkage::Internal,
                _ => Linkage::External,
            },
            _ => Linkage::None,
        };
        let i = self.facts.symbols.len();
        self.facts.symbols.push(NewSymbol {
            usr: usr.clone(),
            name: c.spelling(),
            scope,
            kind,
            linkage,
        });
        self.symbols.insert(usr, i);
        Some(i)
    }

    /// Records that `symbol` is defined (or declared) where `c` names it.
    fn define(&mut self, c: Cursor<'tu>, symbol: usize, definition: bool, owner_main: bool) {
        let name = self.facts.symbols[symbol].name.clone();
        let Some(p) = self.place(c.location(), &name) else {
            return;
        };
        if !self.seen_defs.insert((symbol, p.file, p.line, p.col)) {
            return;
        }
        let owner = if owner_main { 0 } else { p.file };
        self.facts.definitions.push(NewDefinition {
            symbol,
            file: p.file,
            line: p.line,
            col: p.col,
            macro_name: p.macro_name,
            definition,
            owner,
        });
    }

    fn define_new(&mut self, c: Cursor<'tu>, kind: Kind, scope: Option<String>) -> Option<usize> {
        let s = self.symbol(c, kind, scope)?;
        self.define(c, s, true, false);
        Some(s)
    }

    fn macro_definition(&mut self, c: Cursor<'tu>) {
        // Built-in and command-line macros have no file.
        if c.location().file_location().is_none() {
            return;
        }
        self.define_new(c, Kind::Macro, None);
    }

    fn top_level(&mut self, c: Cursor<'tu>) {
        match c.kind() {
            kind::FUNCTION_DECL => self.function(c),
            kind::VAR_DECL => self.variable(c),
            kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL => self.record(c),
            kind::TYPEDEF_DECL => {
                self.define_new(c, Kind::Typedef, None);
                // `typedef struct { ... } foo_t;` holds the struct itself.
                c.visit_children(|k| {
                    if matches!(
                        k.kind(),
                        kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL
                    ) {
                        self.record(k);
                    }
                    Visit::Continue
                });
            }
            _ => {}
        }
    }

    fn function(&mut self, c: Cursor<'tu>) {
        if !c.is_definition() {
            return;
        }
        let Some(sym) = self.define_new(c, Kind::Function, None) else {
            return;
        };
        let Some(owner) = c
            .location()
            .file_location()
            .map(|p| self.file_index(p.file))
        else {
            return;
        };
        c.visit_children(|n| match n.kind() {
            kind::CALL_EXPR => {
                self.call(n, sym, owner);
                Visit::Recurse
            }
            kind::DECL_REF_EXPR => {
                self.variable_reference(n);
                Visit::Recurse
            }
            // `sizeof(f())` and `_Alignof` never run their operand (the kernel's
            // BUILD_BUG_ON_INVALID and VM_BUG_ON under !CONFIG_DEBUG_VM rely on it).
            kind::UNARY_EXPR => Visit::Continue,
            _ => Visit::Recurse,
        });
    }

    /// A global variable that is used but not defined here (`jiffies`, defined by the
    /// linker script): remember where it is declared.
    fn variable_reference(&mut self, r: Cursor<'tu>) {
        let Some(target) = r.referenced() else { return };
        if target.kind() != kind::VAR_DECL
            || target.definition().is_some()
            || !target
                .semantic_parent()
                .is_some_and(|p| p.kind() == kind::TRANSLATION_UNIT)
        {
            return;
        }
        let Some(s) = self.symbol(target, Kind::Variable, None) else {
            return;
        };
        if self.declared.insert(s) {
            self.define(target.canonical(), s, false, true);
        }
    }

    fn variable(&mut self, c: Cursor<'tu>) {
        // `int x = 1;` defines; `extern int x;` only declares; `int x;` is a tentative
        // definition: it defines `x` unless the file defines it for real elsewhere,
        // and counts once however often it is repeated.
        if !c.is_definition() {
            if c.is_extern() || c.definition().is_some() {
                return;
            }
            let Some(s) = self.symbol(c, Kind::Variable, None) else {
                return;
            };
            if self.tentative.insert(s) {
                self.define(c, s, true, false);
            }
            return;
        }
        self.define_new(c, Kind::Variable, None);
    }

    /// The name a field's container goes by: the nearest named struct or union, or the
    /// typedef of an anonymous one.
    fn scope_name(record: Cursor<'tu>) -> String {
        let mut cur = Some(record);
        while let Some(r) = cur {
            if !matches!(r.kind(), kind::STRUCT_DECL | kind::UNION_DECL) {
                break;
            }
            if is_named_record(r) {
                return r.spelling();
            }
            cur = r.semantic_parent();
        }
        let t = record.type_spelling();
        if t.contains("(unnamed") || t.contains("(anonymous") {
            "(anonymous)".to_owned()
        } else {
            t.trim_start_matches("struct ")
                .trim_start_matches("union ")
                .to_owned()
        }
    }

    fn record(&mut self, c: Cursor<'tu>) {
        if !c.is_definition() {
            return;
        }
        let kind = match c.kind() {
            kind::STRUCT_DECL => Kind::Struct,
            kind::UNION_DECL => Kind::Union,
            _ => Kind::Enum,
        };
        if is_named_record(c) {
            self.define_new(c, kind, None);
        }
        let scope = if kind == Kind::Enum {
            None
        } else {
            Some(Self::scope_name(c))
        };
        c.visit_children(|k| {
            match k.kind() {
                kind::FIELD_DECL => {
                    self.define_new(k, Kind::Field, scope.clone());
                }
                kind::ENUM_CONSTANT_DECL => {
                    self.define_new(k, Kind::Enumerator, None);
                }
                kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL => self.record(k),
                _ => {}
            }
            Visit::Continue
        });
    }

    fn call(&mut self, call: Cursor<'tu>, caller: usize, owner: usize) {
        let Some(target) = call.referenced() else {
            return;
        };
        let (callee, indirect) = match target.kind() {
            kind::FUNCTION_DECL => {
                if target.location().file_location().is_none() || not_a_call(&target.spelling()) {
                    return;
                }
                let Some(s) = self.symbol(target, Kind::Function, None) else {
                    return;
                };
                if target.definition().is_none() && self.declared.insert(s) {
                    // Called but not defined here: remember where it is declared.
                    self.define(target.canonical(), s, false, true);
                }
                (s, false)
            }
            kind::FIELD_DECL => {
                let scope = target.semantic_parent().map(Self::scope_name);
                let Some(s) = self.symbol(target, Kind::Field, scope) else {
                    return;
                };
                (s, true)
            }
            kind::VAR_DECL
                if target
                    .semantic_parent()
                    .is_some_and(|p| p.kind() == kind::TRANSLATION_UNIT) =>
            {
                let Some(s) = self.symbol(target, Kind::Variable, None) else {
                    return;
                };
                (s, true)
            }
            // Calls through parameters and local variables are not recorded yet.
            _ => return,
        };
        let name = self.facts.symbols[callee].name.clone();
        let Some(p) = self.place(call.location(), &name) else {
            return;
        };
        if !self
            .seen_calls
            .insert((caller, callee, p.file, p.line, p.col))
        {
            return;
        }
        self.facts.calls.push(NewCall {
            caller,
            callee,
            file: p.file,
            line: p.line,
            col: p.col,
            indirect,
            macro_name: p.macro_name,
            owner,
        });
    }
}

/// Whether a struct, union or enum has a tag of its own. clang spells an anonymous
/// one after its typedef (`typedef struct { ... } atomic_t;`), but its USR tells
/// (`c:@SA@atomic_t`, `c:@S@page@Ua`, `c:file.h@123@S@...`).
fn is_named_record(c: Cursor<'_>) -> bool {
    let name = c.spelling();
    if name.is_empty()
        || c.is_anonymous()
        || name.contains("(unnamed")
        || name.contains("(anonymous")
    {
        return false;
    }
    let usr = c.usr();
    ["@S@", "@U@", "@E@"]
        .iter()
        .any(|tag| usr.ends_with(&format!("{tag}{name}")))
}

/// Functions that are called in the source but are not calls of compiled code:
/// compiler builtins (their declaration sits where clang first met them) and the
/// kernel's `__compiletime_assert_N`, declared and "called" by every
/// `BUILD_BUG_ON` and never emitted.
fn not_a_call(name: &str) -> bool {
    [
        "__builtin_",
        "__sync_",
        "__atomic_",
        "__c11_atomic_",
        "__compiletime_assert_",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}
