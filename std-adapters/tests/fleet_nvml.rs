//! The fleet poller on the fake NVML (the real nvml-wrapper, a C library
//! answering from a scenario): lifetime counters, MIG estimates from GPM
//! activity, GPUs that leave and return, a MIG layout that changes, and
//! Jetson rails with their roles.

#[path = "support/fake_nvml.rs"]
mod fake_nvml;
#[path = "fixtures/jetson_trees.rs"]
mod trees;

use std::thread::sleep;
use std::time::{Duration, Instant};

use fake_nvml::FakeNvml;
use wattledger_std::exporters::daemon::{FleetCollector, Format, registry, render};
use wattledger_std::fleet::jetson::JetsonFleet;
use wattledger_std::fleet::nvml::NvmlFleet;
use wattledger_std::fleet::{Accounts, BASIS_GPM, FleetConfig, FleetSource, Poller, Snapshot};
use wattledger_std::sensors::jetson::{JetsonConfig, JetsonSensor};
use wattledger_std::sensors::nvml::NvmlSensor;

fn fleet(fake: &FakeNvml, config: &FleetConfig) -> NvmlFleet {
    NvmlFleet::new(NvmlSensor::with_lib_path(fake.lib_path()).unwrap(), config)
}

/// Poll every `every` until `until` after the start, keeping every snapshot.
fn run(
    source: &mut dyn FleetSource,
    config: &FleetConfig,
    every: Duration,
    until: Duration,
) -> Vec<Snapshot> {
    let mut a = Accounts::new(source.source(), config.clone());
    let start = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < until {
        a.observe(&source.poll());
        out.push(a.snapshot(0.0));
        sleep(every);
    }
    out
}

#[test]
fn a_reset_counter_stays_monotonic_and_instances_add_up_to_the_parent() {
    // The exporter's scenario, with the reset moved to 300 ms after init.
    let text = std::fs::read_to_string(fake_nvml::scenario_path("h100_mig_gpm"))
        .unwrap()
        .replace("reset_at_ms 4000", "reset_at_ms 300");
    let fake = FakeNvml::new(&text);
    let config = FleetConfig::with_interval(Duration::from_millis(50));
    let mut f = fleet(&fake, &config);
    let snaps = run(
        &mut f,
        &config,
        Duration::from_millis(50),
        Duration::from_millis(700),
    );
    let last = snaps.last().unwrap();
    let g = &last
        .gpus
        .iter()
        .find(|g| g.uuid.starts_with("GPU-9d3e"))
        .unwrap();
    assert_eq!(g.counter_resets, 1);
    assert_eq!(g.architecture, "hopper");
    // Monotonic through the reset.
    let energies: Vec<f64> = snaps
        .iter()
        .map(|s| {
            s.gpus
                .iter()
                .find(|g| g.uuid.starts_with("GPU-9d3e"))
                .unwrap()
                .energy_j
        })
        .collect();
    assert!(energies.windows(2).all(|w| w[1] >= w[0]), "{energies:?}");
    // Three instances, split by GPM activity; their sum is the parent's
    // energy (all existed from the first poll).
    assert_eq!(g.migs.len(), 3);
    assert!(g.migs.iter().all(|m| m.basis == BASIS_GPM));
    let sum: f64 = g.migs.iter().map(|m| m.energy_j).sum();
    assert!(
        (sum - g.energy_j).abs() < 1e-6 * g.energy_j,
        "{sum} vs {}",
        g.energy_j
    );
    // GPM activity as scripted: 60 %, 30 %, 0 %.
    let act = |gi: u32| {
        g.migs
            .iter()
            .find(|m| m.gpu_instance_id == gi)
            .unwrap()
            .activity
            .unwrap()
    };
    assert!((act(1) - 0.6).abs() < 1e-9 && (act(5) - 0.3).abs() < 1e-9 && act(13) == 0.0);
    // Shares: H100 preset constant 70 W by slices 3:2:1, the other 280 W by
    // activity × slices 1.8 : 0.6 : 0 → 3g: 35 + 210 = 245 W, 2g: 23.33 + 70
    // = 93.33 W, 1g: 11.67 W of 350 W. Within 1e-4: the counter floors
    // each interval's energy to whole mJ, the constant part is not floored.
    let share = |gi: u32| {
        g.migs
            .iter()
            .find(|m| m.gpu_instance_id == gi)
            .unwrap()
            .energy_j
            / g.energy_j
    };
    assert!((share(1) - 245.0 / 350.0).abs() < 1e-4, "{}", share(1));
    assert!((share(5) - (70.0 / 3.0 + 70.0) / 350.0).abs() < 1e-4);
    assert!((share(13) - (70.0 / 6.0) / 350.0).abs() < 1e-4);
    // The plain H100 has no instances and no reset.
    let plain = last
        .gpus
        .iter()
        .find(|g| g.uuid.starts_with("GPU-77aa"))
        .unwrap();
    assert!(plain.migs.is_empty());
    assert_eq!(plain.counter_resets, 0);
    assert!(plain.coverage > 0.99);
}

