//! Where each macro expansion is written, so that a fact can name the macro it came
//! out of (`DEFINE_SPINLOCK`, `SYSCALL_DEFINE3`).

use rustc_hash::FxHashMap as HashMap;

use crate::clang::{Cursor, File, FilePos, SourceLocation};

/// Every macro expansion written in the unit's files, by where it starts.
#[derive(Default)]
pub(super) struct MacroIndex<'tu> {
    /// Start of each expansion -> index into `names`.
    expansions: HashMap<(File<'tu>, u32), u32>,
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl<'tu> MacroIndex<'tu> {
    /// Records a `MACRO_EXPANSION` cursor of the preprocessing record; where it is
    /// written.
    pub fn expansion(&mut self, c: Cursor<'tu>) -> Option<FilePos<'tu>> {
        let pos = c.location().file_location()?;
        let name = c.spelling();
        let next = self.names.len() as u32;
        let id = *self.ids.entry(name.clone()).or_insert(next);
        if id == next {
            self.names.push(name);
        }
        self.expansions.insert((pos.file, pos.offset), id);
        Some(pos)
    }

    /// The macro expansions written in each file: where each starts, in order, and
    /// the macro's name.
    pub fn written_by_file(&self) -> HashMap<File<'tu>, Vec<(u32, &str)>> {
        let mut out: HashMap<File<'tu>, Vec<(u32, &str)>> = HashMap::default();
        for (&(file, at), &id) in &self.expansions {
            out.entry(file)
                .or_default()
                .push((at, self.names[id as usize].as_str()));
        }
        for v in out.values_mut() {
            v.sort_unstable();
        }
        out
    }

    /// The macro that produced `loc`: the innermost one whose name is written in the
    /// file (`access_ok` rather than the `unlikely` around it), else the outermost
    /// invocation (for a name passed as a macro argument). A macro named like the
    /// thing itself (`#define x x`) tells nothing and is passed over.
    pub fn at(&self, loc: SourceLocation<'tu>, own_name: &str) -> Option<String> {
        let written = loc.file_location().map(|p| (p.file, p.offset));
        let outermost = loc.expansion_location().map(|p| (p.file, p.offset));
        [written, outermost]
            .into_iter()
            .flatten()
            .filter_map(|k| self.expansions.get(&k))
            .map(|&i| &self.names[i as usize])
            .find(|m| *m != own_name)
            .cloned()
    }
}
