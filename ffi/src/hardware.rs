//! Hardware models and presets.

use core::ffi::c_char;
use core::mem::{align_of, size_of};

use wattledger_core::float::FloatError;
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareError, HardwareModel, HardwareSpec, NAME_CAPACITY, Name, PRECISIONS,
    PeakRates, Precision, PrecisionTable, VfCurve,
};
use wattledger_core::presets::Preset;

use crate::ptr::{Out, OutSized, Versioned, buf_str, put_str, read_in, text};
use crate::status::*;
use crate::{float_status, guard};

/// Tag of a `wl_hardware` filled by the library ("WLHW_1", kind 1).
const TAG_HARDWARE: u64 = 0x574c_4857_5f31_0001;

/// Number of precisions: the length of per-precision arrays.
pub const WL_PRECISIONS: usize = 9;
/// Longest hardware or unit name, in bytes (without the NUL).
pub const WL_NAME_CAPACITY: usize = 48;
/// Size of a name buffer in [`wl_hardware_spec`] (room for the NUL and padding).
pub const WL_NAME_BUFFER: usize = 64;
/// Number of presets that ship with this version ([`wl_preset_count`]).
pub const WL_PRESET_COUNT: u32 = 10;
/// Size of the opaque part of a [`wl_hardware`], in 64-bit words.
pub const WL_HARDWARE_WORDS: usize = 64;
/// `sizeof(wl_hardware_spec)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_HARDWARE_SPEC_SIZE_V1: u32 = 320;

const _: () = assert!(WL_PRECISIONS == PRECISIONS);
const _: () = assert!(WL_NAME_CAPACITY == NAME_CAPACITY);
const _: () = assert!(WL_NAME_BUFFER > NAME_CAPACITY);
const _: () = assert!(WL_PRESET_COUNT as usize == Preset::ALL.len());
const _: () = assert!(size_of::<HardwareModel>() <= WL_HARDWARE_WORDS * 8);
const _: () = assert!(align_of::<HardwareModel>() <= align_of::<u64>());

/// Numeric precision of a subgraph's operations (a `WL_PRECISION_*` value).
pub type wl_precision = u32;
/// IEEE double precision.
pub const WL_PRECISION_FP64: wl_precision = 0;
/// IEEE single precision on the CUDA cores.
pub const WL_PRECISION_FP32: wl_precision = 1;
/// TensorFloat-32 on the tensor cores.
pub const WL_PRECISION_TF32: wl_precision = 2;
/// IEEE half precision.
pub const WL_PRECISION_FP16: wl_precision = 3;
/// bfloat16.
pub const WL_PRECISION_BF16: wl_precision = 4;
/// 8-bit floating point.
pub const WL_PRECISION_FP8: wl_precision = 5;
/// 8-bit integer.
pub const WL_PRECISION_INT8: wl_precision = 6;
/// 4-bit integer.
pub const WL_PRECISION_INT4: wl_precision = 7;
/// 4-bit floating point.
pub const WL_PRECISION_FP4: wl_precision = 8;

/// A hardware preset (a `WL_PRESET_*` value).
pub type wl_preset = u32;
/// The seed's worked example: H100, 132 SMs, 300 W idle.
pub const WL_PRESET_SEED_H100: wl_preset = 0;
/// H100 SXM5 80 GB with the measured idle of about 70 W.
pub const WL_PRESET_H100_SXM5: wl_preset = 1;
/// A100 SXM4 40 GB.
pub const WL_PRESET_A100_40GB: wl_preset = 2;
/// H200 SXM 141 GB.
pub const WL_PRESET_H200: wl_preset = 3;
/// B200.
pub const WL_PRESET_B200: wl_preset = 4;
/// Jetson AGX Orin, nvpmodel 15 W.
pub const WL_PRESET_AGX_ORIN_15W: wl_preset = 5;
/// Jetson AGX Orin, nvpmodel 30 W.
pub const WL_PRESET_AGX_ORIN_30W: wl_preset = 6;
/// Jetson AGX Orin, nvpmodel 50 W.
pub const WL_PRESET_AGX_ORIN_50W: wl_preset = 7;
/// Jetson AGX Orin, nvpmodel MAXN.
pub const WL_PRESET_AGX_ORIN_MAXN: wl_preset = 8;
/// Jetson Orin Nano 8 GB.
pub const WL_PRESET_ORIN_NANO: wl_preset = 9;

