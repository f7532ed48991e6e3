//! Where function-like macros are expanded: in which function, at which place. Each is
//! a use of the macro by the function whose body holds the expansion (access
//! `expand`), so that a macro's references answer "who uses `WARN_ON_ONCE`" for the
//! code that was compiled.
//!
//! Only expansions written in a walked body count: the preprocessing record lists
//! those written in the files (an expansion inside another macro's definition is part
//! of that one), and a header whose facts are taken as recorded brings its own.
//! Object-like macros (`NULL`, `CONFIG_X`, constants) are not recorded.

use schema::{Access, Kind, NewUse};

use super::Extractor;
use crate::clang::{Cursor, FilePos};

impl<'tu> Extractor<'tu, '_> {
    /// Records the expansions among `expansions` (the unit's, from its preprocessing
    /// record, with where each is written) that are inside a body the walk met.
    pub(super) fn expansions_in_bodies(&mut self, expansions: &[(Cursor<'tu>, FilePos<'tu>)]) {
        if self.bodies.is_empty() {
            return;
        }
        // Bodies one macro invocation made (`TRACE_EVENT`'s functions) share their
        // extent, the invocation: of those, the last the file defines holds what its
        // arguments expand (the walk's order, which is the file's whatever else the
        // unit took as recorded; not the order symbols were first met in).
        for v in self.bodies.values_mut() {
            v.sort_by_key(|b| (b.0, b.1));
        }
        for &(e, pos) in expansions {
            let Some(bodies) = self.bodies.get(&pos.file) else {
                continue;
            };
            // The body holding the place: the last that starts before it (bodies do
            // not nest in C). A body a macro wrote (`__se_sys_read`'s) spans that
            // macro's invocation from its first character: that expansion made the
            // body, it is not used inside it.
            let i = bodies.partition_point(|b| b.0 < pos.offset);
            let Some(&(_, end, function, owner)) = i.checked_sub(1).map(|i| &bodies[i]) else {
                continue;
            };
            if pos.offset >= end {
                continue;
            }
            let Some(def) = e.referenced().filter(|d| d.is_macro_function_like()) else {
                continue;
            };
            if def.location().file_location().is_none() {
                // A built-in or command-line macro.
                continue;
            }
            let Some(symbol) = self.symbol(def, Kind::Macro, None) else {
                continue;
            };
            let file = self.sink.file(pos.file);
            self.sink.add(NewUse {
                symbol,
                function,
                access: Access::Expand,
                file,
                line: pos.line,
                col: pos.col,
                macro_name: None,
                owner,
            });
        }
    }
}
