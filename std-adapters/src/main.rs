//! The `wattledger` command: estimate a model's energy, measure a program's,
//! check MIG results, list MIG profiles and devices. See the README's
//! "The wattledger command" section; exit codes are in [`cli::exit`].

mod cli;

fn main() {
    std::process::exit(cli::main());
}