/// Everything a hardware model is built from (input and output struct,
/// versioned: see [`WL_HARDWARE_SPEC_SIZE_V1`]).
///
/// Set `struct_size = sizeof(wl_hardware_spec)`. Names are NUL-terminated
/// UTF-8 of at most [`WL_NAME_CAPACITY`] bytes inside their buffers. A
/// precision is supported when its bit (`1u << WL_PRECISION_*`) is set in
/// `supported_precisions`; its `energy_per_op_j` entry is ignored otherwise.
/// Booleans are `uint32_t`, 0 for false and anything else for true.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_hardware_spec {
    /// `sizeof(wl_hardware_spec)` as the caller knows it.
    pub struct_size: u32,
    /// `N`: compute units (SMs, TPCs, cores); at least 1.
    pub units: u32,
    /// Units powered on and off together; at least 1 and divides `units`.
    pub gating_domain: u32,
    /// Threads one unit holds (legacy utilisation estimate); at least 1.
    pub threads_per_unit: u32,
    /// Hardware name.
    pub name: [c_char; WL_NAME_BUFFER],
    /// Name of one unit ("SM", "TPC").
    pub unit_name: [c_char; WL_NAME_BUFFER],
    /// Bit set of supported precisions (`1u << WL_PRECISION_*`).
    pub supported_precisions: u32,
    /// Whether units can be power-gated.
    pub can_gate: u32,
    /// Static power of all units at the nominal point, W (finite, ≥ 0).
    pub idle_power_w: f64,
    /// Power no unit owns and gating cannot remove, W (finite, ≥ 0).
    pub uncore_power_w: f64,
    /// Dynamic power of all units running kernels without operation
    /// counts, at the nominal point, W (finite, ≥ 0; 0 charges them nothing).
    pub active_power_w: f64,
    /// Dynamic energy per operation per precision, J (finite, ≥ 0 where supported).
    pub energy_per_op_j: [f64; WL_PRECISIONS],
    /// Energy per byte moved, J (finite, ≥ 0).
    pub energy_per_byte_j: f64,
    /// Energy of one domain transition (down or up), J (finite, ≥ 0).
    pub transition_energy_j: f64,
    /// Time to wake a domain, s (finite, ≥ 0).
    pub wake_latency_s: f64,
    /// Nominal voltage, V (finite, > 0).
    pub nominal_voltage_v: f64,
    /// Nominal frequency, MHz (finite, > 0).
    pub nominal_frequency_mhz: f64,
    /// Current voltage, V (finite, > 0).
    pub voltage_v: f64,
    /// Current frequency, MHz (finite, > 0).
    pub frequency_mhz: f64,
    /// Share of idle power that is clock-tree switching, in [0, 1].
    pub clock_fraction: f64,
    /// Exponent of voltage in leakage (finite, > 0).
    pub leakage_exponent: f64,
}

/// A checked hardware model, held by value in caller memory.
///
/// Declare one (on the stack, in a struct, anywhere) and fill it with
/// [`wl_hardware_from_preset`] or [`wl_hardware_new`]. It owns nothing: copy
/// it with `memcpy` or assignment and drop it without a call. The tag says
/// whether it was filled by the library; the opaque words are private.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_hardware {
    /// Private: the type tag.
    pub tag: u64,
    /// Private: the model.
    pub opaque: [u64; WL_HARDWARE_WORDS],
}

// SAFETY: repr(C), struct_size first; numbers and char arrays only.
unsafe impl Versioned for wl_hardware_spec {
    const SIZE_V1: u32 = WL_HARDWARE_SPEC_SIZE_V1;
    fn defaults() -> Self {
        wl_hardware_spec {
            struct_size: 0,
            units: 0,
            gating_domain: 0,
            threads_per_unit: 0,
            name: [0; WL_NAME_BUFFER],
            unit_name: [0; WL_NAME_BUFFER],
            supported_precisions: 0,
            can_gate: 0,
            idle_power_w: 0.0,
            uncore_power_w: 0.0,
            active_power_w: 0.0,
            energy_per_op_j: [0.0; WL_PRECISIONS],
            energy_per_byte_j: 0.0,
            transition_energy_j: 0.0,
            wake_latency_s: 0.0,
            nominal_voltage_v: 0.0,
            nominal_frequency_mhz: 0.0,
            voltage_v: 0.0,
            frequency_mhz: 0.0,
            clock_fraction: 0.0,
            leakage_exponent: 0.0,
        }
    }
}

