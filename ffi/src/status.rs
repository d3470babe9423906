//! Status codes.

use core::ffi::c_char;

/// The result of every fallible call: [`WL_OK`] or an error code.
///
/// Values are explicit and never reused: a code keeps its meaning in every
/// later version, and a retired code is never given to another error.
pub type wl_status = u32;
/// Success.
pub const WL_OK: wl_status = 0;
/// A required pointer argument is NULL.
pub const WL_ERR_NULL_POINTER: wl_status = 1;
/// A floating-point input is NaN.
pub const WL_ERR_NOT_A_NUMBER: wl_status = 2;
/// A floating-point input is +infinity or -infinity.
pub const WL_ERR_INFINITE: wl_status = 3;
/// A quantity that must be zero or more is negative.
pub const WL_ERR_NEGATIVE: wl_status = 4;
/// A string input is not valid UTF-8.
pub const WL_ERR_BAD_UTF8: wl_status = 5;
/// An output array or text buffer given by the caller is too small; nothing was written.
pub const WL_ERR_CAPACITY: wl_status = 6;
/// An input struct's `struct_size` is smaller than the first version of that struct.
pub const WL_ERR_STRUCT_SIZE: wl_status = 7;
/// The handle is not a live object of the expected type: freed, released, of another type, or never initialised.
pub const WL_ERR_BAD_HANDLE: wl_status = 8;
/// `*_free` on an object in caller storage, or `*_release` on a heap object.
pub const WL_ERR_WRONG_STORAGE: wl_status = 9;
/// Caller-provided storage is smaller than `*_size()`.
pub const WL_ERR_STORAGE_TOO_SMALL: wl_status = 10;
/// Caller-provided storage is not aligned to `*_align()`.
pub const WL_ERR_STORAGE_MISALIGNED: wl_status = 11;
/// The object is inside another call (a record callback called back into it).
pub const WL_ERR_BUSY: wl_status = 12;
/// An internal error (a bug): the library panicked; the object may be left as it was before the call.
pub const WL_ERR_PANIC: wl_status = 13;
/// An enumeration value (policy, precision, preset, state) or an index is out of range.
pub const WL_ERR_OUT_OF_RANGE: wl_status = 14;
/// A name (preset, precision, policy, GPU) is not known.
pub const WL_ERR_UNKNOWN_NAME: wl_status = 15;
/// A text input is longer than its capacity, or a fixed text buffer has no NUL.
pub const WL_ERR_NAME_TOO_LONG: wl_status = 16;
/// A hardware spec is inconsistent: zero units, gating domain or threads per unit, a domain that does not divide the units, or a clock fraction above 1.
pub const WL_ERR_HARDWARE_INVALID: wl_status = 17;
/// The hardware has more units than the composer can hold.
pub const WL_ERR_TOO_MANY_UNITS: wl_status = 18;
/// A gating policy other than off on hardware that cannot gate.
pub const WL_ERR_GATING_UNSUPPORTED: wl_status = 19;
/// A subgraph has `units_allocated` set to 0.
pub const WL_ERR_ZERO_ALLOCATION: wl_status = 20;
/// The hardware model has no energy figure for the precision.
pub const WL_ERR_UNSUPPORTED_PRECISION: wl_status = 21;
/// A subgraph's stage is earlier than the open stage, or not later than a closed one.
pub const WL_ERR_STAGE_OUT_OF_ORDER: wl_status = 22;
/// The open stage already holds `WL_STAGE_CAPACITY` subgraphs.
pub const WL_ERR_STAGE_FULL: wl_status = 23;
/// A subgraph without allocation would share its stage with others.
pub const WL_ERR_LEGACY_SHARES_STAGE: wl_status = 24;
/// An energy or a duration came out infinite.
pub const WL_ERR_OVERFLOW: wl_status = 25;
/// A sample's timestamp is earlier than the previous sample's.
pub const WL_ERR_TIME_WENT_BACK: wl_status = 26;
/// A sample reports more gated units than the configured total.
pub const WL_ERR_GATED_EXCEEDS_TOTAL: wl_status = 27;
/// A window of that name or number is already open.
pub const WL_ERR_WINDOW_ALREADY_OPEN: wl_status = 28;
/// No window of that name or number is open.
pub const WL_ERR_WINDOW_NOT_OPEN: wl_status = 29;
/// The meter already holds its capacity of open windows.
pub const WL_ERR_TOO_MANY_WINDOWS: wl_status = 30;
/// A MIG profile name is malformed.
pub const WL_ERR_MIG_PROFILE: wl_status = 31;
/// A `CUDA_VISIBLE_DEVICES` token is malformed.
pub const WL_ERR_DEVICE_TOKEN: wl_status = 32;
/// A MIG result's end is before its start.
pub const WL_ERR_END_BEFORE_START: wl_status = 33;
/// Activity-based shares were asked for and a MIG result has no activity.
pub const WL_ERR_MISSING_ACTIVITY: wl_status = 34;
/// A MIG warning would list more distinct profiles than it can hold.
pub const WL_ERR_TOO_MANY_PROFILES: wl_status = 35;
/// The power source is not available (no NVML library, no driver, no GPU); see the message of the log.
pub const WL_ERR_UNAVAILABLE: wl_status = 36;
/// A file (a replay trace) could not be read or parsed.
pub const WL_ERR_IO: wl_status = 37;
/// The library was built without `std` and the call needs it.
pub const WL_ERR_NOT_SUPPORTED: wl_status = 38;
/// The power source reported an error, or the polling thread could not start.
pub const WL_ERR_SENSOR: wl_status = 39;
/// The power source has no device to measure.
pub const WL_ERR_NO_DEVICES: wl_status = 40;
/// A value that must be greater than zero (a voltage, a frequency, the leakage exponent) is zero.
pub const WL_ERR_ZERO: wl_status = 41;
/// An INA3221 reading's conversion-ready flag (CVRF, bit 0 of the mask/enable register) is clear: no new conversion since the last read.
pub const WL_ERR_NOT_READY: wl_status = 42;
/// An INA3221 voltage register holds no measurement: at the ADC's full scale, or a negative bus voltage.
pub const WL_ERR_REGISTER_RANGE: wl_status = 43;
/// An INA3221 voltage register has bits 2-0 set, which the chip never does (usually an I2C read nobody answered).
pub const WL_ERR_BAD_REGISTER: wl_status = 44;

