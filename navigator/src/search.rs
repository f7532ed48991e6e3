//! The symbol search: every defined symbol in memory, filtered as the user types.
//!
//! Ranking: exact name, then prefix, then substring (each with the case as typed
//! before other cases), with the names that macros make up for the compiler
//! (`__UNIQUE_ID_*`, `__addressable_*`, ...) after every other prefix and substring
//! match; within a class functions and variables before macros, types, enumerators
//! and fields; then shorter names first.

use schema::{FileId, Kind, Linkage, Symbol, SymbolId};

/// How many ranked matches a query keeps (the list scrolls through them).
pub const MAX_RESULTS: usize = 500;

pub struct Entry {
    pub id: SymbolId,
    pub kind: Kind,
    /// The file of its first definition (else declaration).
    pub file: FileId,
    /// `name`, or `scope::name` for fields, parameters and locals.
    pub shown: String,
    /// Where the bare name starts in `shown`.
    name_at: usize,
    local: bool,
    /// A name only macros write (see [`made_for_the_compiler`]).
    generated: bool,
    /// Defined (or declared) in a system header, not in the build's trees.
    system: bool,
}

/// Prefixes of the names kernel macros make up for the compiler and the linker, which
/// nobody writes: `__UNIQUE_ID_*` (`__UNIQUE_ID`), `__addressable_*` (`__ADDRESSABLE`,
/// under `EXPORT_SYMBOL` and initcalls), the export, initcall, parameter and module
/// alias tables.
const GENERATED_PREFIXES: &[&str] = &[
    "__UNIQUE_ID_",
    "__addressable_",
    "__export_symbol_",
    "__ksymtab_",
    "__kstrtab_",
    "__kstrtabns_",
    "__crc_",
    "__initcall_",
    "__initcall__",
    "__exitcall_",
    "__setup_",
    "__param_",
    "__mod_",
];

/// Whether `name` is one that a macro made up rather than one a person wrote.
pub fn made_for_the_compiler(name: &str) -> bool {
    GENERATED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Lower-case texts, one per entry, end to end with a newline after each: one scan
/// of it finds every entry that contains a query.
struct Blob {
    bytes: Vec<u8>,
    /// Where each entry's text starts; one more at the end.
    starts: Vec<usize>,
}

impl Blob {
    fn new<'a>(texts: impl Iterator<Item = &'a str>) -> Blob {
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for t in texts {
            starts.push(bytes.len());
            bytes.extend(
                t.to_lowercase()
                    .bytes()
                    .map(|b| if b == b'\n' { b' ' } else { b }),
            );
            bytes.push(b'\n');
        }
        starts.push(bytes.len());
        Blob { bytes, starts }
    }

    fn text(&self, i: usize) -> &[u8] {
        &self.bytes[self.starts[i]..self.starts[i + 1] - 1]
    }

    /// The entries whose text contains `needle` (which holds no newline), in order.
    fn find_all(&self, finder: &memchr::memmem::Finder<'_>) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut from = 0;
        let mut i = 0;
        while let Some(at) = finder.find(&self.bytes[from..]) {
            let at = from + at;
            // Hits come in order: walk to the entry that holds this one.
            while self.starts[i + 1] <= at {
                i += 1;
            }
            out.push(i);
            // The rest of this entry cannot add anything.
            from = self.starts[i + 1];
        }
        out
    }
}

pub struct Index {
    entries: Vec<Entry>,
    /// The bare names, and the `scope::name`s.
    names: Blob,
    wholes: Blob,
    /// The last query (lower case, and whether it matched `scope::name`) and every
    /// entry it matched: a query that contains it only needs to look at those.
    last: Option<(String, bool, Vec<usize>)>,
}

pub struct Matches {
    /// Indexes into the index's entries, best first.
    pub hits: Vec<usize>,
    /// How many symbols matched in all (more than `hits` holds when capped).
    pub total: usize,
}

fn kind_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Function => 0,
        Kind::Variable => 1,
        Kind::Macro => 2,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Typedef => 3,
        Kind::Enumerator => 4,
        Kind::Field => 5,
        Kind::Parameter | Kind::Result => 6,
    }
}

