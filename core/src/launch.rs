//! The mapper: from a kernel's launch configuration to the units it occupies.
//!
//! A profiler trace says how a kernel was launched (grid, block, registers per
//! thread, shared memory), not how many SMs it held. The CUDA occupancy
//! calculation answers that: how many blocks one SM can hold at once
//! (limited by threads, warps, blocks, registers and shared memory), hence
//! how many waves the grid takes, and how many SMs the kernel keeps busy.
//!
//! The rules follow NVIDIA's occupancy calculator (`cuda_occupancy.h`):
//! * registers: `ceil(regs · warp_size / unit) · unit` per warp; the register
//!   file is split over the SM's sub-partitions, and a warp's registers come
//!   from one of them, so an SM holds
//!   `⌊(registers_per_sm / partitions) / per_warp⌋ · partitions` warps;
//!   a block must also fit the per-block limit with its warps rounded up to
//!   the partitions (the hardware's launch check);
//! * shared memory: `ceil((static + dynamic + reserved) / unit) · unit` per
//!   block, against the SM's largest carve-out;
//! * threads (as warps) and blocks per SM.
//!
//! Units allocated = `min(N, blocks)`; waves = `ceil(blocks / (N · resident))`.
//! The block scheduler hands blocks out breadth first, one SM after another,
//! so the `rest` blocks of the last wave land on `min(N, rest)` SMs (not on
//! the `ceil(rest / resident)` SMs a packed placement would use); that is the
//! same rule that makes a one-wave grid of `b < N` blocks occupy `b` SMs.

use core::fmt;

use crate::devices::DeviceLimits;

/// Three launch dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Dim3 {
    /// x.
    pub x: u32,
    /// y.
    pub y: u32,
    /// z.
    pub z: u32,
}

impl Dim3 {
    /// `(x, y, z)`.
    pub const fn new(x: u32, y: u32, z: u32) -> Dim3 {
        Dim3 { x, y, z }
    }

    /// `x · y · z`, saturating at `u64::MAX` (far beyond any launch a device accepts).
    pub fn product(self) -> u64 {
        u64::from(self.x)
            .saturating_mul(u64::from(self.y))
            .saturating_mul(u64::from(self.z))
    }
}

/// How a kernel was launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Launch {
    /// Grid dimensions, in blocks.
    pub grid: Dim3,
    /// Block dimensions, in threads.
    pub block: Dim3,
    /// Registers per thread.
    pub registers_per_thread: u32,
    /// Static shared memory per block, in bytes.
    pub static_shared_bytes: u32,
    /// Dynamic shared memory per block, in bytes.
    pub dynamic_shared_bytes: u32,
}

/// What bounds the resident blocks per SM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Limiter {
    /// Threads (warps) per SM.
    Warps,
    /// Blocks per SM.
    Blocks,
    /// The register file.
    Registers,
    /// Shared memory.
    SharedMemory,
}

/// The occupancy of one launch.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Occupancy {
    /// Blocks in the grid.
    pub blocks: u64,
    /// Threads per block.
    pub threads_per_block: u32,
    /// Warps per block.
    pub warps_per_block: u32,
    /// Blocks one SM holds at once (the theoretical residency).
    pub resident_blocks_per_sm: u32,
    /// What bounds `resident_blocks_per_sm` (the first, in the order warps,
    /// blocks, registers, shared memory, when several do).
    pub limiter: Limiter,
    /// `resident · warps_per_block / max_warps_per_sm`: the theoretical occupancy, in `[0, 1]`.
    pub theoretical_occupancy: f64,
    /// `blocks / N`: what PyTorch traces record as `blocks per SM`.
    pub blocks_per_sm: f64,
    /// `min(blocks / N, resident) · threads_per_block / max_threads_per_sm`:
    /// PyTorch's `est. achieved occupancy %`, as a fraction.
    pub estimated_occupancy: f64,
    /// `ceil(blocks / (N · resident))`.
    pub waves: u64,
    /// `min(N, blocks)`: the SMs the kernel occupies.
    pub units_allocated: u32,
    /// SMs busy in the last wave: `min(N, rest)`, where `rest` is the blocks
    /// left for it (blocks are dispatched breadth first over the SMs).
    pub tail_units: u32,
}

/// Why a launch could not be mapped. Each one is a launch CUDA itself refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LaunchError {
    /// A device limit the calculation divides by is zero.
    BadDeviceLimits,
    /// A grid dimension is zero.
    EmptyGrid,
    /// A block dimension is zero.
    EmptyBlock,
    /// More threads per block than the device allows.
    BlockTooLarge {
        /// Threads per block.
        threads: u64,
        /// The device's limit.
        max: u32,
    },
    /// More registers per thread than the device allows.
    TooManyRegisters {
        /// Registers per thread.
        per_thread: u32,
        /// The device's limit.
        max: u32,
    },
    /// The block's registers exceed the per-block register limit.
    BlockRegisters {
        /// Registers the block needs, as the hardware counts them.
        needed: u64,
        /// The device's limit.
        max: u32,
    },
    /// The block's shared memory exceeds what a block or an SM can have.
    SharedMemoryTooLarge {
        /// Shared memory asked for, static plus dynamic, in bytes.
        bytes: u64,
        /// The device's per-block limit, in bytes.
        max: u32,
    },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LaunchError::BadDeviceLimits => {
                f.write_str("device limits have a zero SM count, warp size or allocation unit")
            }
            LaunchError::EmptyGrid => f.write_str("a grid dimension is 0"),
            LaunchError::EmptyBlock => f.write_str("a block dimension is 0"),
            LaunchError::BlockTooLarge { threads, max } => {
                write!(f, "{threads} threads per block; the device allows {max}")
            }
            LaunchError::TooManyRegisters { per_thread, max } => write!(
                f,
                "{per_thread} registers per thread; the device allows {max}"
            ),
            LaunchError::BlockRegisters { needed, max } => write!(
                f,
                "the block needs {needed} registers; the device allows {max} per block"
            ),
            LaunchError::SharedMemoryTooLarge { bytes, max } => write!(
                f,
                "{bytes} bytes of shared memory per block; the device allows {max}"
            ),
        }
    }
}

