//! From the compiler's arguments to the arguments libclang parses with.
//!
//! A whitelist: only options that change what the preprocessor and the parser see are
//! kept. Everything else — code generation, warnings, dependency output (`-Wp,-MMD`,
//! which libclang would otherwise write over the build's own `.d` files), gcc-only
//! options that clang rejects — is dropped. On Linux 6.1, of the 65 distinct `-f`,
//! `-m` and `-W` options of a UML defconfig build, clang 19 rejects
//! `-fconserve-stack`, `-fno-allow-store-data-races` and `-Werror=designated-init`;
//! x86 builds add `-mrecord-mcount`, `-mindirect-branch=thunk-extern`,
//! `-mpreferred-stack-boundary=3` and others of their kind. None of them reaches
//! libclang, nor does any option this list does not know.

use std::ffi::OsString;

use crate::args::Compile;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseArgs {
    /// Arguments for libclang, without the source file.
    pub args: Vec<String>,
    /// Compiled as (part of) a loadable module: `-DMODULE`.
    pub module: bool,
}

/// Options kept together with their separate value.
const KEEP_WITH_VALUE: &[&str] = &[
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
    "--sysroot",
    "-target",
];

/// Options (or prefixes, ending in `*`) kept as they are.
const KEEP: &[&str] = &[
    "-D*",
    "-U*",
    "-I*",
    "-std=*",
    "-ansi",
    "-O*",
    "-nostdinc",
    "-ffreestanding",
    "-fno-builtin*",
    "-fsigned-char",
    "-funsigned-char",
    "-fno-signed-char",
    "-fno-unsigned-char",
    "-fshort-wchar",
    "-fshort-enums",
    "-fms-extensions",
    "-fgnu89-inline",
    "-fpic",
    "-fPIC",
    "-fpie",
    "-fPIE",
    "-fno-pic",
    "-fno-PIC",
    "-fno-pie",
    "-fno-PIE",
    "-fcommon",
    "-fno-common",
    "-m16",
    "-m32",
    "-m64",
    "-mx32",
    "-mno-sse*",
    "-mno-mmx",
    "-mno-3dnow",
    "-mno-avx*",
    "-mno-80387",
    "-msoft-float",
    "-mcmodel=*",
    "-mregparm=*",
    "--target=*",
    "--sysroot=*",
    "-pthread",
];

fn matches(pattern: &str, arg: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => arg.starts_with(prefix),
        None => arg == pattern,
    }
}

/// gcc's own header directory (`gcc -print-file-name=include`), which kbuild passes
/// with `-isystem` after `-nostdinc`: libclang gets clang's resource headers instead.
pub fn is_gcc_include_dir(dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.ends_with("/include") && (dir.contains("/gcc/") || dir.contains("/gcc-cross/"))
}

/// The libclang arguments for one unit of `job`. `resource_dir` is clang's resource
/// directory (its `include/` replaces gcc's).
pub fn parse_args(job: &Compile, resource_dir: &str) -> ParseArgs {
    let resource_include = format!("{}/include", resource_dir.trim_end_matches('/'));
    let mut out: Vec<String> = vec!["-x".into(), "c".into()];
    let text = |a: &std::ffi::OsStr| a.to_string_lossy().into_owned();

    for arg in crate::args::walk(&job.args) {
        if job.inputs.contains(&arg.index) {
            continue;
        }
        let a = text(arg.text);
        if arg.takes_value {
            if let (true, Some(v)) = (KEEP_WITH_VALUE.contains(&a.as_str()), arg.value) {
                let v = text(v);
                let v = if matches!(a.as_str(), "-isystem" | "-I" | "-idirafter")
                    && is_gcc_include_dir(&v)
                {
                    resource_include.clone()
                } else {
                    v
                };
                out.push(a);
                out.push(v);
            }
            continue;
        }
        if KEEP.iter().any(|p| matches(p, &a)) {
            let a = match a.strip_prefix("-I") {
                Some(dir) if is_gcc_include_dir(dir) => format!("-I{resource_include}"),
                _ => a,
            };
            out.push(a);
        }
    }
    out.extend(
        [
            "-resource-dir",
            resource_dir,
            // Facts, not warnings: keep going past any number of errors.
            "-w",
            "-ferror-limit=0",
            "-Qunused-arguments",
        ]
        .map(str::to_owned),
    );
    ParseArgs {
        args: out,
        module: builds_module(&job.args),
    }
}

