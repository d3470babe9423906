//! The TI INA3221 power monitor, read register by register, with no OS.
//!
//! Jetson boards measure their supply rails with INA3221 chips: three
//! channels each, every channel a shunt-voltage and a bus-voltage register.
//! On Linux a kernel driver turns those into millivolts and milliamperes;
//! a firmware-like monitor (a microcontroller, a bare-metal core) reads the
//! registers over I²C itself and must get the chip's sign conventions,
//! alignment and scaling right. This module does that once, without a heap,
//! a clock or a panic, and [`board`] says which rail each channel measures
//! on each Jetson board and how the rails nest.
//!
//! # The registers (TI INA3221 datasheet, SBOS576, §8.6 "Register Maps")
//!
//! | address | register | what |
//! |---|---|---|
//! | `0x00` | configuration | reset, channel enables, averaging, conversion times, mode; power-on value `0x7127` |
//! | `0x01`, `0x03`, `0x05` | channel 1–3 shunt voltage | 13-bit two's complement in bits 15–3, LSB 40 µV, full scale ±163.8 mV |
//! | `0x02`, `0x04`, `0x06` | channel 1–3 bus voltage | 13-bit two's complement in bits 15–3, LSB 8 mV, full scale 32.76 V |
//! | `0x0F` | mask/enable | alert flags; bit 0 is CVRF, the conversion-ready flag |
//! | `0xFE` | manufacturer ID | `0x5449` ("TI") |
//! | `0xFF` | die ID | `0x3220` |
//!
//! Both voltage registers hold their value *left-aligned*: the sign is bit
//! 15, the least significant bit of the value is bit 3, and bits 2–0 are
//! always read as 0. So the value in LSBs is the register read as `i16`
//! and shifted right arithmetically by 3: `0x0008` is +1 LSB, `0xFFF8` is
//! −1 LSB, `0x7FF8` is +4095 LSB (the positive full scale), `0x8000` is
//! −4096 LSB.
//!
//! Bits 2–0 set are something the chip never writes; the usual cause is a
//! bus fault (an I²C read from a chip that does not answer returns `0xFFFF`),
//! so such a register is refused ([`Ina3221Error::ReservedBits`]) rather
//! than read as −40 µV.
//!
//! # Current and power
//!
//! The chip measures voltages only; current is the shunt voltage over the
//! shunt resistance, power the bus voltage times the current. With the
//! shunt in µΩ (the unit of the Linux device-tree property
//! `shunt-resistor-micro-ohms`) the arithmetic is exact in integers:
//!
//! ```text
//! current [µA] = shunt [µV] × 10⁶ / R [µΩ]
//! power   [mW] = bus [mV] × shunt [µV] / R [µΩ]
//! ```
//!
//! each rounded to the nearest unit at the very end. One shunt LSB is
//! 40 µV / R: 8 mA through a 5 mΩ shunt, 20 mA through 2 mΩ.
//!
//! # When a reading is refused
//!
//! See [`Ina3221Error`]: a conversion not finished (CVRF clear), a register
//! at the end of its range (the true value may lie beyond it), a negative
//! bus voltage (a supply rail cannot have one; the input range is 0–26 V),
//! reserved bits set, a zero shunt, or a power that does not fit the
//! meter's `u32` milliwatts.

pub mod board;
mod meter;

pub use meter::IngestError;

use core::fmt;

use crate::meter::Sample;

/// Register addresses (datasheet §8.6, Table 3).
pub mod reg {
    /// Configuration register.
    pub const CONFIG: u8 = 0x00;
    /// Mask/enable register: alert flags and the conversion-ready flag.
    pub const MASK_ENABLE: u8 = 0x0F;
    /// Manufacturer ID register; reads [`super::MANUFACTURER_ID`].
    pub const MANUFACTURER_ID: u8 = 0xFE;
    /// Die ID register; reads [`super::DIE_ID`].
    pub const DIE_ID: u8 = 0xFF;
}

