//! Code this configuration never runs: the arms a constant condition never takes
//! (`if`, `?:`, `&&`, `||`, `switch`) and the associations `_Generic` does not select.
//! The calls the walk finds there are recorded as dead (`schema::NewCall::dead`).

use schema::Access;

use super::{Body, Extractor};
use crate::clang::{kind, Cursor, Visit};

impl<'tu> Extractor<'tu, '_> {
    /// `if (c) a; else b;` and `c ? a : b`: an arm a constant condition never takes is
    /// walked as dead.
    pub(super) fn branches(&mut self, n: Cursor<'tu>, body: &Body) {
        let kids = n.children();
        let arms_wanted = if n.kind() == kind::IF_STMT {
            1..=2
        } else {
            2..=2
        };
        let (cond, arms) = match kids.as_slice() {
            [cond, arms @ ..] if arms_wanted.contains(&arms.len()) => (*cond, arms),
            _ => return self.walk_children(n, body, Access::Read),
        };
        self.walk(cond, body, Access::Read);
        let taken = constant_condition(cond);
        for (i, arm) in arms.iter().enumerate() {
            // `if (0) { err: kfree(p); }`: a `goto` enters the arm all the same.
            let skipped = taken.is_some_and(|t| t != (i == 0)) && !has_label(*arm);
            self.walk_dead_if(skipped, *arm, body, Access::Read);
        }
    }

    /// `switch (sizeof(*ptr)) { case 1: ...; default: __xchg_wrong_size(); }`: with a
    /// constant value, the statements no label it matches reaches (by falling through
    /// until a `break`, `return`, `goto` or `continue`) are walked as dead. Anything
    /// less plain — a label that is not a `case` at the top of the body, a case value
    /// that does not fold — walks the whole body as live.
    pub(super) fn switch(&mut self, n: Cursor<'tu>, body: &Body) {
        let kids = n.children();
        let (cond, stmts) = match kids.as_slice() {
            [cond, block] if block.kind() == kind::COMPOUND_STMT => (*cond, block.children()),
            _ => return self.walk_children(n, body, Access::Read),
        };
        self.walk(cond, body, Access::Read);
        let arms = constant_condition_value(cond).and_then(|v| switch_arms(&stmts, v));
        let Some(arms) = arms else {
            for s in stmts {
                self.walk(s, body, Access::Read);
            }
            return;
        };
        for (s, live) in arms {
            self.walk_dead_if(!live, s, body, Access::Read);
        }
    }

    /// Walks `n`, as dead when `dead`.
    pub(super) fn walk_dead_if(&mut self, dead: bool, n: Cursor<'tu>, body: &Body, access: Access) {
        self.dead += u32::from(dead);
        self.walk(n, body, access);
        self.dead -= u32::from(dead);
    }

    /// For `n`, an expression libclang does not expose, with three operands: when it
    /// is `__builtin_choose_expr(cond, a, b)` (its text says so, in the macro that
    /// wrote it if one did) and `cond` a constant, whether it picks `a`.
    pub(super) fn choose_expr(&mut self, n: Cursor<'tu>, cond: Cursor<'tu>) -> Option<bool> {
        let (file, at) = n.spelled_start()?;
        // The unit's texts when the caller has them; else each file asked about, once.
        let text = match self.sources.get(&file) {
            Some(text) => *text,
            None => self
                .texts
                .entry(file)
                .or_insert_with(|| n.file_text(file))
                .as_deref()?,
        };
        if !text
            .get(at as usize..)?
            .starts_with(b"__builtin_choose_expr")
        {
            return None;
        }
        constant_condition(cond)
    }
}

/// Whether a condition is constant, and which way: folded by clang to an integer,
/// and without `__builtin_constant_p`, which gcc decides only after inlining (clang
/// before), so that a call the compiler emits is never taken for dead.
pub(super) fn constant_condition(cond: Cursor<'_>) -> Option<bool> {
    constant_condition_value(cond).map(|v| v != 0)
}

/// The integer a condition folds to, as [`constant_condition`] takes it.
fn constant_condition_value(cond: Cursor<'_>) -> Option<i64> {
    let value = cond.evaluate_int()?;
    (!mentions(cond, "__builtin_constant_p")).then_some(value)
}

