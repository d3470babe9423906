//! State sizes for BENCHMARKS.md: `cargo test -p wattledger-benches --test
//! sizes -- --nocapture` prints them.
//!
//! The composer's size is a fixed part plus one slot per subgraph of stage
//! capacity, and the meter's a fixed part plus one slot per window, so the
//! sizes at three capacities must lie on a line.

use core::mem::size_of;

use wattledger_core::compose::Composer;
use wattledger_core::meter::Meter;

#[test]
fn composer_grows_by_one_slot_per_subgraph_of_width() {
    let (c1, c8, c64) = (
        size_of::<Composer<1>>(),
        size_of::<Composer<8>>(),
        size_of::<Composer<64>>(),
    );
    let slot = (c64 - c1) / 63;
    assert_eq!(c64 - c1, 63 * slot);
    assert_eq!(c8 - c1, 7 * slot);
    assert_eq!(size_of::<Composer>(), c64, "the default width is 64");
    println!("Composer<64> (default): {c64} bytes; Composer<1>: {c1}; per subgraph slot: {slot}");
}

#[test]
fn meter_grows_by_one_slot_per_window() {
    let (m1, m8, m32) = (
        size_of::<Meter<1>>(),
        size_of::<Meter<8>>(),
        size_of::<Meter<32>>(),
    );
    let slot = (m32 - m1) / 31;
    assert_eq!(m32 - m1, 31 * slot);
    assert_eq!(m8 - m1, 7 * slot);
    assert_eq!(
        size_of::<Meter>(),
        m32,
        "the default capacity is 32 windows"
    );
    println!("Meter<32> (default): {m32} bytes; Meter<1>: {m1}; per window slot: {slot}");
}

#[test]
fn inputs_are_plain_values() {
    use wattledger_core::compose::Subgraph;
    use wattledger_core::meter::Sample;
    // A subgraph holds five `f64`s, an optional thread count (16 bytes), an
    // optional allocation, two ids and the precision: more than 64 bytes, so
    // the baseline's million-subgraph stream is tens of megabytes.
    assert!(size_of::<Subgraph>() > 64);
    assert!(size_of::<Sample>() >= 32);
    println!(
        "Subgraph: {} bytes; Sample: {} bytes",
        size_of::<Subgraph>(),
        size_of::<Sample>()
    );
}