/// What the manufacturer ID register reads: `"TI"` in ASCII.
pub const MANUFACTURER_ID: u16 = 0x5449;
/// What the die ID register reads.
pub const DIE_ID: u16 = 0x3220;
/// The configuration register's power-on value: all three channels on, no
/// averaging, 1.1 ms conversions, shunt and bus continuous.
pub const CONFIG_POWER_ON: u16 = 0x7127;

/// One shunt-voltage LSB, in µV.
pub const SHUNT_LSB_UV: i32 = 40;
/// One bus-voltage LSB, in mV.
pub const BUS_LSB_MV: i32 = 8;
/// Bit 0 of the mask/enable register: CVRF, set when every enabled
/// channel's conversions (and averaging) are complete; reading the
/// mask/enable register or writing the configuration register clears it.
pub const CVRF: u16 = 1;

/// The most positive register value (+4095 LSB): the ADC's positive limit.
const FULL_SCALE_POSITIVE: u16 = 0x7FF8;
/// The most negative register value (−4096 LSB): the ADC's negative limit.
const FULL_SCALE_NEGATIVE: u16 = 0x8000;
/// Bits 2–0 of a voltage register, always 0 from the chip.
const RESERVED_MASK: u16 = 0x0007;

/// One of the chip's three channels (`0`, `1`, `2`: the datasheet's
/// channels 1, 2 and 3; the Linux device tree's `input@0`–`input@2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel(u8);

impl Channel {
    /// The three channels in order.
    pub const ALL: [Channel; 3] = [Channel(0), Channel(1), Channel(2)];

    /// Channel `index` (0, 1 or 2), `None` for any other number.
    pub const fn new(index: u8) -> Option<Channel> {
        if index < 3 {
            Some(Channel(index))
        } else {
            None
        }
    }

    /// 0, 1 or 2.
    pub const fn index(self) -> u8 {
        self.0
    }

    /// Address of this channel's shunt-voltage register (`0x01`, `0x03`, `0x05`).
    pub const fn shunt_register(self) -> u8 {
        1 + 2 * self.0
    }

    /// Address of this channel's bus-voltage register (`0x02`, `0x04`, `0x06`).
    pub const fn bus_register(self) -> u8 {
        2 + 2 * self.0
    }
}

/// Which register a refused value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// A shunt-voltage register.
    Shunt,
    /// A bus-voltage register.
    Bus,
}

/// Why a register value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ina3221Error {
    /// CVRF (bit 0 of the mask/enable register) is clear: the chip has not
    /// finished a conversion since it was configured or since the flag was
    /// last read, so the data registers hold an older result (or, after
    /// power-on, nothing yet).
    NotReady {
        /// The mask/enable register as read.
        mask_enable: u16,
    },
    /// Bits 2–0 of a voltage register are set. The chip always reads them
    /// as 0; an I²C read that nobody answered (`0xFFFF`) is the usual cause.
    ReservedBits {
        /// Which register.
        register: Register,
        /// Its value.
        raw: u16,
    },
    /// A voltage register at the end of the ADC's range (`0x7FF8` or
    /// `0x8000`): the true voltage may be beyond it, so the value is not a
    /// measurement.
    FullScale {
        /// Which register.
        register: Register,
        /// Its value.
        raw: u16,
    },
    /// A negative bus voltage: the bus input measures 0–26 V, so a supply
    /// rail never reads below 0.
    NegativeBus {
        /// The bus-voltage register.
        raw: u16,
    },
    /// A shunt resistance of 0 µΩ: no current can be derived.
    ZeroShunt,
    /// The power does not fit the meter's `u32` milliwatts (only with a
    /// shunt below about 1.3 µΩ).
    PowerTooLarge {
        /// The power, µW.
        power_uw: i64,
    },
}

