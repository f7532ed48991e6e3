//! Classifying a compiler command line: is it a compile of C to an object, or
//! something that passes straight through? A pure function of the arguments.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// What a compiler call does, as far as nccrs is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Compiles C translation units to objects: index each of them.
    Compile(Compile),
    /// Assembles one assembly source (`.S`, `.s`) to an object: its calls are read
    /// from the object once it is written.
    Assemble(Compile),
    /// Runs the compiler and nothing else.
    PassThrough(Reason),
}

/// Why a call is not indexed (named the way ccache names its statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// No `-c`: the compiler links (or compiles and links).
    CalledForLink,
    /// `-E`.
    CalledForPreprocessing,
    /// `-M`/`-MM` without `-MD`/`-MMD`: prints dependencies only.
    CalledForDependencies,
    /// `-S`: compiles to assembly, not to an object.
    CalledForAssembly,
    /// `-fsyntax-only`.
    CalledForSyntaxCheck,
    /// `--version`, `-print-file-name=`, `-dumpmachine`, `--help`, `-###`, ...
    InformationQuery,
    /// Input from `/dev/null` or standard input: kbuild's feature probes.
    FeatureProbe,
    /// No C source among the inputs (C++, objects, several assembly sources, ...).
    NoCSource,
    /// No input file at all.
    NoInput,
}

/// A compile of one or more C sources to objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compile {
    /// Each C source with the object it is compiled to.
    pub units: Vec<Unit>,
    /// The whole argument vector, without the program name.
    pub args: Vec<OsString>,
    /// Index in `args` of every input file (C or not), to be left out when parsing one unit.
    pub inputs: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub source: OsString,
    pub object: OsString,
}

/// Options whose value is the next argument when not attached.
const TAKES_ARG: &[&str] = &[
    "-o",
    "-x",
    "-I",
    "-D",
    "-U",
    "-include",
    "-imacros",
    "-isystem",
    "-iquote",
    "-idirafter",
    "-iprefix",
    "-iwithprefix",
    "-iwithprefixbefore",
    "-isysroot",
    "-imultilib",
    "-MF",
    "-MT",
    "-MQ",
    "-L",
    "-Xlinker",
    "-Xassembler",
    "-Xpreprocessor",
    "-Xclang",
    "-u",
    "-T",
    "-z",
    "--param",
    "-aux-info",
    "-A",
    "-e",
    "--entry",
    "-B",
    "-wrapper",
    "-dumpbase",
    "-dumpdir",
    "-dumpbase-ext",
    "--sysroot",
    "-target",
    "-arch",
    "-mllvm",
    "-l",
    "-G",
    "-specs",
];

/// Whether `arg` is an option whose value is the next argument.
pub fn takes_separate_value(arg: &str) -> bool {
    TAKES_ARG.contains(&arg)
}

/// One argument of a command line as the compiler reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg<'a> {
    /// Where it is in the argument vector.
    pub index: usize,
    pub text: &'a OsStr,
    /// An option (`-c`, `-DX`, `-o` with its value), as opposed to an input file
    /// (`-` alone is standard input).
    pub option: bool,
    /// An option that takes its value from the next argument (`-o x.o`, `-D X`).
    pub takes_value: bool,
    /// That value, when there is a next argument.
    pub value: Option<&'a OsStr>,
}

impl Arg<'_> {
    pub fn is(&self, text: &str) -> bool {
        self.text.as_bytes() == text.as_bytes()
    }
}

/// The arguments of a command line, each option with its separate value (per the one
/// table of such options): the only walk over a command line.
pub fn walk(args: &[OsString]) -> impl Iterator<Item = Arg<'_>> {
    let mut i = 0;
    std::iter::from_fn(move || {
        let text = args.get(i)?.as_os_str();
        let b = text.as_bytes();
        let option = b.len() > 1 && b[0] == b'-';
        let separate = option && takes_separate_value(std::str::from_utf8(b).unwrap_or(""));
        let arg = Arg {
            index: i,
            text,
            option,
            takes_value: separate,
            value: separate
                .then(|| args.get(i + 1).map(|v| v.as_os_str()))
                .flatten(),
        };
        i += if separate { 2 } else { 1 };
        Some(arg)
    })
}