const _: () = assert!(size_of::<wl_hardware_spec>() == WL_HARDWARE_SPEC_SIZE_V1 as usize);

/// Reads the model out of a `wl_hardware`: the by-value counterpart of a
/// handle check.
///
/// # Safety
/// `hw` is NULL or points to a readable `wl_hardware`.
pub(crate) unsafe fn model<'a>(hw: *const wl_hardware) -> Result<&'a HardwareModel, wl_status> {
    let hw = crate::ptr::need(hw)?;
    // SAFETY: non-null and, by the caller's promise, a readable wl_hardware.
    let hw = unsafe { hw.as_ref() };
    if hw.tag != TAG_HARDWARE {
        return Err(WL_ERR_BAD_HANDLE);
    }
    // SAFETY: the tag says the library wrote a HardwareModel at `opaque`
    // (size and alignment checked at compile time above). HardwareModel
    // holds no pointers, so a bytewise copy made by C is still valid.
    Ok(unsafe { &*core::ptr::addr_of!(hw.opaque).cast::<HardwareModel>() })
}

/// `m` as a tagged `wl_hardware`.
fn store(m: HardwareModel) -> wl_hardware {
    let mut value = wl_hardware {
        tag: TAG_HARDWARE,
        opaque: [0; WL_HARDWARE_WORDS],
    };
    // SAFETY: `opaque` is large and aligned enough for a HardwareModel
    // (checked at compile time); it is a plain byte store, never dropped.
    unsafe {
        core::ptr::addr_of_mut!(value.opaque)
            .cast::<HardwareModel>()
            .write(m)
    };
    value
}

pub(crate) fn hardware_status(e: HardwareError) -> wl_status {
    match e {
        HardwareError::ZeroUnits
        | HardwareError::ZeroGatingDomain
        | HardwareError::DomainDoesNotDivideUnits { .. }
        | HardwareError::ZeroThreadsPerUnit
        | HardwareError::ClockFractionAboveOne
        | HardwareError::VfCurveNotIncreasing => WL_ERR_HARDWARE_INVALID,
        HardwareError::NotANumber(_) => float_status(FloatError::NotANumber),
        HardwareError::Infinite(_) => float_status(FloatError::Infinite),
        HardwareError::Negative(_) => float_status(FloatError::Negative),
        HardwareError::Zero(_) => WL_ERR_ZERO,
        HardwareError::TooManyUnits { .. } => WL_ERR_TOO_MANY_UNITS,
    }
}

pub(crate) fn precision(p: wl_precision) -> Result<Precision, wl_status> {
    Precision::ALL
        .get(p as usize)
        .copied()
        .ok_or(WL_ERR_OUT_OF_RANGE)
}

fn preset(id: wl_preset) -> Result<Preset, wl_status> {
    Preset::ALL
        .get(id as usize)
        .copied()
        .ok_or(WL_ERR_OUT_OF_RANGE)
}

fn name_of(buf: &[c_char]) -> Result<Name, wl_status> {
    let text = buf_str(buf, WL_NAME_CAPACITY)?;
    let mut n = Name::new();
    n.push_str(text).map_err(|_| WL_ERR_NAME_TOO_LONG)?;
    Ok(n)
}

fn spec_from_c(s: &wl_hardware_spec) -> Result<HardwareSpec, wl_status> {
    let mut table = PrecisionTable::EMPTY;
    for (p, e) in Precision::ALL.iter().zip(s.energy_per_op_j.iter()) {
        if s.supported_precisions & (1u32 << p.index()) != 0 {
            table = table.with(*p, *e);
        }
    }
    if s.supported_precisions >> WL_PRECISIONS != 0 {
        return Err(WL_ERR_OUT_OF_RANGE);
    }
    Ok(HardwareSpec {
        name: name_of(&s.name)?,
        unit_name: name_of(&s.unit_name)?,
        units: s.units,
        gating_domain: s.gating_domain,
        idle_power_w: s.idle_power_w,
        uncore_power_w: s.uncore_power_w,
        active_power_w: s.active_power_w,
        energy_per_op_j: table,
        energy_per_byte_j: s.energy_per_byte_j,
        // The C struct has no field for the roofline or the V–f curve yet:
        // without them a C model's latencies stretch wholly with the clock
        // when it is moved to another one, and the voltage is the one given.
        peak_ops_per_s: PeakRates::NONE,
        memory_bandwidth_bytes_per_s: 0.0,
        threads_per_unit: s.threads_per_unit,
        gating: Gating {
            can_gate: s.can_gate != 0,
            transition_energy_j: s.transition_energy_j,
            wake_latency_s: s.wake_latency_s,
        },
        dvfs: Dvfs {
            nominal_voltage_v: s.nominal_voltage_v,
            nominal_frequency_mhz: s.nominal_frequency_mhz,
            voltage_v: s.voltage_v,
            frequency_mhz: s.frequency_mhz,
            clock_fraction: s.clock_fraction,
            leakage_exponent: s.leakage_exponent,
            vf_curve: VfCurve::EMPTY,
            latency_frequency_mhz: None,
        },
    })
}

