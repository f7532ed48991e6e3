//! What a unit does not parse again: the function bodies of headers whose facts
//! earlier units recorded, turned into spaces before the parse (lines and columns
//! kept) and handed to libclang as unsaved files. Which bodies qualify, and how a
//! parse that did not read them still keys their header, is the header key's part
//! ([`super::headers`]).

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::clang::{File, Sources};

/// The function bodies of a header that a later unit may blank before its parse
/// (their text turned into spaces, lines kept): each from just after its `{` to its
/// `}`, in order. A body qualifies when its braces are written in the header (not
/// made by a macro), it holds no directive, and no macro it names reaches
/// `__COUNTER__` (blanking it would renumber the unit's pasted names) or a macro
/// whose value changes from unit to unit (`__DATE__`), pastes with `##` (the names
/// it makes are in no definition) or says `extern` (a declaration in a body is seen
/// by the rest of the unit). They are part of the header's key, with every macro of
/// the unit that the bodies name: a unit that blanked them and one that parsed them
/// key the header alike, and one whose parse would have found other bodies, or read
/// them otherwise, finds no facts under its key (and parses again without
/// blanking).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bodies {
    /// Where they are kept: [`super::headers::Config::bodies_key`] of the header's content.
    pub key: [u8; 32],
    pub ranges: Vec<(u32, u32)>,
}

/// `text` with the bytes in `ranges` turned into spaces but for line ends: the same
/// lines and columns everywhere else. `None` when a range is not a body's inside in
/// this text (between a `{` and a `}`).
pub fn blank(text: &[u8], ranges: &[(u32, u32)]) -> Option<Vec<u8>> {
    let mut out = text.to_vec();
    for &(s, e) in ranges {
        let (s, e) = (s as usize, e as usize);
        if s == 0 || s > e || text.get(s - 1) != Some(&b'{') || text.get(e) != Some(&b'}') {
            return None;
        }
        for b in &mut out[s..e] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    Some(out)
}

/// A header whose function bodies are blanked before the parse: its path, where its
/// bodies are kept ([`super::headers::Config::bodies_key`]), its text and the text libclang is given
/// instead.
pub struct Blank {
    pub path: std::ffi::OsString,
    pub key: [u8; 32],
    pub text: Vec<u8>,
    pub blanked: Vec<u8>,
    pub ranges: Vec<(u32, u32)>,
}

/// Puts back the text of the files blanked before the parse in `sources` (keys,
/// hashes and the cache's manifests are of the files as they are), and says which
/// files they are and which bodies were blanked. A file is told by its blanked text.
pub fn restore<'tu>(
    sources: &mut Sources<'tu>,
    blanks: &[&'tu Blank],
) -> HashMap<File<'tu>, &'tu Blank> {
    let mut blanked = HashMap::default();
    if blanks.is_empty() {
        return blanked;
    }
    let mut by_len: HashMap<usize, Vec<&'tu Blank>> = HashMap::default();
    for &b in blanks {
        by_len.entry(b.blanked.len()).or_default().push(b);
    }
    for (file, text) in sources.text.iter_mut() {
        let Some(b) = by_len
            .get(&text.len())
            .and_then(|c| c.iter().find(|b| b.blanked.as_slice() == *text))
        else {
            continue;
        };
        *text = b.text.as_slice();
        blanked.insert(*file, *b);
    }
    blanked
}
