//! The glue from a trace's timeline to the timeline composer, on the real
//! A100 fixture (AlexNet, `tests/fixtures/traces/`) with figures worked by hand.

use wattledger_core::devices::Device;
use wattledger_core::launch::Limiter;
use wattledger_core::presets::Preset;
use wattledger_core::state::PowerState;
use wattledger_core::timeline::TimelinePolicy;
use wattledger_std::profiles::compose::{
    ComposeError, ComposeOptions, LimitsSource, catalog_preset, compose_device, limits_for,
};
use wattledger_std::profiles::kineto::read_kineto_file;
use wattledger_std::profiles::{DeviceTimeline, Profile, RecordKind};

fn alexnet() -> Profile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces/alexnet-a100-kineto.json.gz");
    read_kineto_file(&path).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn the_a100_trace_maps_to_the_a100_preset_and_its_recorded_limits() {
    let p = alexnet();
    let d = &p.devices[0];
    // "NVIDIA A100-PG509-200" → Device::A100 → the a100-40gb preset.
    assert_eq!(catalog_preset(d).unwrap(), Preset::A100_40gb);
    let hw = Preset::A100_40gb.model();
    let (l, source) = limits_for(d, &hw).unwrap();
    assert_eq!(source, LimitsSource::TraceDevice(Device::A100));
    // deviceProperties: sharedMemPerBlockOptin 166912 is the per-block limit,
    // sharedMemPerMultiprocessor 167936, numSms 108 = the preset's N.
    assert_eq!(l.shared_memory_per_block, 166_912);
    assert_eq!(l.shared_memory_per_sm, 167_936);
    assert_eq!(l.sms, 108);
}

#[test]
fn alexnet_charges_worked_by_hand() {
    let p = alexnet();
    let d = &p.devices[0];
    let hw = Preset::A100_40gb.model();
    let e = compose_device(d, &hw, &ComposeOptions::default(), &p.names).unwrap();
    assert_eq!(e.charges.len(), d.records.len());
    assert_eq!(e.report.kernels, 79);
    assert_eq!(e.report.copies, 19);
    // The first record (a memcpy) starts at 1695835572943613 µs, the last
    // ends at 1695835585863857 µs: span 12.920244 s.
    assert_eq!(e.origin_ns, 1_695_835_572_943_613_000);
    assert!(close(e.report.span_s, 12.920_244), "{}", e.report.span_s);
    // Unit-seconds add up to N · span = 108 × 12.920244.
    let us: f64 = PowerState::ALL
        .iter()
        .map(|&s| e.report.states.get(s).unit_seconds)
        .sum();
    assert!(close(us, 108.0 * 12.920_244), "{us}");
    // Attribution closes: records plus the idle bucket give the total.
    let charged: f64 = e.charges.iter().map(|c| c.energy.total_energy_j).sum();
    assert!(close(
        charged + e.report.idle.energy_j,
        e.report.total_energy_j
    ));

    // The first kernel (the uniform fill): grid 864, block 256 (8 warps),
    // 47 registers, no shared memory, at +80 ms for 71 µs.
    // Registers: 47·32 = 1504 → 1536 per warp; a quarter SM holds
    // 16384/1536 = 10 warps, 40 per SM → 40/8 = 5 blocks (warps allow 8,
    // shared memory 167936/1024 = 164): 5 resident, limited by registers.
    // Waves ⌈864 / (108·5)⌉ = 2; units min(108, 864) = 108; blocks per SM
    // 864/108 = 8; occupancy min(8, 5)·256/2048 = 0.625 (PyTorch: 63 %).
    let first = e
        .charges
        .iter()
        .find(|c| d.records[c.record].kind == RecordKind::Kernel)
        .unwrap();
    let o = first.launch.unwrap();
    assert_eq!(o.resident_blocks_per_sm, 5);
    assert_eq!(o.limiter, Limiter::Registers);
    assert_eq!(first.waves(), 2);
    assert_eq!(first.units_allocated(), 108);
    assert_eq!(first.blocks_per_unit(), 8.0);
    assert_eq!(first.occupancy(), 0.625);
    assert_eq!(first.energy.start_ns, 80_000_000);
    assert_eq!(first.energy.end_ns, 80_071_000);
    // Alone on the GPU, all 108 units active for 71 µs under `off`:
    // own static 30 W × 71 µs = 2.13 mJ, active 350 W × 71 µs = 24.85 mJ,
    // uncore 20 W × 71 µs = 1.42 mJ (its share: nothing else runs):
    // 28.4 mJ in all.
    assert!(close(first.energy.own_static_energy_j, 2.13e-3));
    assert!(close(first.energy.active_energy_j, 24.85e-3));
    assert!(close(first.energy.shared_energy_j, 1.42e-3));
    assert!(close(first.energy.total_energy_j, 28.4e-3));

    // The longest kernel (cudnn 128x64, 1035 µs): grid 3025, block 128
    // (4 warps), 160 registers, 16384 B shared memory. Registers: 5120 per
    // warp, 16384/5120 = 3 per quarter, 12 per SM → 3 blocks; shared
    // (16384+1024) → 17408 per block, 167936/17408 = 9; warps 16: 3
    // resident. Waves ⌈3025/324⌉ = 10, 108 units, occupancy 3·128/2048 =
    // 0.1875 (PyTorch: 19 %).
    let longest = e
        .charges
        .iter()
        .filter(|c| c.launch.is_some())
        .max_by_key(|c| c.energy.end_ns - c.energy.start_ns)
        .unwrap();
    let o = longest.launch.unwrap();
    assert_eq!(o.resident_blocks_per_sm, 3);
    assert_eq!(longest.waves(), 10);
    assert_eq!(longest.units_allocated(), 108);
    assert_eq!(longest.occupancy(), 0.1875);
}

