//! Looking through what wraps an expression, and the names that are not calls.

use crate::clang::{kind, Cursor};

/// A variable that lives for the whole program and is named at file scope.
pub(super) fn is_global_variable(v: Cursor<'_>) -> bool {
    v.kind() == kind::VAR_DECL
        && v.semantic_parent()
            .is_some_and(|p| p.kind() == kind::TRANSLATION_UNIT)
}

/// An expression without the parentheses, casts, implicit conversions and statement
/// expressions around it (`({ ...; v; })` is `v`; a compound literal is its list).
pub(super) fn unwrap_expr(mut e: Cursor<'_>) -> Cursor<'_> {
    loop {
        let kids: Vec<_> = e
            .children()
            .into_iter()
            .filter(|k| kind::is_expression(k.kind()))
            .collect();
        e = match (e.kind(), kids.as_slice()) {
            (kind::PAREN_EXPR | kind::UNEXPOSED_EXPR | kind::COMPOUND_LITERAL_EXPR, [one]) => *one,
            // The operand comes last, after any `typeof(...)` in the type.
            (kind::CSTYLE_CAST_EXPR, [.., operand]) => *operand,
            // `_Generic(x, T1: a, T2: b)`: the association of the selection's own type.
            (kind::GENERIC_SELECTION_EXPR, [controlling, associations @ ..]) => {
                match super::dead::selected_association(e, *controlling, associations) {
                    Some(i) => associations[i],
                    None => return e,
                }
            }
            (kind::STMT_EXPR, _) => {
                let body = e
                    .children()
                    .into_iter()
                    .find(|k| k.kind() == kind::COMPOUND_STMT);
                match body.and_then(|b| b.children().last().copied()) {
                    Some(last) if kind::is_expression(last.kind()) => last,
                    _ => return e,
                }
            }
            _ => return e,
        };
    }
}

/// An expression without the parentheses and casts around it (and nothing more: what
/// a statement expression runs before its value matters to a walk).
pub(super) fn strip_casts(mut e: Cursor<'_>) -> Cursor<'_> {
    while matches!(
        e.kind(),
        kind::PAREN_EXPR | kind::UNEXPOSED_EXPR | kind::CSTYLE_CAST_EXPR
    ) {
        match e.children().last() {
            Some(k) if kind::is_expression(k.kind()) => e = *k,
            _ => break,
        }
    }
    e
}

/// Builtins whose arguments are never evaluated.
pub(super) const UNEVALUATED_BUILTINS: &[&str] = &[
    "__builtin_constant_p",
    "__builtin_object_size",
    "__builtin_dynamic_object_size",
];

/// Whether two cursors name the same declaration.
pub(super) fn same(a: &Cursor<'_>, b: &Cursor<'_>) -> bool {
    a.usr() == b.usr() && a.spelling() == b.spelling()
}

/// Whether a struct, union or enum has a tag of its own. clang spells an anonymous
/// one after its typedef (`typedef struct { ... } atomic_t;`), but its USR tells
/// (`c:@SA@atomic_t`, `c:@S@page@Ua`, `c:file.h@123@S@...`).
pub(super) fn is_named_record(c: Cursor<'_>) -> bool {
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
pub(super) fn not_a_call(name: &str) -> bool {
    let sync_builtin = name.starts_with("__sync_")
        && (name.contains("fetch")
            || name.contains("compare_and_swap")
            || name.starts_with("__sync_lock_")
            || name == "__sync_synchronize");
    sync_builtin
        || [
            "__builtin_",
            "__atomic_",
            "__c11_atomic_",
            "__compiletime_assert_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}