fn spec_to_c(m: &HardwareModel) -> Result<wl_hardware_spec, wl_status> {
    let s = m.spec();
    let mut out = wl_hardware_spec {
        struct_size: WL_HARDWARE_SPEC_SIZE_V1,
        units: s.units,
        gating_domain: s.gating_domain,
        threads_per_unit: s.threads_per_unit,
        name: [0; WL_NAME_BUFFER],
        unit_name: [0; WL_NAME_BUFFER],
        supported_precisions: 0,
        can_gate: u32::from(s.gating.can_gate),
        idle_power_w: s.idle_power_w,
        uncore_power_w: s.uncore_power_w,
        active_power_w: s.active_power_w,
        energy_per_op_j: [0.0; WL_PRECISIONS],
        energy_per_byte_j: s.energy_per_byte_j,
        transition_energy_j: s.gating.transition_energy_j,
        wake_latency_s: s.gating.wake_latency_s,
        nominal_voltage_v: s.dvfs.nominal_voltage_v,
        nominal_frequency_mhz: s.dvfs.nominal_frequency_mhz,
        voltage_v: s.dvfs.voltage_v,
        frequency_mhz: s.dvfs.frequency_mhz,
        clock_fraction: s.dvfs.clock_fraction,
        leakage_exponent: s.dvfs.leakage_exponent,
    };
    put_str(&mut out.name, s.name.as_str())?;
    put_str(&mut out.unit_name, s.unit_name.as_str())?;
    for (p, slot) in Precision::ALL.iter().zip(out.energy_per_op_j.iter_mut()) {
        if let Some(e) = s.energy_per_op_j.get(*p) {
            *slot = e;
            out.supported_precisions |= 1u32 << p.index();
        }
    }
    Ok(out)
}

/// Fills `out` with the preset called `name` (`"seed-h100"`, `"h100-sxm5"`,
/// `"a100-40gb"`, `"h200"`, `"b200"`, `"agx-orin-15w"`, `"agx-orin-30w"`,
/// `"agx-orin-50w"`, `"agx-orin-maxn"`, `"orin-nano"`).
///
/// Ownership: `name` is borrowed for the call; `out` is the caller's and is
/// written only on success.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_from_preset(
    name: *const c_char,
    out: *mut wl_hardware,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (name, out) = unsafe { (text(name)?, Out::new(out)?) };
        let p = Preset::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        out.write(store(p.model()))
    })
}

/// Fills `out` with the preset `id` (a `WL_PRESET_*` value).
///
/// # Errors
/// [`WL_ERR_OUT_OF_RANGE`] for an unknown id, [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_from_preset_id(
    id: wl_preset,
    out: *mut wl_hardware,
) -> wl_status {
    guard(|| {
        let p = preset(id)?;
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(store(p.model()))
    })
}

/// Checks `spec` and fills `out` with the model.
///
/// Ownership: `spec` is borrowed for the call; `out` is written only on
/// success.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`]; [`WL_ERR_STRUCT_SIZE`]; [`WL_ERR_NAME_TOO_LONG`]
/// or [`WL_ERR_BAD_UTF8`] for a name; [`WL_ERR_OUT_OF_RANGE`] for a bit above
/// `WL_PRECISIONS` in `supported_precisions`; then the first bad value in
/// field order: [`WL_ERR_HARDWARE_INVALID`] (zero units, domain or threads
/// per unit, a domain that does not divide the units, a clock fraction above
/// 1), [`WL_ERR_NOT_A_NUMBER`], [`WL_ERR_INFINITE`], [`WL_ERR_NEGATIVE`],
/// [`WL_ERR_ZERO`] (a voltage, frequency or leakage exponent of 0).
///
/// # Safety
/// `spec` is NULL or points to `spec->struct_size` readable bytes; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_new(
    spec: *const wl_hardware_spec,
    out: *mut wl_hardware,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (spec, out) = unsafe { (read_in(spec)?, Out::new(out)?) };
        let model = HardwareModel::new(spec_from_c(&spec)?).map_err(hardware_status)?;
        out.write(store(model))
    })
}

