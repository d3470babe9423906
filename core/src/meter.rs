//! The measuring side: integrate energy-counter and power samples.
//!
//! (Only the sample type is here yet; the measuring issue fills in the meter.)

/// One reading from a power source, as an adapter hands it to the meter.
///
/// The meter never reads a clock: the adapter stamps every sample with a
/// monotonic time in nanoseconds. A sample carries an energy counter, a power
/// reading, or both; a source that can tell which compute units are
/// power-gated (the Jetson TPC mask) says how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sample {
    /// Monotonic timestamp in nanoseconds, from the adapter's clock.
    pub t_ns: u64,
    /// Cumulative energy counter in millijoules (NVML's `nvmlDeviceGetTotalEnergyConsumption`).
    pub energy_mj: Option<u64>,
    /// Instantaneous (or short-average) power in milliwatts.
    pub power_mw: Option<u32>,
    /// Number of compute units the source reports as power-gated, where it can tell.
    pub gated_units: Option<u32>,
}
