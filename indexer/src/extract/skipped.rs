//! The lines the preprocessor skipped in each file the unit entered: the code this
//! configuration compiled out (`#ifdef CONFIG_FOO` not taken).

use rustc_hash::FxHashMap as HashMap;

use schema::{continues, directive, opening, NewSkipped};

use crate::clang::{Sources, TranslationUnit};

use super::sink::Sink;

/// Every file `sources` entered, with the lines skipped in it (see [`NewSkipped`]): a
/// file entered more than once keeps the lines every entry skipped.
pub(super) fn skipped<'tu>(
    tu: &'tu TranslationUnit<'_>,
    sources: &Sources<'tu>,
    sink: &mut Sink<'tu, '_>,
) -> Vec<NewSkipped> {
    let mut by_file = tu.skipped_lines();
    sources
        .files
        .iter()
        .map(|&f| {
            let ranges = by_file.remove(&f).unwrap_or_default();
            // (Most files skip nothing: their lines are not looked at.)
            let lines: Vec<&[u8]> = match sources.text.get(&f) {
                Some(t) if !ranges.is_empty() => t.split(|&b| b == b'\n').collect(),
                _ => Vec::new(),
            };
            let inner: Vec<(u32, u32)> = ranges
                .iter()
                .flat_map(|&(a, b)| between(&lines, a, b))
                .collect();
            let entered = sources.entered.get(&f).copied().unwrap_or(1);
            NewSkipped {
                file: sink.file(f),
                lines: covered(&inner, entered),
            }
        })
        .collect()
}

/// The lines a skipped range holds between the directive that began it (line `a`,
/// 1-based) and the one that ended it (`b`), without the directives themselves: the
/// `#elif`s and `#else` between branches skipped one after the other (libclang gives
/// them one range), nor the continuation lines of a directive. None when what began
/// skipping is a condition on `__ASSEMBLY__`: the unit of C skipped what the build's
/// assembly includes. Without the file's text, the lines between `a` and `b`.
fn between(lines: &[&[u8]], a: u32, b: u32) -> Vec<(u32, u32)> {
    let line = |n: u32| lines.get(n as usize - 1).copied().unwrap_or_default();
    if lines.is_empty() {
        return if a + 1 < b {
            vec![(a + 1, b - 1)]
        } else {
            Vec::new()
        };
    }
    if opening(lines, a).is_some_and(|o| mentions(lines, o, b"__ASSEMBLY__")) {
        return Vec::new();
    }
    let mut out = Vec::new();
    // The first line after a directive and its continuation lines.
    let after = |mut n: u32| {
        while continues(line(n)) && n < b {
            n += 1;
        }
        n + 1
    };
    let (mut from, mut n, mut depth) = (after(a), after(a), 0i32);
    while n < b {
        match directive(line(n)) {
            Some(b"if" | b"ifdef" | b"ifndef") => depth += 1,
            Some(b"endif") => depth -= 1,
            Some(b"elif" | b"elifdef" | b"elifndef" | b"else") if depth == 0 => {
                if from < n {
                    out.push((from, n - 1));
                }
                from = after(n);
                n = from;
                continue;
            }
            _ => {}
        }
        n += 1;
    }
    if from < b {
        out.push((from, b - 1));
    }
    out
}

/// Whether the directive at line `n` (with its continuation lines) holds `word`.
fn mentions(lines: &[&[u8]], mut n: u32, word: &[u8]) -> bool {
    loop {
        let Some(l) = lines.get(n as usize - 1) else {
            return false;
        };
        if l.windows(word.len()).any(|w| w == word) {
            return true;
        }
        if !continues(l) {
            return false;
        }
        n += 1;
    }
}

/// The lines `entered` of `ranges` cover (a file entered that many times: what every
/// entry skipped), as ascending ranges apart.
fn covered(ranges: &[(u32, u32)], entered: u32) -> Vec<(u32, u32)> {
    let mut edges: HashMap<u32, i64> = HashMap::default();
    for &(a, b) in ranges {
        if a <= b {
            *edges.entry(a).or_default() += 1;
            *edges.entry(b + 1).or_default() -= 1;
        }
    }
    let mut at: Vec<(u32, i64)> = edges.into_iter().collect();
    at.sort_unstable();
    let (mut depth, mut from, mut out) = (0i64, None, Vec::<(u32, u32)>::new());
    for (line, change) in at {
        let was = depth >= i64::from(entered);
        depth += change;
        let is = depth >= i64::from(entered);
        match (was, is) {
            (false, true) => from = Some(line),
            (true, false) => {
                if let Some(a) = from.take() {
                    out.push((a, line - 1));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{between, covered};

    fn lines(text: &str) -> Vec<&[u8]> {
        text.as_bytes().split(|&b| b == b'\n').collect()
    }

    #[test]
    fn the_lines_between_the_directives() {
        let none: Vec<&[u8]> = Vec::new();
        // #if at 10, #else at 20: lines 11 to 19.
        assert_eq!(between(&none, 10, 20), [(11, 19)]);
        // `#if 0` right before `#endif`: nothing between.
        assert_eq!(between(&none, 5, 6), []);
    }

    #[test]
    fn elif_and_else_between_skipped_branches_are_not_skipped() {
        let text = lines("#if A\na\n#elif B\nb\n#  else\nc\n#endif\n");
        assert_eq!(between(&text, 1, 7), [(2, 2), (4, 4), (6, 6)]);
        // Nested conditionals stay inside.
        let text = lines("#if A\n#ifdef X\nx\n#else\ny\n#endif\n#else\nz\n#endif\n");
        assert_eq!(between(&text, 1, 7), [(2, 6)]);
    }

    #[test]
    fn a_directive_continued_on_the_next_lines_is_not_skipped() {
        let text = lines("#if defined(A) && \\\n\tdefined(B)\nab\n#endif\n");
        assert_eq!(between(&text, 1, 4), [(3, 3)]);
    }

    #[test]
    fn what_assembly_alone_compiles_is_not_skipped() {
        let text = lines("#ifdef __ASSEMBLY__\nasm\n#else\nc\n#endif\n");
        assert_eq!(between(&text, 1, 3), []);
        let text = lines("#ifndef __ASSEMBLY__\nc\n#else\nasm\n#endif\n");
        assert_eq!(between(&text, 3, 5), []);
    }

    #[test]
    fn a_file_entered_twice_keeps_what_both_entries_skipped() {
        assert_eq!(covered(&[(11, 19), (16, 29)], 2), [(16, 19)]);
        assert_eq!(covered(&[(11, 19)], 2), []);
        assert_eq!(covered(&[(11, 19), (11, 19)], 2), [(11, 19)]);
        assert_eq!(covered(&[(11, 19), (21, 29)], 1), [(11, 19), (21, 29)]);
    }
}
