//! The lines the preprocessor skipped in each file the unit entered: the code this
//! configuration compiled out (`#ifdef CONFIG_FOO` not taken).

use rustc_hash::FxHashMap as HashMap;

use schema::NewSkipped;

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
            let entered = sources.entered.get(&f).copied().unwrap_or(1);
            NewSkipped {
                file: sink.file(f),
                lines: inside(&ranges, entered),
            }
        })
        .collect()
}

/// The lines between the directives of each range (`(#if line, #endif line)`), those
/// `entered` ranges cover when the file was entered that many times, as ascending
/// ranges apart.
fn inside(ranges: &[(u32, u32)], entered: u32) -> Vec<(u32, u32)> {
    let mut edges: HashMap<u32, i64> = HashMap::default();
    for &(a, b) in ranges {
        if a + 1 < b {
            *edges.entry(a + 1).or_default() += 1;
            *edges.entry(b).or_default() -= 1;
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
    use super::inside;

    #[test]
    fn the_lines_between_the_directives() {
        // #if at 10, #else at 20: lines 11 to 19; #elif chains stay apart.
        assert_eq!(inside(&[(10, 20)], 1), [(11, 19)]);
        assert_eq!(inside(&[(10, 20), (20, 30)], 1), [(11, 19), (21, 29)]);
        // `#if 0` right before `#endif`: nothing between.
        assert_eq!(inside(&[(5, 6)], 1), []);
        assert_eq!(inside(&[], 1), []);
    }

    #[test]
    fn a_file_entered_twice_keeps_what_both_entries_skipped() {
        assert_eq!(inside(&[(10, 20), (15, 30)], 2), [(16, 19)]);
        assert_eq!(inside(&[(10, 20)], 2), []);
        assert_eq!(inside(&[(10, 20), (10, 20)], 2), [(11, 19)]);
    }
}
