//! Call paths (`nccnav DB path A B`) and call-neighbourhood pictures
//! (`nccnav DB graph SYMBOL`).

use std::io::Write;
use std::path::PathBuf;

use crate::query::{Navigator, QueryError};

pub struct GraphOptions {
    /// Draw callers (true) or callees (false).
    pub callers: bool,
    pub depth: usize,
    /// `.dot` or `.svg`; None writes DOT to standard output.
    pub output: Option<PathBuf>,
}

pub fn path(
    _nav: &Navigator,
    _from: &str,
    _to: &str,
    _json: bool,
    _out: &mut dyn Write,
) -> Result<(), QueryError> {
    Err(QueryError::Usage("path: not written yet".to_owned()))
}

pub fn graph(
    _nav: &Navigator,
    _name: &str,
    _opts: &GraphOptions,
    _out: &mut dyn Write,
) -> Result<(), QueryError> {
    Err(QueryError::Usage("graph: not written yet".to_owned()))
}
