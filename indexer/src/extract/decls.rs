//! Declarations at file scope: functions (whose bodies [`super::body`] walks),
//! variables and their initializers, structs, unions, enums, typedefs, fields,
//! enumerators, and macros.

use rustc_hash::FxHashMap as HashMap;

use schema::{Access, Kind};

use super::expr::is_named_record;
use super::symbols::scope_name;
use super::{Body, Extractor, Holder};
use crate::clang::{kind, Cursor, Visit};

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
        let body = Body {
            sym,
            owner,
            usr: self.sink.facts[sym].usr.clone(),
            name: self.sink.facts[sym].name.clone(),
            params,
        };
        // Parameters that hold functions are pointers like any other: name them where
        // the definition does.
        for (i, p) in c.arguments().into_iter().enumerate() {
            if p.ty().holds_function_pointer() {
                let s = self.parameter(&body.usr, &body.name, i, p.spelling());
                self.define(p, s, true, false);
            }
        }
        self.walk_children(c, &body, Access::Read);
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
