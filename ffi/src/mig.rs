//! MIG rules for C: profile names, the catalog, capabilities, the
//! `WL-MIG-*` warnings and `CUDA_VISIBLE_DEVICES` tokens.

use core::ffi::c_char;
use core::fmt::Write as _;
use core::mem::size_of;

use wattledger_core::mig::{
    self, Architecture, AttributeSign, CheckError, CheckOptions, DeviceToken, MigSupport, Profile,
    ResultRecord, Severity, ShareBasis, Warning, WarningDetail,
};

use crate::meter::{WL_PROFILE_BUFFER, WL_UUID_BUFFER};
use crate::ptr::{InArray, Out, OutArray, Versioned, opt_text, put_str, text};
use crate::status::*;
use crate::{float_status, guard};

/// Most results one [`wl_mig_check`] call takes (the check runs without a heap).
pub const WL_MIG_MAX_RESULTS: usize = 64;
/// Size of a rendered warning message buffer, NUL included.
pub const WL_MIG_MESSAGE_BUFFER: usize = 640;
/// Size of a catalog GPU name buffer, NUL included.
pub const WL_MIG_GPU_NAME_BUFFER: usize = 64;
/// `sizeof(wl_mig_result)` in ABI 1.0 (64-bit targets): the least `struct_size` accepted.
pub const WL_MIG_RESULT_SIZE_V1: u32 = 88;
/// `sizeof(wl_mig_warning)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_MIG_WARNING_SIZE_V1: u32 = 688;

/// NVML's architecture number for "unknown" (`NVML_DEVICE_ARCH_UNKNOWN`).
pub const WL_ARCHITECTURE_UNKNOWN: u32 = 0xffff_ffff;

const _: () = assert!(WL_ARCHITECTURE_UNKNOWN == Architecture::NVML_UNKNOWN);

/// Whether a GPU can run MIG (a `WL_MIG_*` support value).
pub type wl_mig_support = u32;
/// It can.
pub const WL_MIG_SUPPORTED: wl_mig_support = 0;
/// It cannot: a MIG result from it is a contradiction.
pub const WL_MIG_UNSUPPORTED: wl_mig_support = 1;
/// Not known to this library.
pub const WL_MIG_UNKNOWN: wl_mig_support = 2;

/// Whether and how [`wl_mig_check`] estimates instance shares (`WL-MIG-007`).
pub type wl_mig_shares = u32;
/// Never apportion energy (the default).
pub const WL_MIG_SHARES_NONE: wl_mig_shares = 0;
/// By the profile's compute slices over the GPU's.
pub const WL_MIG_SHARES_COMPUTE_SLICES: wl_mig_shares = 1;
/// By the caller's activity figures.
pub const WL_MIG_SHARES_ACTIVITY: wl_mig_shares = 2;

/// Kind of a `CUDA_VISIBLE_DEVICES` token (a `WL_TOKEN_*` value).
pub type wl_token_kind = u32;
/// A device index.
pub const WL_TOKEN_INDEX: wl_token_kind = 0;
/// `GPU-<uuid>`.
pub const WL_TOKEN_GPU: wl_token_kind = 1;
/// `MIG-<uuid>`.
pub const WL_TOKEN_MIG: wl_token_kind = 2;
/// `MIG-GPU-<uuid>/<gi>/<ci>`.
pub const WL_TOKEN_LEGACY_MIG: wl_token_kind = 3;

/// A parsed MIG profile name (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_mig_profile {
    /// Compute slices (`c` of `<c>c.`, else the GPU slices).
    pub compute_slices: u32,
    /// GPU slices (`g`).
    pub gpu_slices: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Whether the name has a `<c>c.` compute-instance part.
    pub is_compute_instance: u32,
    /// `'+'`, `'-'`, or 0 without attributes.
    pub attribute_sign: u32,
    /// Number of attributes.
    pub attribute_count: u32,
    /// The canonical spelling, NUL-terminated.
    pub canonical: [c_char; WL_PROFILE_BUFFER],
}