/// The highest status value this version of the library returns.
pub const WL_STATUS_MAX: wl_status = 44;

/// A short English description of `status`, for logs.
///
/// Never fails: an unknown value gives `"unknown status"`. The string is
/// static: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn wl_status_str(status: wl_status) -> *const c_char {
    let s: &'static core::ffi::CStr = match status {
        WL_OK => c"success",
        WL_ERR_NULL_POINTER => c"a required pointer argument is NULL",
        WL_ERR_NOT_A_NUMBER => c"a number is NaN",
        WL_ERR_INFINITE => c"a number is infinite",
        WL_ERR_NEGATIVE => c"a quantity is negative",
        WL_ERR_BAD_UTF8 => c"a string is not valid UTF-8",
        WL_ERR_CAPACITY => c"the output buffer is too small",
        WL_ERR_STRUCT_SIZE => c"struct_size is smaller than the first version of the struct",
        WL_ERR_BAD_HANDLE => c"the handle is not a live object of this type",
        WL_ERR_WRONG_STORAGE => c"free of caller storage, or release of a heap object",
        WL_ERR_STORAGE_TOO_SMALL => c"the caller-provided storage is too small",
        WL_ERR_STORAGE_MISALIGNED => c"the caller-provided storage is misaligned",
        WL_ERR_BUSY => c"the object is in use by a call that has not returned",
        WL_ERR_PANIC => c"internal error: the library panicked",
        WL_ERR_OUT_OF_RANGE => c"an enumeration value or index is out of range",
        WL_ERR_UNKNOWN_NAME => c"no such name",
        WL_ERR_NAME_TOO_LONG => c"a text is longer than its capacity",
        WL_ERR_HARDWARE_INVALID => c"the hardware spec is inconsistent",
        WL_ERR_TOO_MANY_UNITS => c"more units than the composer can hold",
        WL_ERR_GATING_UNSUPPORTED => c"the gating policy needs hardware that can gate",
        WL_ERR_ZERO_ALLOCATION => c"a subgraph is allocated zero units",
        WL_ERR_UNSUPPORTED_PRECISION => c"the hardware has no energy figure for this precision",
        WL_ERR_STAGE_OUT_OF_ORDER => c"stages must not go backwards",
        WL_ERR_STAGE_FULL => c"the stage holds the most concurrent subgraphs it can",
        WL_ERR_LEGACY_SHARES_STAGE => c"a subgraph without allocation would share its stage",
        WL_ERR_OVERFLOW => c"an energy or time is too large to represent",
        WL_ERR_TIME_WENT_BACK => c"a sample is older than the previous one",
        WL_ERR_GATED_EXCEEDS_TOTAL => c"more units gated than the device has",
        WL_ERR_WINDOW_ALREADY_OPEN => c"the window is already open",
        WL_ERR_WINDOW_NOT_OPEN => c"the window is not open",
        WL_ERR_TOO_MANY_WINDOWS => c"too many windows are open",
        WL_ERR_MIG_PROFILE => c"the MIG profile name is malformed",
        WL_ERR_DEVICE_TOKEN => c"the CUDA_VISIBLE_DEVICES token is malformed",
        WL_ERR_END_BEFORE_START => c"a result ends before it starts",
        WL_ERR_MISSING_ACTIVITY => c"an activity share needs every MIG result's activity",
        WL_ERR_TOO_MANY_PROFILES => c"a warning would list too many profiles",
        WL_ERR_UNAVAILABLE => c"the power source is not available",
        WL_ERR_IO => c"a file could not be read",
        WL_ERR_NOT_SUPPORTED => c"this build of the library has no std support for the call",
        WL_ERR_SENSOR => c"the power source reported an error",
        WL_ERR_NO_DEVICES => c"the power source has no device",
        WL_ERR_ZERO => c"a value that must be greater than zero is zero",
        WL_ERR_NOT_READY => c"the INA3221 has no new conversion (CVRF clear)",
        WL_ERR_REGISTER_RANGE => {
            c"an INA3221 register is at full scale or reads a negative bus voltage"
        }
        WL_ERR_BAD_REGISTER => c"an INA3221 register has bits the chip never sets (a bus fault?)",
        _ => c"unknown status",
    };
    s.as_ptr()
}

