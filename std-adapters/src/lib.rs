//! Adapters that connect `wattledger-core` to the real world.
//!
//! One concept per module. Following Scaphandre's split, *sensors* (where
//! numbers come from) are kept apart from *exporters* (where numbers go):
//!
//! - [`sensors`]: the [`sensors::Sensor`] trait and its sources (NVML,
//!   Jetson power rails, replayed traces);
//! - [`trace`]: the `wattledger-trace/1` recording format, read and written
//!   through one set of serde types;
//! - [`visible`]: which physical GPUs and MIG instances a program can see
//!   (`CUDA_VISIBLE_DEVICES`), so each physical GPU is measured once;
//! - [`monitor`]: named measurement windows over every device at once;
//! - [`mig_warnings`]: the one path from window reports to MIG results and
//!   their `WL-MIG-*` warnings;
//! - [`model_file`]: model and hardware files for the composer;
//! - [`attribute`]: a power recording's measured energy shared among the
//!   kernels of a profile of the same run;
//! - [`calibrate`]: fitting a hardware model's power figures to measured
//!   energy, with standard errors and held-out error;
//! - [`fleet`]: a node watched for as long as it runs (lifetime counters,
//!   per-MIG-instance estimates), polled on a thread of its own;
//! - [`exporters`]: the human tables, JSON, CSV and Prometheus text (one
//!   run's textfile, or a daemon's scrape).
//!
//! The `wattledger` command (crate `wattledger-cli`) and the C ABI
//! (`wattledger-ffi`) are thin layers over these.

pub mod attribute;
pub mod calibrate;
pub mod exporters;
pub mod fleet;
pub mod mig_warnings;
pub mod model_file;
pub mod monitor;
pub mod profiles;
pub mod sensors;
pub mod trace;
pub mod visible;