/// A MIG-capable GPU of the catalog (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_mig_gpu {
    /// Catalog name (`"A100-40GB"`), NUL-terminated.
    pub name: [c_char; WL_MIG_GPU_NAME_BUFFER],
    /// NVML architecture number.
    pub architecture: u32,
    /// Whether `pci_device_id` is known.
    pub has_pci_device_id: u32,
    /// 16-bit PCI device id.
    pub pci_device_id: u32,
    /// Compute slices of the whole GPU.
    pub compute_slices: u32,
    /// Memory slices of the whole GPU.
    pub memory_slices: u32,
    /// Number of profiles ([`wl_mig_gpu_profile`]).
    pub profile_count: u32,
    /// Whether MIG and the NVLink fabric work together on it.
    pub nvlink_fabric_with_mig: u32,
}

/// One GPU-instance profile of a catalog GPU (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_mig_profile_spec {
    /// Profile name as NVIDIA writes it, NUL-terminated.
    pub name: [c_char; WL_PROFILE_BUFFER],
    /// Compute slices.
    pub compute_slices: u32,
    /// Memory slices.
    pub memory_slices: u32,
    /// Memory, GB.
    pub memory_gb: u32,
    /// Most instances at once.
    pub max_instances: u32,
    /// Whether `sm_count` is known.
    pub has_sm_count: u32,
    /// SMs of one instance.
    pub sm_count: u32,
}

/// One measured result for [`wl_mig_check`] (input struct, versioned: see
/// [`WL_MIG_RESULT_SIZE_V1`]). Text pointers are borrowed for the call;
/// `parent_gpu_uuid` and `profile` may be NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_mig_result {
    /// `sizeof(wl_mig_result)`; every element of an array must carry the
    /// same value, which is also the array's stride.
    pub struct_size: u32,
    /// Whether the result ran on a MIG instance.
    pub is_mig: u32,
    /// NVML architecture number.
    pub architecture: u32,
    /// Whether `activity` is given.
    pub has_activity: u32,
    /// The caller's id for the result.
    pub id: *const c_char,
    /// UUID of the device measured.
    pub gpu_uuid: *const c_char,
    /// UUID of the physical parent GPU (MIG), or NULL.
    pub parent_gpu_uuid: *const c_char,
    /// MIG profile as reported, or NULL.
    pub profile: *const c_char,
    /// GPU model name as NVML reports it.
    pub gpu_model: *const c_char,
    /// Energy, J (finite, ≥ 0).
    pub energy_j: f64,
    /// Window start, s (finite).
    pub start_s: f64,
    /// Window end, s (finite, ≥ start).
    pub end_s: f64,
    /// Activity weight for activity shares (finite, ≥ 0).
    pub activity: f64,
}

/// One warning (output struct, versioned: set `struct_size` in the first
/// element of the array to `sizeof(wl_mig_warning)`; it is the stride).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_mig_warning {
    /// Set by the caller in the first element (the array's stride); the
    /// library writes no more per element and sets it to the bytes written.
    pub struct_size: u32,
    /// The code's number: `n` of `WL-MIG-00n`, never reused.
    pub code: u32,
    /// 0 info, 1 warning, 2 error.
    pub severity: u32,
    /// `WL-MIG-002`: the most results of one parent overlapping at once; else 0.
    pub overcount_factor: u32,
    /// `WL-MIG-007`: the estimated fraction of the parent's energy; else 0.
    pub fraction: f64,
    /// `WL-MIG-007`: the estimated share, J; else 0.
    pub share_j: f64,
    /// `"WL-MIG-00n"`, NUL-terminated.
    pub code_text: [c_char; 16],
    /// The rendered message (`WL-MIG-001 warning: …`), NUL-terminated.
    pub message: [c_char; WL_MIG_MESSAGE_BUFFER],
}

/// One classified `CUDA_VISIBLE_DEVICES` token (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_cuda_token {
    /// A `WL_TOKEN_*` value.
    pub kind: wl_token_kind,
    /// The index (`WL_TOKEN_INDEX`).
    pub index: u32,
    /// GPU-instance id (`WL_TOKEN_LEGACY_MIG`).
    pub gpu_instance: u32,
    /// Compute-instance id (`WL_TOKEN_LEGACY_MIG`).
    pub compute_instance: u32,
    /// Whether `uuid` is a whole UUID rather than a prefix.
    pub uuid_complete: u32,
    /// The UUID or prefix without `GPU-`/`MIG-` (empty for an index).
    pub uuid: [c_char; WL_UUID_BUFFER],
}

