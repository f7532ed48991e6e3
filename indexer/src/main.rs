#![forbid(unsafe_code)]

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(indexer::main_entry(argv));
}
