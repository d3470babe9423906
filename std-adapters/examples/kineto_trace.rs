//! Generates a large synthetic Kineto trace and times reading it, to show
//! that the streamed reader's memory follows the records kept, not the file.
//!
//! ```text
//! cargo run --release --no-default-features --example kineto_trace -- gen 1000000 /tmp/big.json.gz
//! /usr/bin/time -v target/release/examples/kineto_trace read /tmp/big.json.gz
//! ```
//!
//! Each generated kernel comes with the CPU operator (with `flops`, unless
//! `--no-flops`) and the runtime call that launched it, as in a real PyTorch trace (three events per kernel,
//! about 700 bytes of JSON), on two streams, with nanosecond decimals, and
//! out of order: each block of 1000 events is written back to front.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use wattledger_std::profiles::kineto::read_kineto_file;

const NAMES: [&str; 8] = [
    "ampere_sgemm_128x64_tn",
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, at::detail::Array<char*, 3>)",
    "cudnn_ampere_scudnn_128x64_relu_xregs_large_nn_v1",
    "void at::native::(anonymous namespace)::max_pool_forward_nchw<float, float>(int, float const*, long, long, long, int, int, int, int, int, int, int, int, int, int, float*, long*)",
    "sm80_xmma_fprop_implicit_gemm_tf32f32_tf32f32_f32_nhwckrsc_nchw_tilesize128x128x16",
    "void at::native::elementwise_kernel<128, 2>(int)",
    "void cask_cudnn::computeOffsetsKernel<false, false>(cask_cudnn::ComputeOffsetsParams)",
    "ampere_gcgemm_64x64_nt",
];

fn generate(kernels: u64, path: &Path, flops: bool) -> std::io::Result<()> {
    let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut out: Box<dyn Write> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(GzEncoder::new(file, Compression::fast()))
    } else {
        Box::new(file)
    };
    write!(
        out,
        "{{\"schemaVersion\": 1, \"deviceProperties\": [{{\"id\": 0, \"name\": \"NVIDIA A100-SXM4-40GB\", \
         \"numSms\": 108, \"computeMajor\": 8, \"computeMinor\": 0, \"maxThreadsPerMultiprocessor\": 2048, \
         \"regsPerMultiprocessor\": 65536, \"sharedMemPerMultiprocessor\": 167936, \"warpSize\": 32}}],\n\
         \"traceEvents\": [\n"
    )?;
    let base_us: u64 = 1_700_000_000_000_000;
    let mut first = true;
    let block = 1000u64;
    let mut start = 0;
    while start < kernels {
        let end = (start + block).min(kernels);
        for i in (start..end).rev() {
            let ts = base_us + i * 5;
            let frac = (i * 37) % 1000;
            let name = NAMES[(i % NAMES.len() as u64) as usize];
            let stream = if i % 10 == 0 { 20 } else { 7 };
            let sep = if first { "" } else { ",\n" };
            first = false;
            write!(
                out,
                "{sep}{{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::addmm\", \"pid\": 4242, \"tid\": 4242, \
                 \"ts\": {ts}.{frac:03}, \"dur\": 3.5, \"args\": {{\"External id\": {i}, \"Ev Idx\": {i}{flops}}}}},\n\
                 {{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", \"pid\": 4242, \"tid\": 4242, \
                 \"ts\": {ts}.{frac:03}, \"dur\": 2.1, \"args\": {{\"External id\": {i}, \"cbid\": 211, \"correlation\": {i}}}}},\n\
                 {{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"{name}\", \"pid\": 0, \"tid\": {stream}, \
                 \"ts\": {ts}.{frac:03}, \"dur\": 4.{frac:03}, \"args\": {{\"External id\": {i}, \"queued\": 0, \"device\": 0, \
                 \"context\": 1, \"stream\": {stream}, \"correlation\": {i}, \"registers per thread\": 64, \
                 \"shared memory\": 16384, \"blocks per SM\": 4.740741, \"warps per SM\": 18.962963, \
                 \"grid\": [512, 1, 1], \"block\": [128, 1, 1], \"est. achieved occupancy %\": 25}}}}",
                flops = if flops {
                    format!(", \"flops\": {}", 1_000_000 + i)
                } else {
                    String::new()
                },
            )?;
        }
        start = end;
    }
    write!(out, "\n]}}\n")?;
    out.flush()
}

fn read(path: &Path) -> ExitCode {
    let t = Instant::now();
    match read_kineto_file(path) {
        Ok(p) => {
            let secs = t.elapsed().as_secs_f64();
            let records: usize = p.devices.iter().map(|d| d.records.len()).sum();
            println!(
                "{} kernels, {records} records on {} device(s), {} names, read in {secs:.3} s \
                 ({:.0} ns per record); records hold {:.1} MB",
                p.kernel_count(),
                p.devices.len(),
                p.names.len(),
                secs * 1e9 / records.max(1) as f64,
                (records * size_of::<wattledger_std::profiles::KernelRecord>()) as f64 / 1e6,
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", n, path, rest @ ..] => {
            let flops = match rest {
                [] => true,
                ["--no-flops"] => false,
                _ => {
                    eprintln!("error: the only option of gen is --no-flops");
                    return ExitCode::FAILURE;
                }
            };
            let Ok(n) = n.parse() else {
                eprintln!("error: {n} is not a kernel count");
                return ExitCode::FAILURE;
            };
            match generate(n, Path::new(path), flops) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing {path}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ["read", path] => read(Path::new(path)),
        _ => {
            eprintln!(
                "usage: kineto_trace gen KERNELS FILE[.gz] [--no-flops] | kineto_trace read FILE"
            );
            ExitCode::FAILURE
        }
    }
}