#[test]
fn the_poller_thread_measures_the_fakes_power() {
    let fake = FakeNvml::scenario("h100_mig_gpm");
    let config = FleetConfig::with_interval(Duration::from_millis(20));
    let mut poller = Poller::spawn(Box::new(fleet(&fake, &config)), config).unwrap();
    let latest = poller.latest();
    let first = latest.get();
    let t0 = Instant::now();
    sleep(Duration::from_millis(600));
    let last = latest.get();
    let dt = t0.elapsed().as_secs_f64();
    poller.stop();
    let e = |s: &Snapshot, u: &str| {
        s.gpus
            .iter()
            .find(|g| g.uuid.starts_with(u))
            .unwrap()
            .energy_j
    };
    // 250 W on the plain H100: the energy added over about 0.6 s, within a
    // poll period (20 ms of 600, about 3 %) plus scheduling slack: 10 %.
    let watts = (e(&last, "GPU-77aa") - e(&first, "GPU-77aa")) / dt;
    assert!((watts - 250.0).abs() < 25.0, "{watts} W");
    assert!(last.polls > first.polls + 10, "{} polls", last.polls);
    // The rendered scrape says the estimates are estimates.
    let text = render(
        &registry(FleetCollector::fixed((*last).clone())),
        Format::Prometheus,
    );
    assert!(
        text.contains("# HELP wattledger_mig_estimated_energy_joules_total ESTIMATE"),
        "{text}"
    );
    assert!(text.contains("basis=\"gpm-activity\""));
    assert!(text.contains("wattledger_energy_joules_total{gpu_uuid=\"GPU-77aa0000-0000-4000-8000-000000000001\",gpu_name=\"NVIDIA H100 80GB HBM3\",architecture=\"hopper\"}"), "{text}");
}

#[test]
fn gpus_that_leave_and_return_and_mig_layouts_that_change_are_followed() {
    let fake = FakeNvml::scenario("fleet_changes");
    let mut config = FleetConfig::with_interval(Duration::from_millis(40));
    config.rescan = Duration::from_millis(100);
    let mut f = fleet(&fake, &config);
    let snaps = run(
        &mut f,
        &config,
        Duration::from_millis(40),
        Duration::from_millis(1700),
    );
    let gpu0 = |s: &Snapshot| {
        s.gpus
            .iter()
            .find(|g| g.uuid.starts_with("GPU-5c6d"))
            .cloned()
            .unwrap()
    };
    let gpu1 = |s: &Snapshot| {
        s.gpus
            .iter()
            .find(|g| g.uuid.starts_with("GPU-6d7e"))
            .cloned()
            .unwrap()
    };
    // GPU 0: answering, then lost, then back.
    let lost: Vec<bool> = snaps.iter().map(|s| gpu0(s).lost).collect();
    let first_lost = lost.iter().position(|&l| l).expect("GPU 0 was never lost");
    let back = lost[first_lost..]
        .iter()
        .position(|&l| !l)
        .expect("GPU 0 never came back");
    assert!(first_lost > 0 && back > 0, "{lost:?}");
    // Its counter restarted from 0 on return: one reset, and the total never
    // went down.
    let last = snaps.last().unwrap();
    assert_eq!(gpu0(last).counter_resets, 1);
    assert!(
        snaps
            .windows(2)
            .all(|w| gpu0(&w[1]).energy_j >= gpu0(&w[0]).energy_j)
    );
    // About 0.6 s of 1.7 s was lost: coverage well below 1.
    let c = gpu0(last).coverage;
    assert!(c > 0.4 && c < 0.8, "coverage {c}");
    // GPU 1: one 7g.80gb instance, then two 3g.40gb, picked up by a rescan.
    let profiles =
        |s: &Snapshot| -> Vec<String> { gpu1(s).migs.iter().map(|m| m.profile.clone()).collect() };
    assert_eq!(profiles(&snaps[0]), vec!["7g.80gb"]);
    assert_eq!(profiles(last), vec!["3g.40gb", "3g.40gb"]);
    // The two new instances split their intervals by activity 100 % : 20 %
    // of their equal slices (dynamic part) and equally the constant part.
    let m = gpu1(last).migs;
    assert!(m[0].energy_j > m[1].energy_j, "{m:?}");
}

#[test]
fn jetson_rails_carry_their_roles() {
    let dir = tempfile::tempdir().unwrap();
    trees::orin_nano(dir.path());
    let sensor = JetsonSensor::with_config(JetsonConfig::with_root(dir.path())).unwrap();
    let mut f = JetsonFleet::new(sensor);
    let config = FleetConfig::with_interval(Duration::from_millis(20));
    let snaps = run(
        &mut f,
        &config,
        Duration::from_millis(20),
        Duration::from_millis(120),
    );
    let last = snaps.last().unwrap();
    let roles: Vec<(&str, &str)> = last
        .rails
        .iter()
        .map(|r| (r.name.as_str(), r.role))
        .collect();
    // Orin Nano: VDD_IN is the input; the others are inside it.
    assert_eq!(
        roles,
        vec![
            ("VDD_IN", "total"),
            ("VDD_CPU_GPU_CV", "part"),
            ("VDD_SOC", "part")
        ]
    );
    // VDD_IN 5032 mV × 1380 mA = 6944.16 → 6944 mW.
    assert_eq!(last.rails[0].power_w, Some(6.944));
    assert!(last.rails[0].energy_j > 0.0);
    let text = render(
        &registry(FleetCollector::fixed(last.clone())),
        Format::Prometheus,
    );
    assert!(
        text.contains("wattledger_rail_power_watts{rail=\"VDD_IN\",role=\"total\"} 6.944"),
        "{text}"
    );
}