impl fmt::Display for Ina3221Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ina3221Error::NotReady { mask_enable } => write!(
                f,
                "INA3221 conversion not ready (mask/enable 0x{mask_enable:04X}, CVRF clear)"
            ),
            Ina3221Error::ReservedBits { register, raw } => write!(
                f,
                "INA3221 {register:?} register 0x{raw:04X} has bits 2-0 set, which the chip never does (a bus fault?)"
            ),
            Ina3221Error::FullScale { register, raw } => write!(
                f,
                "INA3221 {register:?} register 0x{raw:04X} is at full scale; the true voltage may be beyond it"
            ),
            Ina3221Error::NegativeBus { raw } => {
                write!(
                    f,
                    "INA3221 bus register 0x{raw:04X} reads a negative voltage"
                )
            }
            Ina3221Error::ZeroShunt => f.write_str("the shunt resistance is 0"),
            Ina3221Error::PowerTooLarge { power_uw } => {
                write!(f, "power {power_uw} µW does not fit in u32 milliwatts")
            }
        }
    }
}

impl core::error::Error for Ina3221Error {}

/// The value of a left-aligned voltage register in LSBs, checked.
fn register_lsbs(register: Register, raw: u16) -> Result<i32, Ina3221Error> {
    if raw & RESERVED_MASK != 0 {
        return Err(Ina3221Error::ReservedBits { register, raw });
    }
    if raw == FULL_SCALE_POSITIVE || raw == FULL_SCALE_NEGATIVE {
        return Err(Ina3221Error::FullScale { register, raw });
    }
    // Two's complement in bits 15..3: reinterpret as i16 (the bit pattern
    // is the point) and shift arithmetically, which keeps the sign.
    Ok(i32::from(raw.cast_signed() >> 3))
}

/// A shunt-voltage register in µV (LSB 40 µV; −163 800 … +163 760 µV
/// once the two full-scale codes are refused).
///
/// # Errors
/// [`Ina3221Error::ReservedBits`], [`Ina3221Error::FullScale`].
pub fn decode_shunt_uv(raw: u16) -> Result<i32, Ina3221Error> {
    register_lsbs(Register::Shunt, raw).map(|lsb| lsb * SHUNT_LSB_UV)
}

/// A bus-voltage register in mV (LSB 8 mV; 0 … 32 752 mV).
///
/// # Errors
/// [`Ina3221Error::ReservedBits`], [`Ina3221Error::FullScale`],
/// [`Ina3221Error::NegativeBus`].
pub fn decode_bus_mv(raw: u16) -> Result<u32, Ina3221Error> {
    let lsb = register_lsbs(Register::Bus, raw)?;
    u32::try_from(lsb * BUS_LSB_MV).map_err(|_| Ina3221Error::NegativeBus { raw })
}

/// Whether the mask/enable register says a conversion is complete (CVRF).
pub const fn conversion_ready(mask_enable: u16) -> bool {
    mask_enable & CVRF != 0
}

/// Conversion times the 3-bit VBUSCT and VSHCT fields select, in µs
/// (datasheet Table 5: 140 µs … 8.244 ms).
pub const CONVERSION_TIMES_US: [u32; 8] = [140, 204, 332, 588, 1100, 2116, 4156, 8244];
/// Sample counts the 3-bit AVG field selects (datasheet Table 5).
pub const AVERAGES: [u32; 8] = [1, 4, 16, 64, 128, 256, 512, 1024];

/// What the chip converts, from the configuration register's MODE bits 2–0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `000` or `100`: nothing is converted.
    PowerDown,
    /// `001`, `010`, `011`: one set of conversions per write of the
    /// configuration register.
    SingleShot {
        /// Shunt voltages are converted.
        shunt: bool,
        /// Bus voltages are converted.
        bus: bool,
    },
    /// `101`, `110`, `111`: conversions repeat for ever.
    Continuous {
        /// Shunt voltages are converted.
        shunt: bool,
        /// Bus voltages are converted.
        bus: bool,
    },
}

