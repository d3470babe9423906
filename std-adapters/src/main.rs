//! The `wattledger` command (placeholder until the command issue lands).

fn main() {
    println!("wattledger: the command is not built yet; see the README");
}