/// Options that make the compiler print something and stop.
fn is_information_query(a: &[u8]) -> bool {
    a == b"--version"
        || a == b"-dumpversion"
        || a == b"-dumpfullversion"
        || a == b"-dumpmachine"
        || a == b"-dumpspecs"
        || a == b"--help"
        || a.starts_with(b"--help=")
        || a == b"--target-help"
        || a == b"-###"
        || a.starts_with(b"-print-")
        || a.starts_with(b"--print-")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    C,
    /// Assembly, with or without the preprocessor.
    Asm,
    Other,
}

fn lang_of_extension(path: &[u8]) -> Lang {
    let ext = path
        .rsplit(|&b| b == b'.')
        .next()
        .filter(|_| path.contains(&b'.'));
    match ext {
        Some(b"c") => Lang::C,
        Some(b"S" | b"s" | b"sx") => Lang::Asm,
        _ => Lang::Other,
    }
}

fn lang_of_x(value: &[u8]) -> Option<Lang> {
    match value {
        b"none" => None,
        b"c" => Some(Lang::C),
        b"assembler" | b"assembler-with-cpp" => Some(Lang::Asm),
        // Anything else, including what gcc rejects (`-x --version`): not C.
        _ => Some(Lang::Other),
    }
}

/// The object gcc writes for `source` under `-c` without `-o`: its base name with `.o`.
fn default_object(source: &OsStr) -> OsString {
    let bytes = source.as_bytes();
    let base = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    let stem = match base.iter().rposition(|&b| b == b'.') {
        Some(0) | None => base,
        Some(i) => &base[..i],
    };
    let mut out = stem.to_vec();
    out.extend_from_slice(b".o");
    std::ffi::OsStr::from_bytes(&out).to_owned()
}

