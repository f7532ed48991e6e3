//! Symbols: clang's USRs made file-specific where clang uses only a base name, and
//! the symbols that stand for pointers (members, variables, parameters).

use schema::{Kind, Linkage, NewDefinition, NewSymbol, SymbolIx};

use super::expr::{is_global_variable, not_a_call};
use super::{Body, Extractor};
use crate::clang::{kind, Cursor, SourceLocation};

impl<'tu> Extractor<'tu, '_> {
    /// Where `loc` is written, and the macro it came out of.
    pub(super) fn place(
        &mut self,
        loc: SourceLocation<'tu>,
        own_name: &str,
    ) -> Option<super::sink::Place> {
        let pos = loc.file_location()?;
        Some(super::sink::Place {
            file: self.sink.file(pos.file),
            line: pos.line,
            col: pos.col,
            macro_name: self.macros.at(loc, own_name),
        })
    }

    /// The symbol of declaration `c`, created on first sight.
    pub(super) fn symbol(
        &mut self,
        c: Cursor<'tu>,
        kind: Kind,
        scope: Option<String>,
    ) -> Option<SymbolIx> {
        let usr = self.symbol_usr(c, kind)?;
        if let Some(i) = self.sink.known(&usr) {
            return Some(i);
        }
        let linkage = match kind {
            Kind::Function | Kind::Variable => match c.linkage() {
                crate::clang::Linkage::Internal => Linkage::Internal,
                // A function's own variable (a local pointer, a static local).
                crate::clang::Linkage::None if kind == Kind::Variable => Linkage::None,
                _ => Linkage::External,
            },
            _ => Linkage::None,
        };
        let name = c.spelling();
        let s = self.sink.add_symbol(NewSymbol {
            usr,
            name: name.clone(),
            scope,
            kind,
            linkage,
        });
        self.pasted.note(c, s, &name);
        Some(s)
    }

    /// The USR a symbol of `c` is known by.
    fn symbol_usr(&mut self, c: Cursor<'tu>, kind: Kind) -> Option<String> {
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
                let f = self.sink.file(pos.file);
                usr = format!("{usr}@{}", self.sink.facts[f].key());
            }
        }
        Some(usr)
    }

    /// Declares `c` if it is a file-scope declaration of one of `wanted` (by name) and
    /// nothing in the unit defines it: the declarations that the facts of headers taken
    /// as recorded refer to, found where a walk of those headers would have found them.
    pub(super) fn declare_wanted(
        &mut self,
        c: Cursor<'tu>,
        wanted: &rustc_hash::FxHashMap<String, Vec<SymbolIx>>,
    ) {
        let kind = match c.kind() {
            kind::FUNCTION_DECL => Kind::Function,
            kind::VAR_DECL => Kind::Variable,
            _ => return,
        };
        let Some(candidates) = wanted.get(&c.spelling()) else {
            return;
        };
        if c.definition().is_some() {
            return;
        }
        let Some(s) = self
            .symbol_usr(c, kind)
            .and_then(|usr| self.sink.known(&usr))
        else {
            return;
        };
        if candidates.contains(&s) {
            self.declare(c, s);
        }
    }

    /// Records that `symbol` is defined (or declared) where `c` names it. The fact
    /// belongs to the file it is written in, or with `owner_main` to the unit's own
    /// file (the declaration of something it calls).
    pub(super) fn define(
        &mut self,
        c: Cursor<'tu>,
        symbol: SymbolIx,
        definition: bool,
        owner_main: bool,
    ) {
        let name = self.sink.facts[symbol].name.clone();
        let Some(p) = self.place(c.location(), &name) else {
            return;
        };
        let owner = if owner_main {
            self.sink.main_file()
        } else {
            p.file
        };
        self.sink.add(NewDefinition {
            symbol,
            file: p.file,
            line: p.line,
            col: p.col,
            macro_name: p.macro_name,
            definition,
            owner,
        });
    }

    /// The symbol of `c`, defined where `c` names it.
    pub(super) fn define_new(
        &mut self,
        c: Cursor<'tu>,
        kind: Kind,
        scope: Option<String>,
    ) -> Option<SymbolIx> {
        let s = self.symbol(c, kind, scope)?;
        self.define(c, s, true, false);
        Some(s)
    }

    /// Records, once, where something this unit refers to but does not define is
    /// declared (`d`'s first declaration); the fact is the unit's own.
    pub(super) fn declare(&mut self, d: Cursor<'tu>, s: SymbolIx) {
        if self.declared.insert(s) {
            self.define(d.canonical(), s, false, true);
        }
    }

    /// The symbol of a function the code refers to (calls, stores, passes on), its
    /// declaration recorded when this unit does not define it. `None` for compiler
    /// builtins and what is never compiled code ([`not_a_call`]).
    pub(super) fn function_ref(&mut self, d: Cursor<'tu>) -> Option<SymbolIx> {
        if d.location().file_location().is_none() || not_a_call(&d.spelling()) {
            return None;
        }
        let s = self.symbol(d, Kind::Function, None)?;
        self.refers.note(s, d);
        if d.definition().is_none() {
            self.declare(d, s);
        }
        Some(s)
    }

    pub(super) fn field_symbol(&mut self, field: Cursor<'tu>) -> Option<SymbolIx> {
        let parent = field.semantic_parent();
        let s = self.symbol(field, Kind::Field, parent.map(scope_name))?;
        if let Some(u) = parent.filter(|p| p.kind() == kind::UNION_DECL) {
            if !self.unions.contains_key(&s) {
                let scope = scope_name(u);
                let others = u
                    .ty()
                    .fields()
                    .into_iter()
                    .filter(|f| !super::expr::same(f, &field) && f.ty().reaches_function())
                    .filter_map(|f| self.symbol(f, Kind::Field, Some(scope.clone())))
                    .collect();
                self.unions.insert(s, others);
            }
        }
        Some(s)
    }

    /// The members of the same union as `s` that hold functions, when `s` is a member
    /// of a union: a function stored through `s` is read through them.
    pub(super) fn union_siblings(&self, s: SymbolIx) -> Vec<SymbolIx> {
        self.unions.get(&s).cloned().unwrap_or_default()
    }

    /// Names result `r` where its function `function` is defined.
    pub(super) fn define_result(&mut self, function: SymbolIx, r: SymbolIx) {
        let at = self
            .sink
            .facts
            .definitions
            .iter()
            .find(|d| d.symbol == function && d.definition)
            .cloned();
        if let Some(d) = at {
            self.sink.add(NewDefinition { symbol: r, ..d });
        }
    }

    /// The symbol of what the function with USR `function_usr` returns, when it
    /// returns functions (`pick::return`): its `return`
    /// statements store into it, and `p = pick()` copies it.
    pub(super) fn result(&mut self, function_usr: &str, function: &str) -> SymbolIx {
        let usr = result_usr(function_usr);
        if let Some(i) = self.sink.known(&usr) {
            return i;
        }
        self.sink.add_symbol(NewSymbol {
            usr,
            name: "return".to_owned(),
            scope: Some(function.to_owned()),
            kind: Kind::Result,
            linkage: Linkage::None,
        })
    }

    /// The symbol of parameter `index` of the function with USR `function_usr`: one
    /// symbol whichever declaration of the function names it.
    pub(super) fn parameter(
        &mut self,
        function_usr: &str,
        function: &str,
        index: usize,
        name: String,
    ) -> SymbolIx {
        let usr = format!("{function_usr}#{index}");
        if let Some(i) = self.sink.known(&usr) {
            if self.sink.facts[i].name.starts_with('#') && !name.is_empty() {
                self.sink.facts[i].name = name;
            }
            return i;
        }
        let name = if name.is_empty() {
            format!("#{index}")
        } else {
            name
        };
        self.sink.add_symbol(NewSymbol {
            usr,
            name,
            scope: Some(function.to_owned()),
            kind: Kind::Parameter,
            linkage: Linkage::None,
        })
    }

    /// The pointer symbol a declaration stands for: a global or local variable, a
    /// member, or a parameter of the function being walked.
    pub(super) fn variable_target(
        &mut self,
        v: Cursor<'tu>,
        body: Option<&Body>,
    ) -> Option<SymbolIx> {
        match v.kind() {
            kind::VAR_DECL if is_global_variable(v) => self.symbol(v, Kind::Variable, None),
            kind::VAR_DECL => {
                // A function's own variable: named after the function, defined where it
                // is declared.
                let s = self.symbol(v, Kind::Variable, body.map(|b| b.name.clone()))?;
                self.define(v, s, true, false);
                Some(s)
            }
            kind::PARM_DECL => {
                let b = body?;
                let &i = b.params.get(&v.usr())?;
                let name = v.spelling();
                let s = self.parameter(&b.usr, &b.name, i, name.clone());
                self.pasted.note(v, s, &name);
                Some(s)
            }
            kind::FIELD_DECL => self.field_symbol(v),
            _ => None,
        }
    }
}

/// The name a field's container goes by: the nearest named struct or union, or the
/// typedef of an anonymous one.
pub(super) fn scope_name(record: Cursor<'_>) -> String {
    let mut cur = Some(record);
    while let Some(r) = cur {
        if !matches!(r.kind(), kind::STRUCT_DECL | kind::UNION_DECL) {
            break;
        }
        if super::expr::is_named_record(r) {
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

/// The USR of what the function with USR `function_usr` returns.
pub(super) fn result_usr(function_usr: &str) -> String {
    format!("{function_usr}#return")
}
