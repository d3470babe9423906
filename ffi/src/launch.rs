//! The launch mapper (ABI 1.1): from a kernel's launch configuration to the
//! units it occupies, for callers that know grids and blocks (a CUPTI kernel
//! record) rather than SMs. The result's `units_allocated` is what a
//! [`wl_kernel`](crate::wl_kernel) carries into a timeline.

use core::ffi::c_char;
use core::mem::size_of;

use wattledger_core::devices::{Device, DeviceLimits};
use wattledger_core::launch::{Dim3, Launch, LaunchError, Limiter, Occupancy, occupancy};

use crate::guard;
use crate::ptr::{Out, OutSized, Versioned, read_in, text};
use crate::status::*;

/// `sizeof(wl_device_limits)` in ABI 1.1, where it appeared: the least `struct_size` accepted.
pub const WL_DEVICE_LIMITS_SIZE_V1: u32 = 72;
/// `sizeof(wl_launch)` in ABI 1.1, where it appeared: the least `struct_size` accepted.
pub const WL_LAUNCH_SIZE_V1: u32 = 40;
/// `sizeof(wl_occupancy)` in ABI 1.1, where it appeared: the least `struct_size` accepted.
pub const WL_OCCUPANCY_SIZE_V1: u32 = 72;

/// A GPU of the catalog whose per-SM limits the library knows (a `WL_DEVICE_*` value).
pub type wl_device = u32;
/// Tesla V100 (compute capability 7.0, 80 SMs).
pub const WL_DEVICE_V100: wl_device = 0;
/// A100 (8.0, 108 SMs).
pub const WL_DEVICE_A100: wl_device = 1;
/// H100 SXM5 (9.0, 132 SMs).
pub const WL_DEVICE_H100: wl_device = 2;
/// H100 PCIe (9.0, 114 SMs).
pub const WL_DEVICE_H100_PCIE: wl_device = 3;
/// H200 (9.0, 132 SMs).
pub const WL_DEVICE_H200: wl_device = 4;
/// B200 (10.0, 148 SMs).
pub const WL_DEVICE_B200: wl_device = 5;
/// Jetson AGX Orin 64 GB (8.7, 16 SMs).
pub const WL_DEVICE_AGX_ORIN: wl_device = 6;
/// Number of `WL_DEVICE_*` values.
pub const WL_DEVICE_COUNT: u32 = 7;

// The ids are the positions in the core's catalog order.
const _: () = {
    let [v100, a100, h100, h100_pcie, h200, b200, orin] = Device::ALL;
    assert!(matches!(v100, Device::V100) && WL_DEVICE_V100 == 0);
    assert!(matches!(a100, Device::A100) && WL_DEVICE_A100 == 1);
    assert!(matches!(h100, Device::H100) && WL_DEVICE_H100 == 2);
    assert!(matches!(h100_pcie, Device::H100Pcie) && WL_DEVICE_H100_PCIE == 3);
    assert!(matches!(h200, Device::H200) && WL_DEVICE_H200 == 4);
    assert!(matches!(b200, Device::B200) && WL_DEVICE_B200 == 5);
    assert!(matches!(orin, Device::AgxOrin) && WL_DEVICE_AGX_ORIN == 6);
    assert!(WL_DEVICE_COUNT as usize == Device::ALL.len());
};

/// What bounds the resident blocks per SM (a `WL_LIMITER_*` value).
pub type wl_limiter = u32;
/// Threads (warps) per SM.
pub const WL_LIMITER_WARPS: wl_limiter = 0;
/// Blocks per SM.
pub const WL_LIMITER_BLOCKS: wl_limiter = 1;
/// The register file.
pub const WL_LIMITER_REGISTERS: wl_limiter = 2;
/// Shared memory.
pub const WL_LIMITER_SHARED_MEMORY: wl_limiter = 3;