/// Copies the values a model was built from into `out`, to change some and
/// build again with [`wl_hardware_new`].
///
/// Set `out->struct_size` first: at most that many bytes are written, and
/// it is set to the size written.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (`hw` not filled by the
/// library), [`WL_ERR_STRUCT_SIZE`] (`out->struct_size` below
/// [`WL_HARDWARE_SPEC_SIZE_V1`]).
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or points to `out->struct_size`
/// writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_get_spec(
    hw: *const wl_hardware,
    out: *mut wl_hardware_spec,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (m, out) = unsafe { (model(hw)?, OutSized::new(out)?) };
        out.write(spec_to_c(m)?)
    })
}

/// The same hardware at another voltage (V) and frequency (MHz), in `out`.
///
/// Only the current operating point changes; the nominal point and the
/// characterised energies stay. `out` may be `hw` itself.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], and for `voltage_v` or
/// `frequency_mhz`: [`WL_ERR_NOT_A_NUMBER`], [`WL_ERR_INFINITE`],
/// [`WL_ERR_NEGATIVE`], [`WL_ERR_ZERO`].
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_with_operating_point(
    hw: *const wl_hardware,
    voltage_v: f64,
    frequency_mhz: f64,
    out: *mut wl_hardware,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let m = unsafe { model(hw)? };
        let moved = m
            .with_operating_point(voltage_v, frequency_mhz)
            .map_err(hardware_status)?;
        // SAFETY: this function's contract; `m` is not used after this, so
        // `out` may be `hw`.
        let out = unsafe { Out::new(out)? };
        out.write(store(moved))
    })
}

/// Number of compute units `N` of the model.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`].
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_units(hw: *const wl_hardware, out: *mut u32) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (m, out) = unsafe { (model(hw)?, Out::new(out)?) };
        out.write(m.units())
    })
}

/// Static power of all units at the model's operating point, in watts.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`].
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_static_power_w(
    hw: *const wl_hardware,
    out: *mut f64,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (m, out) = unsafe { (model(hw)?, Out::new(out)?) };
        out.write(m.static_power_w())
    })
}

/// Dynamic energy of one operation of `precision` at the operating point, J.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_OUT_OF_RANGE`]
/// (not a `WL_PRECISION_*`), [`WL_ERR_UNSUPPORTED_PRECISION`].
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_hardware_energy_per_op_j(
    hw: *const wl_hardware,
    precision_id: wl_precision,
    out: *mut f64,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let m = unsafe { model(hw)? };
        let e = m
            .energy_per_op_j(precision(precision_id)?)
            .ok_or(WL_ERR_UNSUPPORTED_PRECISION)?;
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(e)
    })
}

/// Number of presets ([`WL_PRESET_COUNT`]); ids run from 0 to count − 1.
#[unsafe(no_mangle)]
pub extern "C" fn wl_preset_count() -> u32 {
    WL_PRESET_COUNT
}

/// The preset's name as a static NUL-terminated string.
///
/// Ownership: the string is static; do not free it.
///
/// # Errors
/// [`WL_ERR_OUT_OF_RANGE`], [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_preset_name(id: wl_preset, out: *mut *const c_char) -> wl_status {
    guard(|| {
        let p = preset(id)?;
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        let name = PRESET_NAMES
            .get(p as usize)
            .copied()
            .ok_or(WL_ERR_OUT_OF_RANGE)?;
        out.write(name.as_ptr())
    })
}

/// The preset id for `name`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_preset_find(name: *const c_char, out: *mut wl_preset) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (name, out) = unsafe { (text(name)?, Out::new(out)?) };
        let p = Preset::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        out.write(p as u32)
    })
}

