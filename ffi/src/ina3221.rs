//! INA3221 registers and Jetson rail tables for a monitor with no OS.
//!
//! A firmware caller reads the chip over I²C itself and hands the raw
//! 16-bit registers to [`wl_meter_ingest_ina3221`]; the library does the
//! datasheet's decoding (see the core's `ina3221` module) and the meter's
//! integration. [`wl_jetson_rail`] says which chip address and channel
//! measure which rail on each Jetson board, through which shunt, and which
//! rails add up to the board's total.

use core::ffi::c_char;

use wattledger_core::ina3221::board::{BOARDS, Role};
use wattledger_core::ina3221::{self, Channel, Config, Ina3221Error, IngestError, Reading};

use crate::guard;
use crate::meter::{meter, meter_status};
use crate::ptr::{Out, put_str};
use crate::status::*;

/// Configuration register address.
pub const WL_INA3221_REG_CONFIG: u8 = 0x00;
/// Mask/enable register address (bit 0: CVRF, conversion ready).
pub const WL_INA3221_REG_MASK_ENABLE: u8 = 0x0F;
/// Shunt-voltage register of channel 0; channel `c`'s is `1 + 2c`.
pub const WL_INA3221_REG_SHUNT_0: u8 = 0x01;
/// Bus-voltage register of channel 0; channel `c`'s is `2 + 2c`.
pub const WL_INA3221_REG_BUS_0: u8 = 0x02;
/// Manufacturer ID register address; it reads [`WL_INA3221_MANUFACTURER_ID`].
pub const WL_INA3221_REG_MANUFACTURER_ID: u8 = 0xFE;
/// What the manufacturer ID register reads (`"TI"`).
pub const WL_INA3221_MANUFACTURER_ID: u16 = 0x5449;

// Written out for cbindgen, which cannot evaluate paths; kept equal to the core's.
const _: () = assert!(WL_INA3221_REG_CONFIG == ina3221::reg::CONFIG);
const _: () = assert!(WL_INA3221_REG_MASK_ENABLE == ina3221::reg::MASK_ENABLE);
const _: () = assert!(WL_INA3221_REG_MANUFACTURER_ID == ina3221::reg::MANUFACTURER_ID);
const _: () = assert!(WL_INA3221_MANUFACTURER_ID == ina3221::MANUFACTURER_ID);

/// Boards known to [`wl_jetson_rail`] (indices `WL_JETSON_*`).
pub const WL_JETSON_BOARD_COUNT: u32 = 5;
/// Jetson AGX Orin (P3701): no input rail measured; the total is the sum.
pub const WL_JETSON_AGX_ORIN: u32 = 0;
/// Jetson Orin Nano / Orin NX (P3767): `VDD_IN` is the total.
pub const WL_JETSON_ORIN_NANO_NX: u32 = 1;
/// Jetson Xavier NX (P3668): `VDD_IN` is the total.
pub const WL_JETSON_XAVIER_NX: u32 = 2;
/// Jetson AGX Xavier (P2888): no input rail measured; the total is the sum.
pub const WL_JETSON_AGX_XAVIER: u32 = 3;
/// Jetson Nano (P3448) with L4T r32 names: `POM_5V_IN` is the total.
pub const WL_JETSON_NANO_R32: u32 = 4;

const _: () = assert!(BOARDS.len() == WL_JETSON_BOARD_COUNT as usize);

/// Rail role: the board's input rail, which is its total.
pub const WL_RAIL_INPUT: u32 = 0;
/// Rail role: inside the rail at index `parent`.
pub const WL_RAIL_PART: u32 = 1;
/// Rail role: a top-level rail of a board without a measured input; the total is their sum.
pub const WL_RAIL_SUM_PART: u32 = 2;
/// Rail role: where it sits is not publicly documented; never in the total.
pub const WL_RAIL_UNPLACED: u32 = 3;

/// Size of a rail-name buffer.
pub const WL_RAIL_NAME_BUFFER: usize = 24;

/// One monitored rail of a Jetson board (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_jetson_rail_info {
    /// The Linux driver's label (`"VDD_IN"`), NUL-terminated.
    pub name: [c_char; WL_RAIL_NAME_BUFFER],
    /// The chip's 7-bit I²C address.
    pub address: u32,
    /// The chip's channel, 0–2.
    pub channel: u32,
    /// Whether `shunt_micro_ohms` is known from a public source.
    pub has_shunt: u32,
    /// Shunt resistance, µΩ (0 when unknown: supply your board's value).
    pub shunt_micro_ohms: u32,
    /// A `WL_RAIL_*` role.
    pub role: u32,
    /// Index of the containing rail (`WL_RAIL_PART` only; else 0).
    pub parent: u32,
    /// 1 when this rail is one of those whose sum is the board's total.
    pub in_total: u32,
}

