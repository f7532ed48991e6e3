//! Calls from assembly: the object an assembler wrote (`entry_64.S` to `entry_64.o`),
//! read after the compile. Each code symbol the object defines is a function written
//! in assembly; each call or jump instruction whose relocation names a symbol
//! (`call do_syscall_64`, `jmp __switch_to`) is a call from the function that holds it
//! to the function of that name — a C function's symbol is the one its own unit
//! records (`c:@F@NAME`). Where the source is not written plainly (a name an assembler
//! macro makes from its arguments), the place is the function's, or the file's first
//! line.
//!
//! Calls are told from other references by the instruction: on x86 a `call`, `jmp` or
//! conditional jump with a 32-bit displacement before the relocated bytes; on arm64
//! the `CALL26`/`JUMP26` relocations (`bl`, `b`). Other architectures record the
//! functions and no calls.

use object::{
    Architecture, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget,
    SectionKind, SymbolKind,
};
use rustc_hash::FxHashMap as HashMap;

use schema::{Kind, Linkage, NewCall, NewDefinition, NewFile, NewSymbol, SymbolIx, TuFacts};

/// The facts of an assembled object `bytes`, whose source `text` is stored as
/// `source`; why not, when the object cannot be read.
pub fn facts(bytes: &[u8], text: &[u8], source: NewFile) -> Result<TuFacts, String> {
    let file = object::File::parse(bytes).map_err(|e| format!("cannot read the object: {e}"))?;
    let mut facts = TuFacts::default();
    let main = facts.push_file(source.clone());
    facts.main_file = Some(main);
    let lines = Lines::new(text);
    let mut symbols: HashMap<String, SymbolIx> = HashMap::default();
    let mut intern = |facts: &mut TuFacts, usr: String, name: &str, linkage: Linkage| {
        *symbols.entry(usr.clone()).or_insert_with(|| {
            facts.push_symbol(NewSymbol {
                usr,
                name: name.to_owned(),
                scope: None,
                kind: Kind::Function,
                linkage,
            })
        })
    };
    let local_usr = |name: &str| format!("c:asm@F@{name}@{}", source.key());

    // The functions: code symbols by section, in address order.
    let mut by_section: HashMap<object::SectionIndex, Vec<(u64, u64, SymbolIx, u32)>> =
        HashMap::default();
    for sym in file.symbols() {
        let Some(section) = sym.section_index() else {
            continue;
        };
        let code = file
            .section_by_index(section)
            .is_ok_and(|s| s.kind() == SectionKind::Text);
        let Ok(name) = sym.name() else { continue };
        if !code
            || !matches!(sym.kind(), SymbolKind::Text | SymbolKind::Unknown)
            || name.is_empty()
            || name.starts_with(".L")
            || name.starts_with('$')
        {
            continue;
        }
        let (usr, linkage) = if sym.is_global() || sym.is_weak() {
            (format!("c:@F@{name}"), Linkage::External)
        } else {
            (local_usr(name), Linkage::Internal)
        };
        let s = intern(&mut facts, usr, name, linkage);
        let (line, col) = lines.definition(name).unwrap_or((1, 1));
        facts.definitions.push(NewDefinition {
            symbol: s,
            file: main,
            line,
            col,
            macro_name: None,
            definition: true,
            owner: main,
        });
        by_section
            .entry(section)
            .or_default()
            .push((sym.address(), sym.size(), s, line));
    }
    for v in by_section.values_mut() {
        v.sort_by_key(|&(at, ..)| at);
    }

    let arch = file.architecture();
    let mut seen = std::collections::HashSet::new();
    let mut calls_to: HashMap<(SymbolIx, SymbolIx), usize> = HashMap::default();
    for section in file.sections() {
        let Some(functions) = by_section.get(&section.index()) else {
            continue;
        };
        let data = section.data().unwrap_or_default();
        for (offset, reloc) in section.relocations() {
            let RelocationTarget::Symbol(target) = reloc.target() else {
                continue;
            };
            let Ok(target) = file.symbol_by_index(target) else {
                continue;
            };
            if target.kind() == SymbolKind::Section {
                continue;
            }
            let Ok(name) = target.name() else { continue };
            if name.is_empty()
                || name.starts_with(".L")
                || !is_branch(arch, reloc.flags(), data, offset)
            {
                continue;
            }
            let Some((caller, caller_line)) = holder(functions, offset) else {
                continue;
            };
            let callee = if target.is_undefined() || target.is_global() || target.is_weak() {
                intern(&mut facts, format!("c:@F@{name}"), name, Linkage::External)
            } else {
                intern(&mut facts, local_usr(name), name, Linkage::Internal)
            };
            // The n-th call from this caller to this callee is the n-th instruction
            // naming it after the caller's label.
            let nth = calls_to.entry((caller, callee)).or_insert(0);
            let (line, col) = lines
                .call(name, caller_line, *nth)
                .unwrap_or((caller_line, 1));
            *nth += 1;
            if seen.insert((caller, callee, line, col)) {
                facts.calls.push(NewCall {
                    caller,
                    callee,
                    file: main,
                    line,
                    col,
                    indirect: false,
                    macro_name: None,
                    owner: main,
                    dead: false,
                    alias: false,
                    weak: false,
                });
            }
        }
    }
    Ok(facts)
}