/// The statements of a switch body whose value is `value`, each without its labels
/// and with whether it runs; `None` when the body is not plain enough to tell.
fn switch_arms<'tu>(stmts: &[Cursor<'tu>], value: i64) -> Option<Vec<(Cursor<'tu>, bool)>> {
    // The labels of each top-level statement, and the statement under them.
    let mut labelled = Vec::new();
    let mut any_case_matches = false;
    for &s in stmts {
        let mut labels = Vec::new();
        let mut stmt = s;
        loop {
            match stmt.kind() {
                kind::CASE_STMT => {
                    let kids = stmt.children();
                    // `case 1:` or GNU's `case 1 ... 3:`, then the statement.
                    let (values, under) = kids.split_at(kids.len().checked_sub(1)?);
                    let bounds: Vec<i64> = values
                        .iter()
                        .map(|v| v.evaluate_int())
                        .collect::<Option<_>>()?;
                    let hit = match bounds.as_slice() {
                        [one] => *one == value,
                        [lo, hi] => (*lo..=*hi).contains(&value),
                        _ => return None,
                    };
                    any_case_matches |= hit;
                    labels.push(Some(hit));
                    stmt = under[0];
                }
                kind::DEFAULT_STMT => {
                    labels.push(None);
                    stmt = *stmt.children().last()?;
                }
                kind::LABEL_STMT => return None,
                _ => break,
            }
        }
        // A label deeper down (Duff's device, a `goto` target) could enter anywhere.
        if has_label(stmt) {
            return None;
        }
        labelled.push((labels, stmt));
    }
    let mut live = false;
    let mut out = Vec::new();
    for (labels, stmt) in labelled {
        if labels.iter().any(|l| l.unwrap_or(!any_case_matches)) {
            live = true;
        }
        out.push((stmt, live));
        if matches!(
            stmt.kind(),
            kind::BREAK_STMT | kind::RETURN_STMT | kind::GOTO_STMT | kind::CONTINUE_STMT
        ) {
            live = false;
        }
    }
    Some(out)
}

/// Whether a statement holds a label of its switch or of a `goto` (not counting the
/// labels of a switch inside it).
fn has_label(s: Cursor<'_>) -> bool {
    match s.kind() {
        kind::CASE_STMT | kind::DEFAULT_STMT | kind::LABEL_STMT => return true,
        kind::SWITCH_STMT => return false,
        _ => {}
    }
    let mut found = false;
    s.visit_children(|c| match c.kind() {
        kind::CASE_STMT | kind::DEFAULT_STMT | kind::LABEL_STMT => {
            found = true;
            Visit::Break
        }
        kind::SWITCH_STMT => Visit::Continue,
        _ => Visit::Recurse,
    });
    found
}

/// Whether `e` or an expression in it calls the function `name` (one visit of the
/// whole tree, which for the kernel's conditions is often thousands of cursors).
fn mentions(e: Cursor<'_>, name: &str) -> bool {
    let calls = |c: Cursor<'_>| {
        c.kind() == kind::CALL_EXPR && c.referenced().is_some_and(|t| t.spelling() == name)
    };
    if calls(e) {
        return true;
    }
    let mut found = false;
    e.visit_children(|c| {
        if calls(c) {
            found = true;
            Visit::Break
        } else {
            Visit::Recurse
        }
    });
    found
}

/// The association `_Generic` selects, by position among `associations`: the one of
/// the selection's own type, when only one has it; when several have it (the kernel's
/// `kmem_cache_create()` picks among functions of one type by the type of its third
/// argument), the one whose type name, as written, is the controlling expression's
/// type, else the `default` one among them.
pub(super) fn selected_association(
    selection: Cursor<'_>,
    controlling: Cursor<'_>,
    associations: &[Cursor<'_>],
) -> Option<usize> {
    let want = selection.ty().canonical_spelling();
    let same: Vec<usize> = (0..associations.len())
        .filter(|&i| associations[i].ty().canonical_spelling() == want)
        .collect();
    match same.as_slice() {
        [] => return None,
        [one] => return Some(*one),
        _ => {}
    }
    let ty = controlling.ty();
    let wanted = [ty.spelling(), ty.canonical_spelling()].map(|t| squeeze(&t));
    let mut default = None;
    let mut named = Vec::new();
    for &i in &same {
        let before = if i == 0 {
            controlling
        } else {
            associations[i - 1]
        };
        let label = type_name_before(before, associations[i])?;
        if label == "default" {
            default = Some(i);
        } else if wanted.contains(&label) {
            named.push(i);
        }
    }
    match named.as_slice() {
        [one] => Some(*one),
        [] => default,
        _ => None,
    }
}

/// The type name written before association `a` of a `_Generic` (after `before`, the
/// controlling expression or the association before it), without its spaces:
/// `structkmem_cache_args*`, `default`. Read from the file that spells them, the
/// macro's definition when a macro wrote the `_Generic` (where libclang knows only
/// where each expression starts).
fn type_name_before(before: Cursor<'_>, a: Cursor<'_>) -> Option<String> {
    let (file, end) = before.spelled_start()?;
    let (file_a, start) = a.spelled_start()?;
    if file != file_a || end > start {
        return None;
    }
    let text = a.file_text(file)?;
    let between = std::str::from_utf8(text.get(end as usize..start as usize)?).ok()?;
    // After the last comma outside parentheses, up to the colon.
    let mut depth = 0i32;
    let mut from = None;
    for (i, c) in between.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => depth -= 1,
            ',' if depth == 0 => {
                from = Some(i + 1);
                break;
            }
            _ => {}
        }
    }
    let label = between[from?..].trim().strip_suffix(':')?;
    Some(squeeze(label))
}

/// `s` without whitespace (nor a macro definition's line continuations): type names
/// compared as written.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\\')
        .collect()
}