/// What one SM of a device can hold, and how it is allocated: an input of
/// [`wl_launch_map`] (versioned: see [`WL_DEVICE_LIMITS_SIZE_V1`]) and the
/// output of [`wl_device_limits_get`] (set `struct_size` before the call).
///
/// A CUDA program can fill it from `cudaGetDeviceProperties`
/// (`multiProcessorCount`, `regsPerMultiprocessor`, …); the allocation
/// granularities are not in `cudaDeviceProp` and are best taken from
/// [`wl_device_limits_get`] of the same architecture.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct wl_device_limits {
    /// `sizeof(wl_device_limits)` as the caller knows it.
    pub struct_size: u32,
    /// Compute capability, major.
    pub compute_major: u32,
    /// Compute capability, minor.
    pub compute_minor: u32,
    /// `N`: streaming multiprocessors.
    pub sms: u32,
    /// Threads in a warp.
    pub warp_size: u32,
    /// Most threads one block may have.
    pub max_threads_per_block: u32,
    /// Most resident threads per SM.
    pub max_threads_per_sm: u32,
    /// Most resident warps per SM.
    pub max_warps_per_sm: u32,
    /// Most resident blocks per SM.
    pub max_blocks_per_sm: u32,
    /// 32-bit registers per SM.
    pub registers_per_sm: u32,
    /// Most registers one block may use.
    pub registers_per_block: u32,
    /// Most registers one thread may use.
    pub max_registers_per_thread: u32,
    /// Registers are given to a warp in multiples of this.
    pub register_allocation_unit: u32,
    /// SM sub-partitions, each holding an equal share of the register file.
    pub register_sub_partitions: u32,
    /// Shared memory per SM at the largest carve-out, in bytes.
    pub shared_memory_per_sm: u32,
    /// Most shared memory one block may use (with the opt-in), in bytes.
    pub shared_memory_per_block: u32,
    /// Shared memory is given to a block in multiples of this, in bytes.
    pub shared_memory_allocation_unit: u32,
    /// Shared memory the system reserves for each resident block, in bytes.
    pub reserved_shared_memory_per_block: u32,
}

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_device_limits {
    const SIZE_V1: u32 = WL_DEVICE_LIMITS_SIZE_V1;
    fn defaults() -> Self {
        wl_device_limits::default()
    }
}

const _: () = assert!(size_of::<wl_device_limits>() == WL_DEVICE_LIMITS_SIZE_V1 as usize);

/// How a kernel was launched: an input struct (versioned: see
/// [`WL_LAUNCH_SIZE_V1`]), the fields of a CUPTI kernel record.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct wl_launch {
    /// `sizeof(wl_launch)` as the caller knows it.
    pub struct_size: u32,
    /// Grid x, in blocks.
    pub grid_x: u32,
    /// Grid y, in blocks.
    pub grid_y: u32,
    /// Grid z, in blocks.
    pub grid_z: u32,
    /// Block x, in threads.
    pub block_x: u32,
    /// Block y, in threads.
    pub block_y: u32,
    /// Block z, in threads.
    pub block_z: u32,
    /// Registers per thread.
    pub registers_per_thread: u32,
    /// Static shared memory per block, in bytes.
    pub static_shared_bytes: u32,
    /// Dynamic shared memory per block, in bytes.
    pub dynamic_shared_bytes: u32,
}

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_launch {
    const SIZE_V1: u32 = WL_LAUNCH_SIZE_V1;
    fn defaults() -> Self {
        wl_launch::default()
    }
}

const _: () = assert!(size_of::<wl_launch>() == WL_LAUNCH_SIZE_V1 as usize);

/// The occupancy of one launch (output struct, versioned: set
/// `struct_size` to `sizeof(wl_occupancy)` before the call).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct wl_occupancy {
    /// Set by the caller to `sizeof(wl_occupancy)`; the library writes no
    /// more and sets it to the bytes written.
    pub struct_size: u32,
    /// Threads per block.
    pub threads_per_block: u32,
    /// Warps per block.
    pub warps_per_block: u32,
    /// Blocks one SM holds at once (the theoretical residency).
    pub resident_blocks_per_sm: u32,
    /// What bounds `resident_blocks_per_sm` (a `WL_LIMITER_*`).
    pub limiter: wl_limiter,
    /// `min(N, blocks)`: the SMs the kernel occupies, for `wl_kernel.units`.
    pub units_allocated: u32,
    /// SMs busy in the last wave.
    pub tail_units: u32,
    /// Reserved; written as 0.
    pub reserved: u32,
    /// Blocks in the grid.
    pub blocks: u64,
    /// `ceil(blocks / (N · resident))`.
    pub waves: u64,
    /// `resident · warps_per_block / max_warps_per_sm`, in `[0, 1]`.
    pub theoretical_occupancy: f64,
    /// `blocks / N`.
    pub blocks_per_sm: f64,
    /// `min(blocks / N, resident) · threads_per_block / max_threads_per_sm`.
    pub estimated_occupancy: f64,
}

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_occupancy {
    const SIZE_V1: u32 = WL_OCCUPANCY_SIZE_V1;
    fn defaults() -> Self {
        wl_occupancy::default()
    }
}

