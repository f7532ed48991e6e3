//! What is stored into pointers: functions and other pointers put into members,
//! variables and parameters by initializers (designated, positional, nested, arrays of
//! structs, compound literals), assignments and call arguments.

use schema::{Kind, Linkage, NewStore, SymbolIx};

use super::expr::{same, unwrap_expr};
use super::symbols::result_usr;
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
    /// member, a variable or a parameter (an element of an array stands for the array,
    /// `*out` for `out`: a pointer to where functions are held stands for that place).
    /// Read as a value, a call of a function that returns functions names its result.
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
            // `*&x` (WRITE_ONCE(x, v) writes through a cast of `&x`); `*out = f`
            // writes where `out` points: `out` stands for it.
            kind::UNARY_OPERATOR if e.operator() == Operator::Deref => {
                let inner = unwrap_expr(e.children().into_iter().next()?);
                if inner.kind() == kind::UNARY_OPERATOR && inner.operator() == Operator::AddrOf {
                    self.pointer_target(inner.children().into_iter().next()?, body)
                } else if inner.ty().reaches_function() {
                    self.pointer_target(inner, body)
                } else {
                    None
                }
            }
            // `t + i`: where the pointer side points.
            kind::BINARY_OPERATOR if e.operator() != Operator::Assign => {
                let side = e
                    .children()
                    .into_iter()
                    .find(|k| k.ty().reaches_function())?;
                self.pointer_target(side, body)
            }
            // `pick()`: what `pick` returns.
            kind::CALL_EXPR => {
                let f = e.referenced().filter(|d| d.kind() == kind::FUNCTION_DECL)?;
                let s = self.function_ref(f)?;
                let usr = self.sink.facts[s].usr.clone();
                let name = self.sink.facts[s].name.clone();
                Some(self.result(&usr, &name))
            }
            _ => None,
        }
    }

    /// `return value;` in `body`, a function that returns functions: stored into its
    /// result, unless the function is a static one of the unit's own file whose result
    /// nothing has read yet; that waits for the end of the walk
    /// ([`Extractor::results_read`]).
    pub(super) fn returned(&mut self, value: Cursor<'tu>, body: &Body) {
        if self.dead > 0 {
            return;
        }
        let mut values = Vec::new();
        self.function_values(value, Some(body), &mut values);
        // `return NULL` gives the result no symbol.
        if values.is_empty() {
            return;
        }
        let private = body.owner == self.sink.main_file()
            && self.sink.facts[body.sym].linkage == Linkage::Internal;
        if private && self.sink.known(&result_usr(&body.usr)).is_none() {
            self.pending_results.push((body.clone(), value));
            return;
        }
        let r = self.result(&body.usr, &body.name);
        self.store(r, value, values, body.holder());
    }

    /// The `return` statements held back by [`Extractor::returned`] whose result the
    /// unit read after all; the others record nothing.
    pub(super) fn results_read(&mut self) {
        for (body, value) in std::mem::take(&mut self.pending_results) {
            if let Some(r) = self.sink.known(&result_usr(&body.usr)) {
                self.store_values(r, value, Some(&body), body.holder());
                self.define_result(body.sym, r);
            }
        }
    }

    /// The functions and function pointers an expression can evaluate to: a function
    /// (`f`, `&f`, `(cast)f`), a pointer that holds functions (a member, variable or
    /// parameter, or where one points), the result of a function that returns them
    /// (`pick()`), and both arms of `c ? a : b`.
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
            kind::UNARY_OPERATOR | kind::ARRAY_SUBSCRIPT_EXPR | kind::CALL_EXPR
                if e.ty().reaches_function() =>
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
                } else if d.ty().reaches_function() {
                    if let Some(s) = self.variable_target(d, body) {
                        out.push((s, e));
                    }
                }
            }
            _ => {}
        }
    }

    /// Records what `value` stores into `target`, written in `at`.
    ///
    /// A function cast to another type as it is stored into a member of a union
    /// (`u.data = (void *)f`) is there to be read through another member: it is
    /// stored into the union's other members that hold functions too. (Stored as its
    /// own type, `.proc_show = f` in a table of `union proc_op`, the member written is
    /// the one read: each of the kernel's 200 LSM hooks is a member of one union.)
    ///
    /// The address of a function's own pointer variable stored as a pointer to where
    /// functions are held (`get(&p)` into a `fn_t *out`) is a way to write `p`: `p`
    /// takes what the target holds, both ways. Not a member's or a global's address:
    /// the target, one for every caller, would join them all (`&sk->sk_data_ready`
    /// and `&sk->sk_state_change` passed to one helper); nor an address stored as
    /// an integer or a `void *`.
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
        self.store(target, value, values, at);
    }

    /// Records that `value`, evaluating to `values`, is stored into `target` (the rules
    /// of [`Extractor::store_values`]).
    fn store(
        &mut self,
        target: SymbolIx,
        value: Cursor<'tu>,
        values: Vec<(SymbolIx, Cursor<'tu>)>,
        at: Holder,
    ) {
        let address = by_address(value) && value.ty().reaches_function();
        let mut targets = vec![target];
        if punned(value) {
            targets.extend(self.union_siblings(target));
        }
        for (v, e) in values {
            let name = self.sink.facts[v].name.clone();
            let Some(p) = self.place(e.location(), &name) else {
                continue;
            };
            let mut pairs: Vec<(SymbolIx, SymbolIx)> = targets.iter().map(|&t| (t, v)).collect();
            let local = &self.sink.facts[v];
            if address && local.kind == Kind::Variable && local.scope.is_some() {
                pairs.push((v, target));
            }
            for (target, value) in pairs {
                if target == value {
                    continue;
                }
                self.sink.add(NewStore {
                    target,
                    value,
                    file: p.file,
                    line: p.line,
                    col: p.col,
                    macro_name: p.macro_name.clone(),
                    within: at.within,
                    owner: at.owner,
                });
            }
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
                // As written, with its conversion to the target's type.
                self.store_values(t, init, body, at);
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

/// Whether `value` is the address of what it names (`&p`, `&ops->fn`, `&table[i]`),
/// not of a function.
fn by_address(value: Cursor<'_>) -> bool {
    let e = unwrap_expr(value);
    e.kind() == kind::UNARY_OPERATOR
        && e.operator() == Operator::AddrOf
        && e.children().first().is_some_and(|k| {
            let k = unwrap_expr(*k);
            !(k.kind() == kind::DECL_REF_EXPR
                && k.referenced()
                    .is_some_and(|d| d.kind() == kind::FUNCTION_DECL))
        })
}

/// Whether `value` is written with a cast to a type that is not a pointer to functions
/// (`(void *)f`, `(unsigned long)f`): a function stored as something else.
fn punned(value: Cursor<'_>) -> bool {
    let mut e = value;
    loop {
        match e.kind() {
            kind::CSTYLE_CAST_EXPR if !e.ty().reaches_function() => return true,
            kind::PAREN_EXPR | kind::UNEXPOSED_EXPR | kind::CSTYLE_CAST_EXPR => {
                match e.children().last() {
                    Some(k) if kind::is_expression(k.kind()) => e = *k,
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
}