impl core::error::Error for LaunchError {}

/// `ceil(x / unit) · unit`, with `unit > 0`.
fn round_up(x: u64, unit: u64) -> u64 {
    x.div_ceil(unit).saturating_mul(unit)
}

/// The occupancy of `launch` on a device with `limits`.
///
/// # Errors
/// A [`LaunchError`] for a launch the device would refuse (empty grid or
/// block, too many threads, registers or shared memory), or limits with a
/// zero SM count, warp size or allocation unit.
pub fn occupancy(limits: &DeviceLimits, launch: &Launch) -> Result<Occupancy, LaunchError> {
    let l = limits;
    if l.sms == 0
        || l.warp_size == 0
        || l.max_warps_per_sm == 0
        || l.max_threads_per_sm == 0
        || l.register_allocation_unit == 0
        || l.register_sub_partitions == 0
        || l.shared_memory_allocation_unit == 0
    {
        return Err(LaunchError::BadDeviceLimits);
    }
    let blocks = launch.grid.product();
    if blocks == 0 {
        return Err(LaunchError::EmptyGrid);
    }
    let threads = launch.block.product();
    if threads == 0 {
        return Err(LaunchError::EmptyBlock);
    }
    if threads > u64::from(l.max_threads_per_block) {
        return Err(LaunchError::BlockTooLarge {
            threads,
            max: l.max_threads_per_block,
        });
    }
    if launch.registers_per_thread > l.max_registers_per_thread {
        return Err(LaunchError::TooManyRegisters {
            per_thread: launch.registers_per_thread,
            max: l.max_registers_per_thread,
        });
    }
    let shared = u64::from(launch.static_shared_bytes) + u64::from(launch.dynamic_shared_bytes);
    if shared > u64::from(l.shared_memory_per_block) {
        return Err(LaunchError::SharedMemoryTooLarge {
            bytes: shared,
            max: l.shared_memory_per_block,
        });
    }
    let warp = u64::from(l.warp_size);
    let warps_per_block = threads.div_ceil(warp);

    // Warps and blocks.
    let by_warps = u64::from(l.max_warps_per_sm) / warps_per_block;
    let by_blocks = u64::from(l.max_blocks_per_sm);

    // Registers, per warp, from one sub-partition's share of the file.
    let parts = u64::from(l.register_sub_partitions);
    let by_registers = if launch.registers_per_thread == 0 {
        u64::MAX
    } else {
        let per_warp = round_up(
            u64::from(launch.registers_per_thread) * warp,
            u64::from(l.register_allocation_unit),
        );
        let needed = per_warp.saturating_mul(round_up(warps_per_block, parts));
        if needed > u64::from(l.registers_per_block) {
            return Err(LaunchError::BlockRegisters {
                needed,
                max: l.registers_per_block,
            });
        }
        let warps_per_part = (u64::from(l.registers_per_sm) / parts) / per_warp;
        (warps_per_part * parts) / warps_per_block
    };

    // Shared memory, with the system's reservation per block.
    let smem_per_block = round_up(
        shared + u64::from(l.reserved_shared_memory_per_block),
        u64::from(l.shared_memory_allocation_unit),
    );
    // No shared memory at all: no bound.
    let by_shared = u64::from(l.shared_memory_per_sm)
        .checked_div(smem_per_block)
        .unwrap_or(u64::MAX);

    let mut resident = by_warps;
    let mut limiter = Limiter::Warps;
    for (bound, which) in [
        (by_blocks, Limiter::Blocks),
        (by_registers, Limiter::Registers),
        (by_shared, Limiter::SharedMemory),
    ] {
        if bound < resident {
            resident = bound;
            limiter = which;
        }
    }
    if resident == 0 {
        // Only shared memory can leave no room here: warps fit by the block
        // check, blocks per SM is at least 1 on any device, and registers
        // passed the per-block check, which is no larger than the SM's file.
        return Err(LaunchError::SharedMemoryTooLarge {
            bytes: shared,
            max: l.shared_memory_per_block,
        });
    }
    // resident ≤ max_warps_per_sm, a u32.
    let resident_u32 = u32::try_from(resident).unwrap_or(u32::MAX);

    let n = u64::from(l.sms);
    let per_wave = n.saturating_mul(resident);
    let waves = blocks.div_ceil(per_wave);
    let rest = blocks - (waves - 1) * per_wave;
    let tail = rest.min(n);
    let blocks_per_sm = blocks as f64 / n as f64;
    Ok(Occupancy {
        blocks,
        // Both bounded by max_threads_per_block, a u32.
        threads_per_block: u32::try_from(threads).unwrap_or(u32::MAX),
        warps_per_block: u32::try_from(warps_per_block).unwrap_or(u32::MAX),
        resident_blocks_per_sm: resident_u32,
        limiter,
        theoretical_occupancy: (resident * warps_per_block) as f64 / f64::from(l.max_warps_per_sm),
        blocks_per_sm,
        estimated_occupancy: blocks_per_sm.min(resident as f64) * threads as f64
            / f64::from(l.max_threads_per_sm),
        waves,
        units_allocated: u32::try_from(blocks.min(n)).unwrap_or(l.sms),
        tail_units: u32::try_from(tail).unwrap_or(l.sms),
    })
}
