//! Random command lines through the classifier: it never panics, and nothing that is
//! not a compile of C to an object is ever taken for one. Failing cases are kept in
//! `proptest-regressions/` and replayed first on every run.

use std::ffi::OsString;

use indexer::args::{classify, expand_response_files, Invocation};
use proptest::prelude::*;

/// Words a compiler command line is made of, plus arbitrary ones.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "-c", "-S", "-E", "-M", "-MM", "-MD", "-MMD", "-MF", "-MT", "x.d", "-o", "out.o", "-x", "c",
            "assembler-with-cpp", "none", "-", "/dev/null", "a.c", "dir/b.c", "start.S", "x.s", "k.cpp",
            "obj.o", "lib.a", "--version", "-v", "-dumpmachine", "-print-file-name=include", "-###",
            "-fsyntax-only", "-I", "include", "-D", "X=1", "-include", "h.h", "-O2", "-g", "-Wall",
            "-Wp,-MMD,x.d", "-nostdlib", "-r", "-shared", "--help", "-xc", "-oout.o", "@missing.rsp",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
        1 => any::<String>(),
    ]
}

/// The words that are options or inputs, not the values of options (`-o --version`
/// names an output file).
fn words(args: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        out.push(args[i].as_str());
        i += if indexer::args::takes_separate_value(&args[i]) {
            2
        } else {
            1
        };
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn never_a_compile_unless_it_is_one(args in prop::collection::vec(word(), 0..12)) {
        let os: Vec<OsString> = args.iter().map(OsString::from).collect();
        let expanded = expand_response_files(&os, &mut |_| None);
        if let Invocation::Compile(job) = classify(&expanded) {
            let w = words(&args);
            let has = |x: &str| w.contains(&x);
            prop_assert!(has("-c"), "no -c: {args:?}");
            for stop in ["-E", "-S", "-fsyntax-only", "--version", "-###", "-dumpmachine", "--help"] {
                prop_assert!(!has(stop), "{stop}: {args:?}");
            }
            prop_assert!(!w.iter().any(|a| a.starts_with("-print-")), "{args:?}");
            // Standard input and /dev/null as inputs are probes. (As option values,
            // `-o /dev/null` included, they are not inputs.)
            for u in &job.units {
                prop_assert!(u.source != "-" && u.source != "/dev/null", "{args:?}");
                prop_assert!(!u.object.is_empty(), "{args:?}");
            }
            prop_assert!(!job.units.is_empty());
            let deps_only = has("-M") || has("-MM");
            prop_assert!(!deps_only || has("-MD") || has("-MMD"), "{args:?}");
        }
    }
}