/// Classifies an argument vector (without the program name, response files expanded).
pub fn classify(args: &[OsString]) -> Invocation {
    let mut compile = false;
    let mut output: Option<OsString> = None;
    let mut lang_override: Option<Lang> = None;
    let mut c_sources: Vec<OsString> = Vec::new();
    let mut asm_sources: Vec<OsString> = Vec::new();
    let mut inputs: Vec<usize> = Vec::new();
    let mut other_inputs = 0usize;
    let mut stop: Option<Reason> = None;
    let mut deps_only = false;
    let mut deps_with_output = false;
    let mut probe = false;

    for arg in walk(args) {
        let a = arg.text.as_bytes();
        if arg.option && arg.takes_value {
            let v = arg.value.map(OsStr::as_bytes);
            match a {
                b"-o" => output = v.map(|v| OsStr::from_bytes(v).to_owned()),
                b"-x" => lang_override = v.and_then(lang_of_x),
                _ => {}
            }
            continue;
        }
        if arg.option {
            match a {
                b"-c" => compile = true,
                b"-E" => stop = stop.or(Some(Reason::CalledForPreprocessing)),
                b"-S" => stop = stop.or(Some(Reason::CalledForAssembly)),
                b"-fsyntax-only" => stop = stop.or(Some(Reason::CalledForSyntaxCheck)),
                b"-M" | b"-MM" => deps_only = true,
                b"-MD" | b"-MMD" => deps_with_output = true,
                _ if is_information_query(a) => stop = stop.or(Some(Reason::InformationQuery)),
                _ if a.starts_with(b"-o") => output = Some(OsStr::from_bytes(&a[2..]).to_owned()),
                _ if a.starts_with(b"-x") => lang_override = lang_of_x(&a[2..]),
                _ => {}
            }
            continue;
        }
        // An input file ("-" is standard input).
        inputs.push(arg.index);
        if a == b"-" || a == b"/dev/null" {
            probe = true;
        } else {
            let lang = lang_override.unwrap_or_else(|| lang_of_extension(a));
            match lang {
                Lang::C => c_sources.push(arg.text.to_owned()),
                Lang::Asm => asm_sources.push(arg.text.to_owned()),
                Lang::Other => other_inputs += 1,
            }
        }
    }

    if let Some(reason) = stop {
        return Invocation::PassThrough(reason);
    }
    if deps_only && !deps_with_output {
        return Invocation::PassThrough(Reason::CalledForDependencies);
    }
    if probe {
        return Invocation::PassThrough(Reason::FeatureProbe);
    }
    if inputs.is_empty() {
        return Invocation::PassThrough(Reason::NoInput);
    }
    if !compile {
        return Invocation::PassThrough(Reason::CalledForLink);
    }
    if output
        .as_deref()
        .is_some_and(|o| o.as_bytes() == b"/dev/null")
    {
        return Invocation::PassThrough(Reason::FeatureProbe);
    }
    if c_sources.is_empty() {
        // One assembly source alone: its object is read after the compile.
        if let ([source], 0) = (asm_sources.as_slice(), other_inputs) {
            let object = output.unwrap_or_else(|| default_object(source));
            return Invocation::Assemble(Compile {
                units: vec![Unit {
                    source: source.clone(),
                    object,
                }],
                args: args.to_vec(),
                inputs,
            });
        }
        return Invocation::PassThrough(Reason::NoCSource);
    }
    let other_inputs = other_inputs + asm_sources.len();
    // gcc refuses `-o` with several inputs under -c; it still fails the same way.
    let single = c_sources.len() == 1 && other_inputs == 0;
    let units = c_sources
        .into_iter()
        .map(|source| {
            let object = match (&output, single) {
                (Some(o), true) => o.clone(),
                _ => default_object(&source),
            };
            Unit { source, object }
        })
        .collect();
    Invocation::Compile(Compile {
        units,
        args: args.to_vec(),
        inputs,
    })
}

/// Expands `@file` arguments the way gcc does (whitespace-separated, with single and
/// double quotes and backslash escapes; nested up to a limit). An unreadable `@file`
/// stays as it is, as gcc leaves it.
pub fn expand_response_files(
    args: &[OsString],
    read: &mut dyn FnMut(&OsStr) -> Option<Vec<u8>>,
) -> Vec<OsString> {
    fn go(
        args: &[OsString],
        read: &mut dyn FnMut(&OsStr) -> Option<Vec<u8>>,
        depth: usize,
        out: &mut Vec<OsString>,
    ) {
        for a in args {
            let bytes = a.as_bytes();
            if depth < 16 && bytes.len() > 1 && bytes[0] == b'@' {
                if let Some(content) = read(OsStr::from_bytes(&bytes[1..])) {
                    let inner: Vec<OsString> = split_response_file(&content);
                    go(&inner, read, depth + 1, out);
                    continue;
                }
            }
            out.push(a.clone());
        }
    }
    let mut out = Vec::with_capacity(args.len());
    go(args, read, 0, &mut out);
    out
}

fn split_response_file(content: &[u8]) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut quote: Option<u8> = None;
    let mut it = content.iter().copied();
    while let Some(b) = it.next() {
        match (quote, b) {
            (_, b'\\') => {
                if let Some(n) = it.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => cur.push(b),
            (None, b'\'' | b'"') => {
                quote = Some(b);
                in_word = true;
            }
            (None, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c') => {
                if in_word {
                    out.push(OsStr::from_bytes(&cur).to_owned());
                    cur.clear();
                    in_word = false;
                }
            }
            (None, _) => {
                cur.push(b);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(OsStr::from_bytes(&cur).to_owned());
    }
    out
}
