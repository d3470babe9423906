//! Per-SM limits of the catalog's GPUs, for the launch mapper ([`crate::launch`]).
//!
//! The occupancy calculation needs what one SM can hold: threads, warps and
//! blocks, registers and shared memory, and how each is allocated. These are
//! architecture data, not measurements, so they are written down once here,
//! each with where it comes from.
//!
//! Sources:
//! * NVIDIA, *CUDA C++ Programming Guide*, "Compute Capabilities", table
//!   "Technical Specifications per Compute Capability" (threads, warps and
//!   blocks per SM; registers per SM, per block and per thread; shared memory
//!   per SM and per block; the 1 KB of shared memory the system reserves per
//!   block from compute capability 8.0 on).
//! * NVIDIA, *CUDA Occupancy Calculator* and `cuda_occupancy.h` of the CUDA
//!   toolkit (allocation granularities: registers in units of 256 per warp,
//!   spread over 4 SM sub-partitions; shared memory in units of 256 bytes on
//!   7.x and 128 bytes on 8.x and later).
//! * SM counts: the NVIDIA data sheets and architecture white papers (V100
//!   SXM2 80, A100 108, H100 SXM5 132, H100 PCIe 114, H200 132, B200 148,
//!   Jetson AGX Orin 64 GB 16).
//!
//! A trace that records the device's properties (PyTorch's `deviceProperties`)
//! can override any figure: [`DeviceLimits`] is a plain value.

/// What one SM of a device can hold, and how it is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceLimits {
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
    /// SM sub-partitions; each holds a quarter of the register file, and a
    /// warp's registers come from one of them.
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

/// A GPU of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Device {
    /// Tesla V100 (SXM2 or PCIe), compute capability 7.0.
    V100,
    /// A100 (SXM4 or PCIe), compute capability 8.0.
    A100,
    /// H100 SXM5, compute capability 9.0.
    H100,
    /// H100 PCIe: the same SM with 114 of them.
    H100Pcie,
    /// H200, compute capability 9.0.
    H200,
    /// B200, compute capability 10.0.
    B200,
    /// Jetson AGX Orin 64 GB (GA10B), compute capability 8.7.
    AgxOrin,
}

/// Volta (7.0): 96 KB of shared memory per SM, no per-block reservation,
/// 256-byte shared-memory granularity.
const VOLTA: DeviceLimits = DeviceLimits {
    compute_major: 7,
    compute_minor: 0,
    sms: 80,
    warp_size: 32,
    max_threads_per_block: 1024,
    max_threads_per_sm: 2048,
    max_warps_per_sm: 64,
    max_blocks_per_sm: 32,
    registers_per_sm: 65536,
    registers_per_block: 65536,
    max_registers_per_thread: 255,
    register_allocation_unit: 256,
    register_sub_partitions: 4,
    shared_memory_per_sm: 96 * 1024,
    shared_memory_per_block: 96 * 1024,
    shared_memory_allocation_unit: 256,
    reserved_shared_memory_per_block: 0,
};

/// A100 (8.0): 164 KB of shared memory per SM, 163 KB per block with the
/// opt-in, 1 KB reserved per block.
const AMPERE_GA100: DeviceLimits = DeviceLimits {
    compute_major: 8,
    compute_minor: 0,
    sms: 108,
    shared_memory_per_sm: 164 * 1024,
    shared_memory_per_block: 163 * 1024,
    shared_memory_allocation_unit: 128,
    reserved_shared_memory_per_block: 1024,
    ..VOLTA
};

/// Hopper (9.0): 228 KB of shared memory per SM, 227 KB per block.
const HOPPER: DeviceLimits = DeviceLimits {
    compute_major: 9,
    compute_minor: 0,
    sms: 132,
    shared_memory_per_sm: 228 * 1024,
    shared_memory_per_block: 227 * 1024,
    ..AMPERE_GA100
};

impl Device {
    /// Every catalog device.
    pub const ALL: [Device; 7] = [
        Device::V100,
        Device::A100,
        Device::H100,
        Device::H100Pcie,
        Device::H200,
        Device::B200,
        Device::AgxOrin,
    ];

    /// The device's per-SM limits and SM count.
    pub const fn limits(self) -> DeviceLimits {
        match self {
            Device::V100 => VOLTA,
            Device::A100 => AMPERE_GA100,
            Device::H100 | Device::H200 => HOPPER,
            Device::H100Pcie => DeviceLimits { sms: 114, ..HOPPER },
            // Blackwell (10.0) keeps Hopper's per-SM limits in the guide's table.
            Device::B200 => DeviceLimits {
                compute_major: 10,
                compute_minor: 0,
                sms: 148,
                ..HOPPER
            },
            // 8.7: 1536 threads (48 warps) and 16 blocks per SM, but the
            // GA100-sized 164 KB of shared memory.
            Device::AgxOrin => DeviceLimits {
                compute_major: 8,
                compute_minor: 7,
                sms: 16,
                max_threads_per_sm: 1536,
                max_warps_per_sm: 48,
                max_blocks_per_sm: 16,
                ..AMPERE_GA100
            },
        }
    }

    /// The device a profiler's device name refers to, if it is in the catalog.
    ///
    /// Names as CUDA reports them ("NVIDIA A100-PG509-200",
    /// "Tesla V100-SXM2-16GB", "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe",
    /// "Orin"): matched on the model number, so board variants fall in place.
    pub fn from_name(name: &str) -> Option<Device> {
        let has = |s: &str| name.contains(s);
        if has("H100") {
            Some(if has("PCIe") {
                Device::H100Pcie
            } else {
                Device::H100
            })
        } else if has("A100") {
            Some(Device::A100)
        } else if has("V100") {
            Some(Device::V100)
        } else if has("H200") {
            Some(Device::H200)
        } else if has("B200") {
            Some(Device::B200)
        } else if has("Orin") {
            Some(Device::AgxOrin)
        } else {
            None
        }
    }
}