impl Index {
    /// The search over `symbols`, each with the file of its first definition and
    /// whether that is a system header.
    pub fn new(symbols: Vec<(Symbol, FileId, bool)>) -> Index {
        let mut entries: Vec<Entry> = symbols
            .into_iter()
            .map(|(s, file, system)| {
                let shown = s.display_name();
                let name_at = shown.len() - s.name.len();
                Entry {
                    id: s.id,
                    kind: s.kind,
                    file,
                    generated: made_for_the_compiler(&s.name),
                    name_at,
                    local: s.linkage == Linkage::None
                        && s.kind == Kind::Variable
                        && s.scope.is_some(),
                    shown,
                    system,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.shown.cmp(&b.shown).then(a.id.cmp(&b.id)));
        let names = Blob::new(entries.iter().map(|e| &e.shown[e.name_at..]));
        let wholes = Blob::new(entries.iter().map(|e| e.shown.as_str()));
        Index {
            entries,
            names,
            wholes,
            last: None,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, i: usize) -> &Entry {
        &self.entries[i]
    }

    /// The ranked matches of `query`. A query with `::` matches `scope::name`; others
    /// match the bare name.
    pub fn find(&mut self, query: &str) -> Matches {
        self.find_where(query, |_| true)
    }

    /// Every entry `keep` accepts, in name order (the first 500).
    pub fn all_where(&self, keep: impl Fn(&Entry) -> bool) -> Matches {
        let all: Vec<usize> = (0..self.entries.len())
            .filter(|&i| keep(&self.entries[i]))
            .collect();
        Matches {
            total: all.len(),
            hits: all.into_iter().take(MAX_RESULTS).collect(),
        }
    }

    /// When nothing matches `query`: up to `max` entries `keep` accepts whose name is
    /// closest to it, the functions of a system call of that name first
    /// (`openat`: `__do_sys_openat`), then by edit distance (at most a third of the
    /// query's length, 1 to 3) and length.
    pub fn closest(&self, query: &str, keep: impl Fn(&Entry) -> bool, max: usize) -> Vec<usize> {
        let limit = (query.chars().count() / 3).clamp(1, 3);
        let mut scored: Vec<(usize, usize, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let name = &e.shown[e.name_at..];
            let score = if crate::answer::is_syscall_of(name, query) {
                0
            } else if name.len().abs_diff(query.len()) > limit {
                continue;
            } else {
                let d = strsim::levenshtein(query, name);
                if d > limit {
                    continue;
                }
                d
            };
            if keep(e) {
                scored.push((score, name.len(), i));
            }
        }
        scored.sort_unstable();
        scored.into_iter().take(max).map(|s| s.2).collect()
    }

    /// The ranked matches of `query` among the entries `keep` accepts.
    pub fn find_where(&mut self, query: &str, keep: impl Fn(&Entry) -> bool) -> Matches {
        let query = query.trim();
        if query.is_empty() {
            return Matches {
                hits: Vec::new(),
                total: 0,
            };
        }
        let lower_query = query.to_lowercase().replace('\n', " ");
        let whole = query.contains("::");
        let blob = if whole { &self.wholes } else { &self.names };
        let candidates: Option<Vec<usize>> = match self.last.take() {
            Some((q, w, hits)) if w == whole && lower_query.contains(&q) => Some(hits),
            _ => None,
        };
        // One searcher for the whole scan: str::contains would set one up per name.
        let finder = memchr::memmem::Finder::new(lower_query.as_bytes());
        let exact_finder = memchr::memmem::Finder::new(query.as_bytes());
        let matched: Vec<usize> = match candidates {
            Some(c) => c
                .into_iter()
                .filter(|&i| finder.find(blob.text(i)).is_some())
                .collect(),
            None => blob.find_all(&finder),
        };
        let mut ranked: Vec<(bool, bool, u8, u8, u8, usize, usize)> =
            Vec::with_capacity(matched.len());
        for &i in &matched {
            let e = &self.entries[i];
            if !keep(e) {
                continue;
            }
            let text = if whole {
                e.shown.as_str()
            } else {
                &e.shown[e.name_at..]
            };
            let lower = blob.text(i);
            let lower_q = lower_query.as_bytes();
            let class = if text == query {
                0
            } else if lower == lower_q {
                1
            } else if text.starts_with(query) {
                2
            } else if lower.starts_with(lower_q) {
                3
            } else if exact_finder.find(text.as_bytes()).is_some() {
                4
            } else {
                5
            };
            // An exact match is what was asked for, whoever wrote it.
            let late = class > 1 && e.generated;
            // The kernel's own code before the C library's and the compiler's headers.
            ranked.push((
                e.system,
                late,
                class,
                kind_rank(e.kind),
                u8::from(e.local),
                text.len(),
                i,
            ));
        }
        self.last = Some((lower_query, whole, matched));
        let total = ranked.len();
        if ranked.len() > MAX_RESULTS {
            ranked.select_nth_unstable(MAX_RESULTS);
            ranked.truncate(MAX_RESULTS);
        }
        // Entries are in name order, so the index breaks ties alphabetically.
        ranked.sort_unstable();
        Matches {
            hits: ranked.into_iter().map(|r| r.6).collect(),
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(id: i64, name: &str, scope: Option<&str>, kind: Kind) -> (Symbol, FileId, bool) {
        let s = Symbol {
            id: SymbolId(id),
            name: name.to_owned(),
            scope: scope.map(str::to_owned),
            kind,
            linkage: if scope.is_some() {
                Linkage::None
            } else {
                Linkage::External
            },
        };
        (s, FileId(id % 2), false)
    }

    fn names(index: &mut Index, query: &str) -> Vec<String> {
        index
            .find(query)
            .hits
            .iter()
            .map(|&i| index.entry(i).shown.clone())
            .collect()
    }

    #[test]
    fn exact_then_prefix_then_substring_functions_before_fields() {
        let mut index = Index::new(vec![
            sym(1, "do_read", None, Kind::Function),
            sym(2, "read", Some("file_operations"), Kind::Field),
            sym(3, "read", None, Kind::Function),
            sym(4, "readahead", None, Kind::Function),
            sym(5, "READ", None, Kind::Macro),
            sym(6, "read_lock", None, Kind::Macro),
            sym(7, "vfs_read", None, Kind::Function),
            sym(8, "thread", None, Kind::Variable),
        ]);
        assert_eq!(
            names(&mut index, "read"),
            [
                "read",
                "file_operations::read",
                "READ",
                "readahead",
                "read_lock",
                "do_read",
                "vfs_read",
                "thread",
            ]
        );
        assert_eq!(names(&mut index, "tions::re"), ["file_operations::read"]);
        assert_eq!(names(&mut index, "zzz"), Vec::<String>::new());
        assert_eq!(names(&mut index, "  "), Vec::<String>::new());
    }

    #[test]
    fn names_macros_made_up_come_after_the_written_ones() {
        let mut index = Index::new(vec![
            sym(
                1,
                "__UNIQUE_ID___addressable_vfs_fsync470",
                None,
                Kind::Variable,
            ),
            sym(2, "__addressable_vfs_fsync", None, Kind::Variable),
            sym(3, "vfs_fsync_range", None, Kind::Function),
            sym(4, "vfs_fsync", None, Kind::Function),
            sym(5, "do_vfs_fsync_all", None, Kind::Function),
            sym(6, "__ksymtab_vfs_fsync", None, Kind::Variable),
        ]);
        assert_eq!(
            names(&mut index, "vfs_fsync"),
            [
                "vfs_fsync",
                "vfs_fsync_range",
                "do_vfs_fsync_all",
                "__ksymtab_vfs_fsync",
                "__addressable_vfs_fsync",
                "__UNIQUE_ID___addressable_vfs_fsync470",
            ]
        );
        // Asked for by name, it comes first.
        assert_eq!(
            names(&mut index, "__ksymtab_vfs_fsync")[0],
            "__ksymtab_vfs_fsync"
        );
    }

    #[test]
    fn the_kernels_own_names_come_before_those_of_system_headers() {
        let mut glibc = sym(1, "read", None, Kind::Function);
        glibc.2 = true;
        let mut index = Index::new(vec![
            glibc,
            sym(2, "read", Some("file_operations"), Kind::Field),
            sym(3, "vfs_read", None, Kind::Function),
        ]);
        assert_eq!(
            names(&mut index, "read"),
            ["file_operations::read", "vfs_read", "read"]
        );
    }

    #[test]
    fn many_matches_are_capped_but_counted() {
        let mut index = Index::new(
            (0..2000)
                .map(|i| sym(i, &format!("f{i:04}"), None, Kind::Function))
                .collect(),
        );
        let m = index.find("f");
        assert_eq!(m.total, 2000);
        assert_eq!(m.hits.len(), MAX_RESULTS);
        assert_eq!(index.entry(m.hits[0]).shown, "f0000");
        // Narrowing (from the last matches) and widening (from all) again.
        assert_eq!(index.find("f00").total, 100);
        assert_eq!(index.find("f001").total, 10);
        assert_eq!(index.find("f0").total, 1000);
        assert_eq!(index.find("1").total, 1000 + 271);
        // A filter applies before the cap: all 1000 even ones, not those of the first 500.
        let even = index.find_where("f", |e| e.file == FileId(0));
        assert_eq!((even.total, even.hits.len()), (1000, MAX_RESULTS));
        assert!(even.hits.iter().all(|&i| index.entry(i).id.0 % 2 == 0));
    }
}
