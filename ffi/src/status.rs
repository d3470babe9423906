//! Status codes, each declared once: its value here, its name the
//! constant's, its text ([`wl_status_str`]) the doc comment's. `build.rs`
//! reads this file to make the two lookup tables, and refuses a status
//! without a doc comment, a gap in the values or a wrong [`WL_STATUS_MAX`].
//!
//! Keep every declaration below in the form `/// text` lines followed by
//! `pub const NAME: wl_status = VALUE;`, and only add at the end.

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
/// A floating-point input is infinite.
pub const WL_ERR_INFINITE: wl_status = 3;
/// A quantity that must be zero or more is negative.
pub const WL_ERR_NEGATIVE: wl_status = 4;
/// A string is not valid UTF-8.
pub const WL_ERR_BAD_UTF8: wl_status = 5;
/// An output array or text buffer given by the caller is too small; nothing was written.
pub const WL_ERR_CAPACITY: wl_status = 6;
/// A struct_size is smaller than the first version of its struct, or an array's stride is not a multiple of its alignment.
pub const WL_ERR_STRUCT_SIZE: wl_status = 7;
/// The handle is not a live object of the expected type: freed, released, of another type, or never made.
pub const WL_ERR_BAD_HANDLE: wl_status = 8;
/// A free of an object in caller storage, or a release of a heap object.
pub const WL_ERR_WRONG_STORAGE: wl_status = 9;
/// The caller's storage is smaller than the object's size.
pub const WL_ERR_STORAGE_TOO_SMALL: wl_status = 10;
/// The caller's storage is not aligned to the object's alignment.
pub const WL_ERR_STORAGE_MISALIGNED: wl_status = 11;
/// The object is inside another call (a record callback called back into it).
pub const WL_ERR_BUSY: wl_status = 12;
/// Internal error: the library panicked; the object is as it was before the call.
pub const WL_ERR_PANIC: wl_status = 13;
/// An enumeration value (policy, precision, preset, shares) or an index is out of range.
pub const WL_ERR_OUT_OF_RANGE: wl_status = 14;
/// A name (preset, precision, policy, GPU) is not known.
pub const WL_ERR_UNKNOWN_NAME: wl_status = 15;
/// A text is longer than its capacity, or a fixed text buffer has no NUL.
pub const WL_ERR_NAME_TOO_LONG: wl_status = 16;
/// The hardware spec is inconsistent: zero units, domain or threads per unit, a domain that does not divide the units, or a clock fraction above 1.
pub const WL_ERR_HARDWARE_INVALID: wl_status = 17;
/// The hardware has more units than a composer can hold.
pub const WL_ERR_TOO_MANY_UNITS: wl_status = 18;
/// A gating policy other than off needs hardware that can gate.
pub const WL_ERR_GATING_UNSUPPORTED: wl_status = 19;
/// A subgraph is allocated zero units.
pub const WL_ERR_ZERO_ALLOCATION: wl_status = 20;
/// The hardware has no energy figure for the precision.
pub const WL_ERR_UNSUPPORTED_PRECISION: wl_status = 21;
/// A subgraph's stage is earlier than the open stage, or not later than a closed one.
pub const WL_ERR_STAGE_OUT_OF_ORDER: wl_status = 22;
/// The open stage already holds WL_STAGE_CAPACITY subgraphs.
pub const WL_ERR_STAGE_FULL: wl_status = 23;
/// A subgraph without allocation would share its stage with others.
pub const WL_ERR_LEGACY_SHARES_STAGE: wl_status = 24;
/// An energy or a duration is too large to represent.
pub const WL_ERR_OVERFLOW: wl_status = 25;
/// A sample is older than the previous one, or a kernel starts (or a timeline is advanced) before the latest start.
pub const WL_ERR_TIME_WENT_BACK: wl_status = 26;
/// A sample reports more gated units than the device has.
pub const WL_ERR_GATED_EXCEEDS_TOTAL: wl_status = 27;
/// A window of that name or number is already open.
pub const WL_ERR_WINDOW_ALREADY_OPEN: wl_status = 28;
/// No window of that name or number is open.
pub const WL_ERR_WINDOW_NOT_OPEN: wl_status = 29;
/// The meter already holds its capacity of open windows.
pub const WL_ERR_TOO_MANY_WINDOWS: wl_status = 30;
/// A MIG profile name is malformed.
pub const WL_ERR_MIG_PROFILE: wl_status = 31;
/// A CUDA_VISIBLE_DEVICES token is malformed.
pub const WL_ERR_DEVICE_TOKEN: wl_status = 32;
/// A MIG result or a kernel ends before it starts.
pub const WL_ERR_END_BEFORE_START: wl_status = 33;
/// Activity shares were asked for and a MIG result has no activity.
pub const WL_ERR_MISSING_ACTIVITY: wl_status = 34;
/// Reserved: a MIG warning listed more distinct profiles than it could hold
/// (0.1). Since 1.0 profile lists have no limit and this is never returned.
pub const WL_ERR_TOO_MANY_PROFILES: wl_status = 35;
/// The power source is not available (no NVML library, no driver).
pub const WL_ERR_UNAVAILABLE: wl_status = 36;
/// A file (a replay trace) could not be read or parsed.
pub const WL_ERR_IO: wl_status = 37;
/// This build of the library has no std, which the call needs.
pub const WL_ERR_NOT_SUPPORTED: wl_status = 38;
/// The power source reported an error, or the polling thread could not start.
pub const WL_ERR_SENSOR: wl_status = 39;
/// The power source has no device to measure.
pub const WL_ERR_NO_DEVICES: wl_status = 40;
/// A value that must be greater than zero (a voltage, a frequency, the leakage exponent) is zero.
pub const WL_ERR_ZERO: wl_status = 41;
/// An INA3221 reading's conversion-ready flag (CVRF) is clear: no new conversion since the last read.
pub const WL_ERR_NOT_READY: wl_status = 42;
/// An INA3221 voltage register holds no measurement: at the ADC's full scale, or a negative bus voltage.
pub const WL_ERR_REGISTER_RANGE: wl_status = 43;
/// An INA3221 voltage register has bits the chip never sets (usually an I2C read nobody answered).
pub const WL_ERR_BAD_REGISTER: wl_status = 44;
/// More input results than one call takes (WL_MIG_MAX_RESULTS).
pub const WL_ERR_TOO_MANY_RESULTS: wl_status = 45;
/// A rendered message is longer than its buffer (WL_MIG_MESSAGE_BUFFER).
pub const WL_ERR_MESSAGE_TOO_LONG: wl_status = 46;
/// The library already holds as many live objects as its handle table has room for.
pub const WL_ERR_TOO_MANY_OBJECTS: wl_status = 47;
/// No window of that name has ended on this monitor.
pub const WL_ERR_NO_SUCH_WINDOW: wl_status = 48;
/// A copy (memcpy, memset) carries FLOPs or compute units: copy engines compute nothing.
pub const WL_ERR_COPY_WITH_WORK: wl_status = 49;
/// More kernels would be in flight on a timeline than its capacity (WL_TIMELINE_CAPACITY).
pub const WL_ERR_TOO_MANY_IN_FLIGHT: wl_status = 50;
/// A timeline has more groups of recently freed gating domains to track than it holds (WL_TIMELINE_IDLE_GROUPS).
pub const WL_ERR_IDLE_GROUPS_FULL: wl_status = 51;
/// The timeline was finished; reset it to start another.
pub const WL_ERR_FINISHED: wl_status = 52;
/// Device limits have a zero SM count, warp size or allocation unit.
pub const WL_ERR_BAD_DEVICE_LIMITS: wl_status = 53;
/// A launch has a grid or block dimension of 0.
pub const WL_ERR_EMPTY_LAUNCH: wl_status = 54;
/// A launch has more threads per block than the device allows.
pub const WL_ERR_BLOCK_TOO_LARGE: wl_status = 55;
/// A launch uses more registers per thread or per block than the device allows.
pub const WL_ERR_TOO_MANY_REGISTERS: wl_status = 56;
/// A launch uses more shared memory per block than the device allows.
pub const WL_ERR_SHARED_MEMORY_TOO_LARGE: wl_status = 57;

/// The highest status value this version of the library returns.
pub const WL_STATUS_MAX: wl_status = 57;

include!(concat!(env!("OUT_DIR"), "/status_table.rs"));

/// A short English description of `status`, for logs.
///
/// Never fails: an unknown value gives `"unknown status"`. The string is
/// static: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn wl_status_str(status: wl_status) -> *const c_char {
    STATUSES
        .get(status as usize)
        .map_or(c"unknown status", |s| s.1)
        .as_ptr()
}

/// The constant's name of `status` (`"WL_ERR_NULL_POINTER"`), for logs and tests.
///
/// Never fails: an unknown value gives `"WL_UNKNOWN"`. The string is static.
#[unsafe(no_mangle)]
pub extern "C" fn wl_status_name(status: wl_status) -> *const c_char {
    STATUSES
        .get(status as usize)
        .map_or(c"WL_UNKNOWN", |s| s.0)
        .as_ptr()
}
