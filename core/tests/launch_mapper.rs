//! The launch mapper: hand-worked occupancy examples, and agreement with the
//! `blocks per SM` and `est. achieved occupancy %` that PyTorch's profiler
//! recorded on a real A100.

use wattledger_core::devices::{Device, DeviceLimits};
use wattledger_core::launch::{Dim3, Launch, LaunchError, Limiter, occupancy};

fn launch(grid: u32, block: u32, regs: u32, smem: u32) -> Launch {
    Launch {
        grid: Dim3::new(grid, 1, 1),
        block: Dim3::new(block, 1, 1),
        registers_per_thread: regs,
        static_shared_bytes: smem,
        dynamic_shared_bytes: 0,
    }
}

#[test]
fn register_limited_launch_on_a100() {
    // 3025 blocks of 128 threads (4 warps), 160 registers, 16 KB shared, A100:
    // registers per warp 160·32 = 5120 (a multiple of 256); a sub-partition
    // holds 16384 / 5120 = 3 warps, the SM 12 → 12/4 = 3 blocks.
    // Shared: 16384 + 1024 reserved = 17408 → 167936 / 17408 = 9 blocks.
    // Warps: 64/4 = 16; blocks: 32. Resident = 3 (registers).
    let o = occupancy(&Device::A100.limits(), &launch(3025, 128, 160, 16384)).unwrap();
    assert_eq!(o.resident_blocks_per_sm, 3);
    assert_eq!(o.limiter, Limiter::Registers);
    // A wave is 108·3 = 324 blocks: ceil(3025/324) = 10 waves, the last with
    // 3025 − 9·324 = 109 blocks, dispatched breadth first over all 108 SMs.
    assert_eq!(o.waves, 10);
    assert_eq!(o.tail_units, 108);
    assert_eq!(o.units_allocated, 108);
    // Theoretical 3·4/64 = 18.75 %.
    assert_eq!(o.theoretical_occupancy, 0.1875);
}

#[test]
fn small_grid_occupies_fewer_units_than_the_chip() {
    // 12 blocks of 256 threads, 16 registers: 12 SMs, one wave, 12 in the tail.
    let o = occupancy(&Device::A100.limits(), &launch(12, 256, 16, 0)).unwrap();
    assert_eq!(o.units_allocated, 12);
    assert_eq!(o.waves, 1);
    assert_eq!(o.tail_units, 12);
    // 256 threads = 8 warps; 64/8 = 8 blocks per SM, warp-limited
    // (registers: 512 per warp → 32 warps per partition, 128 per SM, 16 blocks).
    assert_eq!(o.resident_blocks_per_sm, 8);
    assert_eq!(o.limiter, Limiter::Warps);
    // blocks per SM 12/108 = 0.111…; estimated occupancy 0.111…·256/2048 = 1.39 %.
    assert!((o.estimated_occupancy - 12.0 / 108.0 * 256.0 / 2048.0).abs() < 1e-15);
}

#[test]
fn shared_memory_limits_and_granularity() {
    // V100: 256-byte granules, no reservation, 96 KB per SM. 30000 bytes
    // round up to 30208 → 98304 / 30208 = 3 blocks.
    let o = occupancy(&Device::V100.limits(), &launch(1000, 64, 32, 30000)).unwrap();
    assert_eq!(o.resident_blocks_per_sm, 3);
    assert_eq!(o.limiter, Limiter::SharedMemory);
    // H100: 128-byte granules plus 1 KB: 30000 + 1024 = 31024 → 31104;
    // 233472 / 31104 = 7 blocks.
    let o = occupancy(&Device::H100.limits(), &launch(1000, 64, 32, 30000)).unwrap();
    assert_eq!(o.resident_blocks_per_sm, 7);
    // 1000 blocks over 132·7 = 924 per wave: 2 waves, 76 blocks on 76 SMs.
    assert_eq!((o.waves, o.tail_units), (2, 76));
}

#[test]
fn orin_holds_fewer_warps_and_blocks() {
    // 8.7: 48 warps and 16 blocks per SM. 32-thread blocks, few registers:
    // warps allow 48, blocks 16 → 16, block-limited; 16·1/48 = 33.3 %.
    let o = occupancy(&Device::AgxOrin.limits(), &launch(64, 32, 8, 0)).unwrap();
    assert_eq!(o.resident_blocks_per_sm, 16);
    assert_eq!(o.limiter, Limiter::Blocks);
    assert!((o.theoretical_occupancy - 1.0 / 3.0).abs() < 1e-15);
    // 64 blocks fit one wave of 16·16 = 256, spread over all 16 SMs.
    assert_eq!((o.units_allocated, o.waves, o.tail_units), (16, 1, 16));
}

