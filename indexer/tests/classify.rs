//! The classifier, one row a case: every row is checked and every failing row reported.

use std::ffi::{OsStr, OsString};

use indexer::args::{classify, expand_response_files, Invocation, Reason, Unit};
use indexer::flags::parse_args;

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// What a row expects: a compile of these (source, object) pairs, or a pass-through.
enum Want {
    Compile(&'static [(&'static str, &'static str)]),
    /// One assembly source and its object.
    Assemble(&'static str, &'static str),
    Pass(Reason),
}

fn check(rows: &[(&[&str], Want)]) {
    let mut failures = Vec::new();
    for (args, want) in rows {
        let got = classify(&os(args));
        let ok = match (want, &got) {
            (Want::Pass(r), Invocation::PassThrough(g)) => r == g,
            (Want::Compile(units), Invocation::Compile(job)) => {
                let want: Vec<Unit> = units
                    .iter()
                    .map(|(s, o)| Unit {
                        source: OsString::from(s),
                        object: OsString::from(o),
                    })
                    .collect();
                want == job.units
            }
            (Want::Assemble(src, obj), Invocation::Assemble(job)) => {
                job.units
                    == [Unit {
                        source: OsString::from(src),
                        object: OsString::from(obj),
                    }]
            }
            _ => false,
        };
        if !ok {
            failures.push(format!("{args:?}: got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "misclassified:\n{}",
        failures.join("\n")
    );
}

#[test]
fn one_assembly_source_is_assembled_and_read_from_its_object() {
    check(&[
        (
            &["-c", "start.S", "-o", "start.o"],
            Want::Assemble("start.S", "start.o"),
        ),
        (&["-c", "foo.s"], Want::Assemble("foo.s", "foo.o")),
        (
            &["-x", "assembler-with-cpp", "-c", "foo.c"],
            Want::Assemble("foo.c", "foo.o"),
        ),
        // kbuild's way: preprocessed, dependencies written, -D__ASSEMBLY__.
        (
            &[
                "-Wp,-MMD,arch/x86/entry/.entry_64.o.d",
                "-D__ASSEMBLY__",
                "-c",
                "-o",
                "arch/x86/entry/entry_64.o",
                "arch/x86/entry/entry_64.S",
            ],
            Want::Assemble("arch/x86/entry/entry_64.S", "arch/x86/entry/entry_64.o"),
        ),
        // Not to an object: passed through.
        (
            &["-E", "vmlinux.lds.S", "-o", "vmlinux.lds"],
            Want::Pass(Reason::CalledForPreprocessing),
        ),
        (
            &["-x", "assembler-with-cpp", "-c", "-", "-o", "/dev/null"],
            Want::Pass(Reason::FeatureProbe),
        ),
    ]);
}

#[test]
fn compiles_of_c_to_objects() {
    check(&[
        (
            &["-c", "foo.c", "-o", "foo.o"],
            Want::Compile(&[("foo.c", "foo.o")]),
        ),
        (&["-c", "foo.c"], Want::Compile(&[("foo.c", "foo.o")])),
        (
            &["-c", "dir/foo.c"],
            Want::Compile(&[("dir/foo.c", "foo.o")]),
        ),
        (
            &["-c", "-ofoo.o", "foo.c"],
            Want::Compile(&[("foo.c", "foo.o")]),
        ),
        (
            &[
                "-O2", "-Wall", "-I", "include", "-D", "X=1", "-c", "a.c", "-o", "b.o",
            ],
            Want::Compile(&[("a.c", "b.o")]),
        ),
        // kbuild writes dependencies as a side effect of the compile.
        (
            &["-Wp,-MMD,fs/.x.o.d", "-c", "-o", "fs/x.o", "fs/x.c"],
            Want::Compile(&[("fs/x.c", "fs/x.o")]),
        ),
        (
            &["-MD", "-MF", "x.d", "-c", "x.c"],
            Want::Compile(&[("x.c", "x.o")]),
        ),
        (
            &["-MMD", "-c", "x.c", "-o", "x.o"],
            Want::Compile(&[("x.c", "x.o")]),
        ),
        // -x c makes anything C.
        (
            &["-x", "c", "-c", "gen.inc", "-o", "gen.o"],
            Want::Compile(&[("gen.inc", "gen.o")]),
        ),
        (
            &["-xc", "-c", "gen.inc"],
            Want::Compile(&[("gen.inc", "gen.o")]),
        ),
        // The value of -include or -o is not an input.
        (
            &["-include", "config.h", "-c", "a.c"],
            Want::Compile(&[("a.c", "a.o")]),
        ),
        // Several sources: each compiled to its own object.
        (
            &["-c", "a.c", "b.c"],
            Want::Compile(&[("a.c", "a.o"), ("b.c", "b.o")]),
        ),
        (&["-c", "a.c", "start.S"], Want::Compile(&[("a.c", "a.o")])),
        (&["-c", "-g", "-v", "a.c"], Want::Compile(&[("a.c", "a.o")])),
    ]);
}

#[test]
fn everything_else_passes_through() {
    use Reason::*;
    check(&[
        (&["-E", "foo.c"], Want::Pass(CalledForPreprocessing)),
        (
            &["-E", "-P", "-x", "c", "-", "-o", "-"],
            Want::Pass(Reason::CalledForPreprocessing),
        ),
        (
            &["-S", "foo.c", "-o", "foo.s"],
            Want::Pass(CalledForAssembly),
        ),
        (&["-S", "-c", "foo.c"], Want::Pass(CalledForAssembly)),
        (&["-M", "foo.c"], Want::Pass(CalledForDependencies)),
        (&["-MM", "foo.c"], Want::Pass(CalledForDependencies)),
        // Several assembly sources, or assembly with other inputs: not read.
        (&["-c", "a.S", "b.S"], Want::Pass(NoCSource)),
        (&["-c", "a.S", "b.o"], Want::Pass(NoCSource)),
        (&["-c", "foo.cpp"], Want::Pass(NoCSource)),
        (&["-c", "foo.o"], Want::Pass(NoCSource)),
        (
            &["-fsyntax-only", "foo.c"],
            Want::Pass(CalledForSyntaxCheck),
        ),
        (&["foo.c", "-o", "foo"], Want::Pass(CalledForLink)),
        (&["a.o", "b.o", "-o", "vmlinux"], Want::Pass(CalledForLink)),
        (
            &["-nostdlib", "-r", "-o", "built-in.o", "a.o"],
            Want::Pass(CalledForLink),
        ),
        (&["--version"], Want::Pass(InformationQuery)),
        (&["-v"], Want::Pass(NoInput)),
        (&["-dumpversion"], Want::Pass(InformationQuery)),
        (&["-dumpmachine"], Want::Pass(InformationQuery)),
        (&["-print-file-name=include"], Want::Pass(InformationQuery)),
        (&["-print-libgcc-file-name"], Want::Pass(InformationQuery)),
        (&["--help"], Want::Pass(InformationQuery)),
        (&["-###", "-c", "foo.c"], Want::Pass(InformationQuery)),
        (&[], Want::Pass(NoInput)),
        // kbuild's cc-option and friends: /dev/null or standard input, never a unit.
        (
            &[
                "-Werror",
                "-fno-common",
                "-c",
                "-x",
                "c",
                "/dev/null",
                "-o",
                "/tmp/x.o",
            ],
            Want::Pass(FeatureProbe),
        ),
        (
            &["-c", "-x", "c", "-", "-o", "/dev/null"],
            Want::Pass(FeatureProbe),
        ),
        (
            &["-c", "foo.c", "-o", "/dev/null"],
            Want::Pass(FeatureProbe),
        ),
        (
            &["-Werror", "-x", "c", "/dev/null", "-c", "-o", "/dev/null"],
            Want::Pass(FeatureProbe),
        ),
    ]);
}

#[test]
fn response_files_are_expanded() {
    let mut read = |p: &OsStr| match p.to_str() {
        Some("args.rsp") => {
            Some(b"-c 'my file.c' -o \"my file.o\"\n -DX=\\\"y\\\" @more.rsp".to_vec())
        }
        Some("more.rsp") => Some(b"-O2".to_vec()),
        Some("loop.rsp") => Some(b"@loop.rsp".to_vec()),
        _ => None,
    };
    let got = expand_response_files(&os(&["-Wall", "@args.rsp", "@missing.rsp"]), &mut read);
    assert_eq!(
        got,
        os(&[
            "-Wall",
            "-c",
            "my file.c",
            "-o",
            "my file.o",
            "-DX=\"y\"",
            "-O2",
            "@missing.rsp"
        ])
    );
    assert_eq!(
        classify(&got),
        Invocation::Compile(indexer::args::Compile {
            units: vec![Unit {
                source: "my file.c".into(),
                object: "my file.o".into()
            }],
            args: got.clone(),
            inputs: vec![2, 7],
        })
    );
    // A response file that includes itself stops at a depth limit instead of looping.
    let looped = expand_response_files(&os(&["@loop.rsp"]), &mut read);
    assert_eq!(looped, os(&["@loop.rsp"]));
}

fn parse_args_of(args: &[&str]) -> Vec<String> {
    match classify(&os(args)) {
        Invocation::Compile(job) => parse_args(&job, "/usr/lib/llvm-19/lib/clang/19").args,
        other => panic!("not a compile: {other:?}"),
    }
}

#[test]
fn libclang_gets_only_what_changes_parsing() {
    let args = parse_args_of(&[
        "-nostdinc",
        "-isystem",
        "/usr/lib/gcc/x86_64-linux-gnu/12/include",
        "-I./include",
        "-include",
        "./include/linux/kconfig.h",
        "-D__KERNEL__",
        "-DKBUILD_BASENAME=\"fork\"",
        "-fconserve-stack",
        "-mrecord-mcount",
        "-fno-allow-store-data-races",
        "-Wimplicit-fallthrough=5",
        "-ftrivial-auto-var-init=zero",
        "-Wp,-MMD,kernel/.fork.o.d",
        "-MD",
        "-MF",
        "x.d",
        "-O2",
        "-std=gnu11",
        "-c",
        "-o",
        "kernel/fork.o",
        "kernel/fork.c",
    ]);
    let want: Vec<String> = [
        "-x",
        "c",
        "-nostdinc",
        "-isystem",
        "/usr/lib/llvm-19/lib/clang/19/include",
        "-I./include",
        "-include",
        "./include/linux/kconfig.h",
        "-D__KERNEL__",
        "-DKBUILD_BASENAME=\"fork\"",
        "-O2",
        "-std=gnu11",
        "-resource-dir",
        "/usr/lib/llvm-19/lib/clang/19",
        "-w",
        "-ferror-limit=0",
        "-Qunused-arguments",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(args, want);
}

#[test]
fn modules_are_told_apart() {
    let module = |args: &[&str]| match classify(&os(args)) {
        Invocation::Compile(job) => parse_args(&job, "/r").module,
        other => panic!("not a compile: {other:?}"),
    };
    assert!(!module(&["-DKBUILD_MODNAME=\"a\"", "-c", "a.c"]));
    assert!(module(&["-DMODULE", "-c", "b.c"]));
    assert!(module(&["-D", "MODULE", "-c", "b.c"]));
}

#[test]
fn a_modules_name_is_its_kbuild_modname() {
    use indexer::flags::module_name;
    let rows: [(&[&str], Option<&str>); 5] = [
        // Built-in code has a KBUILD_MODNAME too: it is not a module.
        (&["-DKBUILD_MODNAME=\"ext4\"", "-c", "a.c"], None),
        (
            &["-DMODULE", "-DKBUILD_MODNAME=\"ext4\"", "-c", "a.c"],
            Some("ext4"),
        ),
        (
            &["-D", "KBUILD_MODNAME=\"hello\"", "-DMODULE", "-c", "a.c"],
            Some("hello"),
        ),
        (
            &["-DMODULE", "-DKBUILD_MODNAME='\"x\"'", "-c", "a.c"],
            Some("x"),
        ),
        (&["-DMODULE", "-c", "a.c"], None),
    ];
    let bad: Vec<String> = rows
        .iter()
        .filter(|(args, want)| module_name(&os(args)).as_deref() != *want)
        .map(|(args, want)| format!("{args:?}: want {want:?}, got {:?}", module_name(&os(args))))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn cross_compilers_name_their_target() {
    use indexer::flags::target_of_compiler;
    let rows = [
        ("gcc", None),
        ("/usr/bin/cc", None),
        ("gcc-12", None),
        ("aarch64-linux-gnu-gcc", Some("aarch64-linux-gnu")),
        (
            "/opt/x/bin/riscv64-linux-gnu-gcc-12",
            Some("riscv64-linux-gnu"),
        ),
        ("x86_64-linux-gnu-gcc", Some("x86_64-linux-gnu")),
        ("arm-linux-gnueabihf-cc", Some("arm-linux-gnueabihf")),
        ("clang", None),
    ];
    let bad: Vec<_> = rows
        .iter()
        .filter(|(name, want)| target_of_compiler(name).as_deref() != *want)
        .map(|(name, want)| format!("{name}: want {want:?}, got {:?}", target_of_compiler(name)))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
}
