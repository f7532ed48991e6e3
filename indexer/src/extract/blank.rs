//! What a unit does not parse again: the function bodies of headers whose facts
//! earlier units recorded, handed before the parse to a macro that expands them and
//! drops what they expand to ([`ARGS`]), in text of the same length and lines given
//! to libclang as an unsaved file. The preprocessor reads them as it would (every
//! expansion, `__COUNTER__`, pastes), the parser sees an empty body. Which bodies
//! qualify, and how a parse that did not read them still keys their header, is the
//! header key's part ([`super::headers`]).

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::clang::{File, Sources};

/// The first character of the next token in `text`.
fn next_token(text: &[u8]) -> Option<&u8> {
    super::text::past_comments(text)?.first()
}

/// The arguments that define the macros a blanked body is handed to: `$` expands its
/// arguments (so that every macro in them is expanded as in the body) and passes them
/// to `$$`, which drops them. No kernel file names `$` alone.
pub const ARGS: [&str; 3] = [
    "-fdollars-in-identifiers",
    "-D$(...)=$$(__VA_ARGS__)",
    "-D$$(...)=",
];

/// The function bodies of a header that a later unit may blank before its parse:
/// each from just after its `{` to its `}`, in order. A body qualifies when its
/// braces are written in the header (not made by a macro), it holds no directive,
/// line splice, `$` or byte beyond ASCII, it says neither `extern` (a declaration in
/// a body is seen by the rest of the unit) nor `_Pragma` (which the dropping macro
/// would drop), and no macro it names says `_Pragma`, or `extern` before a name it
/// does not paste. They are part of the header's key, with every macro of the unit
/// that the bodies name: a unit that blanked them and one that parsed them key
/// the header alike, and one whose parse would have found other bodies, or read them
/// otherwise, finds no facts under its key (and parses again without blanking).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bodies {
    /// Where they are kept: [`super::headers::Config::bodies_key`] of the header's content.
    pub key: [u8; 32],
    pub ranges: Vec<(u32, u32)>,
}

/// `text` with the bodies in `ranges` blanked ([`wrap`]): the same length, lines and
/// columns outside them. A body too short to hand over stays as it is. `None` when a
/// range is not a body's inside in this text (between a `{` and a `}`), or no body
/// could be blanked.
pub fn blank(text: &[u8], ranges: &[(u32, u32)]) -> Option<Vec<u8>> {
    let mut out = text.to_vec();
    let mut any = false;
    for &(s, e) in ranges {
        let (s, e) = (s as usize, e as usize);
        if s == 0 || s > e || text.get(s - 1) != Some(&b'{') || text.get(e) != Some(&b'}') {
            return None;
        }
        if let Some(w) = wrap(&text[s..e]) {
            out[s..e].copy_from_slice(&w);
            any = true;
        }
    }
    any.then_some(out)
}

/// A body's inside as `$(` its tokens `)`, as long as it was, with as many lines, the
/// last as long (what follows it stays where it was): comments and white space
/// between tokens that do not need it are dropped to make room, and so are `;`, `{`
/// and `}` outside parentheses (in no macro's arguments) unless a `(` follows (a
/// macro name before them would then be invoked). `None` when it does not fit, or it
/// holds what only a directive, a line splice or an unended literal explains.
pub fn wrap(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = b"$(".to_vec();
    let mut depth = 0usize;
    let mut space = false;
    let mut i = 0;
    // The next token, with a space before it when the one before needs it.
    let put = |out: &mut Vec<u8>, space: &mut bool, next: u8| {
        if std::mem::take(space) && needs_space(*out.last().unwrap_or(&b'('), next) {
            out.push(b' ');
        }
    };
    while i < body.len() {
        let c = body[i];
        match c {
            b'\\' | b'#' | b'$' => return None,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                space = true;
                i += 1;
            }
            // (A backslash in a comment may splice it with the next line, or make
            // its end: not read here.)
            b'/' if body.get(i + 1) == Some(&b'/') => {
                let end = i + memchr::memchr(b'\n', &body[i..]).unwrap_or(body.len() - i);
                if body[i..end].contains(&b'\\') {
                    return None;
                }
                i = end;
                space = true;
            }
            b'/' if body.get(i + 1) == Some(&b'*') => {
                let end = i + 2 + memchr::memmem::find(&body[i + 2..], b"*/")? + 2;
                if body[i..end].contains(&b'\\') {
                    return None;
                }
                i = end;
                space = true;
            }
            b'"' | b'\'' => {
                put(&mut out, &mut space, c);
                let end = i + 1 + literal_end(&body[i + 1..], c)?;
                out.extend_from_slice(&body[i..end]);
                i = end;
            }
            b';' | b'{' | b'}' if depth == 0 && next_token(&body[i + 1..]) != Some(&b'(') => {
                space = true;
                i += 1;
            }
            _ => {
                match c {
                    b'(' => depth += 1,
                    b')' => depth = depth.checked_sub(1)?,
                    _ => {}
                }
                put(&mut out, &mut space, c);
                out.push(c);
                i += 1;
            }
        }
    }
    if depth != 0 {
        return None;
    }
    out.push(b')');
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    let last = memchr::memrchr(b'\n', body).map_or(0, |p| body.len() - p - 1);
    if out.len() + lines + last > body.len() {
        return None;
    }
    out.resize(body.len() - lines - last, b' ');
    out.resize(body.len() - last, b'\n');
    out.resize(body.len(), b' ');
    Some(out)
}