// SAFETY: repr(C), struct_size first; numbers and raw pointers only.
unsafe impl Versioned for wl_mig_result {
    const SIZE_V1: u32 = WL_MIG_RESULT_SIZE_V1;
    /// A whole-GPU result with no texts, no energy and no activity.
    fn defaults() -> Self {
        wl_mig_result {
            struct_size: WL_MIG_RESULT_SIZE_V1,
            is_mig: 0,
            architecture: 0,
            has_activity: 0,
            id: core::ptr::null(),
            gpu_uuid: core::ptr::null(),
            parent_gpu_uuid: core::ptr::null(),
            profile: core::ptr::null(),
            gpu_model: core::ptr::null(),
            energy_j: 0.0,
            start_s: 0.0,
            end_s: 0.0,
            activity: 0.0,
        }
    }
}

// SAFETY: repr(C), struct_size first; numbers and char arrays only.
unsafe impl Versioned for wl_mig_warning {
    const SIZE_V1: u32 = WL_MIG_WARNING_SIZE_V1;
    fn defaults() -> Self {
        wl_mig_warning {
            struct_size: WL_MIG_WARNING_SIZE_V1,
            code: 0,
            severity: 0,
            overcount_factor: 0,
            fraction: 0.0,
            share_j: 0.0,
            code_text: [0; 16],
            message: [0; WL_MIG_MESSAGE_BUFFER],
        }
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<wl_mig_result>() == WL_MIG_RESULT_SIZE_V1 as usize);
const _: () = assert!(size_of::<wl_mig_warning>() == WL_MIG_WARNING_SIZE_V1 as usize);

/// Writes formatted text into a fixed buffer, failing rather than cutting.
struct Fixed<'a> {
    buf: &'a mut [c_char],
    len: usize,
}

impl core::fmt::Write for Fixed<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Room must remain for the NUL.
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        if end >= self.buf.len() {
            return Err(core::fmt::Error);
        }
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        for (d, b) in dst.iter_mut().zip(s.bytes()) {
            *d = b as c_char;
        }
        self.len = end;
        Ok(())
    }
}

fn render(buf: &mut [c_char], args: core::fmt::Arguments<'_>) -> Result<(), wl_status> {
    buf.iter_mut().for_each(|c| *c = 0);
    let mut w = Fixed { buf, len: 0 };
    w.write_fmt(args).map_err(|_| WL_ERR_MESSAGE_TOO_LONG)
}

/// Parses a MIG profile name (`"1g.10gb"`, `"1c.3g.40gb"`, `"1g.24gb+me.all"`).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_MIG_PROFILE`]
/// (malformed), [`WL_ERR_NAME_TOO_LONG`] (canonical form over
/// `WL_PROFILE_CAPACITY` bytes).
///
/// # Safety
/// `text` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_profile_parse(
    text: *const c_char,
    out: *mut wl_mig_profile,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let text = unsafe { crate::ptr::text(text) }?;
        let p = Profile::parse(text).map_err(|_| WL_ERR_MIG_PROFILE)?;
        let mut o = wl_mig_profile {
            compute_slices: p.compute_slices(),
            gpu_slices: p.gpu_slices(),
            memory_gb: p.memory_gb(),
            is_compute_instance: u32::from(p.is_compute_instance()),
            attribute_sign: p.attribute_sign().map_or(0, |s| match s {
                AttributeSign::Include => u32::from(b'+'),
                AttributeSign::Exclude => u32::from(b'-'),
            }),
            attribute_count: p.attributes().len() as u32,
            canonical: [0; WL_PROFILE_BUFFER],
        };
        render(&mut o.canonical, format_args!("{p}")).map_err(|_| WL_ERR_NAME_TOO_LONG)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(o)
    })
}

/// Number of GPUs in the compiled-in MIG catalog. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_mig_gpu_count() -> usize {
    mig::catalog::gpus().len()
}