/// The function holding the instruction at `offset` of a section whose functions
/// (start, size, symbol, line) are in address order: the last whose extent (`.size`)
/// holds it — `entry_SYSCALL_64`, not the label `entry_SYSCALL_64_after_hwframe`
/// inside it — else the last label at or before it.
fn holder(functions: &[(u64, u64, SymbolIx, u32)], offset: u64) -> Option<(SymbolIx, u32)> {
    let before = functions.iter().take_while(|&&(at, ..)| at <= offset);
    before
        .clone()
        .filter(|&&(at, size, ..)| size > 0 && offset < at + size)
        .last()
        .or_else(|| before.last())
        .map(|&(_, _, s, line)| (s, line))
}

/// Whether the relocation at `offset` of a code section's `data` is the target of a
/// call or jump instruction.
fn is_branch(arch: Architecture, flags: RelocationFlags, data: &[u8], offset: u64) -> bool {
    match arch {
        Architecture::X86_64 | Architecture::X86_64_X32 | Architecture::I386 => {
            let at = offset as usize;
            // `call rel32` (e8), `jmp rel32` (e9), `jcc rel32` (0f 80..8f).
            let op = at.checked_sub(1).and_then(|i| data.get(i));
            let before = at.checked_sub(2).and_then(|i| data.get(i));
            matches!(op, Some(0xe8 | 0xe9))
                || (before == Some(&0x0f) && op.is_some_and(|b| (0x80..=0x8f).contains(b)))
        }
        Architecture::Aarch64 => matches!(
            flags,
            RelocationFlags::Elf {
                r_type: object::elf::R_AARCH64_CALL26 | object::elf::R_AARCH64_JUMP26
            }
        ),
        _ => false,
    }
}

/// The lines of an assembly source, to place what the object says.
struct Lines {
    lines: Vec<String>,
}

impl Lines {
    fn new(text: &[u8]) -> Lines {
        Lines {
            lines: String::from_utf8_lossy(text)
                .lines()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Where `name` is defined: a label (`name:`) or a kernel macro that starts one
    /// (`SYM_FUNC_START(name)`, `SYM_CODE_START(name)`, `ENTRY(name)`); 1-based.
    fn definition(&self, name: &str) -> Option<(u32, u32)> {
        self.find(
            0,
            |line, at| {
                let before = line[..at].trim_end();
                let after = line[at + name.len()..].trim_start();
                (before.is_empty() && after.starts_with(':'))
                    || (before.ends_with('(') && {
                        let head = before.trim_end_matches('(').trim_end();
                        head.starts_with("SYM_") || head == "ENTRY" || head == "GLOBAL"
                    })
            },
            name,
        )
    }

    /// Where the `nth` (from 0) call or jump to `name` at or after line `from`
    /// (1-based) is written: an instruction naming it; the last there is when there
    /// are fewer.
    fn call(&self, name: &str, from: u32, nth: usize) -> Option<(u32, u32)> {
        let mut start = from.saturating_sub(1) as usize;
        let mut found = None;
        for _ in 0..=nth {
            match self.call_from(name, start) {
                Some(at) => {
                    start = at.0 as usize;
                    found = Some(at);
                }
                None => break,
            }
        }
        found
    }

    /// The first call or jump to `name` from line `start` (0-based) on.
    fn call_from(&self, name: &str, start: usize) -> Option<(u32, u32)> {
        self.find(
            start,
            |line, at| {
                let before = line[..at].trim_end();
                let word = before
                    .rsplit(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or("");
                let op = word.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
                op.starts_with("call")
                    || op.starts_with('j')
                    || op == "b"
                    || op == "bl"
                    || op.starts_with("b.")
            },
            name,
        )
    }

    /// The first line from `start` (0-based) where `name` stands as a word at a place
    /// `fits`, as (line, column), both 1-based.
    fn find(
        &self,
        start: usize,
        fits: impl Fn(&str, usize) -> bool,
        name: &str,
    ) -> Option<(u32, u32)> {
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$';
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            let code = line.split("//").next().unwrap_or(line);
            let bytes = code.as_bytes();
            for (at, _) in code.match_indices(name) {
                let alone = (at == 0 || !ident(bytes[at - 1]))
                    && bytes.get(at + name.len()).is_none_or(|&b| !ident(b));
                if alone && fits(code, at) {
                    return Some((i as u32 + 1, at as u32 + 1));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    const TEXT: &str = "\
#include <linux/linkage.h>
SYM_CODE_START(entry_SYSCALL_64)
\tmovq\t%rsp, %rdi
\tcall\tdo_syscall_64\t\t/* returns with IRQs disabled */
\tjmp\tswapgs_restore
SYM_CODE_END(entry_SYSCALL_64)
local_label:
\tjne\tdo_syscall_64_slow
\tjmp\tswapgs_restore
";

    #[test]
    fn definitions_and_calls_are_placed_where_written() {
        let l = Lines::new(TEXT.as_bytes());
        assert_eq!(l.definition("entry_SYSCALL_64"), Some((2, 16)));
        assert_eq!(l.definition("local_label"), Some((7, 1)));
        assert_eq!(l.definition("do_syscall_64"), None);
        assert_eq!(l.call("do_syscall_64", 2, 0), Some((4, 7)));
        assert_eq!(l.call("swapgs_restore", 2, 0), Some((5, 6)));
        assert_eq!(l.call("do_syscall_64_slow", 7, 0), Some((8, 6)));
        // The second call to the same function is the second instruction naming it.
        assert_eq!(l.call("swapgs_restore", 2, 1), Some((9, 6)));
        // Not written as such: the caller's place is taken.
        assert_eq!(l.call("made_by_a_macro", 2, 0), None);
    }
}