const _: () = assert!(size_of::<wl_occupancy>() == WL_OCCUPANCY_SIZE_V1 as usize);

fn device(id: wl_device) -> Result<Device, wl_status> {
    Device::ALL
        .get(id as usize)
        .copied()
        .ok_or(WL_ERR_OUT_OF_RANGE)
}

fn limits_to_c(l: &DeviceLimits) -> wl_device_limits {
    wl_device_limits {
        struct_size: WL_DEVICE_LIMITS_SIZE_V1,
        compute_major: l.compute_major,
        compute_minor: l.compute_minor,
        sms: l.sms,
        warp_size: l.warp_size,
        max_threads_per_block: l.max_threads_per_block,
        max_threads_per_sm: l.max_threads_per_sm,
        max_warps_per_sm: l.max_warps_per_sm,
        max_blocks_per_sm: l.max_blocks_per_sm,
        registers_per_sm: l.registers_per_sm,
        registers_per_block: l.registers_per_block,
        max_registers_per_thread: l.max_registers_per_thread,
        register_allocation_unit: l.register_allocation_unit,
        register_sub_partitions: l.register_sub_partitions,
        shared_memory_per_sm: l.shared_memory_per_sm,
        shared_memory_per_block: l.shared_memory_per_block,
        shared_memory_allocation_unit: l.shared_memory_allocation_unit,
        reserved_shared_memory_per_block: l.reserved_shared_memory_per_block,
    }
}

fn limits_from_c(l: &wl_device_limits) -> DeviceLimits {
    DeviceLimits {
        compute_major: l.compute_major,
        compute_minor: l.compute_minor,
        sms: l.sms,
        warp_size: l.warp_size,
        max_threads_per_block: l.max_threads_per_block,
        max_threads_per_sm: l.max_threads_per_sm,
        max_warps_per_sm: l.max_warps_per_sm,
        max_blocks_per_sm: l.max_blocks_per_sm,
        registers_per_sm: l.registers_per_sm,
        registers_per_block: l.registers_per_block,
        max_registers_per_thread: l.max_registers_per_thread,
        register_allocation_unit: l.register_allocation_unit,
        register_sub_partitions: l.register_sub_partitions,
        shared_memory_per_sm: l.shared_memory_per_sm,
        shared_memory_per_block: l.shared_memory_per_block,
        shared_memory_allocation_unit: l.shared_memory_allocation_unit,
        reserved_shared_memory_per_block: l.reserved_shared_memory_per_block,
    }
}

fn launch_from_c(l: &wl_launch) -> Launch {
    Launch {
        grid: Dim3::new(l.grid_x, l.grid_y, l.grid_z),
        block: Dim3::new(l.block_x, l.block_y, l.block_z),
        registers_per_thread: l.registers_per_thread,
        static_shared_bytes: l.static_shared_bytes,
        dynamic_shared_bytes: l.dynamic_shared_bytes,
    }
}

fn occupancy_to_c(o: &Occupancy) -> wl_occupancy {
    wl_occupancy {
        struct_size: WL_OCCUPANCY_SIZE_V1,
        threads_per_block: o.threads_per_block,
        warps_per_block: o.warps_per_block,
        resident_blocks_per_sm: o.resident_blocks_per_sm,
        limiter: match o.limiter {
            Limiter::Warps => WL_LIMITER_WARPS,
            Limiter::Blocks => WL_LIMITER_BLOCKS,
            Limiter::Registers => WL_LIMITER_REGISTERS,
            Limiter::SharedMemory => WL_LIMITER_SHARED_MEMORY,
        },
        units_allocated: o.units_allocated,
        tail_units: o.tail_units,
        reserved: 0,
        blocks: o.blocks,
        waves: o.waves,
        theoretical_occupancy: o.theoretical_occupancy,
        blocks_per_sm: o.blocks_per_sm,
        estimated_occupancy: o.estimated_occupancy,
    }
}

fn launch_status(e: LaunchError) -> wl_status {
    match e {
        LaunchError::BadDeviceLimits => WL_ERR_BAD_DEVICE_LIMITS,
        LaunchError::EmptyGrid | LaunchError::EmptyBlock => WL_ERR_EMPTY_LAUNCH,
        LaunchError::BlockTooLarge { .. } => WL_ERR_BLOCK_TOO_LARGE,
        LaunchError::TooManyRegisters { .. } | LaunchError::BlockRegisters { .. } => {
            WL_ERR_TOO_MANY_REGISTERS
        }
        LaunchError::SharedMemoryTooLarge { .. } => WL_ERR_SHARED_MEMORY_TOO_LARGE,
    }
}

