//! Jetson INA3221 rails for the fleet poller: every rail with its role in
//! the board's tree, and the sensor's devices (board total, GPU rail) as
//! the GPU series.
//!
//! A rail's role comes from the board table of
//! [`wattledger_core::ina3221::board`] when the labels identify a known
//! board: the input rail is `total`, a rail inside it or one of the
//! top-level rails whose sum is the total (boards without a measured input)
//! is `part`, a rail whose place is not documented is `unplaced`. For an
//! unknown board, the rail the sensor takes as its total is `total` and
//! every other rail `part`. Add up `role="total"` for a board's power, or
//! the `part`s where there is no `total`; never both.

use wattledger_core::ina3221::board::{self, Role};

use super::{FleetSource, GpuReading, Poll, RailReading, ReadState};
use crate::sensors::Sensor;
use crate::sensors::jetson::JetsonSensor;

/// A [`FleetSource`] reading a Jetson board's rails.
#[derive(Debug)]
pub struct JetsonFleet {
    sensor: JetsonSensor,
    roles: Vec<&'static str>,
}

/// The role label of each rail named in `names`, with `total_rail` the
/// sensor's total where the board is not known.
pub fn rail_roles(names: &[&str], total_rail: Option<&str>) -> Vec<&'static str> {
    match board::identify(names.iter().copied()) {
        Some(b) => names
            .iter()
            .map(|n| match b.rail(n).map(|(_, r)| r.role) {
                Some(Role::Input) => "total",
                Some(Role::Part { .. } | Role::SumPart) => "part",
                _ => "unplaced",
            })
            .collect(),
        None => names
            .iter()
            .map(|n| {
                if total_rail.is_some_and(|t| t.eq_ignore_ascii_case(n)) {
                    "total"
                } else {
                    "part"
                }
            })
            .collect(),
    }
}

impl JetsonFleet {
    /// Poll the rails of `sensor`.
    pub fn new(sensor: JetsonSensor) -> Self {
        let names: Vec<&str> = sensor.rails().iter().map(|r| r.name.as_str()).collect();
        let roles = rail_roles(&names, sensor.total_rail());
        JetsonFleet { sensor, roles }
    }
}

impl FleetSource for JetsonFleet {
    fn source(&self) -> &str {
        "jetson"
    }

    fn poll(&mut self) -> Poll {
        let mut errors = Vec::new();
        let rails = (0..self.sensor.rails().len())
            .map(|i| {
                let power_mw = match self.sensor.read_rail(i) {
                    Ok(r) => Some(r.power_mw),
                    Err(e) => {
                        errors.push(e.to_string());
                        None
                    }
                };
                RailReading {
                    name: self
                        .sensor
                        .rails()
                        .get(i)
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    role: self.roles.get(i).copied().unwrap_or("part"),
                    power_mw,
                }
            })
            .collect();
        let devices = self.sensor.devices().to_vec();
        let gpus = devices
            .iter()
            .map(|d| GpuReading {
                uuid: d.uuid.clone(),
                name: d.name.clone(),
                architecture: d.architecture,
                state: match self.sensor.sample(d.index) {
                    Ok(s) => ReadState::Read {
                        energy_mj: s.energy_mj,
                        power_mw: s.power_mw,
                    },
                    Err(_) => ReadState::Failed,
                },
                mig: Vec::new(),
                gpm: false,
            })
            .collect();
        Poll {
            t_ns: Sensor::now_ns(&self.sensor).unwrap_or(0),
            gpus,
            rails,
            errors,
        }
    }
}
