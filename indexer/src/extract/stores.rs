//! What is stored into pointers: functions and other pointers put into members,
//! variables and parameters by initializers (designated, positional, nested, arrays of
//! structs, compound literals), assignments and call arguments.

use schema::{NewStore, SymbolIx};

use super::expr::{same, unwrap_expr};
use super::{Body, Extractor, Holder};
use crate::clang::{kind, Cursor, Operator};

impl<'tu> Extractor<'tu, '_> {
    /// `lhs = rhs` in `body`: only an assignment of functions (or pointers to them) or
    /// of a braced list stores.
    pub(super) fn assignment(&mut self, lhs: Cursor<'tu>, rhs: Cursor<'tu>, body: &Body) {
        let mut values = Vec::new();
        self.function_values(rhs, Some(body), &mut values);
        if !values.is_empty() || unwrap_expr(rhs).kind() == kind::INIT_LIST_EXPR {
            if let Some(target) = self.pointer_target(lhs, Some(body)) {
                self.initializer(Some(target), rhs, Some(body), body.holder());
            }
        }
    }

    /// The arguments of a call of `function` (symbol `s`): a function passed is stored
    /// into the parameter.
    pub(super) fn arguments(
        &mut self,
        call: Cursor<'tu>,
        function: Cursor<'tu>,
        s: SymbolIx,
        body: &Body,
    ) {
        let usr = self.sink.facts[s].usr.clone();
        let name = self.sink.facts[s].name.clone();
        let params = function.arguments();
        // Arguments past the declared parameters (`printk("%ps", f)`) are not stored
        // anywhere a call can go through.
        for (i, arg) in call.arguments().into_iter().enumerate().take(params.len()) {
            let mut values = Vec::new();
            self.function_values(arg, Some(body), &mut values);
            if values.is_empty() {
                continue;
            }
            let pname = params[i].spelling();
            let param = self.parameter(&usr, &name, i, pname);
            self.store_values(param, arg, Some(body), body.holder());
        }
    }

    /// What the left side of an assignment names as a place to store a pointer: a
    /// member, a variable or a parameter (an element of an array stands for the array).
    pub(super) fn pointer_target(
        &mut self,
        lhs: Cursor<'tu>,
        body: Option<&Body>,
    ) -> Option<SymbolIx> {
        let e = unwrap_expr(lhs);
        match e.kind() {
            kind::MEMBER_REF_EXPR | kind::DECL_REF_EXPR => {
                let d = e.referenced()?;
                self.variable_target(d, body)
            }
            kind::ARRAY_SUBSCRIPT_EXPR => {
                let base = e.children().into_iter().next()?;
                self.pointer_target(base, body)
            }
            // `*&x` (WRITE_ONCE(x, v) writes through a cast of `&x`).
            kind::UNARY_OPERATOR if e.operator() == Operator::Deref => {
                let inner = unwrap_expr(e.children().into_iter().next()?);
                if inner.kind() == kind::UNARY_OPERATOR && inner.operator() == Operator::AddrOf {
                    self.pointer_target(inner.children().into_iter().next()?, body)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The functions and function pointers an expression can evaluate to: a function
    /// (`f`, `&f`, `(cast)f`), a pointer that holds functions (a member, variable or
    /// parameter), and both arms of `c ? a : b`.
    fn function_values(
        &mut self,
        e: Cursor<'tu>,
        body: Option<&Body>,
        out: &mut Vec<(SymbolIx, Cursor<'tu>)>,
    ) {
        let e = unwrap_expr(e);
        match e.kind() {
            kind::CONDITIONAL_OPERATOR => {
                let kids = e.children();
                for k in kids.iter().skip(1) {
                    self.function_values(*k, body, out);
                }
            }
            kind::UNARY_OPERATOR if e.operator() == Operator::AddrOf => {
                if let Some(k) = e.children().into_iter().next() {
                    self.function_values(k, body, out);
                }
            }
            // `*&p` (READ_ONCE(p)), and an element of an array of pointers: the
            // pointer or array it reads is copied.
            kind::UNARY_OPERATOR | kind::ARRAY_SUBSCRIPT_EXPR
                if e.ty().holds_function_pointer() =>
            {
                if let Some(p) = self.pointer_target(e, body) {
                    out.push((p, e));
                }
            }
            // `a ?: b` and other forms libclang does not expose: every operand.
            kind::UNEXPOSED_EXPR => {
                for k in e.children() {
                    if kind::is_expression(k.kind()) {
                        self.function_values(k, body, out);
                    }
                }
            }
            kind::DECL_REF_EXPR | kind::MEMBER_REF_EXPR => {
                let Some(d) = e.referenced() else { return };
                if d.kind() == kind::FUNCTION_DECL {
                    if let Some(s) = self.function_ref(d) {
                        out.push((s, e));
                    }
                } else if d.ty().holds_function_pointer() {
                    if let Some(s) = self.variable_target(d, body) {
                        out.push((s, e));
                    }
                }
            }
            _ => {}
        }
    }

    /// Records what `value` stores into `target`, written in `at`.
    fn store_values(
        &mut self,
        target: SymbolIx,
        value: Cursor<'tu>,
        body: Option<&Body>,
        at: Holder,
    ) {
        // Code this configuration never runs stores nothing.
        if self.dead > 0 {
            return;
        }
        let mut values = Vec::new();
        self.function_values(value, body, &mut values);
        for (v, e) in values {
            if v == target {
                continue;
            }
            let name = self.sink.facts[v].name.clone();
            let Some(p) = self.place(e.location(), &name) else {
                continue;
            };
            self.sink.add(NewStore {
                target,
                value: v,
                file: p.file,
                line: p.line,
                col: p.col,
                macro_name: p.macro_name,
                within: at.within,
                owner: at.owner,
            });
        }
    }

    /// The initializer `init` of a variable or member `target` (none for a compound
    /// literal in an expression): a scalar stores into the target itself; a braced
    /// list stores into the members it names (designated, positional, nested, arrays
    /// of structs, compound literals).
    pub(super) fn initializer(
        &mut self,
        target: Option<SymbolIx>,
        init: Cursor<'tu>,
        body: Option<&Body>,
        at: Holder,
    ) {
        let mut e = unwrap_expr(init);
        // `&(struct ops){ .fn = f }`
        if e.kind() == kind::UNARY_OPERATOR && e.operator() == Operator::AddrOf {
            if let Some(inner) = e.children().first().map(|k| unwrap_expr(*k)) {
                if inner.kind() == kind::INIT_LIST_EXPR {
                    e = inner;
                }
            }
        }
        if e.kind() != kind::INIT_LIST_EXPR {
            if let Some(t) = target {
                self.store_values(t, e, body, at);
            }
            return;
        }
        let ty = e.ty();
        let fields: Vec<Cursor<'tu>> = if ty.is_record() {
            // Unnamed bit-fields take no initializer.
            ty.fields()
                .into_iter()
                .filter(|x| !(x.is_bit_field() && x.spelling().is_empty()))
                .collect()
        } else {
            Vec::new()
        };
        let mut next = 0;
        for item in e.children() {
            let parts = item.children();
            let designated = item.kind() == kind::UNEXPOSED_EXPR && parts.len() > 1;
            let (slot, value) = if designated {
                // `.a = v`, `.a.b = v`, `[i] = v`, `[i].a = v`, `.a[i].b = v`: the
                // last member named is where the value goes.
                let members: Vec<Cursor<'tu>> = parts
                    .iter()
                    .copied()
                    .filter(|p| p.kind() == kind::MEMBER_REF)
                    .collect();
                if let Some(first) = members.first().and_then(|m| m.referenced()) {
                    if let Some(pos) = fields.iter().position(|x| same(x, &first)) {
                        next = pos + 1;
                    }
                }
                let Some(value) = parts.last().copied() else {
                    continue;
                };
                let slot = match members.last().and_then(|m| m.referenced()) {
                    Some(field) => self.field_symbol(field),
                    None => target,
                };
                (slot, value)
            } else if ty.is_record() {
                let field = fields.get(next).copied();
                next += 1;
                (field.and_then(|x| self.field_symbol(x)), item)
            } else {
                // An element of an array: stored into the array itself.
                (target, item)
            };
            self.initializer(slot, value, body, at);
        }
    }
}