/// The macros a command line defines with `-DNAME[=VALUE]` or `-D NAME[=VALUE]`, in
/// order, as (name, value).
fn defines(args: &[OsString]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for arg in crate::args::walk(args) {
        let def = if arg.is("-D") {
            arg.value.map(|v| v.to_string_lossy().into_owned())
        } else {
            arg.text
                .to_string_lossy()
                .strip_prefix("-D")
                .map(str::to_owned)
        };
        if let Some(d) = def {
            out.push(match d.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (d, None),
            });
        }
    }
    out
}

/// Whether a command line builds (part of) a loadable module: `-DMODULE` or
/// `-D MODULE`, as kbuild passes it.
pub fn builds_module(args: &[OsString]) -> bool {
    defines(args).iter().any(|(n, _)| n == "MODULE")
}

/// The module a command line builds a part of: `KBUILD_MODNAME` (kbuild passes
/// `-DKBUILD_MODNAME='"ext4"'`) of a `-DMODULE` compile. Built-in code has a
/// `KBUILD_MODNAME` too, the module it would be: that is not a module.
pub fn module_name(args: &[OsString]) -> Option<String> {
    if !builds_module(args) {
        return None;
    }
    let (_, value) = defines(args)
        .into_iter()
        .rev()
        .find(|(n, _)| n == "KBUILD_MODNAME")?;
    let v = value?;
    let v = v.trim_matches(|c| c == '"' || c == '\'' || c == '\\');
    (!v.is_empty()).then(|| v.to_owned())
}

/// The target a cross compiler builds for, from its name: `aarch64-linux-gnu-gcc`
/// (or `-gcc-12`, `-cc`) gives `aarch64-linux-gnu`, so that libclang parses for the
/// same machine. A plain `gcc` or `cc` gives nothing: the host is right.
pub fn target_of_compiler(program: &str) -> Option<String> {
    let base = program.rsplit('/').next().unwrap_or(program);
    let base = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let base = base.strip_suffix('-').unwrap_or(base);
    let triple = base
        .strip_suffix("-gcc")
        .or_else(|| base.strip_suffix("-cc"))?;
    (triple.matches('-').count() >= 1).then(|| triple.to_owned())
}

/// The include directories of libclang's arguments `args` (`-I`, `-iquote`,
/// `-isystem`, `-idirafter`, with their value attached or separate), in order.
pub fn include_dirs(args: &[String]) -> Vec<&str> {
    const OPTIONS: [&str; 4] = ["-I", "-iquote", "-isystem", "-idirafter"];
    let mut out = Vec::new();
    let mut next_is_dir = false;
    for a in args {
        if std::mem::take(&mut next_is_dir) {
            out.push(a.as_str());
        } else if OPTIONS.contains(&a.as_str()) {
            next_is_dir = true;
        } else if let Some(dir) = OPTIONS.iter().find_map(|o| a.strip_prefix(o)) {
            out.push(dir);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_directories_attached_or_separate() {
        let args: Vec<String> = [
            "-I./include",
            "-I",
            "arch/um/include",
            "-iquote",
            "q",
            "-isystemsys",
            "-include",
            "kconfig.h",
            "-idirafter",
            "late",
            "-DX",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            include_dirs(&args),
            ["./include", "arch/um/include", "q", "sys", "late"]
        );
    }
}