/// Writes the per-SM limits of catalog device `device_id` to `out`.
///
/// # Errors
/// [`WL_ERR_OUT_OF_RANGE`] (not a `WL_DEVICE_*`), [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_STRUCT_SIZE`] (`out->struct_size`).
///
/// # Safety
/// `out` is NULL or has `out->struct_size` writable bytes, `struct_size` set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_device_limits_get(
    device_id: wl_device,
    out: *mut wl_device_limits,
) -> wl_status {
    guard(|| {
        let d = device(device_id)?;
        // SAFETY: this function's contract.
        let out = unsafe { OutSized::new(out)? };
        out.write(limits_to_c(&d.limits()))
    })
}

/// The catalog device a CUDA device name refers to (`cudaDeviceProp.name`,
/// such as `"NVIDIA A100-SXM4-80GB"`), matched on the model number.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_device_from_name(
    name: *const c_char,
    out: *mut wl_device,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (name, out) = unsafe { (text(name)?, Out::new(out)?) };
        let d = Device::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        let id = Device::ALL
            .iter()
            .position(|x| *x == d)
            .ok_or(WL_ERR_UNKNOWN_NAME)?;
        out.write(id as u32)
    })
}

/// Maps a launch to the units it occupies on a device with `limits`: the
/// CUDA occupancy calculation (resident blocks per SM), waves, units
/// allocated `min(N, blocks)` and the SMs busy in the tail wave.
///
/// # Errors
/// In this order: [`WL_ERR_NULL_POINTER`] or [`WL_ERR_STRUCT_SIZE`]
/// (`limits`, then `launch`), [`WL_ERR_NULL_POINTER`] or
/// [`WL_ERR_STRUCT_SIZE`] (`out`), then what the device would refuse:
/// [`WL_ERR_BAD_DEVICE_LIMITS`], [`WL_ERR_EMPTY_LAUNCH`],
/// [`WL_ERR_BLOCK_TOO_LARGE`], [`WL_ERR_TOO_MANY_REGISTERS`],
/// [`WL_ERR_SHARED_MEMORY_TOO_LARGE`]. `out` is untouched on error.
///
/// # Safety
/// `limits` and `launch` are NULL or have `struct_size` readable bytes;
/// `out` is NULL or has `out->struct_size` writable bytes, `struct_size` set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_launch_map(
    limits: *const wl_device_limits,
    launch: *const wl_launch,
    out: *mut wl_occupancy,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (limits, launch, out) =
            unsafe { (read_in(limits)?, read_in(launch)?, OutSized::new(out)?) };
        let o =
            occupancy(&limits_from_c(&limits), &launch_from_c(&launch)).map_err(launch_status)?;
        out.write(occupancy_to_c(&o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(id: wl_device) -> wl_device_limits {
        let mut l = wl_device_limits {
            struct_size: WL_DEVICE_LIMITS_SIZE_V1,
            ..Default::default()
        };
        // SAFETY: a writable struct, struct_size set.
        assert_eq!(unsafe { wl_device_limits_get(id, &mut l) }, WL_OK);
        l
    }

    fn map(l: &wl_device_limits, launch: &wl_launch) -> Result<wl_occupancy, wl_status> {
        let mut o = wl_occupancy {
            struct_size: WL_OCCUPANCY_SIZE_V1,
            ..Default::default()
        };
        // SAFETY: readable inputs, a writable output, sizes set.
        match unsafe { wl_launch_map(l, launch, &mut o) } {
            WL_OK => Ok(o),
            s => Err(s),
        }
    }

    fn launch(grid: u32, block: u32, regs: u32, smem: u32) -> wl_launch {
        wl_launch {
            struct_size: WL_LAUNCH_SIZE_V1,
            grid_x: grid,
            grid_y: 1,
            grid_z: 1,
            block_x: block,
            block_y: 1,
            block_z: 1,
            registers_per_thread: regs,
            static_shared_bytes: 0,
            dynamic_shared_bytes: smem,
        }
    }

    #[test]
    fn an_a100_launch_maps_as_the_core_maps_it() {
        let a100 = limits(WL_DEVICE_A100);
        assert_eq!(limits_from_c(&a100), Device::A100.limits());
        // 256 threads (8 warps), 32 registers: a warp takes 32·32 = 1024
        // registers, 16 KiB per partition / 1024 = 16 warps a partition,
        // 64 an SM = the warp limit: 64 / 8 = 8 blocks per SM.
        // 1000 blocks on 108 SMs: 108·8 = 864 a wave, so 2 waves; the tail
        // wave's 136 blocks land on min(108, 136) = 108 SMs.
        let o = map(&a100, &launch(1000, 256, 32, 0)).unwrap();
        assert_eq!(o.resident_blocks_per_sm, 8);
        assert_eq!(o.limiter, WL_LIMITER_WARPS);
        assert_eq!((o.blocks, o.waves), (1000, 2));
        assert_eq!((o.units_allocated, o.tail_units), (108, 108));
        assert_eq!(o.theoretical_occupancy, 1.0);
        // 20 blocks take 20 SMs.
        let o = map(&a100, &launch(20, 128, 32, 0)).unwrap();
        assert_eq!((o.units_allocated, o.waves), (20, 1));
        // 100 KiB of shared memory a block: (100 + 1) KiB a block against
        // 164 KiB, one block per SM.
        let o = map(&a100, &launch(500, 128, 32, 100 * 1024)).unwrap();
        assert_eq!(
            (o.resident_blocks_per_sm, o.limiter),
            (1, WL_LIMITER_SHARED_MEMORY)
        );
        assert_eq!(o.waves, 5); // ceil(500 / 108)
    }

    #[test]
    fn launches_the_device_refuses_are_refused_and_out_is_untouched() {
        let h100 = limits(WL_DEVICE_H100);
        let cases = [
            (launch(0, 128, 32, 0), WL_ERR_EMPTY_LAUNCH),
            (launch(10, 0, 32, 0), WL_ERR_EMPTY_LAUNCH),
            (launch(10, 2048, 32, 0), WL_ERR_BLOCK_TOO_LARGE),
            (launch(10, 128, 300, 0), WL_ERR_TOO_MANY_REGISTERS),
            (launch(10, 1024, 128, 0), WL_ERR_TOO_MANY_REGISTERS),
            (
                launch(10, 128, 32, 300 * 1024),
                WL_ERR_SHARED_MEMORY_TOO_LARGE,
            ),
        ];
        for (l, want) in cases {
            let mut o = wl_occupancy {
                struct_size: WL_OCCUPANCY_SIZE_V1,
                blocks: 77,
                ..Default::default()
            };
            // SAFETY: as in `map`.
            assert_eq!(unsafe { wl_launch_map(&h100, &l, &mut o) }, want, "{l:?}");
            assert_eq!(o.blocks, 77);
        }
        let zero = wl_device_limits { sms: 0, ..h100 };
        assert_eq!(
            map(&zero, &launch(1, 32, 32, 0)),
            Err(WL_ERR_BAD_DEVICE_LIMITS)
        );
        // Sizes and pointers: inputs first, then the output.
        let short = wl_launch {
            struct_size: WL_LAUNCH_SIZE_V1 - 4,
            ..launch(1, 32, 32, 0)
        };
        assert_eq!(map(&h100, &short), Err(WL_ERR_STRUCT_SIZE));
        let mut o = wl_occupancy::default();
        // SAFETY: struct_size 0 is refused before any write.
        let s = unsafe { wl_launch_map(&h100, &launch(0, 0, 0, 0), &mut o) };
        assert_eq!(
            s, WL_ERR_STRUCT_SIZE,
            "the output is checked before the work"
        );
        // SAFETY: NULL pointers are refused.
        let s = unsafe { wl_launch_map(core::ptr::null(), &short, core::ptr::null_mut()) };
        assert_eq!(s, WL_ERR_NULL_POINTER);
        let mut l = wl_device_limits::default();
        // SAFETY: refused before any write.
        let status = unsafe { wl_device_limits_get(WL_DEVICE_COUNT, &mut l) };
        assert_eq!(status, WL_ERR_OUT_OF_RANGE);
    }

    #[test]
    fn device_names_find_catalog_devices() {
        let mut d = 99;
        // SAFETY: NUL-terminated names and a writable out-pointer.
        unsafe {
            assert_eq!(
                wl_device_from_name(c"NVIDIA H100 PCIe".as_ptr(), &mut d),
                WL_OK
            );
            assert_eq!(d, WL_DEVICE_H100_PCIE);
            assert_eq!(
                wl_device_from_name(c"NVIDIA GeForce RTX 4090".as_ptr(), &mut d),
                WL_ERR_UNKNOWN_NAME
            );
        }
        assert_eq!(d, WL_DEVICE_H100_PCIE);
        for (i, dev) in Device::ALL.iter().enumerate() {
            assert_eq!(limits_from_c(&limits(i as u32)), dev.limits());
        }
    }
}
