//! Which kernel build a compile belongs to, if any: its source and build trees, the
//! directory of an external module, and where the database goes.
//!
//! kbuild runs every compile from the top of the build tree (the `O=` directory, or
//! the source tree itself), and has exported `srctree` and `objtree` to the compiler
//! for many years; what they hold changed:
//!
//! | kbuild | `srctree` | `objtree` | also exported |
//! |---|---|---|---|
//! | 2.6, early 4.x | absolute (`$(CURDIR)` or `KBUILD_SRC`) | absolute (`$(CURDIR)`) | |
//! | later 4.x, 5.x | `.` in-tree, `..` for `O=` a subdirectory, else absolute | `.` | |
//! | 6.1 | as above | `.` | `abs_srctree`, `abs_objtree` |
//! | 6.12 | as above (`KBUILD_ABS_SRCTREE=1`: absolute) | `.` | |
//!
//! (6.1 and 6.12 are read off their Makefiles; the older rows from kbuild's history,
//! not tested here.)
//!
//! External modules (`make -C BUILD M=DIR`) also export `KBUILD_EXTMOD` (the `M=`
//! value); up to 6.12 their compiles run at the top of the kernel's build tree as
//! well.
//!
//! So: `abs_srctree`/`abs_objtree` when present (6.1's pair, trusted as they are),
//! else `srctree`/`objtree` taken relative to the compile's working directory and
//! accepted only when they look like a kernel build — a `.config` or
//! `include/config/auto.conf` at the top of the build tree and a `Makefile` at the
//! top of the source tree — since those two names are common enough for other
//! projects to export. Anything else is not a kernel build: the database is
//! `nccrs.db` in the working directory and paths are stored absolute.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::paths::normalize;

/// A kernel build, as one compile sees it. Paths are absolute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelBuild {
    pub srctree: PathBuf,
    pub objtree: PathBuf,
    /// The external module's directory (`make M=DIR`), when building one.
    pub extmod: Option<PathBuf>,
}

impl KernelBuild {
    /// `vmlinux.db` at the top of the build tree: an external module's units join the
    /// kernel's.
    pub fn database(&self) -> PathBuf {
        self.objtree.join("vmlinux.db")
    }
}

/// What detection needs from the process: its environment and the file system.
pub trait Surroundings {
    fn var(&self, name: &str) -> Option<OsString>;
    fn is_file(&self, path: &Path) -> bool;
    fn is_dir(&self, path: &Path) -> bool;
}

/// This process's environment and the real file system.
pub struct Real;