/// The catalog GPU at `index` (0 ≤ index < [`wl_mig_gpu_count`]).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_OUT_OF_RANGE`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_gpu_info(index: usize, out: *mut wl_mig_gpu) -> wl_status {
    guard(|| {
        let g = mig::catalog::gpus().get(index).ok_or(WL_ERR_OUT_OF_RANGE)?;
        let mut o = wl_mig_gpu {
            name: [0; WL_MIG_GPU_NAME_BUFFER],
            architecture: g.architecture().to_nvml(),
            has_pci_device_id: u32::from(g.pci_device_id().is_some()),
            pci_device_id: g.pci_device_id().map_or(0, u32::from),
            compute_slices: g.compute_slices(),
            memory_slices: g.memory_slices(),
            profile_count: g.profiles().len() as u32,
            nvlink_fabric_with_mig: u32::from(mig::mig_with_nvlink_fabric(g.architecture())),
        };
        put_str(&mut o.name, g.name())?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(o)
    })
}

fn gpu_index(g: &'static mig::GpuModel) -> Result<usize, wl_status> {
    mig::catalog::gpus()
        .iter()
        .position(|x| core::ptr::eq(x, g))
        .ok_or(WL_ERR_UNKNOWN_NAME)
}

/// Finds the catalog GPU for a name as NVML reports it
/// (`"NVIDIA A100-SXM4-40GB"`), writing its index.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `nvml_name` is NULL or NUL-terminated; `out_index` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_find_gpu(
    nvml_name: *const c_char,
    out_index: *mut usize,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let name = unsafe { text(nvml_name) }?;
        let g = mig::find_gpu(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out_index)? }.write(gpu_index(g)?)
    })
}

/// Finds the catalog GPU by PCI device id (`0x20B0`, or NVML's
/// `pciDeviceId` such as `0x20B010DE`), writing its index.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_UNKNOWN_NAME`] (no such GPU).
///
/// # Safety
/// `out_index` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_find_gpu_by_pci_device_id(
    id: u32,
    out_index: *mut usize,
) -> wl_status {
    guard(|| {
        let g = mig::find_gpu_by_pci_device_id(id).ok_or(WL_ERR_UNKNOWN_NAME)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out_index)? }.write(gpu_index(g)?)
    })
}

/// Profile `profile_index` of catalog GPU `gpu_index`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_OUT_OF_RANGE`] (either index).
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_gpu_profile(
    gpu_index: usize,
    profile_index: usize,
    out: *mut wl_mig_profile_spec,
) -> wl_status {
    guard(|| {
        let g = mig::catalog::gpus()
            .get(gpu_index)
            .ok_or(WL_ERR_OUT_OF_RANGE)?;
        let p = g.profiles().get(profile_index).ok_or(WL_ERR_OUT_OF_RANGE)?;
        let mut o = wl_mig_profile_spec {
            name: [0; WL_PROFILE_BUFFER],
            compute_slices: p.compute_slices(),
            memory_slices: p.memory_slices(),
            memory_gb: p.memory_gb(),
            max_instances: p.max_instances(),
            has_sm_count: u32::from(p.sm_count().is_some()),
            sm_count: p.sm_count().unwrap_or(0),
        };
        put_str(&mut o.name, p.name())?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(o)
    })
}

/// Whether a GPU of NVML architecture `architecture` named `gpu_model`
/// (as NVML reports it) can run MIG: a `WL_MIG_SUPPORTED/UNSUPPORTED/UNKNOWN`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`].
///
/// # Safety
/// `gpu_model` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_supports(
    architecture: u32,
    gpu_model: *const c_char,
    out: *mut wl_mig_support,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let model = unsafe { text(gpu_model) }?;
        let s = match mig::supports_mig(Architecture::from_nvml(architecture), model) {
            MigSupport::Supported => WL_MIG_SUPPORTED,
            MigSupport::Unsupported => WL_MIG_UNSUPPORTED,
            MigSupport::Unknown => WL_MIG_UNKNOWN,
        };
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(s)
    })
}

