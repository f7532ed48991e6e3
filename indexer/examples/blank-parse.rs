//! How long libclang parses a unit, and how long with the bodies of the functions its
//! headers define blanked (their text turned into spaces, lines kept, handed to
//! libclang as unsaved files): what a parse would cost if the headers whose facts are
//! recorded were not parsed again. With `BLANK_WRAP=1` the bodies are blanked as the
//! indexer does (`extract::blank::wrap`: handed to a macro that expands and drops
//! them, so the preprocessor still reads them). Best of three parses each.
//!
//!     cargo run --release --example blank-parse -- DIR COMPILER_ARGS...
//!
//! DIR is the compile's directory; COMPILER_ARGS its arguments without the compiler,
//! as `nccnav DB dump` lists a unit's command. Prints both times, how many bodies and
//! bytes were blanked, and the errors each parse found (blanking must add none).

use std::collections::HashMap;
use std::ffi::OsString;
use std::time::{Duration, Instant};

use indexer::clang::{kind, Index, Visit};

fn main() {
    let mut argv = std::env::args_os().skip(1);
    let dir = argv
        .next()
        .expect("usage: blank-parse DIR COMPILER_ARGS...");
    std::env::set_current_dir(&dir).expect("the compile's directory");
    let args: Vec<OsString> = argv.collect();
    let compile = match indexer::args::classify(&args) {
        indexer::args::Invocation::Compile(c) => c,
        _ => panic!("not a compile of C"),
    };
    indexer::clang::load().expect("libclang");
    let resource = indexer::job::resource_dir().expect("clang's resource directory");
    let mut parse_args = indexer::flags::parse_args(&compile, &resource).args;
    let wrap_mode = std::env::var_os("BLANK_WRAP").is_some();
    if wrap_mode {
        parse_args.extend(indexer::extract::blank::ARGS.map(str::to_owned));
    }
    let source = &compile.units[0].source;
    let index = Index::new();

    let best = |files: &[(&std::ffi::OsStr, &[u8])]| {
        let mut best = Duration::MAX;
        let mut errors = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let tu = index
                .parse_with_files(source, &parse_args, files)
                .expect("parse");
            best = best.min(t.elapsed());
            let all: Vec<String> = tu
                .diagnostics()
                .into_iter()
                .filter(|d| d.severity >= indexer::clang::Severity::Error)
                .map(|d| d.text)
                .collect();
            errors = all.len();
            if std::env::var_os("BLANK_ERRORS").is_some() {
                for e in all.iter().take(8) {
                    eprintln!("{e}");
                }
            }
        }
        (best, errors)
    };
    let (plain, plain_errors) = best(&[]);

    // The bodies of the functions defined in headers, by file: byte ranges.
    let tu = index.parse(source, &parse_args).expect("parse");
    let sources = tu.sources();
    let main = sources.files[0];
    let mut bodies: HashMap<indexer::clang::File<'_>, Vec<(u32, u32)>> = HashMap::new();
    tu.cursor().visit_children(|c| {
        if c.kind() == kind::FUNCTION_DECL {
            c.visit_children(|b| {
                if b.kind() == kind::COMPOUND_STMT {
                    if let Some((f, start, end)) = b.extent_in_file() {
                        if f != main {
                            bodies.entry(f).or_default().push((start + 1, end - 1));
                        }
                    }
                }
                Visit::Continue
            });
        }
        Visit::Continue
    });
    let mut blanked: Vec<(OsString, Vec<u8>)> = Vec::new();
    let (mut count, mut bytes) = (0, 0);
    for (f, ranges) in &bodies {
        let Some(text) = sources.text.get(f) else {
            continue;
        };
        let mut t = text.to_vec();
        for &(s, e) in ranges {
            // Only a body written in the file as it is, not one a macro makes.
            if text.get(s as usize - 1) != Some(&b'{') || text.get(e as usize) != Some(&b'}') {
                continue;
            }
            let body = &text[s as usize..e as usize];
            // A body with a directive in it keeps it: the preprocessor reads on.
            if body
                .split(|&b| b == b'\n')
                .any(|l| l.trim_ascii_start().starts_with(b"#"))
            {
                continue;
            }
            if wrap_mode {
                match indexer::extract::blank::wrap(body) {
                    Some(w) => t[s as usize..e as usize].copy_from_slice(&w),
                    None => continue,
                }
            } else {
                for b in &mut t[s as usize..e as usize] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
            }
            count += 1;
            bytes += e - s;
        }
        blanked.push((f.name(), t));
    }
    drop(tu);
    let files: Vec<(&std::ffi::OsStr, &[u8])> = blanked
        .iter()
        .map(|(n, t)| (n.as_os_str(), t.as_slice()))
        .collect();
    let (blank, blank_errors) = best(&files);
    println!(
        "parse {:.0} ms ({plain_errors} errors); with {count} header bodies blanked \
         ({} KB in {} files) {:.0} ms ({blank_errors} errors)",
        plain.as_secs_f64() * 1e3,
        bytes / 1024,
        blanked.len(),
        blank.as_secs_f64() * 1e3,
    );
}
