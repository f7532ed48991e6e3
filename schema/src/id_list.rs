//! Lists of ids stored in one column, as unsigned LEB128 varints: a chunk's definitions
//! (`chunks.definitions`, a set: ascending, each stored as its distance from the one
//! before, which is mostly 1 byte) and a unit's command (`tus.command`, a sequence of
//! `arguments` ids in order).

/// A list as a column holds it: `NULL` when nothing was listed.
pub(crate) type Stored = Option<Vec<u8>>;

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The varints of `blob` in order; a truncated last one is dropped.
fn varints(blob: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let mut v = 0u64;
        let mut shift = 0;
        while let Some(&b) = blob.get(at) {
            at += 1;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    })
}

/// A set of ids (non-negative) as stored.
pub(crate) fn encode_set(ids: &mut [i64]) -> Vec<u8> {
    ids.sort_unstable();
    let mut out = Vec::with_capacity(ids.len() * 2);
    let mut last = 0;
    for &id in ids.iter() {
        put(&mut out, id.wrapping_sub(last) as u64);
        last = id;
    }
    out
}

/// The ids of a stored set, ascending (a `NULL` set is empty).
pub(crate) fn decode_set(blob: Option<&[u8]>) -> impl Iterator<Item = i64> + '_ {
    let mut last = 0i64;
    varints(blob.unwrap_or_default()).map(move |d| {
        last = last.wrapping_add(d as i64);
        last
    })
}

/// Whether a stored set holds `id`.
pub(crate) fn set_contains(blob: Option<&[u8]>, id: i64) -> bool {
    decode_set(blob).take_while(|&x| x <= id).any(|x| x == id)
}

/// A sequence of ids (non-negative) as stored.
pub(crate) fn encode_seq(ids: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 2);
    for &id in ids {
        put(&mut out, id as u64);
    }
    out
}

/// The ids of a stored sequence, in order.
pub(crate) fn decode_seq(blob: &[u8]) -> impl Iterator<Item = i64> + '_ {
    varints(blob).map(|v| v as i64)
}

/// `id_set('3,1,2')`: the SQL function migration 8 writes `chunks.definitions` with,
/// from `group_concat` of the ids.
pub(crate) fn id_set_sql(ctx: &rusqlite::functions::Context<'_>) -> rusqlite::Result<Vec<u8>> {
    let text: Option<String> = ctx.get(0)?;
    let mut ids: Vec<i64> = text
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Ok(encode_set(&mut ids))
}

/// `id_seq('[3,1,2]')`: the SQL function migration 8 writes `tus.command` with, from
/// `json_group_array` of the argument ids in order.
pub(crate) fn id_seq_sql(ctx: &rusqlite::functions::Context<'_>) -> rusqlite::Result<Vec<u8>> {
    let text: Option<String> = ctx.get(0)?;
    let ids: Vec<i64> = text
        .unwrap_or_default()
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Ok(encode_seq(&ids))
}

/// `command_words(command)`: a command stored as text (its arguments joined by NUL
/// bytes, before migration 8) as a JSON array of its arguments, for `json_each`.
pub(crate) fn command_words_sql(
    ctx: &rusqlite::functions::Context<'_>,
) -> rusqlite::Result<String> {
    use rusqlite::types::ValueRef;
    let bytes = match ctx.get_raw(0) {
        ValueRef::Text(b) | ValueRef::Blob(b) => b,
        _ => &[],
    };
    let words: Vec<String> = bytes
        .split(|&b| b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    serde_json::to_string(&words).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
}

/// `id_seq_json(command)`: a stored sequence as a JSON array, for `json_each` (what
/// reads `tus.command` back, see `crate::COMMAND_TEXT`).
fn id_seq_json_sql(ctx: &rusqlite::functions::Context<'_>) -> rusqlite::Result<String> {
    use rusqlite::types::ValueRef;
    let ids: Vec<i64> = match ctx.get_raw(0) {
        ValueRef::Blob(b) => decode_seq(b).collect(),
        _ => Vec::new(),
    };
    serde_json::to_string(&ids).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
}

/// Makes the functions above known to `conn`.
pub(crate) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("id_set", 1, flags, id_set_sql)?;
    conn.create_scalar_function("id_seq", 1, flags, id_seq_sql)?;
    conn.create_scalar_function("id_seq_json", 1, flags, id_seq_json_sql)?;
    conn.create_scalar_function("command_words", 1, flags, command_words_sql)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sets_and_sequences_round_trip() {
        let mut ids = vec![70_000, 3, 1 << 40, 4];
        let blob = encode_set(&mut ids);
        assert_eq!(
            decode_set(Some(&blob)).collect::<Vec<_>>(),
            [3, 4, 70_000, 1 << 40]
        );
        assert!(set_contains(Some(&blob), 70_000));
        assert!(!set_contains(Some(&blob), 5));
        assert!(!set_contains(None, 3));
        let seq = encode_seq(&[9, 1, 300, 1]);
        assert_eq!(decode_seq(&seq).collect::<Vec<_>>(), [9, 1, 300, 1]);
        // A damaged list reads as what it holds whole.
        assert_eq!(decode_seq(&[0x81]).count(), 0);
    }

    #[test]
    fn the_migrations_functions_write_what_the_readers_read() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let set: Vec<u8> = conn
            .query_row("SELECT id_set('5,300,4')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(decode_set(Some(&set)).collect::<Vec<_>>(), [4, 5, 300]);
        let seq: Vec<u8> = conn
            .query_row("SELECT id_seq(json_array(7, 2, 7))", [], |r| r.get(0))
            .unwrap();
        assert_eq!(decode_seq(&seq).collect::<Vec<_>>(), [7, 2, 7]);
        let json: String = conn
            .query_row("SELECT id_seq_json(?1)", [&seq], |r| r.get(0))
            .unwrap();
        assert_eq!(json, "[7,2,7]");
        let words: Vec<String> = conn
            .prepare("SELECT value FROM json_each(command_words(?1)) ORDER BY key")
            .unwrap()
            .query_map(["gcc\0-DX=\"a b\"\0-c"], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(words, ["gcc", "-DX=\"a b\"", "-c"]);
    }
}
