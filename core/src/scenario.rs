//! A built-in workload: ResNet-18 at batch 1 on an H100, FP16.
//!
//! It is the scenario of the functional-energy-composition design: small
//! convolutions that each occupy a few dozen of the 132 SMs, so most of the
//! chip idles unless it is gated. The command runs it when no model file is
//! given, the example prints it, and the benchmarks stream it.
//!
//! Operation and byte counts are computed from the network (224×224 input,
//! FP16 activations and weights, FLOPs = 2 × multiply-accumulates). SM
//! allocations follow from the output tiling a cuDNN-style implicit GEMM would
//! choose (128×64 tiles, one CTA per SM), rounded up to TPCs by the composer.
//! Latencies are illustrative, of the order a profiler shows for such kernels
//! at batch 1 (a few microseconds, dominated by launch and tail effects
//! rather than by arithmetic); they are not measurements. In the first block of layers 2–4 the 1×1
//! downsampling convolution runs concurrently with the block's first 3×3
//! convolution, so those stages hold two subgraphs.

use crate::compose::Subgraph;
use crate::hardware::Precision;

/// Names of the subgraphs of [`RESNET18_H100`], by id.
pub const RESNET18_NAMES: [&str; 22] = [
    "conv1_bn_relu",
    "maxpool",
    "layer1.0.conv1",
    "layer1.0.conv2_add",
    "layer1.1.conv1",
    "layer1.1.conv2_add",
    "layer2.0.conv1",
    "layer2.0.downsample",
    "layer2.0.conv2_add",
    "layer2.1.conv1",
    "layer2.1.conv2_add",
    "layer3.0.conv1",
    "layer3.0.downsample",
    "layer3.0.conv2_add",
    "layer3.1.conv1",
    "layer3.1.conv2_add",
    "layer4.0.conv1",
    "layer4.0.downsample",
    "layer4.0.conv2_add",
    "layer4.1.conv1",
    "layer4.1.conv2_add",
    "avgpool_fc",
];

/// One subgraph: `(id, stage, MFLOP, input KiB, output KiB, weight KiB, latency µs, SMs)`;
/// positional on purpose, so the table below reads as one.
#[allow(clippy::too_many_arguments)]
const fn sg(
    id: u32,
    stage: u32,
    mflop: f64,
    input_kib: f64,
    output_kib: f64,
    weight_kib: f64,
    latency_us: f64,
    sms: u32,
) -> Subgraph {
    Subgraph {
        id,
        stage,
        flops: mflop * 1e6,
        precision: Precision::Fp16,
        input_bytes: input_kib * 1024.0,
        output_bytes: output_kib * 1024.0,
        weight_bytes: weight_kib * 1024.0,
        latency_s: latency_us * 1e-6,
        units_allocated: Some(sms),
        threads: None,
    }
}

/// ResNet-18, batch 1, FP16, on H100: 22 subgraphs in 19 stages.
///
/// Activation sizes in KiB: 224²·3·2 B = 294, 112²·64·2 B = 1568,
/// 56²·64·2 B = 392, 28²·128·2 B = 196, 14²·256·2 B = 98, 7²·512·2 B = 49.
pub const RESNET18_H100: [Subgraph; 22] = [
    // conv1 7×7, 3→64, stride 2: 112²·64·147 MAC = 118.0 M MAC.
    sg(0, 0, 236.0, 294.0, 1568.0, 18.4, 4.1, 98),
    // maxpool 3×3 stride 2 to 56²·64: 9 compares per output.
    sg(1, 1, 1.8, 1568.0, 392.0, 0.0, 2.6, 25),
    // layer1: four 3×3 convolutions 64→64 on 56²: 56²·64·576 MAC = 115.6 M MAC.
    sg(2, 2, 231.2, 392.0, 392.0, 72.0, 4.5, 25),
    sg(3, 3, 231.2, 784.0, 392.0, 72.0, 4.6, 25),
    sg(4, 4, 231.2, 392.0, 392.0, 72.0, 4.5, 25),
    sg(5, 5, 231.2, 784.0, 392.0, 72.0, 4.6, 25),
    // layer2.0: 3×3 64→128 stride 2 (28²·128·576 = 57.8 M MAC) beside the
    // 1×1 downsample 64→128 stride 2 (28²·128·64 = 6.4 M MAC).
    sg(6, 6, 115.6, 392.0, 196.0, 144.0, 5.1, 14),
    sg(7, 6, 12.8, 392.0, 196.0, 16.0, 2.5, 7),
    // 3×3 128→128 on 28²: 28²·128·1152 = 115.6 M MAC.
    sg(8, 7, 231.2, 392.0, 196.0, 288.0, 6.4, 14),
    sg(9, 8, 231.2, 196.0, 196.0, 288.0, 6.4, 14),
    sg(10, 9, 231.2, 392.0, 196.0, 288.0, 6.4, 14),
    // layer3.0: 3×3 128→256 stride 2 beside the 1×1 downsample.
    sg(11, 10, 115.6, 196.0, 98.0, 576.0, 5.1, 8),
    sg(12, 10, 12.8, 196.0, 98.0, 64.0, 2.5, 4),
    sg(13, 11, 231.2, 196.0, 98.0, 1152.0, 9.7, 8),
    sg(14, 12, 231.2, 98.0, 98.0, 1152.0, 9.7, 8),
    sg(15, 13, 231.2, 196.0, 98.0, 1152.0, 9.7, 8),
    // layer4.0: 3×3 256→512 stride 2 beside the 1×1 downsample.
    sg(16, 14, 115.6, 98.0, 49.0, 2304.0, 5.9, 8),
    sg(17, 14, 12.8, 98.0, 49.0, 256.0, 2.6, 4),
    sg(18, 15, 231.2, 98.0, 49.0, 4608.0, 9.7, 8),
    sg(19, 16, 231.2, 49.0, 49.0, 4608.0, 9.7, 8),
    sg(20, 17, 231.2, 98.0, 49.0, 4608.0, 9.7, 8),
    // global average pool and the 512→1000 classifier.
    sg(21, 18, 1.0, 49.0, 2.0, 1000.0, 2.9, 8),
];