#[test]
fn policies_order_as_the_theory_says() {
    let p = alexnet();
    let d = &p.devices[0];
    let hw = Preset::A100_40gb.model();
    let total = |policy| {
        compose_device(
            d,
            &hw,
            &ComposeOptions {
                policy,
                ..ComposeOptions::default()
            },
            &p.names,
        )
        .unwrap()
        .report
        .total_energy_j
    };
    let [off, always, timeout, oracle] = TimelinePolicy::ALL.map(total);
    assert!(oracle <= off && oracle <= always && oracle <= timeout);
    // The trace is 12.9 s, 99.9 % idle: gating saves most of the 30 W of leakage.
    assert!(always < 0.5 * off, "{always} vs {off}");
}

#[test]
fn an_unknown_device_lists_the_presets_and_no_kernels_is_refused() {
    let p = alexnet();
    let mut d: DeviceTimeline = p.devices[0].clone();
    d.properties.as_mut().unwrap().name = "Radeon Instinct MI300X".into();
    let err = catalog_preset(&d).unwrap_err();
    assert!(matches!(err, ComposeError::UnknownDevice { device: 0, .. }));
    let text = err.to_string();
    assert!(
        text.contains("a100-40gb") && text.contains("--hardware"),
        "{text}"
    );
    // With hardware given the limits still come from somewhere: the model's
    // name (A100 SXM4 40GB) names a catalog GPU.
    let (_, source) = limits_for(&d, &Preset::A100_40gb.model()).unwrap();
    assert_eq!(source, LimitsSource::HardwareModel(Device::A100));

    d.records.retain(|r| r.kind != RecordKind::Kernel);
    let err = compose_device(
        &d,
        &Preset::A100_40gb.model(),
        &ComposeOptions::default(),
        &p.names,
    )
    .unwrap_err();
    assert_eq!(err, ComposeError::NoKernels { device: 0 });
}

#[test]
fn a_series_leaves_the_totals_alone_and_adds_up_to_them() {
    let p = alexnet();
    let d = &p.devices[0];
    let hw = Preset::A100_40gb.model();
    for policy in TimelinePolicy::ALL {
        let plain = ComposeOptions {
            policy,
            ..ComposeOptions::default()
        };
        let sampled = ComposeOptions {
            series_bins: 1000,
            ..plain
        };
        let a = compose_device(d, &hw, &plain, &p.names).unwrap();
        let b = compose_device(d, &hw, &sampled, &p.names).unwrap();
        // Sampling splits intervals at bin edges: the same sums, rounded
        // differently.
        assert!(close_enough(
            a.report.total_energy_j,
            b.report.total_energy_j
        ));
        assert_eq!(a.report.transitions, b.report.transitions);
        let s = b.series.unwrap();
        assert_eq!(s.bins.len(), 1000);
        // 12.920244 s in 1000 bins: ⌈12 920 244 000 / 1000⌉ ns each.
        assert_eq!(s.bin_ns, 12_920_244);
        let energy: f64 = s.bins.iter().map(|b| b.energy_j).sum();
        assert!(close_enough(energy, b.report.total_energy_j), "{policy}");
        for st in PowerState::ALL {
            let us: f64 = s.bins.iter().map(|b| b.unit_seconds[st.index()]).sum();
            assert!(close_enough(us, b.report.states.get(st).unit_seconds));
        }
        // Under `off` each bin holds exactly 108 SMs × 12.920244 ms of
        // unit-time. The gating policies book a wake (and the oracle a young
        // period's first t_be) when the idle period ends, so their bins are
        // exact only in sum.
        if policy != TimelinePolicy::Off {
            continue;
        }
        for bin in &s.bins {
            let us: f64 = bin.unit_seconds.iter().sum();
            assert!((us - 108.0 * 12.920_244e-3).abs() < 1e-9, "{us}");
        }
    }
}

fn close_enough(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-9)
}

/// A timeline mapped once composes under every policy as `compose_device`
/// does, and `totals` (no per-record charges) reports exactly the totals
/// of `compose`, with and without a series.
#[test]
fn one_mapping_serves_every_policy_and_totals_match_charges() {
    let p = alexnet();
    let d = &p.devices[0];
    let hw = catalog_preset(d).unwrap().model();
    let mapped = wattledger_std::profiles::compose::map_device(d, &hw, &p.names).unwrap();
    for policy in TimelinePolicy::ALL {
        for series_bins in [0, 7] {
            let o = ComposeOptions {
                policy,
                series_bins,
                ..ComposeOptions::default()
            };
            let full = mapped.compose(&o).unwrap();
            assert_eq!(full, compose_device(d, &hw, &o, &p.names).unwrap());
            assert_eq!(full.charges.len(), d.records.len());
            assert_eq!(mapped.totals(&o).unwrap(), full.report, "{policy:?}");
        }
    }
}
