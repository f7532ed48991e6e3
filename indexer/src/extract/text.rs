//! Reading C source text where libclang says nothing: past blanks and comments.

/// `text` from its first character that is neither blank nor in a comment; `None`
/// when a comment does not end.
pub(super) fn past_comments(mut text: &[u8]) -> Option<&[u8]> {
    loop {
        text = text.trim_ascii_start();
        if let Some(r) = text.strip_prefix(b"/*") {
            text = &r[memchr::memmem::find(r, b"*/")? + 2..];
        } else if text.starts_with(b"//") {
            text = memchr::memchr(b'\n', text).map_or(&[][..], |e| &text[e..]);
        } else {
            return Some(text);
        }
    }
}
