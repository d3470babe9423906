//! The Kineto trace reader: no input makes it panic, and every trace it
//! accepts satisfies the model's invariants (records sorted by start then
//! end, none ending before it starts, every name id in the table, devices in
//! increasing order, at least one kernel, launch fields zero on copies).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wattledger_std::profiles::RecordKind;
use wattledger_std::profiles::kineto::read_kineto;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = read_kineto(data) else {
        return;
    };
    assert!(p.kernel_count() > 0, "accepted a trace without kernels");
    assert!(p.devices.windows(2).all(|w| w[0].device < w[1].device));
    for d in &p.devices {
        assert!(!d.records.is_empty());
        for w in d.records.windows(2) {
            assert!((w[0].start_ns, w[0].end_ns) <= (w[1].start_ns, w[1].end_ns));
        }
        for r in &d.records {
            assert!(r.end_ns >= r.start_ns, "{r:?}");
            assert!(p.names.get(r.name).is_some());
            match r.kind {
                RecordKind::Kernel => {
                    assert!(r.grid.iter().all(|&g| g >= 1) && r.block.iter().all(|&b| b >= 1));
                    assert!(r.bytes().is_none());
                }
                RecordKind::Memcpy | RecordKind::Memset => {
                    assert_eq!((r.grid, r.block), ([0; 3], [0; 3]));
                    assert!(r.flops().is_none());
                }
            }
        }
    }
});
