//! `wattledger devices`: what the source can see.

use serde::Serialize;
use wattledger_core::mig::Architecture;
use wattledger_std::sensors::DeviceInfo;
use wattledger_std::visible::{CUDA_VISIBLE_DEVICES, cuda_visible_devices};

use crate::measure::open_sensor;
use crate::{CliResult, Source, exit, out, outln, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to look: nvml, jetson, jetson:ROOT or replay:FILE.
    #[arg(long, default_value = "nvml", value_name = "SOURCE")]
    source: Source,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct DevicesJson<'a> {
    source: &'a str,
    devices: &'a [DeviceInfo],
    cuda_visible_devices: Option<String>,
}

fn arch_name(a: Option<u32>) -> String {
    a.map_or("architecture unknown".to_string(), |n| {
        Architecture::from_nvml(n).to_string()
    })
}

pub fn run(args: &Args) -> CliResult {
    let sensor = open_sensor(&args.source)?;
    let devices = sensor.devices();
    let cuda = std::env::var(CUDA_VISIBLE_DEVICES).ok();
    if args.json {
        print_json(&DevicesJson {
            source: sensor.source(),
            devices,
            cuda_visible_devices: cuda,
        })?;
        return Ok(exit::OK);
    }
    let mut s = String::new();
    outln!(s, "{}: {} device(s)", sensor.source(), devices.len());
    for d in devices {
        outln!(
            s,
            "  {}  {}  {}  {}  energy counter: {}",
            d.index,
            d.name,
            d.uuid,
            arch_name(d.architecture),
            if d.has_energy_counter {
                "yes"
            } else {
                "no (power polling)"
            }
        );
        if let Some(m) = &d.mig {
            outln!(
                s,
                "     MIG {}{}, {} instance(s)",
                if m.current_enabled { "on" } else { "off" },
                if m.pending_enabled != m.current_enabled {
                    format!(
                        " ({} after the next GPU reset)",
                        if m.pending_enabled { "on" } else { "off" }
                    )
                } else {
                    String::new()
                },
                m.instances.len()
            );
            for i in &m.instances {
                outln!(
                    s,
                    "       {}  {}  GPU instance {}, compute instance {}",
                    i.uuid,
                    i.profile.as_deref().unwrap_or("(profile unknown)"),
                    i.gpu_instance_id,
                    i.compute_instance_id
                );
            }
        }
    }
    if sensor.source() == "nvml" {
        if let Some(value) = &cuda {
            let v = cuda_visible_devices(devices, Some(value));
            outln!(
                s,
                "CUDA_VISIBLE_DEVICES={value}: {} visible ({})",
                v.visible.len(),
                v.visible
                    .iter()
                    .map(|x| x
                        .mig_uuid
                        .clone()
                        .unwrap_or_else(|| format!("GPU {}", x.device)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(bad) = v.stopped_at {
                outln!(
                    s,
                    "  stops at `{}` ({:?}): CUDA ignores it and everything after it",
                    bad.token,
                    bad.problem
                );
            }
        }
    }
    out::stdout(&s)?;
    Ok(exit::OK)
}
