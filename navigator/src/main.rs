#![forbid(unsafe_code)]

fn main() {
    std::process::exit(navigator::run(std::env::args_os()));
}
