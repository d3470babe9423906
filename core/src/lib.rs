//! Allocation-free energy accounting for GPUs and other accelerators.
//!
//! `wattledger-core` is the part of wattledger that a firmware-like monitor
//! can embed: it has no heap, no `std`, no clock and no I/O. It answers two
//! questions:
//!
//! * **Estimate** ([`compose`]): given subgraphs with their operation counts,
//!   bytes, latency and unit allocation, and a [`hardware::HardwareModel`],
//!   how much energy does the model take, and in which [`state::PowerState`]
//!   did every unit spend its time? Power gating and voltage/frequency
//!   scaling are modelled explicitly.
//! * **Measure** ([`meter`]): integrate energy-counter and power samples that
//!   an adapter feeds in, and say how far the result can be trusted.
//!
//! [`ina3221`] decodes the registers of the INA3221 power monitors on
//! Jetson boards and knows each board's rails, for a monitor with no OS.
//!
//! [`mig`] holds the Multi-Instance GPU rules: on a MIG slice NVML reports the
//! whole GPU's power, and a careless sum counts the parent more than once.
//!
//! Capacities are compile-time constants or const generics. Exceeding one is
//! an error, never a silent truncation, and every rejected input leaves the
//! object it was given to exactly as it was.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

#[cfg(test)]
extern crate std;

pub mod compose;
pub mod devices;
pub mod float;
pub mod hardware;
pub mod ina3221;
pub mod launch;
pub mod meter;
pub mod mig;
pub mod presets;
pub mod scenario;
pub mod state;
pub mod timeline;

/// A sink's refusal to take more: the composer's record sinks and the MIG
/// rules' warning sinks answer with this one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SinkFull;
