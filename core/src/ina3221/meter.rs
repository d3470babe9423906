//! Feeding a meter straight from INA3221 registers.

use core::fmt;

use super::{Ina3221Error, Measurement, Reading};
use crate::meter::{Meter, MeterError};

/// Why [`Meter::ingest_ina3221`] refused a reading. The meter is unchanged
/// after every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestError {
    /// The registers do not hold a usable measurement.
    Register(Ina3221Error),
    /// The meter refused the sample (its time went back).
    Meter(MeterError),
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngestError::Register(e) => e.fmt(f),
            IngestError::Meter(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for IngestError {}

impl From<Ina3221Error> for IngestError {
    fn from(e: Ina3221Error) -> Self {
        IngestError::Register(e)
    }
}

impl From<MeterError> for IngestError {
    fn from(e: MeterError) -> Self {
        IngestError::Meter(e)
    }
}

impl<const W: usize> Meter<W> {
    /// Feed one INA3221 channel's registers, read at `t_ns`, through a shunt
    /// of `shunt_micro_ohms` µΩ: the registers become a power sample
    /// ([`Reading::to_sample`]) and the sample is ingested as by
    /// [`Meter::ingest`]. Returns what the registers decoded to, for logs.
    ///
    /// # Errors
    /// [`IngestError::Register`] for registers that hold no usable
    /// measurement (see [`Reading::decode`]); [`IngestError::Meter`] for a
    /// sample the meter refuses ([`MeterError::TimeWentBack`]). Registers are
    /// checked before the time, and on every error the meter is unchanged.
    pub fn ingest_ina3221(
        &mut self,
        t_ns: u64,
        reading: Reading,
        shunt_micro_ohms: u32,
    ) -> Result<Measurement, IngestError> {
        let m = reading.decode(shunt_micro_ohms)?;
        let sample = m.to_sample(t_ns)?;
        self.ingest(sample)?;
        Ok(m)
    }
}
