//! The `wattledger` command: estimate a model's energy, measure a program's,
//! share a measurement among a profile's kernels, calibrate the model,
//! check MIG results, list MIG profiles and devices. See the README's
//! "The wattledger command" section; exit codes are in [`exit`].
//!
//! This crate is argument parsing, dispatch, errors and exit codes only:
//! sensors, traces, the monitor, MIG warnings, model files and every output
//! format live in `wattledger-std`, so a Rust program or the C ABI gets the
//! same numbers and words without clap. Every failure the user can cause ends in one line on stderr that says
//! what to do, and a documented exit code; nothing unwraps or panics.

mod attribute;
mod devices;
mod estimate;
mod exporter;
mod measure;
mod mig;
mod out;
mod supervise;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use wattledger_std::model_file::InputError;

/// Exit codes.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A run-time failure: an output file could not be written, a
    /// measurement failed part-way.
    pub const FAILURE: i32 = 1;
    /// Bad usage: unknown option, missing value (clap's own code).
    pub const USAGE: i32 = 2;
    /// Bad input: unreadable file, bad JSON, a model or result the library
    /// rejects, an unknown preset or GPU.
    pub const INPUT: i32 = 3;
    /// No device: no NVML library, no GPU, no Jetson rails.
    pub const NO_DEVICE: i32 = 4;
    /// `measure`: the command succeeded, but a measurement is incomplete
    /// (a device was lost part-way; the total leaves it out).
    pub const INCOMPLETE: i32 = 5;
    /// `mig-check`: a warning at or above `--fail-on` (default: an error)
    /// was reported.
    pub const FINDINGS: i32 = 6;
    /// `measure`: the command could not be started (as a shell says).
    pub const NOT_FOUND: i32 = 127;
}

/// A failure with its exit code and a one-line message.
#[derive(Debug)]
pub struct CliError {
    /// One of [`exit`]'s codes.
    pub code: i32,
    /// What went wrong and what to do.
    pub message: String,
}

impl CliError {
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            code: exit::INPUT,
            message: message.into(),
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: exit::USAGE,
            message: message.into(),
        }
    }
    pub fn no_device(message: impl Into<String>) -> Self {
        CliError {
            code: exit::NO_DEVICE,
            message: message.into(),
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: exit::FAILURE,
            message: message.into(),
        }
    }
    /// The reader of standard output (or error) has gone: stop quietly,
    /// exit 0, as `cat` does in `cat file | head -1`.
    pub fn closed_pipe() -> Self {
        CliError {
            code: exit::OK,
            message: String::new(),
        }
    }
    /// Whether this is [`CliError::closed_pipe`].
    pub fn is_closed_pipe(&self) -> bool {
        self.code == exit::OK && self.message.is_empty()
    }
}

/// Bad input, in the library's words: exit code [`exit::INPUT`].
impl From<InputError> for CliError {
    fn from(e: InputError) -> Self {
        CliError::input(e.message)
    }
}

pub type CliResult<T = i32> = Result<T, CliError>;

#[derive(Debug, Parser)]
#[command(
    name = "wattledger",
    version,
    about = "Energy accounting for GPUs: estimate a model's energy, measure a program's",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage, 3 bad input, 4 no device, \
5 the command succeeded but a measurement is incomplete (a device was lost); \
`measure` otherwise exits with the measured command's own code (127 when it cannot be started, \
128+N when a signal N killed it or interrupted the measurement)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Estimate a model's energy from a model file (default: ResNet-18 on an H100).
    Estimate(estimate::Args),
    /// Run a command and measure the energy of every visible GPU while it runs.
    Measure(measure::Args),
    /// Check results from any tool against the MIG rules (WL-MIG-001…009).
    ///
    /// Exit status: 0 when nothing at or above --fail-on was found, 6 when
    /// something was, 2 for bad usage, 3 for an unreadable or invalid
    /// results file.
    MigCheck(mig::CheckArgs),
    /// List the MIG profiles of every GPU in the catalog, or of one.
    MigProfiles(mig::ProfilesArgs),
    /// List what NVML, the Jetson rails or a trace can see.
    Devices(devices::Args),
    /// Share a power recording's measured energy among the kernels of a
    /// profile of the same run, and compare it with the model.
    Attribute(attribute::AttributeArgs),
    /// Fit the hardware model's power figures to profile and recording pairs.
    Calibrate(attribute::CalibrateArgs),
    /// Serve Prometheus metrics of every GPU (and MIG instance) or Jetson
    /// rail until SIGTERM/SIGINT.
    Exporter(exporter::Args),
}

/// Where readings come from, as `--source` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// NVML (the default).
    Nvml,
    /// Jetson INA3221 rails, under `/` or another root.
    Jetson(Option<PathBuf>),
    /// A recorded trace.
    Replay(PathBuf),
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            None if s == "nvml" => Ok(Source::Nvml),
            None if s == "jetson" => Ok(Source::Jetson(None)),
            Some(("jetson", root)) if !root.is_empty() => {
                Ok(Source::Jetson(Some(PathBuf::from(root))))
            }
            Some(("replay", file)) if !file.is_empty() => Ok(Source::Replay(PathBuf::from(file))),
            _ => Err(format!(
                "`{s}` is not a source; use nvml, jetson, jetson:ROOT or replay:FILE"
            )),
        }
    }
}

fn main() {
    std::process::exit(run());
}

/// Parses the arguments, runs the subcommand and returns the exit code.
fn run() -> i32 {
    std::panic::set_hook(Box::new(|info| {
        out::message(&format!(
            "internal error ({info}); please report it with the command line that caused it"
        ));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let result = match cli.command {
        Command::Estimate(a) => estimate::run(&a),
        Command::Measure(a) => measure::run(&a),
        Command::MigCheck(a) => mig::check(&a),
        Command::MigProfiles(a) => mig::profiles(&a),
        Command::Devices(a) => devices::run(&a),
        Command::Attribute(a) => attribute::run_attribute(&a),
        Command::Calibrate(a) => attribute::run_calibrate(&a),
        Command::Exporter(a) => exporter::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if !e.message.is_empty() {
                out::message(&e.message);
            }
            e.code
        }
    }
}

/// Pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> CliResult<()> {
    let text = wattledger_std::exporters::json::to_string(value)
        .map_err(|e| CliError::failure(format!("cannot write JSON: {e}")))?;
    out::stdout(&text)
}
