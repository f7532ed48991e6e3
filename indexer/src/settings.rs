//! Every environment variable nccrs reads, and what it means. Nothing else in the
//! indexer reads the environment (kbuild's own variables aside: [`crate::kbuild`]).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// Set in the environment of everything nccrs starts: a nested nccrs passes straight
/// through, so nccrs never indexes (or runs) itself recursively.
pub const ACTIVE: &str = "NCCRS_ACTIVE";

/// The real compiler, possibly with arguments (`ccache gcc`).
pub const CC: &str = "NCCRS_CC";

/// The database, relative to the compile's directory.
pub const DB: &str = "NCCRS_DB";

/// `inline` or `background`.
pub const INDEX: &str = "NCCRS_INDEX";

/// Seconds one compile's indexing may take.
pub const INDEX_TIMEOUT: &str = "NCCRS_INDEX_TIMEOUT";

/// clang's resource directory, when it cannot be found.
pub const CLANG_RESOURCE_DIR: &str = "NCCRS_CLANG_RESOURCE_DIR";

/// A file each indexing child appends where its time went to (benchmarks).
pub const PROFILE: &str = "NCCRS_PROFILE";

/// The facts cache's directory (default `$XDG_CACHE_HOME/nccrs/facts`, else
/// `~/.cache/nccrs/facts`; nothing else is kept there).
pub const CACHE_DIR: &str = "NCCRS_CACHE_DIR";

/// The facts cache's size limit: bytes, or with a suffix `k`, `M`, `G` (powers of
/// 1024); 2G unless set; 0 turns the cache off.
pub const CACHE_SIZE: &str = "NCCRS_CACHE_SIZE";

/// `1`: the function bodies of headers whose facts are recorded are blanked before
/// the parse (not by default: see BENCHMARKS.md).
pub const BLANK: &str = "NCCRS_BLANK";

/// Whether header bodies are blanked before the parse (`NCCRS_BLANK=1`).
pub fn blanking() -> bool {
    var(BLANK).is_some_and(|v| v == "1")
}

/// For tests of real process lifecycles only: `crash:PATTERN` or `hang:PATTERN` makes
/// an indexing child abort or hang on a source whose path contains PATTERN. Read by
/// the child from its own environment; supervision takes it away from retries.
pub const FAULT: &str = "NCCRS_FAULT";

/// The indexing child's parent, which watches its time limit.
pub const INDEX_PARENT: &str = "NCCRS_INDEX_PARENT";

/// The process id [`INDEX_PARENT`] names, in an indexer started by a wrapper or a
/// drainer.
pub fn index_parent() -> Option<u32> {
    std::env::var(INDEX_PARENT).ok()?.parse().ok()
}

/// A variable's value, when set and not empty.
pub fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The variables that change what libclang parses or which libclang parses it
/// (besides the arguments), with their values: part of the facts cache's key.
pub fn parser_environment() -> Vec<(&'static str, OsString)> {
    [
        // libclang itself is known by its files (`clang::candidates`): loading it
        // sets LIBCLANG_PATH, so that value would differ before and after.
        "CPATH",
        "C_INCLUDE_PATH",
        CLANG_RESOURCE_DIR,
    ]
    .into_iter()
    .map(|name| (name, std::env::var_os(name).unwrap_or_default()))
    .collect()
}

/// `NCCRS_CACHE_DIR`, or the default under the user's cache directory.
pub fn cache_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = var(CACHE_DIR) {
        return Some(dir.into());
    }
    let base = match var("XDG_CACHE_HOME") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::PathBuf::from(var("HOME")?).join(".cache"),
    };
    Some(base.join("nccrs/facts"))
}

/// `NCCRS_CACHE_SIZE` in bytes: 2 GiB when unset or unreadable.
pub fn cache_size() -> u64 {
    const DEFAULT: u64 = 2 << 30;
    var(CACHE_SIZE)
        .and_then(|v| parse_size(&v.to_string_lossy()))
        .unwrap_or(DEFAULT)
}

/// `512M`, `2G`, `100000`, `1.5G`: a size in bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (number, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let scale: u64 = match unit.to_ascii_lowercase().trim_end_matches(['b', 'i']) {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    let n: f64 = number.trim().parse().ok()?;
    (n >= 0.0 && n.is_finite()).then_some((n * scale as f64) as u64)
}

/// Whether this process was started by nccrs.
pub fn nested() -> bool {
    std::env::var_os(ACTIVE).is_some()
}

/// `NCCRS_CC` as words.
pub fn compiler() -> Option<Vec<OsString>> {
    let cc = var(CC)?;
    let words: Vec<OsString> = cc
        .as_bytes()
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| OsStr::from_bytes(w).to_owned())
        .collect();
    (!words.is_empty()).then_some(words)
}

/// When the indexing runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Beside the compile; the compile's wrapper waits for it, and make returns with
    /// the database complete.
    Inline,
    /// After the compile, in the database's drainer; the wrapper becomes the compiler
    /// (the default: the build never waits for the indexing).
    Background,
}

/// `NCCRS_INDEX=inline|background`; anything else is the default, background, with the
/// complaint to tell.
pub fn mode() -> (Mode, Option<String>) {
    match std::env::var_os(INDEX) {
        None => (Mode::Background, None),
        Some(v) if v.is_empty() || v == "background" => (Mode::Background, None),
        Some(v) if v == "inline" => (Mode::Inline, None),
        Some(v) => (
            Mode::Background,
            Some(format!(
                "{INDEX}={}: expected inline or background; indexing in the background",
                v.to_string_lossy()
            )),
        ),
    }
}

/// `NCCRS_INDEX_TIMEOUT`, when set to a number of seconds.
pub fn index_timeout() -> Option<Duration> {
    std::env::var(INDEX_TIMEOUT)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(seconds)
}

/// A number of seconds as a duration: negative is zero, more than 30 years is 30
/// years (deadlines are computed from it), and what is not a number is nothing.
pub fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs.clamp(0.0, 1e9)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_read_as_ccache_writes_them() {
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("100000"), Some(100_000));
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1G"), None);
    }

    #[test]
    fn timeouts_never_overflow_a_deadline() {
        assert_eq!(seconds(2.5), Some(Duration::from_millis(2500)));
        assert_eq!(seconds(-3.0), Some(Duration::ZERO));
        assert_eq!(seconds(f64::NAN), None);
        for huge in [1e18, f64::INFINITY] {
            let d = seconds(huge).expect("capped");
            // The drainer's wall-clock limit is 20 times the processor time.
            let _ = std::time::Instant::now() + d * 20;
        }
    }
}
