//! Reading facts out of a parsed translation unit.
//!
//! - `macros`: where each macro expansion is written, to name the macro a fact came
//!   out of;
//! - `sink`: the unit's facts as they are found, files and symbols interned, each
//!   fact once;
//! - `symbols`: symbols and their USRs, and the symbols that stand for pointers;
//! - `decls`: declarations at file scope;
//! - `body`: function bodies: calls and uses;
//! - `dead`: code this configuration never runs, whose calls are recorded as dead;
//! - `stores`: what initializers, assignments and arguments store into pointers;
//! - `expr`: looking through what wraps an expression.
//!
//! Two passes over the unit: the preprocessing record first (macro expansions and
//! definitions), so that every declaration and call can be told which macro it came
//! out of; then the declarations.

mod body;
mod dead;
mod decls;
mod expr;
mod macros;
mod sink;
mod stores;
mod symbols;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use schema::{FileIx, SymbolIx, TuFacts, TuStatus};

use crate::clang::{kind, Severity, TranslationUnit, Visit};
use crate::paths::PathMapper;

/// The facts of one translation unit and how well it parsed.
pub struct Extraction {
    pub facts: TuFacts,
    pub status: TuStatus,
    pub reason: Option<String>,
}

/// The walk over one translation unit.
struct Extractor<'tu, 'p> {
    sink: sink::Sink<'tu, 'p>,
    macros: macros::MacroIndex<'tu>,
    /// Functions and variables this unit refers to without defining them, whose
    /// declaration is recorded.
    declared: HashSet<SymbolIx>,
    /// Variables whose tentative definition (`int x;`) is recorded.
    tentative: HashSet<SymbolIx>,
    /// Above 0 while the walk is in code this configuration never runs (an arm a
    /// constant condition never takes, `_Generic`'s other associations): the calls
    /// found there are recorded as dead.
    dead: u32,
}

/// The function whose body is being walked (or the file-scope variable whose
/// initializer is: what it refers to is used by that variable).
struct Body {
    sym: SymbolIx,
    /// The file holding the body: its calls and uses belong to it.
    owner: FileIx,
    usr: String,
    name: String,
    /// USR of each parameter -> its position.
    params: HashMap<String, usize>,
}

/// Where a store is written: in the body of a function or the initializer of a
/// variable (`within`), in a file (`owner`, which the fact belongs to).
#[derive(Clone, Copy)]
struct Holder {
    within: SymbolIx,
    owner: FileIx,
}

impl Body {
    fn holder(&self) -> Holder {
        Holder {
            within: self.sym,
            owner: self.owner,
        }
    }
}

/// Extracts every fact of `tu`. `main` is the path of its source file as given to the
/// compiler.
pub fn extract(
    tu: &TranslationUnit<'_>,
    main: &std::ffi::OsStr,
    paths: &mut PathMapper,
) -> Extraction {
    let mut x = Extractor {
        sink: sink::Sink::new(paths, main),
        macros: macros::MacroIndex::default(),
        declared: HashSet::new(),
        tentative: HashSet::new(),
        dead: 0,
    };
    let root = tu.cursor();
    root.visit_children(|c| {
        match c.kind() {
            kind::MACRO_EXPANSION => x.macros.expansion(c),
            kind::MACRO_DEFINITION => x.macro_definition(c),
            _ => {}
        }
        Visit::Continue
    });
    root.visit_children(|c| {
        x.top_level(c);
        Visit::Continue
    });
    let mut facts = x.sink.facts;

    // A variable used before its tentative definition (`int x;` further down) looked
    // undefined when it was met: it is not.
    let defined: HashSet<SymbolIx> = facts
        .definitions
        .iter()
        .filter(|d| d.definition)
        .map(|d| d.symbol)
        .collect();
    facts
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
        facts,
        status,
        reason,
    }
}
