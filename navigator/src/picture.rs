//! Call neighbourhoods as pictures: Graphviz DOT text, and SVG through Graphviz's
//! `dot` (`nccnav DB graph`, and the navigator's `g`).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use schema::{Db, SymbolId};

use crate::answer::{Direction, QueryError};
use crate::callgraph::{CallGraph, Neighbourhood};
use crate::names::{clean, Names};

/// How many functions a picture draws.
pub const MAX_NODES: usize = 300;
/// How many pointers the label of an indirect edge names.
const MAX_VIAS: usize = 3;

pub fn cut_note() -> String {
    format!("the graph was cut at {MAX_NODES} functions; a smaller --depth shows all of a neighbourhood")
}

/// The DOT text of the callers or callees of `starts` (named `name`) to `depth`, and
/// whether it was cut at [`MAX_NODES`] functions.
pub fn dot_text(
    db: &Db,
    names: &mut Names,
    graph: &CallGraph,
    starts: &[SymbolId],
    name: &str,
    dir: Direction,
    depth: usize,
) -> Result<(String, bool), QueryError> {
    let hood = graph.neighbourhood(starts, dir, depth, MAX_NODES, db, names)?;
    let what = dir.as_str();
    let title = format!("{what} of {name} to depth {depth}");
    let text = dot(&hood, starts.len(), &title, db, names)?;
    Ok((text, hood.cut))
}

/// The files a picture was written to.
pub struct Picture {
    pub dot: Option<PathBuf>,
    pub svg: Option<PathBuf>,
}

/// Writes DOT text into `output`: `FILE.dot`, and `FILE.svg` when Graphviz is
/// installed; or only `FILE.svg`, which needs Graphviz.
pub fn write_picture(text: &str, output: &Path) -> Result<Picture, QueryError> {
    let files = output_files(output)?;
    if files.svg_asked {
        // Only the SVG was asked for; the DOT file is written only if it cannot be.
        if run_dot(text, &files.svg)? {
            return Ok(Picture {
                dot: None,
                svg: Some(files.svg),
            });
        }
        std::fs::write(&files.dot, text).map_err(|e| with_path(&files.dot, e))?;
        return Err(QueryError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "cannot write {}: Graphviz's `dot` is not installed (apt-get install \
                 graphviz); the graph is in {}",
                clean(&files.svg.display().to_string()),
                clean(&files.dot.display().to_string())
            ),
        )));
    }
    std::fs::write(&files.dot, text).map_err(|e| with_path(&files.dot, e))?;
    let svg = run_dot(text, &files.svg)?.then_some(files.svg);
    Ok(Picture {
        dot: Some(files.dot),
        svg,
    })
}

/// Where `graph -o` writes.
struct OutputFiles {
    dot: PathBuf,
    svg: PathBuf,
    /// `-o FILE.svg`: without Graphviz, an error.
    svg_asked: bool,
}

fn output_files(output: &Path) -> Result<OutputFiles, QueryError> {
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("dot" | "gv") => Ok(OutputFiles {
            dot: output.to_owned(),
            svg: output.with_extension("svg"),
            svg_asked: false,
        }),
        Some("svg") => Ok(OutputFiles {
            dot: output.with_extension("dot"),
            svg: output.to_owned(),
            svg_asked: true,
        }),
        _ => Err(QueryError::Usage(format!(
            "graph: -o takes FILE.dot or FILE.svg, not {}",
            clean(&output.display().to_string())
        ))),
    }
}

fn with_path(path: &Path, e: std::io::Error) -> QueryError {
    let shown = clean(&path.display().to_string());
    QueryError::Io(std::io::Error::new(e.kind(), format!("{shown}: {e}")))
}

/// Runs Graphviz's `dot -Tsvg` on DOT text, into `svg`; false when Graphviz is not
/// installed.
fn run_dot(text: &str, svg: &Path) -> Result<bool, QueryError> {
    // A relative path starting with `-` would read as an option.
    let svg_arg = if svg.is_relative() {
        Path::new(".").join(svg)
    } else {
        svg.to_owned()
    };
    let mut out_arg = std::ffi::OsString::from("-o");
    out_arg.push(&svg_arg);
    let child = Command::new("dot")
        .arg("-Tsvg")
        .arg(out_arg)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(with_path(Path::new("dot"), e)),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // dot reports its own errors; a broken pipe here is one of them.
        let _ = stdin.write_all(text.as_bytes());
    }
    let done = child.wait_with_output()?;
    if !done.status.success() {
        let said = String::from_utf8_lossy(&done.stderr);
        return Err(QueryError::Io(std::io::Error::other(format!(
            "dot -Tsvg -o {} failed ({}): {}",
            clean(&svg.display().to_string()),
            done.status,
            clean(said.trim())
        ))));
    }
    Ok(true)
}

/// `s` inside a DOT string: terminal-safe text (control characters as `\x1b`, as
/// everywhere else), with quotes and backslashes escaped.
fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The neighbourhood as a DOT graph: the first `starts` nodes highlighted, an
/// indirect call dashed and labelled with the pointers it goes through.
fn dot(
    hood: &Neighbourhood,
    starts: usize,
    title: &str,
    db: &Db,
    names: &mut Names,
) -> Result<String, schema::Error> {
    let mut s = format!("// {}\n", clean(title));
    if hood.cut {
        s.push_str(&format!(
            "// cut at {MAX_NODES} functions: others as near were left out\n"
        ));
    }
    s.push_str("digraph calls {\n");
    s.push_str("  rankdir=LR;\n");
    s.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n");
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let mut index = HashMap::new();
    for (i, &id) in hood.nodes.iter().enumerate() {
        index.insert(id, i);
        let mut label = dot_escape(&names.name(db, id)?);
        let mut attrs = String::new();
        if let Some((path, line)) = names.home(db, id)? {
            let place = dot_escape(&format!("{path}:{line}"));
            label.push_str(&format!("\\n{place}"));
            attrs.push_str(&format!(", tooltip=\"{place}\""));
        }
        if i < starts {
            attrs.push_str(", style=\"rounded,filled,bold\", fillcolor=\"#ffd966\"");
        }
        s.push_str(&format!("  n{i} [label=\"{label}\"{attrs}];\n"));
    }
    for (caller, callee, link) in &hood.edges {
        let (Some(a), Some(b)) = (index.get(caller), index.get(callee)) else {
            continue;
        };
        if link.direct && link.dead {
            s.push_str(&format!(
                "  n{a} -> n{b} [style=dotted, color=gray, label=\"dead\"];\n"
            ));
            continue;
        }
        if link.direct {
            s.push_str(&format!("  n{a} -> n{b};\n"));
            continue;
        }
        let mut vias = Vec::new();
        for &p in &link.pointers {
            vias.push(names.name(db, p)?);
        }
        vias.sort();
        if vias.len() > MAX_VIAS {
            let more = vias.len() - MAX_VIAS;
            vias.truncate(MAX_VIAS);
            vias.push(format!("{more} more"));
        }
        let label = dot_escape(&vias.join(", "));
        s.push_str(&format!(
            "  n{a} -> n{b} [style=dashed, label=\"{label}\"];\n"
        ));
    }
    s.push_str("}\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(dot_escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(dot_escape("x\ny\u{1b}[1m"), r"x\\x0ay\\x1b[1m");
        // A file name that was not UTF-8, as the database stores it.
        assert_eq!(dot_escape(r"f\xff.c"), r"f\\xff.c");
    }
}
