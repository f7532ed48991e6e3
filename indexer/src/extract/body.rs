//! A function's body: the calls it makes (direct, and through members, variables and
//! parameters) and the globals and members it reads, writes or takes the address of.

use schema::{Access, Kind, NewCall, NewUse, SymbolIx};

use super::dead::{constant_condition, selected_association};
use super::expr::{is_global_variable, strip_casts, unwrap_expr, UNEVALUATED_BUILTINS};
use super::{Body, Extractor};
use crate::clang::{kind, Cursor, Operator};

impl<'tu> Extractor<'tu, '_> {
    pub(super) fn walk_children(&mut self, c: Cursor<'tu>, body: &Body, access: Access) {
        for n in c.children() {
            self.walk(n, body, access);
        }
    }

    /// Walks an expression or statement of `body`; `access` is how the value of `n`
    /// is used (written when it is the left side of an assignment, ...).
    pub(super) fn walk(&mut self, n: Cursor<'tu>, body: &Body, access: Access) {
        match n.kind() {
            kind::CALL_EXPR => {
                let kids = n.children();
                let callee = kids.first().copied();
                let direct = callee.is_some_and(names_function);
                self.call(n, callee, direct, body);
                // `__builtin_constant_p(f())` never runs its argument.
                let unevaluated = n
                    .referenced()
                    .is_some_and(|t| UNEVALUATED_BUILTINS.contains(&t.spelling().as_str()));
                if !unevaluated {
                    // The function a direct call names is called, not referred to.
                    for k in kids.into_iter().skip(usize::from(direct)) {
                        self.walk(k, body, Access::Read);
                    }
                }
            }
            kind::DECL_REF_EXPR => {
                // A function named but not called (`work->func == f`, `cb(f)`): its
                // address is taken.
                if let Some(fun) = n.referenced().filter(|d| d.kind() == kind::FUNCTION_DECL) {
                    if let Some(s) = self.function_ref(fun) {
                        self.use_of(s, n, body, Access::Addr);
                    }
                    return;
                }
                self.variable_reference(n);
                let lives_on = n.referenced().filter(|v| {
                    is_global_variable(*v) || (v.kind() == kind::VAR_DECL && v.is_static())
                });
                if let Some(v) = lives_on {
                    if let Some(s) = self.variable_target(v, Some(body)) {
                        self.use_of(s, n, body, access);
                    }
                }
            }
            kind::MEMBER_REF_EXPR => {
                if let Some(field) = n.referenced().filter(|t| t.kind() == kind::FIELD_DECL) {
                    if let Some(s) = self.field_symbol(field) {
                        self.use_of(s, n, body, access);
                    }
                }
                // `s.x = 1` writes `s` too; `p->x = 1` only reads `p`.
                for base in n.children() {
                    let through_pointer = base.ty().is_pointer();
                    let a = if through_pointer {
                        Access::Read
                    } else {
                        access
                    };
                    self.walk(base, body, a);
                }
            }
            kind::BINARY_OPERATOR if n.operator() == Operator::Assign => {
                let kids = n.children();
                if let [lhs, rhs] = kids.as_slice() {
                    self.walk(*lhs, body, Access::Write);
                    self.walk(*rhs, body, Access::Read);
                    self.assignment(*lhs, *rhs, body);
                } else {
                    self.walk_children(n, body, Access::Read);
                }
            }
            kind::COMPOUND_ASSIGN_OPERATOR => {
                let kids = n.children();
                for (i, k) in kids.into_iter().enumerate() {
                    let a = if i == 0 { Access::Write } else { Access::Read };
                    self.walk(k, body, a);
                }
            }
            kind::UNARY_OPERATOR => {
                let a = match n.operator() {
                    Operator::AddrOf => Access::Addr,
                    Operator::IncDec => Access::Write,
                    Operator::Deref => {
                        // `*&x` is `x` (READ_ONCE, WRITE_ONCE); `*p` reads `p`.
                        let inner = n.children().first().map(|k| strip_casts(*k));
                        if let Some(addr) = inner.filter(|i| {
                            i.kind() == kind::UNARY_OPERATOR && i.operator() == Operator::AddrOf
                        }) {
                            self.walk_children(addr, body, access);
                            return;
                        }
                        Access::Read
                    }
                    _ => Access::Read,
                };
                self.walk_children(n, body, a);
            }
            // Arms a constant condition never takes are dead in this configuration.
            kind::IF_STMT | kind::CONDITIONAL_OPERATOR => self.branches(n, body),
            kind::SWITCH_STMT => self.switch(n, body),
            kind::BINARY_OPERATOR if matches!(n.operator(), Operator::And | Operator::Or) => {
                let kids = n.children();
                if let [lhs, rhs] = kids.as_slice() {
                    self.walk(*lhs, body, Access::Read);
                    let skipped = matches!(
                        (n.operator(), constant_condition(*lhs)),
                        (Operator::And, Some(false)) | (Operator::Or, Some(true))
                    );
                    self.walk_dead_if(skipped, *rhs, body, Access::Read);
                } else {
                    self.walk_children(n, body, Access::Read);
                }
            }
            // `_Generic(x, T1: a, T2: b)` runs only the association of its own type; its
            // controlling expression is never run.
            kind::GENERIC_SELECTION_EXPR => {
                let kids: Vec<_> = n
                    .children()
                    .into_iter()
                    .filter(|k| kind::is_expression(k.kind()))
                    .collect();
                let Some((controlling, associations)) = kids.split_first() else {
                    return;
                };
                self.walk_dead_if(true, *controlling, body, Access::Read);
                let selected = selected_association(n, *controlling, associations);
                for (i, a) in associations.iter().enumerate() {
                    self.walk_dead_if(selected.is_some_and(|s| s != i), *a, body, access);
                }
            }
            // Parentheses and implicit conversions pass the use through.
            kind::PAREN_EXPR => self.walk_children(n, body, access),
            // Implicit conversions pass the use through; `__builtin_choose_expr(c, a,
            // b)` (which libclang does not expose either) runs only the arm its
            // constant picks, and never its condition.
            kind::UNEXPOSED_EXPR => {
                let kids = n.children();
                if let [cond, yes, no] = kids.as_slice() {
                    if let Some(picks_yes) = self.choose_expr(n, *cond) {
                        self.walk_dead_if(true, *cond, body, Access::Read);
                        self.walk_dead_if(!picks_yes, *yes, body, access);
                        self.walk_dead_if(picks_yes, *no, body, access);
                        return;
                    }
                }
                for k in kids {
                    self.walk(k, body, access);
                }
            }
            // A cast runs its operand, not the `typeof(...)` in its type.
            kind::CSTYLE_CAST_EXPR => {
                if let Some(operand) = n.children().last() {
                    self.walk(*operand, body, access);
                }
            }
            kind::ARRAY_SUBSCRIPT_EXPR => {
                // `a[i] = x` writes the array `a`, but not a pointer `p` in `p[i] = x`.
                for (i, k) in n.children().into_iter().enumerate() {
                    let a = if i == 0 && unwrap_expr(k).ty().is_array() {
                        access
                    } else {
                        Access::Read
                    };
                    self.walk(k, body, a);
                }
            }
            // A braced list in an expression (a compound literal): what it stores
            // into the members it names.
            kind::INIT_LIST_EXPR => {
                self.initializer(None, n, Some(body), body.holder());
                self.walk_children(n, body, Access::Read);
            }
            kind::VAR_DECL => {
                self.local_variable(n, body);
            }
            // What a function that returns functions returns is stored into its result.
            kind::RETURN_STMT => {
                if let Some(&value) = n.children().first().filter(|_| body.returns_function) {
                    self.returned(value, body);
                }
                self.walk_children(n, body, Access::Read);
            }
            // `sizeof(f())` and `_Alignof` never run their operand (the kernel's
            // BUILD_BUG_ON_INVALID and VM_BUG_ON under !CONFIG_DEBUG_VM rely on it).
            kind::UNARY_EXPR => {}
            _ => self.walk_children(n, body, Access::Read),
        }
    }

    /// A variable declared in a function body: its initializer is read, and what it
    /// stores into the variable (a function pointer, a struct of them) is recorded.
    fn local_variable(&mut self, v: Cursor<'tu>, body: &Body) {
        if v.ty().holds_function_pointer() {
            // Name the local pointer where it is declared.
            self.variable_target(v, Some(body));
        }
        if let Some(init) = v.initializer() {
            // Only a pointer to functions, or an aggregate that may hold some, can
            // receive a function (`int i = 0` needs no symbol).
            let may_store =
                v.ty().reaches_function() || unwrap_expr(init).kind() == kind::INIT_LIST_EXPR;
            if may_store {
                if let Some(target) = self.variable_target(v, Some(body)) {
                    self.initializer(Some(target), init, Some(body), body.holder());
                }
            }
            self.walk(init, body, Access::Read);
        }
    }

    /// Records that `body` uses `symbol` at `at`.
    fn use_of(&mut self, symbol: SymbolIx, at: Cursor<'tu>, body: &Body, access: Access) {
        // Code this configuration never runs uses nothing (only its calls are kept,
        // marked dead).
        if self.dead > 0 {
            return;
        }
        let name = self.sink.facts[symbol].name.clone();
        let Some(p) = self.place(at.location(), &name) else {
            return;
        };
        self.sink.add(NewUse {
            symbol,
            function: body.sym,
            access,
            file: p.file,
            line: p.line,
            col: p.col,
            macro_name: p.macro_name,
            owner: body.owner,
        });
    }

    /// A global variable that is used but not defined here (`jiffies`, defined by the
    /// linker script): remember where it is declared.
    fn variable_reference(&mut self, r: Cursor<'tu>) {
        let Some(target) = r.referenced() else { return };
        if target.kind() != kind::VAR_DECL
            || target
                .semantic_parent()
                .is_none_or(|p| p.kind() != kind::TRANSLATION_UNIT)
        {
            return;
        }
        let defined = target.definition().is_some();
        if defined && !self.refers.noting() {
            return;
        }
        let Some(s) = self.symbol(target, Kind::Variable, None) else {
            return;
        };
        self.refers.note(s, target);
        if !defined {
            self.declare(target, s);
        }
    }

    /// A call whose callee expression is `callee`; `direct` when that names a function.
    fn call(&mut self, call: Cursor<'tu>, callee: Option<Cursor<'tu>>, direct: bool, body: &Body) {
        // `pick(x)()` calls what `pick` returns, though libclang refers it to `pick`.
        let through_result = !direct
            && callee.is_some_and(|c| {
                let inner = unwrap_expr(c);
                inner.kind() == kind::CALL_EXPR
                    && inner
                        .referenced()
                        .is_some_and(|d| d.kind() == kind::FUNCTION_DECL)
            });
        let Some(target) = call.referenced().filter(|_| !through_result) else {
            // `table[i](x)`, `(*ops->fn)(x)`: a call through the pointer the callee
            // expression reads.
            let Some(callee) = callee else {
                return;
            };
            // `((btf_fn)____fn)(args)` (BPF_CALL_x), `_Generic(x, ...: f)(args)`: a
            // function after all.
            let e = unwrap_expr(callee);
            if e.kind() == kind::DECL_REF_EXPR {
                if let Some(fun) = e.referenced().filter(|d| d.kind() == kind::FUNCTION_DECL) {
                    if let Some(s) = self.function_ref(fun) {
                        // What it is passed is stored into its parameters, as for any
                        // direct call (`kmem_cache_create(..., ctor)` on 6.12).
                        if self.dead == 0 {
                            self.arguments(call, fun, s, body);
                        }
                        self.record_call(call, body, s, false);
                    }
                    return;
                }
            }
            if let Some(s) = self.callee_pointer(callee, body) {
                self.record_call(call, body, s, true);
            }
            return;
        };
        let (callee, indirect) = match target.kind() {
            kind::FUNCTION_DECL => {
                let Some(s) = self.function_ref(target) else {
                    return;
                };
                // A call that never runs passes nothing.
                if self.dead == 0 {
                    self.arguments(call, target, s, body);
                }
                (s, false)
            }
            kind::FIELD_DECL => {
                let Some(s) = self.field_symbol(target) else {
                    return;
                };
                (s, true)
            }
            kind::VAR_DECL | kind::PARM_DECL => {
                let Some(s) = self.variable_target(target, Some(body)) else {
                    return;
                };
                (s, true)
            }
            _ => return,
        };
        self.record_call(call, body, callee, indirect);
    }

    /// The pointer a call goes through when its callee is an expression.
    fn callee_pointer(&mut self, e: Cursor<'tu>, body: &Body) -> Option<SymbolIx> {
        let e = unwrap_expr(e);
        match e.kind() {
            // `(*ops->fn)(x)`, `(*sys_call_table[nr])(...)`: a call through `*p` is
            // one through `p`.
            kind::UNARY_OPERATOR if e.operator() == Operator::Deref => {
                let inner = e.children().into_iter().next()?;
                self.callee_pointer(inner, body)
            }
            _ => self.pointer_target(e, Some(body)),
        }
    }

    fn record_call(&mut self, call: Cursor<'tu>, body: &Body, callee: SymbolIx, indirect: bool) {
        let name = self.sink.facts[callee].name.clone();
        let Some(p) = self.place(call.location(), &name) else {
            return;
        };
        self.sink.add_call(NewCall {
            caller: body.sym,
            callee,
            file: p.file,
            line: p.line,
            col: p.col,
            indirect,
            macro_name: p.macro_name,
            owner: body.owner,
            dead: self.dead > 0,
            alias: false,
            weak: false,
        });
    }
}

/// Whether `callee`, the callee expression of a call, names a function (`f(x)`,
/// `((fn_t)f)(x)`): the call is direct.
fn names_function(callee: Cursor<'_>) -> bool {
    let e = unwrap_expr(callee);
    e.kind() == kind::DECL_REF_EXPR
        && e.referenced()
            .is_some_and(|d| d.kind() == kind::FUNCTION_DECL)
}