/// One decoded INA3221 reading (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_ina3221_measurement {
    /// Shunt voltage, µV.
    pub shunt_uv: i32,
    /// Bus voltage, mV.
    pub bus_mv: u32,
    /// Current, µA, rounded.
    pub current_ua: i64,
    /// Power, mW, rounded (negative with a negative current; the meter counts that as 0).
    pub power_mw: i64,
}

fn register_status(e: Ina3221Error) -> wl_status {
    match e {
        Ina3221Error::NotReady { .. } => WL_ERR_NOT_READY,
        Ina3221Error::ReservedBits { .. } => WL_ERR_BAD_REGISTER,
        Ina3221Error::FullScale { .. } | Ina3221Error::NegativeBus { .. } => WL_ERR_REGISTER_RANGE,
        Ina3221Error::ZeroShunt => WL_ERR_ZERO,
        Ina3221Error::PowerTooLarge { .. } => WL_ERR_OVERFLOW,
    }
}

/// Decodes one channel's registers for a shunt of `shunt_micro_ohms` µΩ.
///
/// # Errors
/// The registers first: [`WL_ERR_ZERO`] (shunt), [`WL_ERR_NOT_READY`]
/// (CVRF clear), [`WL_ERR_BAD_REGISTER`], [`WL_ERR_REGISTER_RANGE`],
/// [`WL_ERR_OVERFLOW`]; then [`WL_ERR_NULL_POINTER`] (`out`).
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_ina3221_decode(
    mask_enable: u16,
    shunt: u16,
    bus: u16,
    shunt_micro_ohms: u32,
    out: *mut wl_ina3221_measurement,
) -> wl_status {
    guard(|| {
        let m = Reading {
            mask_enable,
            shunt,
            bus,
        }
        .decode(shunt_micro_ohms)
        .map_err(register_status)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(wl_ina3221_measurement {
            shunt_uv: m.shunt_uv,
            bus_mv: m.bus_mv,
            current_ua: m.current_ua,
            power_mw: m.power_mw,
        })
    })
}

/// The time one result of the chip covers with configuration register
/// `config`, ns: averages × enabled channels × (shunt + bus conversion
/// time). Use it as the meter's `update_period_ns`. 0 when nothing is
/// converted (power-down, or no channel enabled). Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_ina3221_sample_period_ns(config: u16) -> u64 {
    Config(config).sample_period_ns().unwrap_or(0)
}

/// 1 when configuration register `config` enables `channel` (0–2), else 0.
/// Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_ina3221_channel_enabled(config: u16, channel: u32) -> u32 {
    u8::try_from(channel)
        .ok()
        .and_then(Channel::new)
        .is_some_and(|c| Config(config).channel_enabled(c))
        .into()
}

/// Feeds one INA3221 channel's registers, read at `t_ns`, to a meter: the
/// mask/enable register of the same round (for CVRF), the channel's shunt
/// and bus registers as the chip sent them, and the channel's shunt in µΩ.
/// The power becomes a sample as for [`crate::wl_meter_ingest`].
///
/// # Errors
/// The meter is unchanged on every error. [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_BAD_HANDLE`]; then the registers: [`WL_ERR_ZERO`] (shunt),
/// [`WL_ERR_NOT_READY`], [`WL_ERR_BAD_REGISTER`], [`WL_ERR_REGISTER_RANGE`],
/// [`WL_ERR_OVERFLOW`] (power beyond `uint32_t` mW); then the time:
/// [`WL_ERR_TIME_WENT_BACK`].
///
/// # Safety
/// No other thread ends `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_ingest_ina3221(
    m: *mut crate::wl_meter,
    t_ns: u64,
    mask_enable: u16,
    shunt: u16,
    bus: u16,
    shunt_micro_ohms: u32,
) -> wl_status {
    guard(|| {
        let mut meter = meter(m)?;
        let reading = Reading {
            mask_enable,
            shunt,
            bus,
        };
        meter
            .ingest_ina3221(t_ns, reading, shunt_micro_ohms)
            .map(|_| ())
            .map_err(|e| match e {
                IngestError::Register(e) => register_status(e),
                IngestError::Meter(e) => meter_status(e),
            })
    })
}

/// Number of monitored rails of board `board` (a `WL_JETSON_*` index).
///
/// # Errors
/// [`WL_ERR_OUT_OF_RANGE`] (no such board), [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_jetson_rail_count(board: u32, out: *mut u32) -> wl_status {
    guard(|| {
        let b = BOARDS.get(board as usize).ok_or(WL_ERR_OUT_OF_RANGE)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(b.rails.len() as u32)
    })
}