/// 1 when MIG and the NVLink fabric can be used together on NVML
/// architecture `architecture` (Hopper and later), else 0. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_mig_with_nvlink_fabric(architecture: u32) -> u32 {
    u32::from(mig::mig_with_nvlink_fabric(Architecture::from_nvml(
        architecture,
    )))
}

fn check_status(e: CheckError) -> wl_status {
    match e {
        CheckError::InvalidEnergy { error, .. }
        | CheckError::InvalidTime { error, .. }
        | CheckError::InvalidActivity { error, .. } => float_status(error),
        CheckError::EndBeforeStart { .. } => WL_ERR_END_BEFORE_START,
        CheckError::MissingActivity { .. } => WL_ERR_MISSING_ACTIVITY,
        // The scratch below is sized for WL_MIG_MAX_RESULTS results.
        CheckError::ScratchTooSmall { .. } => WL_ERR_TOO_MANY_RESULTS,
        // Neither happens here: warnings are counted before they are
        // written, and the sinks below refuse only a message too long.
        CheckError::CapacityExceeded { .. } => WL_ERR_CAPACITY,
        CheckError::SinkFull => WL_ERR_MESSAGE_TOO_LONG,
    }
}

fn warning(w: &Warning<'_>) -> Result<wl_mig_warning, wl_status> {
    let mut o = wl_mig_warning {
        code: u32::from(w.code().number()),
        severity: match w.severity() {
            Severity::Info => 0,
            Severity::Warning => 1,
            Severity::Error => 2,
        },
        ..wl_mig_warning::defaults()
    };
    match *w.detail() {
        WarningDetail::SharedParent {
            overcount_factor, ..
        } => o.overcount_factor = u32::try_from(overcount_factor).unwrap_or(u32::MAX),
        WarningDetail::EstimatedShare {
            fraction, share_j, ..
        } => {
            o.fraction = fraction;
            o.share_j = share_j;
        }
        _ => {}
    }
    put_str(&mut o.code_text, w.code().as_str())?;
    render(&mut o.message, format_args!("{w}"))?;
    Ok(o)
}

/// The results of a C array as the core's records (at most
/// [`WL_MIG_MAX_RESULTS`]).
///
/// # Safety
/// The array's elements have valid text pointers (NULL or NUL-terminated)
/// for `'a`.
unsafe fn records<'a>(
    results: InArray<'a, wl_mig_result>,
) -> Result<heapless::Vec<ResultRecord<'a>, WL_MIG_MAX_RESULTS>, wl_status> {
    if results.len() > WL_MIG_MAX_RESULTS {
        return Err(WL_ERR_TOO_MANY_RESULTS);
    }
    let mut out = heapless::Vec::new();
    for i in 0..results.len() {
        let Some(r) = results.get(i)? else { break };
        // SAFETY: text pointers are valid for 'a (the caller's promise).
        let (id, uuid, parent, profile, model) = unsafe {
            (
                text(r.id)?,
                text(r.gpu_uuid)?,
                opt_text(r.parent_gpu_uuid)?,
                opt_text(r.profile)?,
                text(r.gpu_model)?,
            )
        };
        let rec = ResultRecord {
            id,
            gpu_uuid: uuid,
            parent_gpu_uuid: parent,
            is_mig: r.is_mig != 0,
            profile,
            architecture: Architecture::from_nvml(r.architecture),
            gpu_model: model,
            energy_j: r.energy_j,
            start_s: r.start_s,
            end_s: r.end_s,
            activity: (r.has_activity != 0).then_some(r.activity),
        };
        out.push(rec).map_err(|_| WL_ERR_TOO_MANY_RESULTS)?;
    }
    Ok(out)
}

/// The rules engine's sorting room for [`WL_MIG_MAX_RESULTS`] results, on
/// the stack (no allocation: the library also builds without std).
struct Scratch([usize; mig::scratch_len(WL_MIG_MAX_RESULTS)]);

impl Scratch {
    const fn new() -> Self {
        Scratch([0; mig::scratch_len(WL_MIG_MAX_RESULTS)])
    }
}