/// Past the closing quote of a literal that `text` continues (after its opening
/// `quote`); `None` when it does not end on its line.
fn literal_end(text: &[u8], quote: u8) -> Option<usize> {
    let mut i = 0;
    loop {
        match *text.get(i)? {
            b'\\' => i += 2,
            b'\n' => return None,
            q if q == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Whether two characters side by side could read as one token (or change one:
/// `L"x"`, `.5`, `1e+5`).
fn needs_space(prev: u8, next: u8) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.';
    let quote = |c: u8| c == b'"' || c == b'\'';
    let single = |c: u8| {
        matches!(
            c,
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b';' | b',' | b'?' | b'~'
        )
    };
    if word(prev) {
        // (`1e` and `+5` make one number.)
        word(next) || quote(next) || matches!(next, b'+' | b'-')
    } else if quote(prev) {
        word(next) || quote(next)
    } else {
        !word(next) && !quote(next) && !quote(prev) && !single(prev) && !single(next)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines, length and the last line's length kept; the tokens as they were but for
    /// the statements' `;` and the blocks' braces.
    fn check(body: &str, expected: &str) {
        let w = String::from_utf8(wrap(body.as_bytes()).expect("wraps")).expect("ASCII");
        assert_eq!(w.len(), body.len());
        assert_eq!(w.matches('\n').count(), body.matches('\n').count());
        assert_eq!(
            w.rsplit('\n').next().map(str::len),
            body.rsplit('\n').next().map(str::len)
        );
        assert_eq!(w.trim_end(), expected);
    }

    #[test]
    fn a_body_is_wrapped_in_as_many_bytes_and_lines() {
        check(
            "\n\t/* note */ x = 1e+5 + y; // end\n\tif (a) { s = \"a // b\"; c = L'x'; }\n\tf (z);\n",
            "$(x=1e+5 +y if(a)s=\"a // b\" c=L'x' f(z))",
        );
        // A `;` before a `(` stays: `g` may name a function-like macro.
        check("\n\tg;\n\t(void)h(x, y);\n", "$(g;(void)h(x,y))");
        // Within parentheses, a macro's arguments: every token stays.
        check(
            "\n\treturn ({ int v = READ(p); v; }) ? a - -b : *c;\n",
            "$(return({int v=READ(p);v;})?a - -b: *c)",
        );
    }

    #[test]
    fn a_body_that_cannot_be_wrapped_is_left() {
        for body in [
            "x;",
            " a; # b\n",
            "\n\tx = 1; \\\n y = 2;\n",
            " s = \"open; ",
            " (a; ",
        ] {
            assert_eq!(wrap(body.as_bytes()), None, "{body:?}");
        }
        // A comment a splice may continue (`\` and blanks before the line end) or end.
        for body in [
            " int x = 1; // note \\ \n  x = HELP;\n  return x;\n",
            " x = 1; /* a *\\\n/ y = 2; */ return x;\n",
        ] {
            assert_eq!(wrap(body.as_bytes()), None, "{body:?}");
        }
        // A range that is not a body's inside.
        assert_eq!(blank(b"int x = 1;", &[(2, 5)]), None);
    }
}