/// The constant's name of `status` (`"WL_ERR_NULL_POINTER"`), for logs and tests.
///
/// Never fails: an unknown value gives `"WL_UNKNOWN"`. The string is static.
#[unsafe(no_mangle)]
pub extern "C" fn wl_status_name(status: wl_status) -> *const c_char {
    let s: &'static core::ffi::CStr = match status {
        WL_OK => c"WL_OK",
        WL_ERR_NULL_POINTER => c"WL_ERR_NULL_POINTER",
        WL_ERR_NOT_A_NUMBER => c"WL_ERR_NOT_A_NUMBER",
        WL_ERR_INFINITE => c"WL_ERR_INFINITE",
        WL_ERR_NEGATIVE => c"WL_ERR_NEGATIVE",
        WL_ERR_BAD_UTF8 => c"WL_ERR_BAD_UTF8",
        WL_ERR_CAPACITY => c"WL_ERR_CAPACITY",
        WL_ERR_STRUCT_SIZE => c"WL_ERR_STRUCT_SIZE",
        WL_ERR_BAD_HANDLE => c"WL_ERR_BAD_HANDLE",
        WL_ERR_WRONG_STORAGE => c"WL_ERR_WRONG_STORAGE",
        WL_ERR_STORAGE_TOO_SMALL => c"WL_ERR_STORAGE_TOO_SMALL",
        WL_ERR_STORAGE_MISALIGNED => c"WL_ERR_STORAGE_MISALIGNED",
        WL_ERR_BUSY => c"WL_ERR_BUSY",
        WL_ERR_PANIC => c"WL_ERR_PANIC",
        WL_ERR_OUT_OF_RANGE => c"WL_ERR_OUT_OF_RANGE",
        WL_ERR_UNKNOWN_NAME => c"WL_ERR_UNKNOWN_NAME",
        WL_ERR_NAME_TOO_LONG => c"WL_ERR_NAME_TOO_LONG",
        WL_ERR_HARDWARE_INVALID => c"WL_ERR_HARDWARE_INVALID",
        WL_ERR_TOO_MANY_UNITS => c"WL_ERR_TOO_MANY_UNITS",
        WL_ERR_GATING_UNSUPPORTED => c"WL_ERR_GATING_UNSUPPORTED",
        WL_ERR_ZERO_ALLOCATION => c"WL_ERR_ZERO_ALLOCATION",
        WL_ERR_UNSUPPORTED_PRECISION => c"WL_ERR_UNSUPPORTED_PRECISION",
        WL_ERR_STAGE_OUT_OF_ORDER => c"WL_ERR_STAGE_OUT_OF_ORDER",
        WL_ERR_STAGE_FULL => c"WL_ERR_STAGE_FULL",
        WL_ERR_LEGACY_SHARES_STAGE => c"WL_ERR_LEGACY_SHARES_STAGE",
        WL_ERR_OVERFLOW => c"WL_ERR_OVERFLOW",
        WL_ERR_TIME_WENT_BACK => c"WL_ERR_TIME_WENT_BACK",
        WL_ERR_GATED_EXCEEDS_TOTAL => c"WL_ERR_GATED_EXCEEDS_TOTAL",
        WL_ERR_WINDOW_ALREADY_OPEN => c"WL_ERR_WINDOW_ALREADY_OPEN",
        WL_ERR_WINDOW_NOT_OPEN => c"WL_ERR_WINDOW_NOT_OPEN",
        WL_ERR_TOO_MANY_WINDOWS => c"WL_ERR_TOO_MANY_WINDOWS",
        WL_ERR_MIG_PROFILE => c"WL_ERR_MIG_PROFILE",
        WL_ERR_DEVICE_TOKEN => c"WL_ERR_DEVICE_TOKEN",
        WL_ERR_END_BEFORE_START => c"WL_ERR_END_BEFORE_START",
        WL_ERR_MISSING_ACTIVITY => c"WL_ERR_MISSING_ACTIVITY",
        WL_ERR_TOO_MANY_PROFILES => c"WL_ERR_TOO_MANY_PROFILES",
        WL_ERR_UNAVAILABLE => c"WL_ERR_UNAVAILABLE",
        WL_ERR_IO => c"WL_ERR_IO",
        WL_ERR_NOT_SUPPORTED => c"WL_ERR_NOT_SUPPORTED",
        WL_ERR_SENSOR => c"WL_ERR_SENSOR",
        WL_ERR_NO_DEVICES => c"WL_ERR_NO_DEVICES",
        WL_ERR_ZERO => c"WL_ERR_ZERO",
        WL_ERR_NOT_READY => c"WL_ERR_NOT_READY",
        WL_ERR_REGISTER_RANGE => c"WL_ERR_REGISTER_RANGE",
        WL_ERR_BAD_REGISTER => c"WL_ERR_BAD_REGISTER",
        _ => c"WL_UNKNOWN",
    };
    s.as_ptr()
}