fn options(shares: wl_mig_shares) -> Result<CheckOptions, wl_status> {
    Ok(CheckOptions {
        estimate_shares: match shares {
            WL_MIG_SHARES_NONE => None,
            WL_MIG_SHARES_COMPUTE_SLICES => Some(ShareBasis::ComputeSlices),
            WL_MIG_SHARES_ACTIVITY => Some(ShareBasis::Activity),
            _ => return Err(WL_ERR_OUT_OF_RANGE),
        },
    })
}

/// Writes the warnings of checked records to `out`, all or nothing;
/// `out` has been checked to hold them ([`mig::count_warnings`] first).
fn write_warnings(
    recs: &[ResultRecord<'_>],
    opts: &CheckOptions,
    out: &mut OutArray<'_, wl_mig_warning>,
) -> Result<(), wl_status> {
    // First pass: render every message, so that one too long fails the
    // call before anything is written.
    let mut refused = None;
    let mut scratch = Scratch::new();
    mig::for_each_warning(recs, opts, &mut scratch.0, |w| {
        warning(w).map(drop).map_err(|e| {
            refused = Some(e);
            wattledger_core::SinkFull
        })
    })
    .map_err(|e| refused.unwrap_or_else(|| check_status(e)))?;
    let mut i = 0usize;
    let mut scratch = Scratch::new();
    mig::for_each_warning(recs, opts, &mut scratch.0, |w| {
        let written = warning(w).and_then(|o| out.write_sized(i, o));
        i += 1;
        written.map_err(|e| {
            refused = Some(e);
            wattledger_core::SinkFull
        })
    })
    .map_err(|e| refused.unwrap_or_else(|| check_status(e)))?;
    Ok(())
}

/// Applies the MIG rules to `count` results and writes every warning to
/// `out` (at most `capacity`) and their number to `out_count`.
///
/// All or nothing: when the warnings do not fit, nothing is written and the
/// call fails with [`WL_ERR_CAPACITY`]; call [`wl_mig_count_warnings`] to
/// size the array. `shares` is a `WL_MIG_SHARES_*` value: energy is only
/// apportioned between instances when the caller asks.
///
/// # Errors
/// Inputs first: [`WL_ERR_NULL_POINTER`], [`WL_ERR_TOO_MANY_RESULTS`] (more
/// than [`WL_MIG_MAX_RESULTS`]), [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_OUT_OF_RANGE`] (`shares`); for a result's numbers [`WL_ERR_NOT_A_NUMBER`], [`WL_ERR_INFINITE`],
/// [`WL_ERR_NEGATIVE`], [`WL_ERR_END_BEFORE_START`];
/// [`WL_ERR_MISSING_ACTIVITY`]; then the
/// outputs: [`WL_ERR_NULL_POINTER`], [`WL_ERR_STRUCT_SIZE`]
/// (`out->struct_size`), [`WL_ERR_CAPACITY`] (`capacity` too small);
/// [`WL_ERR_MESSAGE_TOO_LONG`] (a message longer than its buffer).
///
/// # Safety
/// `results` is NULL (only with `count == 0`) or points to `count`
/// elements of stride `results->struct_size`, with NUL-terminated text;
/// `out` has `capacity` writable elements of stride `out->struct_size`
/// (may be NULL when 0); `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_check(
    results: *const wl_mig_result,
    count: usize,
    shares: wl_mig_shares,
    out: *mut wl_mig_warning,
    capacity: usize,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let recs = unsafe { records(InArray::new(results, count)?)? };
        // SAFETY: this function's contract.
        unsafe { check_into(&recs, shares, out, capacity, out_count) }
    })
}