#[test]
fn launches_the_device_refuses_are_errors() {
    let a100 = Device::A100.limits();
    assert_eq!(
        occupancy(&a100, &launch(0, 128, 32, 0)),
        Err(LaunchError::EmptyGrid)
    );
    assert_eq!(
        occupancy(&a100, &launch(1, 0, 32, 0)),
        Err(LaunchError::EmptyBlock)
    );
    assert_eq!(
        occupancy(&a100, &launch(1, 2048, 32, 0)),
        Err(LaunchError::BlockTooLarge {
            threads: 2048,
            max: 1024
        })
    );
    assert_eq!(
        occupancy(&a100, &launch(1, 128, 256, 0)),
        Err(LaunchError::TooManyRegisters {
            per_thread: 256,
            max: 255
        })
    );
    // 1024 threads at 255 registers: 8160 → 8192 per warp, 32 warps → 262144 > 65536.
    assert_eq!(
        occupancy(&a100, &launch(1, 1024, 255, 0)),
        Err(LaunchError::BlockRegisters {
            needed: 262144,
            max: 65536
        })
    );
    assert_eq!(
        occupancy(&a100, &launch(1, 128, 32, 200_000)),
        Err(LaunchError::SharedMemoryTooLarge {
            bytes: 200_000,
            max: 166_912
        })
    );
    let bad = DeviceLimits { sms: 0, ..a100 };
    assert_eq!(
        occupancy(&bad, &launch(1, 128, 32, 0)),
        Err(LaunchError::BadDeviceLimits)
    );
}

#[test]
fn device_names_from_profilers() {
    assert_eq!(
        Device::from_name("NVIDIA A100-PG509-200"),
        Some(Device::A100)
    );
    assert_eq!(
        Device::from_name("Tesla V100-SXM2-16GB"),
        Some(Device::V100)
    );
    assert_eq!(
        Device::from_name("NVIDIA H100 80GB HBM3"),
        Some(Device::H100)
    );
    assert_eq!(
        Device::from_name("NVIDIA H100 PCIe"),
        Some(Device::H100Pcie)
    );
    assert_eq!(Device::from_name("NVIDIA H200"), Some(Device::H200));
    assert_eq!(Device::from_name("NVIDIA B200"), Some(Device::B200));
    assert_eq!(Device::from_name("Orin"), Some(Device::AgxOrin));
    assert_eq!(Device::from_name("NVIDIA GeForce RTX 4090"), None);
    assert_eq!(Device::H100Pcie.limits().sms, 114);
    assert_eq!(Device::B200.limits().sms, 148);
}