/// Copies the preset's source paragraph (where its numbers come from, what
/// is assumed) into `buf` with a NUL, and its length without the NUL into
/// `out_len`.
///
/// Pass `buf = NULL, capacity = 0` to learn the length only.
///
/// # Errors
/// [`WL_ERR_OUT_OF_RANGE`], [`WL_ERR_NULL_POINTER`] (`out_len`, or `buf`
/// with a capacity), [`WL_ERR_CAPACITY`] when `capacity` is less than the
/// length + 1 (nothing written).
///
/// # Safety
/// `buf` is NULL or has `capacity` writable bytes; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_preset_source(
    id: wl_preset,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> wl_status {
    guard(|| {
        let text = preset(id)?.source();
        // SAFETY: this function's contract.
        let (buf, out_len) = unsafe { (TextOut::new(buf, capacity)?, Out::new(out_len)?) };
        buf.write(text)?;
        out_len.write(text.len())
    })
}

/// A caller's text buffer, or the length query (`NULL`, capacity 0).
#[derive(Debug)]
pub(crate) struct TextOut<'a>(Option<crate::ptr::OutArray<'a, u8>>);

impl TextOut<'_> {
    /// Checks `buf`: NULL only with capacity 0 (the length query).
    ///
    /// # Safety
    /// `buf` is NULL or has `capacity` writable bytes.
    pub(crate) unsafe fn new(buf: *mut c_char, capacity: usize) -> Result<Self, wl_status> {
        if buf.is_null() && capacity == 0 {
            return Ok(TextOut(None));
        }
        // SAFETY: the caller's promise.
        unsafe { crate::ptr::OutArray::plain(buf.cast::<u8>(), capacity) }.map(|a| TextOut(Some(a)))
    }

    /// Copies `text` and a NUL, or nothing for the length query.
    ///
    /// # Errors
    /// [`WL_ERR_CAPACITY`] when they do not fit; nothing is written then.
    pub(crate) fn write(self, text: &str) -> Result<(), wl_status> {
        let Some(mut buf) = self.0 else {
            return Ok(());
        };
        buf.room_for(text.len() + 1)?;
        for (i, b) in text.bytes().chain([0]).enumerate() {
            buf.write(i, b)?;
        }
        Ok(())
    }
}

/// Preset names as C strings, in `Preset::ALL` order (a test compares them).
const PRESET_NAMES: [&core::ffi::CStr; WL_PRESET_COUNT as usize] = [
    c"seed-h100",
    c"h100-sxm5",
    c"a100-40gb",
    c"h200",
    c"b200",
    c"agx-orin-15w",
    c"agx-orin-30w",
    c"agx-orin-50w",
    c"agx-orin-maxn",
    c"orin-nano",
];

/// Precision names as C strings, in `Precision::ALL` order.
const PRECISION_NAMES: [&core::ffi::CStr; WL_PRECISIONS] = [
    c"fp64", c"fp32", c"tf32", c"fp16", c"bf16", c"fp8", c"int8", c"int4", c"fp4",
];

/// The lower-case name of a precision (`"fp16"`), static; NULL for a value
/// that is not a `WL_PRECISION_*`. Never fails otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn wl_precision_name(precision_id: wl_precision) -> *const c_char {
    PRECISION_NAMES
        .get(precision_id as usize)
        .map_or(core::ptr::null(), |s| s.as_ptr())
}

/// The precision called `name` (`"fp64"` … `"fp4"`).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_precision_from_name(
    name: *const c_char,
    out: *mut wl_precision,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (name, out) = unsafe { (text(name)?, Out::new(out)?) };
        let p = Precision::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        out.write(p as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_name_tables_match_the_core() {
        for p in Preset::ALL {
            assert_eq!(PRESET_NAMES[p as usize].to_str(), Ok(p.name()));
        }
        for p in Precision::ALL {
            assert_eq!(PRECISION_NAMES[p.index()].to_str(), Ok(p.name()));
        }
    }

    #[test]
    fn spec_round_trips_through_c() {
        for p in Preset::ALL {
            let m = p.model();
            let back = spec_to_c(&m)
                .and_then(|c| spec_from_c(&c))
                .map(HardwareModel::new);
            // The C struct has no field for the roofline or the V–f curve:
            // everything else comes back as it was.
            let mut spec = m.spec().clone();
            spec.peak_ops_per_s = PeakRates::NONE;
            spec.memory_bandwidth_bytes_per_s = 0.0;
            spec.dvfs.vf_curve = VfCurve::EMPTY;
            assert_eq!(back, Ok(HardwareModel::new(spec)), "{}", p.name());
        }
    }
}