/// Rail `rail` of board `board`: its name, chip address and channel, shunt,
/// and place in the board's tree. Add up the `in_total` rails for the
/// board's total: never a rail and its own part.
///
/// # Errors
/// [`WL_ERR_OUT_OF_RANGE`] (no such board or rail), [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_jetson_rail(
    board: u32,
    rail: u32,
    out: *mut wl_jetson_rail_info,
) -> wl_status {
    guard(|| {
        let b = BOARDS.get(board as usize).ok_or(WL_ERR_OUT_OF_RANGE)?;
        let index = rail as usize;
        let r = b.rails.get(index).ok_or(WL_ERR_OUT_OF_RANGE)?;
        let (role, parent) = match r.role {
            Role::Input => (WL_RAIL_INPUT, 0),
            Role::Part { of } => (WL_RAIL_PART, of as u32),
            Role::SumPart => (WL_RAIL_SUM_PART, 0),
            Role::Unplaced => (WL_RAIL_UNPLACED, 0),
        };
        let mut c = wl_jetson_rail_info {
            name: [0; WL_RAIL_NAME_BUFFER],
            address: u32::from(r.address),
            channel: u32::from(r.channel.index()),
            has_shunt: u32::from(r.shunt_micro_ohms.is_some()),
            shunt_micro_ohms: r.shunt_micro_ohms.unwrap_or(0),
            role,
            parent,
            in_total: u32::from(b.total_rails().any(|(i, _)| i == index)),
        };
        put_str(&mut c.name, r.name)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rail_lookup_and_decoding_from_c() {
        let mut r = core::mem::MaybeUninit::<wl_jetson_rail_info>::uninit();
        // SAFETY: `r` is writable.
        let status = unsafe { wl_jetson_rail(WL_JETSON_ORIN_NANO_NX, 1, r.as_mut_ptr()) };
        assert_eq!(status, WL_OK);
        // SAFETY: written on success.
        let r = unsafe { r.assume_init() };
        assert_eq!(&r.name[..15], b"VDD_CPU_GPU_CV\0".map(|b| b as c_char));
        assert_eq!((r.address, r.channel, r.shunt_micro_ohms), (0x40, 1, 5000));
        assert_eq!((r.role, r.parent, r.in_total), (WL_RAIL_PART, 0, 0));
        let mut n = 0u32;
        // SAFETY: `n` is writable.
        let status = unsafe { wl_jetson_rail_count(WL_JETSON_AGX_XAVIER, &mut n) };
        assert_eq!(status, WL_OK);
        assert_eq!(n, 6);
        // SAFETY: as above.
        let status = unsafe { wl_jetson_rail_count(5, &mut n) };
        assert_eq!(status, WL_ERR_OUT_OF_RANGE);
        assert_eq!(n, 6, "untouched on error");

        // 0x0568 = 6 920 µV, 0x13A8 = 5 032 mV, 5 mΩ: 6 964 mW (see the core's tests).
        let mut m = core::mem::MaybeUninit::<wl_ina3221_measurement>::uninit();
        // SAFETY: `m` is writable.
        let status = unsafe { wl_ina3221_decode(1, 0x0568, 0x13A8, 5000, m.as_mut_ptr()) };
        assert_eq!(status, WL_OK);
        // SAFETY: written on success.
        let got = unsafe { m.assume_init() };
        assert_eq!(got.power_mw, 6964);
        for (mask, shunt, bus, r, want) in [
            (0, 0x0568, 0x13A8, 5000, WL_ERR_NOT_READY),
            (1, 0xFFFF, 0x13A8, 5000, WL_ERR_BAD_REGISTER),
            (1, 0x7FF8, 0x13A8, 5000, WL_ERR_REGISTER_RANGE),
            (1, 0x0568, 0xFFF8, 5000, WL_ERR_REGISTER_RANGE),
            (1, 0x0568, 0x13A8, 0, WL_ERR_ZERO),
        ] {
            // SAFETY: as above.
            let status = unsafe { wl_ina3221_decode(mask, shunt, bus, r, m.as_mut_ptr()) };
            assert_eq!(status, want);
        }
        assert_eq!(wl_ina3221_sample_period_ns(0x7127), 6_600_000);
        assert_eq!(wl_ina3221_sample_period_ns(0x7120), 0);
        assert_eq!(wl_ina3221_channel_enabled(0x6127, 2), 0);
        assert_eq!(wl_ina3221_channel_enabled(0x6127, 1), 1);
        assert_eq!(wl_ina3221_channel_enabled(0x7127, 3), 0);
    }
}