/// The configuration register (`0x00`), decoded. Every 16-bit value is a
/// valid configuration, so decoding cannot fail.
///
/// | bits | field |
/// |---|---|
/// | 15 | RST: reset (reads 0) |
/// | 14, 13, 12 | channel 1, 2, 3 enable |
/// | 11–9 | AVG: samples averaged ([`AVERAGES`]) |
/// | 8–6 | VBUSCT: bus conversion time ([`CONVERSION_TIMES_US`]) |
/// | 5–3 | VSHCT: shunt conversion time |
/// | 2–0 | MODE ([`Mode`]) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config(pub u16);

impl Default for Config {
    fn default() -> Self {
        Config(CONFIG_POWER_ON)
    }
}

impl Config {
    /// Whether `channel` is enabled (bit 14 for channel 0, 13, 12).
    pub const fn channel_enabled(self, channel: Channel) -> bool {
        self.0 & (0x4000 >> channel.0) != 0
    }

    /// Number of enabled channels, 0–3.
    pub const fn enabled_channels(self) -> u32 {
        ((self.0 >> 12) & 0x7).count_ones()
    }

    /// Samples averaged into one result (1 … 1024).
    pub fn averages(self) -> u32 {
        AVERAGES
            .get(usize::from((self.0 >> 9) & 0x7))
            .copied()
            .unwrap_or(1)
    }

    /// One bus-voltage conversion, µs.
    pub fn bus_conversion_us(self) -> u32 {
        CONVERSION_TIMES_US
            .get(usize::from((self.0 >> 6) & 0x7))
            .copied()
            .unwrap_or(0)
    }

    /// One shunt-voltage conversion, µs.
    pub fn shunt_conversion_us(self) -> u32 {
        CONVERSION_TIMES_US
            .get(usize::from((self.0 >> 3) & 0x7))
            .copied()
            .unwrap_or(0)
    }

    /// The operating mode.
    pub const fn mode(self) -> Mode {
        let shunt = self.0 & 0b001 != 0;
        let bus = self.0 & 0b010 != 0;
        match self.0 & 0b111 {
            0b000 | 0b100 => Mode::PowerDown,
            0b001..=0b011 => Mode::SingleShot { shunt, bus },
            _ => Mode::Continuous { shunt, bus },
        }
    }

    /// The time one result covers, ns: the chip converts every enabled
    /// channel in turn (shunt, then bus, as the mode says), and a result is
    /// the average of `averages()` such rounds, so
    /// `averages × enabled channels × (shunt time + bus time)`. In
    /// continuous mode this is also how often CVRF is set, i.e. the
    /// source's update period (give it to
    /// [`MeterConfig::update_period_ns`](crate::meter::MeterConfig::update_period_ns)).
    ///
    /// `None` in power-down mode or with no channel enabled: nothing is
    /// converted.
    pub fn sample_period_ns(self) -> Option<u64> {
        let (shunt, bus) = match self.mode() {
            Mode::PowerDown => return None,
            Mode::SingleShot { shunt, bus } | Mode::Continuous { shunt, bus } => (shunt, bus),
        };
        if self.enabled_channels() == 0 {
            return None;
        }
        let per_channel_us = if shunt { self.shunt_conversion_us() } else { 0 }
            + if bus { self.bus_conversion_us() } else { 0 };
        Some(
            u64::from(self.averages())
                * u64::from(self.enabled_channels())
                * u64::from(per_channel_us)
                * 1_000,
        )
    }
}

/// One channel's registers as read in one round: the mask/enable register
/// (read once per round, for CVRF) and the channel's shunt and bus
/// registers, all as the 16-bit values the chip sent (most significant
/// byte first on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reading {
    /// Mask/enable register (`0x0F`).
    pub mask_enable: u16,
    /// The channel's shunt-voltage register.
    pub shunt: u16,
    /// The channel's bus-voltage register.
    pub bus: u16,
}

