//! Prometheus text for node_exporter's textfile collector.

use super::{DeviceResult, MeasureReport};

fn prom_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The `measure` results in node_exporter textfile format: energy, average
/// power and coverage per GPU, labelled `gpu_uuid`, `parent_uuid` and
/// `mig_profile`, and Jetson rails also `role` (`total` or `part`: sum the
/// `total` series only).
pub fn measure(m: &MeasureReport) -> String {
    let labels = |d: &DeviceResult| {
        let (uuid, parent, profile) = if d.is_mig {
            (
                d.device.uuid.as_str(),
                d.parent_uuid.as_str(),
                d.mig_profile.as_str(),
            )
        } else {
            (d.device.uuid.as_str(), "", "")
        };
        // A rail of a board's tree says whether it is the total or a part
        // of it, so that a query adds the totals only.
        let role = d
            .device
            .role
            .map_or(String::new(), |r| format!(",role=\"{}\"", r.as_str()));
        format!(
            "gpu_uuid=\"{}\",parent_uuid=\"{}\",mig_profile=\"{}\"{role}",
            prom_escape(uuid),
            prom_escape(parent),
            prom_escape(profile)
        )
    };
    let mut s = String::new();
    s.push_str("# HELP wattledger_energy_joules_total Energy of the last measured run, per GPU; on a MIG instance it is the parent GPU's energy.\n");
    s.push_str("# TYPE wattledger_energy_joules_total counter\n");
    for d in &m.devices {
        s.push_str(&format!(
            "wattledger_energy_joules_total{{{}}} {}\n",
            labels(d),
            d.energy_j
        ));
    }
    s.push_str("# HELP wattledger_power_watts Average power over the last measured run.\n");
    s.push_str("# TYPE wattledger_power_watts gauge\n");
    for d in &m.devices {
        if let Some(p) = d.average_power_w {
            s.push_str(&format!("wattledger_power_watts{{{}}} {p}\n", labels(d)));
        }
    }
    s.push_str("# HELP wattledger_coverage_ratio Fraction of the run covered by readings.\n");
    s.push_str("# TYPE wattledger_coverage_ratio gauge\n");
    for d in &m.devices {
        s.push_str(&format!(
            "wattledger_coverage_ratio{{{}}} {}\n",
            labels(d),
            d.coverage
        ));
    }
    s
}