/// Launches copied by hand from the PyTorch profiler trace of AlexNet on an
/// A100 (`../shared/data/traces/alexnet-a100-kineto.json.gz`, `kernel`
/// events): grid, block, `registers per thread`, `shared memory`, and what the
/// trace recorded as `blocks per SM` and `est. achieved occupancy %`.
///
/// PyTorch (Kineto) computes the occupancy as
/// `min(blocks / SMs, resident blocks) · threads per block / 2048`, with the
/// resident blocks from CUDA's occupancy calculator, and rounds it to a whole
/// percent.
/// `(name, grid, block, registers per thread, shared memory, blocks per SM, occupancy %)`.
type Traced = (&'static str, [u32; 3], [u32; 3], u32, u32, f64, u32);

const ALEXNET_A100: [Traced; 14] = [
    (
        "distribution_elementwise",
        [864, 1, 1],
        [256, 1, 1],
        47,
        0,
        8.0,
        63,
    ),
    (
        "computeOffsetsKernel",
        [12, 1, 1],
        [256, 1, 1],
        16,
        0,
        0.11111111,
        1,
    ),
    (
        "scudnn_128x64_relu",
        [3025, 1, 1],
        [128, 1, 1],
        160,
        16384,
        28.00926,
        19,
    ),
    (
        "elementwise_kernel",
        [96800, 1, 1],
        [128, 1, 1],
        40,
        0,
        896.2963,
        75,
    ),
    (
        "vectorized_elementwise",
        [48400, 1, 1],
        [128, 1, 1],
        18,
        0,
        448.14816,
        100,
    ),
    (
        "max_pool_forward_nchw",
        [23328, 1, 1],
        [256, 1, 1],
        26,
        0,
        216.0,
        100,
    ),
    (
        "fft2d_r2c_32x32",
        [768, 1, 1],
        [512, 1, 1],
        64,
        35904,
        7.111111,
        50,
    ),
    (
        "ampere_gcgemm_64x64_nt",
        [3, 2, 544],
        [256, 1, 1],
        122,
        24576,
        30.222221,
        25,
    ),
    (
        "nchwToNhwcKernel",
        [6, 6, 128],
        [256, 1, 1],
        32,
        4224,
        42.666668,
        100,
    ),
    (
        "adaptive_average_pool",
        [32768, 1, 1],
        [32, 8, 1],
        38,
        0,
        303.4074,
        75,
    ),
    (
        "fused_dropout_kernel",
        [864, 1, 1],
        [256, 1, 1],
        48,
        0,
        8.0,
        63,
    ),
    (
        "ampere_sgemm_32x32_sliced1x4_tn",
        [128, 4, 1],
        [128, 1, 1],
        86,
        32768,
        4.740741,
        25,
    ),
    (
        "epilogue_globalKernel",
        [128, 4, 1],
        [32, 16, 1],
        23,
        0,
        4.740741,
        100,
    ),
    (
        "vectorized_elementwise_small",
        [1024, 1, 1],
        [128, 1, 1],
        18,
        0,
        9.481482,
        59,
    ),
];

#[test]
fn agrees_with_pytorch_on_a_real_a100_trace() {
    // The trace's deviceProperties: 108 SMs, 2048 threads, 65536 registers
    // per SM and per block, 167936 bytes of shared memory per SM: the catalog's A100.
    let a100 = Device::A100.limits();
    assert_eq!(
        (
            a100.sms,
            a100.max_threads_per_sm,
            a100.registers_per_sm,
            a100.shared_memory_per_sm
        ),
        (108, 2048, 65536, 167936)
    );
    for (name, g, b, regs, smem, blocks_per_sm, occ_pct) in ALEXNET_A100 {
        let l = Launch {
            grid: Dim3::new(g[0], g[1], g[2]),
            block: Dim3::new(b[0], b[1], b[2]),
            registers_per_thread: regs,
            static_shared_bytes: smem,
            dynamic_shared_bytes: 0,
        };
        let o = occupancy(&a100, &l).unwrap();
        // The trace writes blocks per SM as a 32-bit float.
        assert!(
            (o.blocks_per_sm - blocks_per_sm).abs() <= 1e-6 * blocks_per_sm,
            "{name}: {} vs {blocks_per_sm}",
            o.blocks_per_sm
        );
        let pct = (o.estimated_occupancy * 100.0).round();
        assert_eq!(pct, f64::from(occ_pct), "{name}: {}", o.estimated_occupancy);
    }
}

#[test]
fn pytorch_reports_zero_where_it_assumes_no_shared_memory_opt_in() {
    // The same trace's sm80_xmma_fprop_implicit_gemm kernel: grid [3,169,1],
    // block 128, 252 registers, 67584 bytes of shared memory; PyTorch records
    // `est. achieved occupancy %` 0, because its calculator keeps the default
    // 48 KB per-block limit. The kernel ran, so it had the opt-in; the mapper
    // uses the opt-in limit (163 KB). Registers: 252·32 = 8064 → 8192 per
    // warp, 2 warps per sub-partition, 8 per SM → 2 blocks; shared memory
    // 67584 + 1024 = 68608 → 167936/68608 = 2 blocks.
    let l = Launch {
        grid: Dim3::new(3, 169, 1),
        block: Dim3::new(128, 1, 1),
        registers_per_thread: 252,
        static_shared_bytes: 67584,
        dynamic_shared_bytes: 0,
    };
    let o = occupancy(&Device::A100.limits(), &l).unwrap();
    assert_eq!(o.resident_blocks_per_sm, 2);
    // 507 blocks over 216 per wave: 3 waves; 75 left, on 75 SMs.
    assert_eq!((o.blocks, o.waves, o.tail_units), (507, 3, 75));
    // With PyTorch's 48 KB assumption the launch would not fit at all.
    let default_limit = DeviceLimits {
        shared_memory_per_block: 48 * 1024,
        ..Device::A100.limits()
    };
    assert!(matches!(
        occupancy(&default_limit, &l),
        Err(LaunchError::SharedMemoryTooLarge { .. })
    ));
}
