//! Adapters that connect `wattledger-core` to the real world.
//!
//! Following Scaphandre's split, *sensors* (where numbers come from: NVML,
//! Jetson power rails, recorded traces) are kept apart from *exporters*
//! (where numbers go: the terminal, JSON, Prometheus text files, trace
//! recordings). Every sensor implements [`sensor::Sensor`] and hands out
//! [`wattledger_core::meter::Sample`]s; everything downstream works on those.

pub mod jetson;
pub mod mig_warnings;
pub mod monitor;
#[cfg(feature = "nvml")]
pub mod nvml;
pub mod profiles;
pub mod replay;
pub mod sensor;
