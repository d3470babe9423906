// Measuring two phases of a CUDA program with wattledger (not built in CI,
// which has no GPU). Build:
//
//   nvcc -std=c++17 -O2 phases.cu $(pkg-config --cflags --libs wattledger) -o phases
//
// or, against the static library:
//
//   nvcc -std=c++17 -O2 phases.cu -I$PREFIX/include $PREFIX/lib/libwattledger.a \
//        -lpthread -ldl -lm -o phases
//
// On a MIG instance (CUDA_VISIBLE_DEVICES=MIG-...), the figures are the whole
// GPU's: the program prints the WL-MIG warnings that say so.
#include <cstdio>
#include <cuda_runtime.h>
#include <wattledger.h>

__global__ void saxpy(int n, float a, const float *x, float *y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

static void report(const char *phase, const wl_device_window_report *r, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        std::printf("%s on %s: %.3f J in %.3f s (coverage %.2f, flags 0x%x)\n", phase, r[i].name,
                    r[i].window.energy_j, r[i].window.duration_ns * 1e-9, r[i].window.coverage,
                    r[i].window.flags);
    }
}

int main() {
    const int n = 1 << 26;
    float *x, *y;
    cudaMalloc(&x, n * sizeof(float));
    cudaMalloc(&y, n * sizeof(float));

    wl_monitor *mon = nullptr;
    if (wl_monitor_new_nvml(nullptr, &mon) != WL_OK) {
        std::fprintf(stderr, "no NVML: %s\n", wl_status_str(WL_ERR_UNAVAILABLE));
        return 1;
    }
    wl_device_window_report r[8];
    r[0].struct_size = sizeof r[0];
    size_t count = 0;

    wl_monitor_begin(mon, "init");
    cudaMemset(x, 0, n * sizeof(float));
    cudaMemset(y, 0, n * sizeof(float));
    cudaDeviceSynchronize();
    wl_monitor_end(mon, "init", r, 8, &count);
    report("init", r, count);

    wl_monitor_begin(mon, "saxpy");
    for (int k = 0; k < 1000; ++k) saxpy<<<(n + 255) / 256, 256>>>(n, 2.0f, x, y);
    cudaDeviceSynchronize();
    wl_monitor_end(mon, "saxpy", r, 8, &count);
    report("saxpy", r, count);

    wl_mig_warning w[8];
    w[0].struct_size = sizeof w[0];
    size_t nw = 0;
    if (wl_monitor_mig_warnings(mon, "saxpy", WL_MIG_SHARES_NONE, w, 8, &nw) == WL_OK) {
        for (size_t i = 0; i < nw; ++i) std::printf("%s\n", w[i].message);
    }
    wl_monitor_free(mon);
    cudaFree(x);
    cudaFree(y);
    return 0;
}