/// A decoded [`Reading`] for a given shunt resistance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// Shunt voltage, µV (negative: current flowing backwards, or the
    /// amplifier's offset on an idle rail).
    pub shunt_uv: i32,
    /// Bus voltage, mV.
    pub bus_mv: u32,
    /// Current, µA, rounded to the nearest.
    pub current_ua: i64,
    /// Power, mW, rounded to the nearest; negative with a negative current.
    pub power_mw: i64,
}

/// `n / d` rounded to the nearest integer, halves away from zero; `d > 0`.
fn div_round(n: i128, d: i128) -> i128 {
    let half = d / 2;
    if n >= 0 {
        (n + half) / d
    } else {
        (n - half) / d
    }
}

impl Reading {
    /// Decode the registers for a shunt of `shunt_micro_ohms` µΩ.
    ///
    /// # Errors
    /// Checked in this order: [`Ina3221Error::ZeroShunt`],
    /// [`Ina3221Error::NotReady`], then the shunt register's and the bus
    /// register's errors (see [`decode_shunt_uv`], [`decode_bus_mv`]).
    pub fn decode(&self, shunt_micro_ohms: u32) -> Result<Measurement, Ina3221Error> {
        if shunt_micro_ohms == 0 {
            return Err(Ina3221Error::ZeroShunt);
        }
        if !conversion_ready(self.mask_enable) {
            return Err(Ina3221Error::NotReady {
                mask_enable: self.mask_enable,
            });
        }
        let shunt_uv = decode_shunt_uv(self.shunt)?;
        let bus_mv = decode_bus_mv(self.bus)?;
        let r = i128::from(shunt_micro_ohms);
        // µV / µΩ = A; × 10⁶ for µA.
        let current_ua = div_round(i128::from(shunt_uv) * 1_000_000, r);
        // mV × µV / µΩ = mW. |numerator| ≤ 32 752 × 163 800 ≈ 5.4e9.
        let power_mw = div_round(i128::from(bus_mv) * i128::from(shunt_uv), r);
        Ok(Measurement {
            shunt_uv,
            bus_mv,
            // Both fit: |current| ≤ 163 800 × 10⁶ µA, |power| ≤ 5.4e9 mW.
            current_ua: i64::try_from(current_ua).unwrap_or(i64::MAX),
            power_mw: i64::try_from(power_mw).unwrap_or(i64::MAX),
        })
    }

    /// The meter's [`Sample`] at `t_ns` for this reading (see
    /// [`Measurement::to_sample`]).
    ///
    /// # Errors
    /// As [`Reading::decode`] and [`Measurement::to_sample`].
    pub fn to_sample(&self, t_ns: u64, shunt_micro_ohms: u32) -> Result<Sample, Ina3221Error> {
        self.decode(shunt_micro_ohms)?.to_sample(t_ns)
    }
}

impl Measurement {
    /// The meter's [`Sample`] at `t_ns`: power only (the chip has no energy
    /// counter) and no gated units.
    ///
    /// A negative power (reverse current, or the shunt amplifier's offset
    /// on an idle rail: a few tens of µV) counts as 0 mW, as the Linux
    /// adapter counts a negative current.
    ///
    /// # Errors
    /// [`Ina3221Error::PowerTooLarge`] when the power does not fit in `u32`
    /// milliwatts.
    pub fn to_sample(&self, t_ns: u64) -> Result<Sample, Ina3221Error> {
        let power_mw =
            u32::try_from(self.power_mw.max(0)).map_err(|_| Ina3221Error::PowerTooLarge {
                power_uw: self.power_mw.saturating_mul(1000),
            })?;
        Ok(Sample {
            t_ns,
            energy_mj: None,
            power_mw: Some(power_mw),
            gated_units: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_addresses_follow_the_datasheet_map() {
        let shunt: [u8; 3] = Channel::ALL.map(Channel::shunt_register);
        let bus: [u8; 3] = Channel::ALL.map(Channel::bus_register);
        assert_eq!(shunt, [0x01, 0x03, 0x05]);
        assert_eq!(bus, [0x02, 0x04, 0x06]);
        assert_eq!(Channel::new(3), None);
    }
}
