//! Code this configuration compiled out: the lines every unit's preprocessor skipped
//! (`#ifdef CONFIG_FOO` not taken), and where in them a name the database does not
//! know would be defined. Read from the source on disk: the database records which
//! lines were skipped, not what they say.

use schema::{Db, Trees};

/// Where a name would be defined in code this configuration compiled out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutPlace {
    /// The file as stored (relative to its tree).
    pub path: String,
    pub line: u32,
    /// The directive that began skipping (`#ifdef CONFIG_FOO`), and its line.
    pub directive: String,
    pub directive_line: u32,
}

/// What the compiled-out lines of the build's files say about a name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompiledOut {
    /// Where a line defines the name, by file and line.
    pub places: Vec<OutPlace>,
    /// Files with compiled-out lines that are not on disk to look in.
    pub unread: Vec<String>,
}

/// At most this many places are told.
const MOST: usize = 20;

/// Looks for a line defining `name` among the lines each file of `db` had skipped by
/// every unit that read it, the files read through `trees`.
pub fn look_for(db: &Db, trees: &Trees, name: &str) -> schema::Result<CompiledOut> {
    let mut found = CompiledOut::default();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(found);
    }
    for (file, ranges) in db.all_skipped_lines()? {
        let f = db.file(file)?;
        // The system's headers are not the build's code.
        if f.is_system() {
            continue;
        }
        let Some(text) = trees.on_disk(&f).and_then(|p| std::fs::read(p).ok()) else {
            found.unread.push(f.path.clone());
            continue;
        };
        if !contains_word(&text, name.as_bytes()) {
            continue;
        }
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        let bytes: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        for (line, before) in definitions_in(&lines, &ranges, name) {
            if found.places.len() == MOST {
                return Ok(found);
            }
            let (directive, directive_line) = what_skipped(&bytes, before);
            found.places.push(OutPlace {
                path: f.path.clone(),
                line,
                directive,
                directive_line,
            });
        }
    }
    Ok(found)
}

/// The directive that began skipping, whose last line is `before` (1-based), as
/// written (continuation lines joined), and its first line: for an `#else` or
/// `#elif`, with the `#if` it belongs to (`#else of #ifdef CONFIG_MODULES`, at the
/// `#if`'s line).
fn what_skipped(lines: &[&[u8]], before: u32) -> (String, u32) {
    let line = |n: u32| lines.get(n as usize - 1).copied().unwrap_or_default();
    // The directive's first line: the continued lines before it end with `\`.
    let mut first = before.max(1);
    while first > 1 && schema::continues(line(first - 1)) {
        first -= 1;
    }
    let written = |from: u32| {
        let mut out = String::new();
        let mut n = from;
        loop {
            let l = String::from_utf8_lossy(line(n));
            let l = l.trim().trim_end_matches('\\').trim_end();
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(l);
            if !schema::continues(line(n)) || n > from + 20 {
                return out;
            }
            n += 1;
        }
    };
    let own = written(first);
    match schema::opening(lines, first) {
        Some(open) if open != first => (format!("{own} of {}", written(open)), open),
        _ => (own, first),
    }
}

/// Whether `text` holds `word` not inside a longer identifier.
fn contains_word(text: &[u8], word: &[u8]) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(text, word).any(|i| {
        (i == 0 || !ident(text[i - 1])) && text.get(i + word.len()).is_none_or(|&b| !ident(b))
    })
}

/// The lines within `ranges` (1-based, inclusive) of `text` that define `name`, each
/// with the line of the directive that began skipping (the line before its range).
fn definitions_in(lines: &[&str], ranges: &[(u32, u32)], name: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &(first, last) in ranges {
        for n in first..=last.min(lines.len() as u32) {
            if defines(lines, n as usize - 1, name) {
                out.push((n, first.saturating_sub(1).max(1)));
            }
        }
    }
    out
}

/// Whether line `i` of `lines` defines `name`, the way kernel code is written: a
/// `#define`, a function definition (its name at the line's start or after its
/// return type, the body's brace before any `;`), a file-scope variable (`int name;`,
/// `= ...`), a `struct`/`union`/`enum` with its body, or a macro that defines it at
/// file scope (`static DEFINE_SPINLOCK(name);`).
fn defines(lines: &[&str], i: usize, name: &str) -> bool {
    let line = lines[i];
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix('#') {
        return schema::directive(line.as_bytes()) == Some(b"define")
            && rest
                .trim_start()
                .strip_prefix("define")
                .is_some_and(|r| identifier_at(r.trim_start()) == Some(name));
    }
    // `} name;`: a variable of the type the lines above define, or a typedef's name.
    if let Some(rest) = line.strip_prefix('}') {
        let rest = rest.trim_start();
        return identifier_at(rest) == Some(name)
            && past_attributes(&rest[name.len()..]).starts_with([';', '=', '[']);
    }
    // File scope: not indented, not a comment or a declaration of what is defined
    // elsewhere.
    if line.starts_with([' ', '\t', '/', '*', '{'])
        || trimmed.is_empty()
        || trimmed.starts_with("extern ")
        || trimmed.starts_with("return")
    {
        return false;
    }
    let words = word_positions(line, name);
    words.into_iter().any(|at| {
        let before = line[..at].trim_end();
        let after = past_attributes(&line[at + name.len()..]);
        if after.starts_with('(') {
            // A function: the first `{` or `;` after the parameters decides.
            return body_follows(lines, i, &line[at + name.len()..]);
        }
        if before.ends_with("struct") || before.ends_with("union") || before.ends_with("enum") {
            return after.starts_with('{') || after.is_empty() && next_starts_brace(lines, i);
        }
        if before.ends_with('(') || before.ends_with(',') {
            // An argument of a macro written at file scope that defines it:
            // `DEFINE_MUTEX(name);`, `static DEFINE_PER_CPU(int, name);` — not
            // `DECLARE_PER_CPU(...)` or `EXPORT_SYMBOL(name)`.
            let head = before.trim_start_matches("static").trim_start();
            let macro_name = identifier_at(head).unwrap_or("");
            return macro_name.starts_with(|c: char| c.is_ascii_uppercase())
                && macro_name.contains("DEFINE");
        }
        // A variable: `type name;`, `type name = ...`, `type name[...]`.
        !before.is_empty()
            && (after.starts_with(';') || after.starts_with('=') || after.starts_with('['))
    })
}

