//! The facts cache across builds: what did not change is not parsed again, in the same
//! build directory or another, and what changed by one byte is.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use nccrs_e2e::{bin, facts_text, fixture_copy, make_tree, nccrs_wait};

/// `make TARGETS` of `src` into `obj` with the cache in `cache` (a size of 0 turns it
/// off) and each indexing's profile appended to `profile`.
fn build(
    src: &Path,
    obj: &Path,
    cache: &Path,
    size: &str,
    profile: &Path,
    targets: &[&str],
) -> Output {
    build_env(src, obj, cache, size, profile, &[], targets)
}

/// [`build`] with more variables.
fn build_env(
    src: &Path,
    obj: &Path,
    cache: &Path,
    size: &str,
    profile: &Path,
    more: &[(&str, &Path)],
    targets: &[&str],
) -> Output {
    let mut env = vec![
        ("NCCRS_CACHE_DIR", cache),
        ("NCCRS_CACHE_SIZE", Path::new(size)),
        ("NCCRS_PROFILE", profile),
    ];
    env.extend_from_slice(more);
    let out = make_tree(src, obj, &bin("nccrs"), &env, targets);
    assert!(
        out.status.success(),
        "make {targets:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warnings: Vec<_> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("nccrs:"))
        .map(str::to_owned)
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    out
}

/// Each indexed source's file name → whether the cache had it, from a profile, which
/// is then emptied for the next build.
fn hits(profile: &Path) -> BTreeMap<String, bool> {
    let text = std::fs::read_to_string(profile).expect("profile");
    std::fs::remove_file(profile).expect("rm profile");
    text.lines()
        .map(|l| {
            let source = l.split('\t').next().expect("source");
            let name = source.rsplit('/').next().expect("name").to_owned();
            let hit = l.contains("\tcache_hits=1\t");
            (name, hit)
        })
        .collect()
}

/// The sources the cache did not have.
fn parsed(units: &BTreeMap<String, bool>) -> Vec<&str> {
    units
        .iter()
        .filter(|(_, &hit)| !hit)
        .map(|(n, _)| n.as_str())
        .collect()
}

fn all(units: &BTreeMap<String, bool>, hit: bool) -> bool {
    !units.is_empty() && units.values().all(|&h| h == hit)
}

#[test]
fn the_facts_cache_serves_what_did_not_change_and_nothing_that_did() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture_copy(dir.path());
    let cache = dir.path().join("cache");
    let profile = dir.path().join("profile");
    let (obj, second) = (dir.path().join("obj"), dir.path().join("second"));
    let on = "2G";

    // The first build parses every unit and fills the cache.
    build(&src, &obj, &cache, on, &profile, &["all"]);
    let first = hits(&profile);
    assert_eq!(first.len(), 10, "{first:?}");
    assert!(all(&first, false), "{first:?}");
    let facts = facts_text(&obj.join("vmlinux.db"));

    // After `make clean`, and in a second build directory, nothing is parsed again and
    // the facts are the same.
    build(&src, &obj, &cache, on, &profile, &["clean"]);
    build(&src, &obj, &cache, on, &profile, &["all"]);
    let again = hits(&profile);
    assert!(all(&again, true), "{again:?}");
    assert_eq!(facts_text(&obj.join("vmlinux.db")), facts);
    // In the background (the default), the drainer finds them recorded already.
    build(&src, &obj, &cache, on, &profile, &["clean"]);
    let background = [("NCCRS_INDEX", Path::new(""))];
    build_env(&src, &obj, &cache, on, &profile, &background, &["all"]);
    assert!(nccrs_wait(&obj.join("vmlinux.db")).status.success());
    let drained = hits(&profile);
    assert!(all(&drained, true) && drained.len() == 10, "{drained:?}");
    assert_eq!(facts_text(&obj.join("vmlinux.db")), facts);
    build(&src, &second, &cache, on, &profile, &["all"]);
    let elsewhere = hits(&profile);
    assert!(all(&elsewhere, true), "{elsewhere:?}");
    assert_eq!(facts_text(&second.join("vmlinux.db")), facts);

    // A header touched but not changed: make compiles its includers again, the cache
    // has them.
    let header = src.join("include/linux/spinlock.h");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(&header)
        .and_then(|f| f.set_modified(later))
        .expect("touch");
    build(&src, &obj, &cache, on, &profile, &["all"]);
    let touched = hits(&profile);
    assert!(all(&touched, true), "{touched:?}");
    // Its includers, seqlock.h's among them.
    assert_eq!(touched.len(), 4, "{touched:?}");

    // One byte more in the header: its includers are parsed again, and the facts are
    // a build's without the cache.
    let text = std::fs::read_to_string(&header).expect("read");
    let edited = text.replacen("\tarch_spin_lock(", "\t arch_spin_lock(", 1);
    assert_ne!(edited, text);
    std::fs::write(&header, edited).expect("write");
    build(&src, &obj, &cache, on, &profile, &["clean"]);
    build(&src, &obj, &cache, on, &profile, &["all"]);
    let changed = hits(&profile);
    assert_eq!(
        parsed(&changed),
        ["dcache.c", "demo.c", "fork.c", "lock.c"],
        "{changed:?}"
    );
    let facts = facts_text(&obj.join("vmlinux.db"));
    let uncached = dir.path().join("uncached");
    build(&src, &uncached, &cache, "0", &profile, &["all"]);
    assert!(all(&hits(&profile), false));
    assert_eq!(facts_text(&uncached.join("vmlinux.db")), facts);
    assert!(
        facts.contains("call spin_lock -> arch_spin_lock at include/linux/spinlock.h:13:3\n"),
        "the column after the new byte:\n{facts}"
    );

    // Damaged entries are misses, never failures: the build indexes every unit again.
    let mut damaged = 0;
    for f in nccrs_e2e::files_under(&cache) {
        let path = cache.join(&f);
        let bytes = std::fs::read(&path).expect("read");
        let cut = if damaged % 2 == 0 { bytes.len() / 2 } else { 0 };
        let mut garbage = bytes[..cut].to_vec();
        garbage.extend_from_slice(b"garbage");
        std::fs::write(&path, garbage).expect("write");
        damaged += 1;
    }
    assert!(damaged >= 18, "{damaged} files in the cache");
    build(&src, &obj, &cache, on, &profile, &["clean"]);
    build(&src, &obj, &cache, on, &profile, &["all"]);
    let rebuilt = hits(&profile);
    assert!(all(&rebuilt, false), "{rebuilt:?}");
    assert_eq!(facts_text(&obj.join("vmlinux.db")), facts);
    build(&src, &obj, &cache, on, &profile, &["clean"]);
    build(&src, &obj, &cache, on, &profile, &["all"]);
    assert!(
        all(&hits(&profile), true),
        "the damaged entries were replaced"
    );
}

