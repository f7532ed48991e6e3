//! The interactive navigator.

use std::path::PathBuf;

use crate::query::{Navigator, QueryError};

pub fn run(_nav: Navigator, _start: Option<&str>, _srctree: Option<PathBuf>) -> Result<(), QueryError> {
    Err(QueryError::Usage("not yet".to_owned()))
}