/// `s` past the blanks and the attribute macros (`__read_mostly`, `__ro_after_init`,
/// `__aligned(8)`) it starts with.
fn past_attributes(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        let Some(word) = identifier_at(s).filter(|w| w.starts_with("__")) else {
            return s;
        };
        s = s[word.len()..].trim_start();
        if s.starts_with('(') {
            let mut depth = 0;
            let mut end = s.len();
            for (i, c) in s.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            s = &s[end..];
        }
    }
}

/// The identifier `s` starts with.
fn identifier_at(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The byte offsets at which `name` stands as a word in `line`.
fn word_positions(line: &str, name: &str) -> Vec<usize> {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = line.as_bytes();
    line.match_indices(name)
        .map(|(at, _)| at)
        .filter(|&at| {
            (at == 0 || !ident(bytes[at - 1]))
                && bytes.get(at + name.len()).is_none_or(|&b| !ident(b))
        })
        .collect()
}

/// Whether a `{` comes before any `;` in `rest` and the lines after line `i` (a few
/// at most: a parameter list spans some lines).
fn body_follows(lines: &[&str], i: usize, rest: &str) -> bool {
    let more = lines.iter().skip(i + 1).take(12).copied();
    for text in std::iter::once(rest).chain(more) {
        for c in text.chars() {
            match c {
                '{' => return true,
                ';' => return false,
                _ => {}
            }
        }
    }
    false
}

/// Whether the line after line `i` starts with `{`.
fn next_starts_brace(lines: &[&str], i: usize) -> bool {
    lines
        .get(i + 1)
        .is_some_and(|l| l.trim_start().starts_with('{'))
}

#[cfg(test)]
mod tests {
    use super::definitions_in;

    const TEXT: &str = "\
#ifdef CONFIG_FOO
static int foo(struct file *f,
\t       int x)
{
\treturn foo_calls(x);
}
int foo_count = 0;
static DEFINE_SPINLOCK(foo_lock);
EXPORT_SYMBOL(foo_count);
DECLARE_PER_CPU(int, foo_decl);
int foo_seed __ro_after_init;
static int foo_bits __read_mostly = 3;
struct foo_ops {
\tint (*foo)(void);
};
#define FOO_MAX 4
int foo_proto(void);
extern int foo_ext;
typedef enum {
\tFOO_A,
} foo_t;
#endif
";

    fn in_text(text: &str, ranges: &[(u32, u32)], name: &str) -> Vec<(u32, u32)> {
        let lines: Vec<&str> = text.lines().collect();
        definitions_in(&lines, ranges, name)
    }

    fn at(name: &str) -> Vec<(u32, u32)> {
        in_text(TEXT, &[(2, 21)], name)
    }

    #[test]
    fn each_way_a_kernel_file_defines_a_name() {
        assert_eq!(at("foo"), [(2, 1)]);
        assert_eq!(at("foo_count"), [(7, 1)]);
        assert_eq!(at("foo_lock"), [(8, 1)]);
        assert_eq!(at("foo_ops"), [(13, 1)]);
        assert_eq!(at("FOO_MAX"), [(16, 1)]);
        assert_eq!(at("foo_seed"), [(11, 1)]);
        assert_eq!(at("foo_bits"), [(12, 1)]);
        assert_eq!(at("foo_t"), [(21, 1)]);
    }

    #[test]
    fn uses_prototypes_and_declarations_define_nothing() {
        assert_eq!(at("foo_calls"), []);
        assert_eq!(at("foo_proto"), []);
        assert_eq!(at("foo_ext"), []);
        assert_eq!(at("x"), []);
        assert_eq!(at("foo_decl"), []);
    }

    #[test]
    fn the_directive_is_told_whole_and_an_else_with_its_if() {
        let text: &str = "#ifdef CONFIG_MODULES\nint a;\n#else\nint b;\n#endif\n\
                    #if defined(A) && \\\n\tdefined(B)\nint c;\n#endif\n";
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        assert_eq!(
            super::what_skipped(&lines, 3),
            ("#else of #ifdef CONFIG_MODULES".to_owned(), 1)
        );
        assert_eq!(
            super::what_skipped(&lines, 7),
            ("#if defined(A) && defined(B)".to_owned(), 6)
        );
    }

    #[test]
    fn only_skipped_lines_are_looked_in() {
        assert_eq!(in_text(TEXT, &[(3, 6)], "foo"), []);
    }
}
