//! Brings a database to this schema and compacts it, as the next build's writer and
//! its drainer would: for measuring what a schema change does to a database built
//! before it (`bench/db-size.sh`).
//!
//!     cargo run --release -p nccrs-schema --example upgrade DB

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: upgrade DB");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let mut db = match schema::Db::open_writer(std::path::Path::new(&path)) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("upgrade: {e}");
            return ExitCode::FAILURE;
        }
    };
    let migrated = start.elapsed();
    if let Err(e) = db.compact() {
        eprintln!("upgrade: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "schema {}: migrated in {:.1} s, compacted in {:.1} s",
        schema::SCHEMA_VERSION,
        migrated.as_secs_f64(),
        (start.elapsed() - migrated).as_secs_f64()
    );
    ExitCode::SUCCESS
}
