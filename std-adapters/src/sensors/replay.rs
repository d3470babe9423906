//! A recorded `wattledger-trace/1` file as a sensor.
//!
//! [`ReplaySensor`] lets every path downstream of a sensor (the meter, the
//! monitor, the exporters, the command) run offline and in tests on numbers
//! that once came from real hardware. The format itself, and the writing
//! side, are [`crate::trace`].

use std::io::BufRead;
use std::path::Path;

use wattledger_core::meter::Sample;

use crate::sensors::{DeviceInfo, Sensor, SensorError};
use crate::trace::{Trace, TraceError, TraceMeta, TraceSample};

/// A recorded trace as a [`Sensor`]: each device hands out its samples in order.
///
/// The whole trace is read and checked when the sensor is made, so a bad line
/// is reported before any sample is handed out. Each device has its own
/// cursor: sampling device 1 does not move device 0 along.
#[derive(Debug, Clone)]
pub struct ReplaySensor {
    trace: Trace,
    /// Positions in `trace.samples` of each device's samples, by device position.
    by_device: Vec<Vec<usize>>,
    /// How many of each device's samples were handed out.
    cursors: Vec<usize>,
}

impl ReplaySensor {
    /// Read a trace from any buffered reader.
    ///
    /// # Errors
    /// As [`Trace::read`].
    pub fn from_reader<R: BufRead>(reader: R) -> Result<Self, TraceError> {
        ReplaySensor::from_trace(Trace::read(reader)?)
    }

    /// Read a trace from a file.
    ///
    /// # Errors
    /// As [`Trace::from_path`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        ReplaySensor::from_trace(Trace::from_path(path)?)
    }

    /// Replay a trace already in memory, after checking it as
    /// [`Trace::validate`] does.
    ///
    /// # Errors
    /// As [`Trace::validate`].
    pub fn from_trace(trace: Trace) -> Result<Self, TraceError> {
        trace.validate()?;
        let mut by_device = vec![Vec::new(); trace.devices.len()];
        for (i, ts) in trace.samples.iter().enumerate() {
            if let Some(list) = trace
                .devices
                .iter()
                .position(|d| d.index == ts.device)
                .and_then(|p| by_device.get_mut(p))
            {
                list.push(i);
            }
        }
        let cursors = vec![0; trace.devices.len()];
        Ok(ReplaySensor {
            trace,
            by_device,
            cursors,
        })
    }

    /// The trace's `meta` line (its `source` is the original sensor's).
    pub fn meta(&self) -> &TraceMeta {
        &self.trace.meta
    }

    /// The whole trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Every sample of every device, in recorded order, whatever was handed out.
    pub fn all_samples(&self) -> &[TraceSample] {
        &self.trace.samples
    }

    /// Every recorded sample of `device`, in order, whatever was handed out.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] when the trace has no such device.
    pub fn samples(&self, device: u32) -> Result<impl Iterator<Item = Sample> + '_, SensorError> {
        let pos = self.position(device)?;
        let list = self.by_device.get(pos).map_or(&[][..], Vec::as_slice);
        Ok(list
            .iter()
            .filter_map(|&i| self.trace.samples.get(i).map(|ts| ts.sample)))
    }

    /// How many samples of `device` are still to be handed out.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] when the trace has no such device.
    pub fn remaining(&self, device: u32) -> Result<usize, SensorError> {
        let pos = self.position(device)?;
        let total = self.by_device.get(pos).map_or(0, Vec::len);
        let done = self.cursors.get(pos).copied().unwrap_or(0);
        Ok(total.saturating_sub(done))
    }

    /// Start every device from its first sample again.
    pub fn rewind(&mut self) {
        self.cursors.iter_mut().for_each(|c| *c = 0);
    }

    fn position(&self, device: u32) -> Result<usize, SensorError> {
        self.trace
            .devices
            .iter()
            .position(|d| d.index == device)
            .ok_or(SensorError::NoSuchDevice { device })
    }
}

impl Sensor for ReplaySensor {
    fn source(&self) -> &str {
        "replay"
    }

    fn devices(&self) -> &[DeviceInfo] {
        &self.trace.devices
    }

    /// The recording's own alignment, so that re-recording keeps it.
    fn clock_unix_ns(&self) -> Option<u64> {
        self.trace.meta.clock_unix_ns
    }

    /// The next recorded sample of `device`.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] when the trace has no such device;
    /// when all its samples were handed out (and on every later call, until
    /// [`ReplaySensor::rewind`]), [`SensorError::DeviceLost`] if the trace
    /// records that the device was lost, else [`SensorError::EndOfTrace`].
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let pos = self.position(device)?;
        let cursor = self.cursors.get(pos).copied().unwrap_or(0);
        let sample = self
            .by_device
            .get(pos)
            .and_then(|list| list.get(cursor))
            .and_then(|&i| self.trace.samples.get(i))
            .map(|ts| ts.sample)
            .ok_or_else(|| {
                if self.trace.lost.iter().any(|l| l.device == device) {
                    SensorError::DeviceLost { device }
                } else {
                    SensorError::EndOfTrace
                }
            })?;
        if let Some(c) = self.cursors.get_mut(pos) {
            *c += 1;
        }
        Ok(sample)
    }
}
