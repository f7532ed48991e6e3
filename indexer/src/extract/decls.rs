//! Declarations at file scope: functions (whose bodies [`super::body`] walks),
//! variables and their initializers, structs, unions, enums, typedefs, fields,
//! enumerators, and macros.

use rustc_hash::FxHashMap as HashMap;

use schema::{Access, Kind, Linkage, NewCall, NewSymbol, SymbolIx};

use super::expr::is_named_record;
use super::sink::Place;
use super::symbols::scope_name;
use super::{Body, Extractor, Holder};
use crate::clang::{kind, Cursor, Visit};

/// A function declared as a second name of another's code, waiting for the walk to
/// have met its target.
pub(super) struct Alias {
    symbol: SymbolIx,
    target: String,
    /// Declared weak: a definition of the name elsewhere wins at link time.
    weak: bool,
    /// Where the alias is declared: its facts belong to that file.
    place: Place,
}

impl<'tu> Extractor<'tu, '_> {
    /// A `MACRO_DEFINITION` of the preprocessing record.
    pub(super) fn macro_definition(&mut self, c: Cursor<'tu>) {
        // Built-in and command-line macros have no file.
        if c.location().file_location().is_none() {
            return;
        }
        self.define_new(c, Kind::Macro, None);
    }

    /// A declaration at file scope.
    pub(super) fn top_level(&mut self, c: Cursor<'tu>) {
        match c.kind() {
            kind::FUNCTION_DECL => self.function(c),
            kind::VAR_DECL => self.variable(c),
            kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL => self.record(c),
            // libclang does not expose a file-scope `asm(...)`.
            kind::UNEXPOSED_DECL => self.file_scope_asm(c),
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
            self.alias(c);
            return;
        }
        let Some(sym) = self.define_new(c, Kind::Function, None) else {
            return;
        };
        let Some(owner) = c.location().file_location().map(|p| self.sink.file(p.file)) else {
            return;
        };
        let params: HashMap<String, usize> = c
            .arguments()
            .iter()
            .enumerate()
            .map(|(i, p)| (p.usr(), i))
            .filter(|(usr, _)| !usr.is_empty())
            .collect();
        // The braces, not the whole definition: a macro that makes the function
        // (`SYSCALL_DEFINE1(...) { ... }`) or gives it attributes is not used in it.
        let braces = c
            .children()
            .into_iter()
            .find(|k| k.kind() == kind::COMPOUND_STMT);
        if let Some((file, start, end)) = braces.and_then(|b| b.extent_in_file()) {
            self.bodies
                .entry(file)
                .or_default()
                .push((start, end, sym, owner));
        }
        let body = Body {
            sym,
            owner,
            usr: self.sink.facts[sym].usr.clone(),
            name: self.sink.facts[sym].name.clone(),
            params,
            returns_function: c.result_type().reaches_function(),
        };
        // Parameters that hold functions, or point to where they are held (`fn_t
        // *out`), are pointers like any other: name them where the definition does.
        for (i, p) in c.arguments().into_iter().enumerate() {
            if p.ty().reaches_function() {
                let name = p.spelling();
                let s = self.parameter(&body.usr, &body.name, i, name.clone());
                self.pasted.note(p, s, &name);
                self.define(p, s, true, false);
            }
        }
        self.walk_children(c, &body, Access::Read);
        if body.returns_function {
            if let Some(r) = self.sink.known(&super::symbols::result_usr(&body.usr)) {
                self.define_result(body.sym, r);
            }
        }
    }

    /// `long sys_read(...) __attribute__((alias("__se_sys_read")));` (the kernel's
    /// `SYSCALL_DEFINEx` where the architecture has no syscall wrappers, `__alias(f)`):
    /// a declaration that makes its name a second name of another function's code. The
    /// compiler emits it, so it is a definition; it is joined to its target by a call
    /// marked alias (calling one is calling the other).
    fn alias(&mut self, c: Cursor<'tu>) {
        if !self.spells_alias(c) {
            return;
        }
        let printed = c.pretty_printed();
        let Some(target) = alias_target(&printed) else {
            return;
        };
        let weak = printed.contains("__attribute__((weak))");
        let Some(symbol) = self.define_new(c, Kind::Function, None) else {
            return;
        };
        let name = self.sink.facts[symbol].name.clone();
        let Some(place) = self.place(c.location(), &name) else {
            return;
        };
        self.aliases.push(Alias {
            symbol,
            target: target.to_owned(),
            weak,
            place,
        });
    }

    /// `asm(".weak sys_kexec_load\n\t.set sys_kexec_load,sys_ni_syscall")` at file
    /// scope (the kernel's `cond_syscall`, which `COND_SYSCALL` uses for every system
    /// call a configuration leaves out): each `.set NAME, TARGET` defines NAME as a
    /// second name of TARGET, as an alias attribute does.
    fn file_scope_asm(&mut self, c: Cursor<'tu>) {
        let printed = c.pretty_printed();
        if !printed.starts_with("__asm") {
            return;
        }
        for (name, target, weak) in asm_sets(&printed) {
            let usr = format!("c:@F@{name}");
            let symbol = match self.sink.known(&usr) {
                Some(i) => i,
                None => self.sink.add_symbol(NewSymbol {
                    usr,
                    name: name.to_owned(),
                    scope: None,
                    kind: Kind::Function,
                    linkage: Linkage::External,
                }),
            };
            self.define(c, symbol, true, false);
            let Some(place) = self.place(c.location(), name) else {
                continue;
            };
            self.aliases.push(Alias {
                symbol,
                target: target.to_owned(),
                weak,
                place,
            });
        }
    }

    /// Whether one of `c`'s attributes may be `alias`: its text, where it is spelled,
    /// starts so. Without the unit's texts, every attribute may be.
    fn spells_alias(&self, c: Cursor<'tu>) -> bool {
        let mut alias = false;
        c.visit_children(|a| {
            if a.kind() != kind::UNEXPOSED_ATTR {
                return Visit::Continue;
            }
            let text = a.spelled_start().and_then(|(file, at)| {
                let text = self.sources.get(&file)?;
                text.get(at as usize..)
            });
            alias = match text {
                Some(t) => t.starts_with(b"alias") || t.starts_with(b"__alias__"),
                None => self.sources.is_empty(),
            };
            if alias {
                Visit::Break
            } else {
                Visit::Continue
            }
        });
        alias
    }

    /// Joins each alias met to the function it names: a function of that name this
    /// unit defines (an alias's target is defined in the same unit), else any of that
    /// name the unit knows.
    pub(super) fn join_aliases(&mut self) {
        if self.aliases.is_empty() {
            return;
        }
        let facts = &self.sink.facts;
        let defined: std::collections::HashSet<SymbolIx> = facts
            .definitions
            .iter()
            .filter(|d| d.definition)
            .map(|d| d.symbol)
            .collect();
        let mut targets: HashMap<&str, SymbolIx> = HashMap::default();
        for (i, s) in facts.symbols.iter().enumerate() {
            let i = SymbolIx(i as u32);
            if s.kind == Kind::Function
                && (defined.contains(&i) || !targets.contains_key(s.name.as_str()))
            {
                targets.insert(s.name.as_str(), i);
            }
        }
        let calls: Vec<NewCall> = self
            .aliases
            .iter()
            .filter_map(|a| {
                let callee = *targets.get(a.target.as_str())?;
                Some(NewCall {
                    caller: a.symbol,
                    callee,
                    file: a.place.file,
                    line: a.place.line,
                    col: a.place.col,
                    indirect: false,
                    macro_name: a.place.macro_name.clone(),
                    owner: a.place.file,
                    dead: false,
                    alias: true,
                    weak: a.weak,
                })
            })
            .collect();
        for c in calls {
            self.sink.add_call(c);
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
        let Some(s) = self.define_new(c, Kind::Variable, None) else {
            return;
        };
        if let (Some(init), Some(pos)) = (c.initializer(), c.location().file_location()) {
            let owner = self.sink.file(pos.file);
            self.initializer(Some(s), init, None, Holder { within: s, owner });
            // What the initializer refers to (`.data = &sysctl_x`, `.fn = f`) is used
            // by the variable, as a body's references are by its function.
            let body = Body {
                sym: s,
                owner,
                usr: self.sink.facts[s].usr.clone(),
                name: self.sink.facts[s].name.clone(),
                params: HashMap::default(),
                returns_function: false,
            };
            self.walk(init, &body, Access::Read);
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
            Some(scope_name(c))
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
}

/// The function an `alias("name")` attribute names, in a declaration as clang prints
/// it back.
fn alias_target(printed: &str) -> Option<&str> {
    let at = printed
        .find("alias__(\"")
        .map(|i| i + 9)
        .or_else(|| printed.find("alias(\"").map(|i| i + 7))?;
    let rest = &printed[at..];
    Some(&rest[..rest.find('"')?]).filter(|t| !t.is_empty())
}

/// The `.set NAME, TARGET` (or `.equ`, `.equiv`) directives of a file-scope `asm`, as
/// clang prints it back (`__asm (".weak\tx\n\t.set\tx,y")`, escapes as written),
/// when both are C names; and whether a `.weak NAME` of the same `asm` makes NAME weak.
fn asm_sets(printed: &str) -> Vec<(&str, &str, bool)> {
    let is_name = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let lines: Vec<&str> = printed
        .split(['"', ';', '\n'])
        .flat_map(|s| s.split("\\n"))
        .map(|line| line.trim().trim_start_matches("\\t").trim())
        .collect();
    let weak: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(".weak"))
        .map(|rest| rest.trim_start_matches("\\t").trim())
        .collect();
    lines
        .iter()
        .filter_map(|line| {
            let rest = [".set", ".equiv", ".equ"]
                .into_iter()
                .find_map(|d| line.strip_prefix(d))?;
            // The directive, then white space (written, or escaped as clang prints it).
            let args = rest
                .strip_prefix("\\t")
                .or_else(|| rest.strip_prefix([' ', '\t']))?;
            let (name, target) = args.split_once(',')?;
            let (name, target) = (name.trim(), target.trim());
            (is_name(name) && is_name(target)).then(|| (name, target, weak.contains(&name)))
        })
        .collect()
}