/// Everything of [`wl_mig_check`] after the results became records: the
/// options, the rules (which check the numbers), the outputs, the writing.
/// [`crate::wl_monitor_mig_warnings`] ends here too, so C gets the same
/// warnings, in the same structs, from either call.
///
/// # Safety
/// As [`wl_mig_check`] for `out`, `capacity` and `out_count`.
pub(crate) unsafe fn check_into(
    recs: &[ResultRecord<'_>],
    shares: wl_mig_shares,
    out: *mut wl_mig_warning,
    capacity: usize,
    out_count: *mut usize,
) -> Result<(), wl_status> {
    let opts = options(shares)?;
    let needed = mig::count_warnings(recs, &opts, &mut Scratch::new().0).map_err(check_status)?;
    // SAFETY: the caller's promise.
    let (mut out, out_count) = unsafe { (OutArray::sized(out, capacity)?, Out::new(out_count)?) };
    out.room_for(needed)?;
    write_warnings(recs, &opts, &mut out)?;
    out_count.write(needed)
}

/// How many warnings [`wl_mig_check`] would write for these results.
///
/// # Errors
/// As [`wl_mig_check`], without those of the output array.
///
/// # Safety
/// As [`wl_mig_check`] for `results`; `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_mig_count_warnings(
    results: *const wl_mig_result,
    count: usize,
    shares: wl_mig_shares,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let recs = unsafe { records(InArray::new(results, count)?)? };
        let opts = options(shares)?;
        let n = mig::count_warnings(&recs, &opts, &mut Scratch::new().0).map_err(check_status)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out_count)? }.write(n)
    })
}

fn token(t: &DeviceToken<'_>) -> Result<wl_cuda_token, wl_status> {
    let mut o = wl_cuda_token {
        kind: WL_TOKEN_INDEX,
        index: 0,
        gpu_instance: 0,
        compute_instance: 0,
        uuid_complete: 0,
        uuid: [0; WL_UUID_BUFFER],
    };
    let uuid = match *t {
        DeviceToken::Index(i) => {
            o.index = i;
            None
        }
        DeviceToken::Gpu(u) => {
            o.kind = WL_TOKEN_GPU;
            Some(u)
        }
        DeviceToken::Mig(u) => {
            o.kind = WL_TOKEN_MIG;
            Some(u)
        }
        DeviceToken::LegacyMig {
            gpu,
            gpu_instance,
            compute_instance,
        } => {
            o.kind = WL_TOKEN_LEGACY_MIG;
            o.gpu_instance = gpu_instance;
            o.compute_instance = compute_instance;
            Some(gpu)
        }
    };
    if let Some(u) = uuid {
        o.uuid_complete = u32::from(u.is_complete());
        put_str(&mut o.uuid, u.as_str())?;
    }
    Ok(o)
}

/// Classifies one `CUDA_VISIBLE_DEVICES` token: an index, `GPU-<uuid>`,
/// `MIG-<uuid>` or the legacy `MIG-GPU-<uuid>/<gi>/<ci>`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_DEVICE_TOKEN`].
///
/// # Safety
/// `text` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_cuda_classify_token(
    text: *const c_char,
    out: *mut wl_cuda_token,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let text = unsafe { crate::ptr::text(text)? };
        let t = token(&mig::classify_token(text).map_err(|_| WL_ERR_DEVICE_TOKEN)?)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(t)
    })
}

/// Classifies a whole `CUDA_VISIBLE_DEVICES` value the way CUDA reads it:
/// the tokens up to the first invalid one. Writes them to `out`, their
/// number to `out_count`, and to `out_stopped` 1 when an invalid token hid
/// the rest (0 otherwise). An empty value has no token.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_CAPACITY`] (more
/// valid tokens than `capacity`; nothing written).
///
/// # Safety
/// `value` is NULL or NUL-terminated; `out` has `capacity` writable
/// elements (NULL when 0); `out_count` and `out_stopped` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_cuda_visible_devices(
    value: *const c_char,
    out: *mut wl_cuda_token,
    capacity: usize,
    out_count: *mut usize,
    out_stopped: *mut u32,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let value = unsafe { text(value)? };
        // SAFETY: this function's contract.
        let (mut out, out_count, out_stopped) = unsafe {
            (
                OutArray::plain(out, capacity)?,
                Out::new(out_count)?,
                Out::new(out_stopped)?,
            )
        };
        let tokens = || mig::visible_devices(value).map_while(Result::ok);
        let n = tokens().count();
        let stopped = mig::visible_devices(value).any(|t| t.is_err());
        out.room_for(n)?;
        // Convert all before writing any, so a failure writes nothing.
        for t in tokens() {
            token(&t)?;
        }
        for (i, t) in tokens().enumerate() {
            out.write(i, token(&t)?)?;
        }
        out_count.write(n)?;
        out_stopped.write(u32::from(stopped))
    })
}