#[test]
fn the_facts_cache_stays_within_its_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture_copy(dir.path());
    let profile = dir.path().join("profile");
    let size = |cache: &Path| -> u64 {
        nccrs_e2e::files_under(cache)
            .iter()
            .map(|f| std::fs::metadata(cache.join(f)).expect("stat").len())
            .sum()
    };
    let roomy = dir.path().join("roomy");
    build(
        &src,
        &dir.path().join("a"),
        &roomy,
        "2G",
        &profile,
        &["all"],
    );
    assert_eq!(hits(&profile).len(), 10);
    // Each of the cache's 256 directories gets its share of the limit, 256 bytes
    // here: fewer than the entries of ten units. The build still indexes every
    // unit, and the least recently used entries go.
    let tight = dir.path().join("tight");
    build(
        &src,
        &dir.path().join("b"),
        &tight,
        "64k",
        &profile,
        &["all"],
    );
    assert_eq!(hits(&profile).len(), 10);
    let (all, kept) = (size(&roomy), size(&tight));
    assert!(
        kept > 0 && kept < all && kept <= 64 << 10,
        "{kept} of {all} bytes"
    );
}

#[test]
fn a_header_that_appears_earlier_on_the_include_path_is_parsed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture_copy(dir.path());
    let cache = dir.path().join("cache");
    let profile = dir.path().join("profile");
    let obj = dir.path().join("obj");
    // fork.c includes "extra.h", which the preprocessor looks for in kernel/ first and
    // finds in include/.
    std::fs::write(
        src.join("include/extra.h"),
        "static inline int extra(void) { return 1; }\n",
    )
    .expect("write");
    let fork = src.join("kernel/fork.c");
    let text = std::fs::read_to_string(&fork).expect("read");
    std::fs::write(&fork, format!("#include \"extra.h\"\n{text}")).expect("write");
    build(&src, &obj, &cache, "2G", &profile, &["all"]);
    hits(&profile);
    let facts = facts_text(&obj.join("vmlinux.db"));
    assert!(
        facts.contains("def function internal extra at include/extra.h:1:19\n"),
        "{facts}"
    );

    // A header of that name appears next to fork.c: the same arguments, the same
    // files, but the preprocessor now reads the new one.
    std::fs::write(
        src.join("kernel/extra.h"),
        "\nstatic inline int extra(void) { return 2; }\n",
    )
    .expect("write");
    build(&src, &obj, &cache, "2G", &profile, &["clean"]);
    build(&src, &obj, &cache, "2G", &profile, &["all"]);
    // Parsed again: the unit that includes "extra.h" (kernel/, where its `#include`
    // looks first); the other units of kernel/ never looked for that name.
    let after = hits(&profile);
    assert_eq!(parsed(&after), ["fork.c"], "{after:?}");
    let facts = facts_text(&obj.join("vmlinux.db"));
    assert!(
        facts.contains("def function internal extra at kernel/extra.h:2:19\n"),
        "{facts}"
    );
    assert!(!facts.contains("include/extra.h"), "{facts}");
}