impl Surroundings for Real {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

/// The kernel build a compile running in `cwd` belongs to, if any.
pub fn detect(cwd: &Path, env: &impl Surroundings) -> Option<KernelBuild> {
    let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
    let at = |v: OsString| normalize(&cwd.join(v));
    let (srctree, objtree) = match (var("abs_srctree"), var("abs_objtree")) {
        (Some(s), Some(o)) => (at(s), at(o)),
        _ => {
            let (s, o) = (at(var("srctree")?), at(var("objtree")?));
            let configured =
                env.is_file(&o.join(".config")) || env.is_file(&o.join("include/config/auto.conf"));
            if !configured || !env.is_file(&s.join("Makefile")) {
                return None;
            }
            (s, o)
        }
    };
    let extmod = var("KBUILD_EXTMOD").map(|m| {
        let dir = at(m);
        // Where kbuild runs module compiles in the module's own directory, a relative
        // `M=` named it from where make started: the working directory is the module.
        if env.is_dir(&dir) {
            dir
        } else {
            cwd.to_owned()
        }
    });
    Some(KernelBuild {
        srctree,
        objtree,
        extmod,
    })
}

/// Where a compile in `cwd` writes: `NCCRS_DB` (relative to `cwd`), else the kernel
/// build's `vmlinux.db`, else `nccrs.db` in `cwd`.
pub fn database(cwd: &Path, env: &impl Surroundings, build: Option<&KernelBuild>) -> PathBuf {
    match env.var(crate::settings::DB).filter(|v| !v.is_empty()) {
        Some(p) => cwd.join(p),
        None => match build {
            Some(b) => b.database(),
            None => cwd.join("nccrs.db"),
        },
    }
}

/// Where the facts of a compile in `cwd` of this process would go.
pub fn database_here(cwd: &Path) -> PathBuf {
    database(cwd, &Real, detect(cwd, &Real).as_ref())
}

/// The headers the compile of `object` (relative to `cwd`) read, as far as kbuild's
/// files say: the compiler's dependency output `DIR/.NAME.o.d` while the compile's
/// wrapper runs (kbuild deletes it right after), else the `deps_` list fixdep made of
/// it in `DIR/.NAME.o.cmd` — which may be an earlier build's. Paths as the
/// compiler wrote them (relative ones to `cwd`), each ending in `.h`; empty when
/// neither file is there. Only a hint: a header it names may not be one the parse
/// reads, and the other way round.
pub fn headers_read(cwd: &Path, object: &std::ffi::OsStr) -> Vec<PathBuf> {
    let object = cwd.join(object);
    let (Some(dir), Some(name)) = (object.parent(), object.file_name()) else {
        return Vec::new();
    };
    let dot = |ext: &str| {
        let mut n = std::ffi::OsString::from(".");
        n.push(name);
        n.push(ext);
        dir.join(n)
    };
    let text = match std::fs::read(dot(".d")) {
        Ok(t) => t,
        Err(_) => match std::fs::read(dot(".cmd")) {
            Ok(t) => deps_block(&t).to_vec(),
            Err(_) => return Vec::new(),
        },
    };
    dependency_headers(&text)
        .map(|h| PathBuf::from(std::ffi::OsStr::from_bytes(h)))
        .collect()
}

/// The lines of a `.cmd` file that list the dependencies: from `deps_...` to the
/// first line that does not continue.
fn deps_block(text: &[u8]) -> &[u8] {
    let Some(start) = memchr::memmem::find(text, b"\ndeps_")
        .map(|i| i + 1)
        .or_else(|| text.starts_with(b"deps_").then_some(0))
    else {
        return &[];
    };
    let mut end = start;
    for line in text[start..].split(|&b| b == b'\n') {
        end += line.len() + 1;
        if !line.trim_ascii_end().ends_with(b"\\") {
            break;
        }
    }
    &text[start..end.min(text.len())]
}

/// The headers a dependency list names (make's syntax: `TARGET: DEP DEP \`, or
/// fixdep's `deps_TARGET := \` with `$(wildcard ...)` entries).
fn dependency_headers(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|b| b.is_ascii_whitespace())
        .filter(|t| t.ends_with(b".h") && !t.starts_with(b"$(") && !t.contains(&b':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_headers_read_come_from_the_dependency_output_or_the_cmd_file() {
        let d = b"fs/read_write.o: fs/read_write.c include/linux/slab.h \\\n  /s/include/linux/fs.h \\\n arch/x86/include/asm/io.h\n";
        let found: Vec<&[u8]> = dependency_headers(d).collect();
        assert_eq!(
            found,
            [
                &b"include/linux/slab.h"[..],
                b"/s/include/linux/fs.h",
                b"arch/x86/include/asm/io.h"
            ]
        );
        let cmd = b"savedcmd_fs/read_write.o := gcc -Wp,-MMD,fs/.read_write.o.d -include x.h -c -o fs/read_write.o fs/read_write.c\n\nsource_fs/read_write.o := fs/read_write.c\n\ndeps_fs/read_write.o := \\\n  include/linux/compiler-version.h \\\n    $(wildcard include/config/CC_VERSION_TEXT) \\\n  include/linux/kconfig.h \\\n\nfs/read_write.o: $(deps_fs/read_write.o)\n\n$(deps_fs/read_write.o): other.h\n";
        let found: Vec<&[u8]> = dependency_headers(deps_block(cmd)).collect();
        assert_eq!(
            found,
            [
                &b"include/linux/compiler-version.h"[..],
                b"include/linux/kconfig.h"
            ]
        );
        assert!(deps_block(b"cmd_x := gcc -c x.h\n").is_empty());

        let dir = std::env::temp_dir().join(format!("nccrs-deps-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("fs")).unwrap();
        assert!(headers_read(&dir, std::ffi::OsStr::new("fs/read_write.o")).is_empty());
        std::fs::write(dir.join("fs/.read_write.o.cmd"), cmd).unwrap();
        assert_eq!(
            headers_read(&dir, std::ffi::OsStr::new("fs/read_write.o")),
            [
                PathBuf::from("include/linux/compiler-version.h"),
                PathBuf::from("include/linux/kconfig.h")
            ]
        );
        // The compiler's own output, while it is there, comes first.
        std::fs::write(dir.join("fs/.read_write.o.d"), d).unwrap();
        assert_eq!(
            headers_read(&dir, std::ffi::OsStr::new("fs/read_write.o")).len(),
            3
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An environment and the files that exist.
    #[derive(Default)]
    struct Fake {
        vars: HashMap<&'static str, &'static str>,
        files: HashSet<PathBuf>,
    }

    impl Fake {
        fn var(mut self, k: &'static str, v: &'static str) -> Fake {
            self.vars.insert(k, v);
            self
        }
        fn file(mut self, p: &str) -> Fake {
            self.files.insert(PathBuf::from(p));
            self
        }
        /// A configured kernel: source tree `src`, build tree `obj`.
        fn kernel(self, src: &str, obj: &str) -> Fake {
            self.file(&format!("{src}/Makefile"))
                .file(&format!("{obj}/.config"))
                .file(&format!("{obj}/include/config/auto.conf"))
        }
    }

    impl Surroundings for Fake {
        fn var(&self, name: &str) -> Option<OsString> {
            self.vars.get(name).map(OsString::from)
        }
        fn is_file(&self, path: &Path) -> bool {
            self.files.contains(path)
        }
        fn is_dir(&self, path: &Path) -> bool {
            self.files.iter().any(|f| f.starts_with(path) && f != path)
        }
    }

    fn build(src: &str, obj: &str, extmod: Option<&str>) -> Option<KernelBuild> {
        Some(KernelBuild {
            srctree: PathBuf::from(src),
            objtree: PathBuf::from(obj),
            extmod: extmod.map(PathBuf::from),
        })
    }

    #[test]
    fn in_tree_build() {
        // make tinyconfig && make CC=nccrs in the source tree (4.19 to mainline).
        let env = Fake::default()
            .var("srctree", ".")
            .var("objtree", ".")
            .kernel("/k/linux", "/k/linux");
        let cwd = Path::new("/k/linux");
        let b = detect(cwd, &env);
        assert_eq!(b, build("/k/linux", "/k/linux", None));
        assert_eq!(
            database(cwd, &env, b.as_ref()),
            Path::new("/k/linux/vmlinux.db")
        );
    }

    #[test]
    fn output_directory_inside_the_source_tree() {
        // make O=build: kbuild says srctree=.. and runs compiles in /k/linux/build.
        let env = Fake::default()
            .var("srctree", "..")
            .var("objtree", ".")
            .kernel("/k/linux", "/k/linux/build");
        let b = detect(Path::new("/k/linux/build"), &env);
        assert_eq!(b, build("/k/linux", "/k/linux/build", None));
        assert_eq!(
            b.map(|b| b.database()),
            Some(PathBuf::from("/k/linux/build/vmlinux.db"))
        );
    }

    #[test]
    fn output_directory_elsewhere() {
        // make O=../build-um ARCH=um: srctree is absolute (Linux 6.12).
        let env = Fake::default()
            .var("srctree", "/k/linux")
            .var("objtree", ".")
            .kernel("/k/linux", "/k/build-um");
        let b = detect(Path::new("/k/build-um"), &env);
        assert_eq!(b, build("/k/linux", "/k/build-um", None));
    }

    #[test]
    fn old_kernels_export_absolute_trees() {
        // 2.6 to 4.18: objtree is $(CURDIR).
        let env = Fake::default()
            .var("srctree", "/k/linux")
            .var("objtree", "/k/out")
            .kernel("/k/linux", "/k/out");
        assert_eq!(
            detect(Path::new("/k/out"), &env),
            build("/k/linux", "/k/out", None)
        );
    }

    #[test]
    fn linux_6_1_exports_absolute_pairs() {
        // abs_srctree/abs_objtree win over srctree/objtree and need no .config.
        let env = Fake::default()
            .var("abs_srctree", "/k/linux")
            .var("abs_objtree", "/k/build")
            .var("srctree", "/k/linux")
            .var("objtree", ".");
        assert_eq!(
            detect(Path::new("/k/build"), &env),
            build("/k/linux", "/k/build", None)
        );
    }

    #[test]
    fn not_a_kernel_build() {
        let cwd = Path::new("/home/me/proj");
        // No kbuild variables at all: nccrs.db where make runs, absolute paths.
        let env = Fake::default();
        assert_eq!(detect(cwd, &env), None);
        assert_eq!(database(cwd, &env, None), cwd.join("nccrs.db"));
        // A project of its own that happens to export srctree/objtree.
        let env = Fake::default()
            .var("srctree", ".")
            .var("objtree", ".")
            .file("/home/me/proj/Makefile");
        assert_eq!(detect(cwd, &env), None);
        // A kernel tree that was never configured.
        let env = Fake::default()
            .var("srctree", "/k/linux")
            .var("objtree", ".")
            .file("/k/linux/Makefile");
        assert_eq!(detect(Path::new("/k/out"), &env), None);
    }

    #[test]
    fn an_external_module_joins_the_kernels_database() {
        // make -C /k/build-um M=/home/me/hello: compiles run in the kernel build tree.
        let env = Fake::default()
            .var("srctree", "/k/linux")
            .var("objtree", ".")
            .var("KBUILD_EXTMOD", "/home/me/hello")
            .file("/home/me/hello/Kbuild")
            .kernel("/k/linux", "/k/build-um");
        let b = detect(Path::new("/k/build-um"), &env);
        assert_eq!(b, build("/k/linux", "/k/build-um", Some("/home/me/hello")));
        assert_eq!(
            b.map(|b| b.database()),
            Some(PathBuf::from("/k/build-um/vmlinux.db"))
        );
    }

    #[test]
    fn a_relative_module_directory_that_is_not_there_is_the_working_directory() {
        // Kernels that compile an external module in its own directory.
        let env = Fake::default()
            .var("srctree", "/k/linux")
            .var("objtree", "/k/build")
            .var("KBUILD_EXTMOD", "hello")
            .kernel("/k/linux", "/k/build");
        assert_eq!(
            detect(Path::new("/home/me/hello"), &env),
            build("/k/linux", "/k/build", Some("/home/me/hello"))
        );
    }

    #[test]
    fn nccrs_db_wins() {
        let env = Fake::default()
            .var("srctree", ".")
            .var("objtree", ".")
            .var("NCCRS_DB", "../facts.db")
            .kernel("/k/linux", "/k/linux");
        let cwd = Path::new("/k/linux");
        let b = detect(cwd, &env);
        assert_eq!(
            database(cwd, &env, b.as_ref()),
            Path::new("/k/linux/../facts.db")
        );
    }
}
