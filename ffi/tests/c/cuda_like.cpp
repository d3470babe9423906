// A C++ program shaped like a CUDA application: it measures the energy of
// two named phases of its work through the wattledger monitor. There is no
// GPU in CI, so the "kernels" are sleeps and NVML is the fake library
// (WATTLEDGER_NVML_LIB and FAKE_NVML_SCENARIO, set by monitor.sh). On a real
// machine the same code measures real GPUs: see ffi/examples/phases.cu.
//
// Usage: cuda_like <expected watts> [expect-mig | mig-unnamed]
#include "wattledger.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

int failures = 0;

void expect(bool ok, const char *what) {
    if (!ok) {
        ++failures;
        std::fprintf(stderr, "cuda_like: check failed: %s\n", what);
    }
}

void run_kernels(int ms) {
    // In a CUDA program: kernel<<<grid, block>>>(...); cudaDeviceSynchronize();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: cuda_like <expected watts> [expect-mig]\n");
        return 2;
    }
    const double watts = std::atof(argv[1]);
    const bool expect_mig = argc > 2 && std::strcmp(argv[2], "expect-mig") == 0;
    const bool mig_unnamed = argc > 2 && std::strcmp(argv[2], "mig-unnamed") == 0;
    const bool mig_pair = argc > 2 && std::strcmp(argv[2], "mig-pair") == 0;

    // --- the five lines a CUDA program needs -------------------------------
    wl_monitor *mon = nullptr;
    if (wl_monitor_new_nvml(nullptr, &mon) != WL_OK) return 3;   // once
    wl_monitor_begin(mon, "preprocess");
    run_kernels(250);                                              // phase 1
    wl_device_window_report pre[8];
    pre[0].struct_size = sizeof pre[0];
    size_t n_pre = 0;
    wl_monitor_end(mon, "preprocess", pre, 8, &n_pre);
    // ------------------------------------------------------------------------

    wl_device_window_report fwd[8];
    fwd[0].struct_size = sizeof fwd[0];
    size_t n_fwd = 0;
    expect(wl_monitor_begin(mon, "forward") == WL_OK, "begin forward");
    expect(wl_monitor_begin(mon, "forward") == WL_ERR_WINDOW_ALREADY_OPEN, "begin twice");
    run_kernels(400);                                              // phase 2
    expect(wl_monitor_end(mon, "forward", fwd, 0, &n_fwd) == WL_ERR_CAPACITY, "no room");
    expect(wl_monitor_end(mon, "forward", fwd, 8, &n_fwd) == WL_OK, "end forward");
    expect(wl_monitor_end(mon, "forward", fwd, 8, &n_fwd) == WL_ERR_WINDOW_NOT_OPEN, "end twice");

    size_t devices = 0;
    expect(wl_monitor_device_count(mon, &devices) == WL_OK, "device count");
    expect(n_pre == devices && n_fwd == devices && devices >= 1, "one report per device");

    // The fake GPU draws a constant `watts`, so a window's energy is
    // watts × its duration. Two things separate the two figures: the counter
    // is floored to whole millijoules at both ends (under 1 mJ), and the
    // adapter stamps a sample a moment before or after the fake library reads
    // its clock for the counter, which on a loaded machine (or under a
    // sanitizer) can be a few hundred microseconds: at 350 W, 0.3 ms is
    // 0.1 J. 1 % of the energy covers that and still fails any wrong unit,
    // method or window.
    const wl_device_window_report *phases[2] = {pre, fwd};
    const char *names[2] = {"preprocess", "forward"};
    for (int p = 0; p < 2; ++p) {
        const wl_device_window_report &r = phases[p][0];
        const double seconds = double(r.window.duration_ns) * 1e-9;
        std::printf("%-10s %s (%s): %.3f J over %.3f s (%.1f W), coverage %.2f\n", names[p],
                    r.name, r.uuid, r.window.energy_j, seconds, r.window.energy_j / seconds,
                    r.window.coverage);
        expect(std::strcmp(r.window.name, names[p]) == 0, "window name");
        expect(std::strcmp(r.source, "nvml") == 0, "source");
        expect(r.window.method == WL_METHOD_COUNTER, "counter method");
        expect(std::fabs(r.window.energy_j - watts * seconds) <= 0.001 + 0.01 * watts * seconds,
               "energy = W x duration");
        expect(seconds >= (p == 0 ? 0.25 : 0.4), "duration covers the work");
        expect(r.window.coverage == 1.0, "fully covered");
    }

    wl_mig_warning warnings[8];
    warnings[0].struct_size = sizeof warnings[0];
    size_t n_warn = 0;
    expect(wl_monitor_mig_warnings(mon, "forward", WL_MIG_SHARES_NONE, warnings, 8, &n_warn) == WL_OK,
           "mig warnings");
    if (expect_mig) {
        expect(fwd[0].mig_enabled == 1 && fwd[0].visible_mig == 1, "MIG instance visible");
        expect(std::strcmp(fwd[0].visible_mig_profile, "1g.5gb") == 0, "profile of the instance");
        expect(n_warn == 1 && warnings[0].code == 1, "WL-MIG-001: energy is the parent's");
        for (size_t i = 0; i < n_warn; ++i) std::printf("%s\n", warnings[i].message);
    } else if (mig_pair) {
        // Two instances of one GPU visible: the GPU is measured once, one
        // result of the parent's energy, never WL-MIG-002.
        expect(devices == 1 && fwd[0].visible_mig == 2, "one device for two instances");
        expect(n_warn == 2 && warnings[0].code == 1 && warnings[1].code == 5, "WL-MIG-001, -005");
        for (size_t i = 0; i < n_warn; ++i) std::printf("%s\n", warnings[i].message);
    } else if (mig_unnamed) {
        // MIG mode on, no instance named: still the parent's energy.
        expect(fwd[0].mig_enabled == 1 && fwd[0].visible_mig == 0, "MIG on, none visible");
        expect(n_warn >= 1 && warnings[0].code == 1, "WL-MIG-001 without a named instance");
        for (size_t i = 0; i < n_warn; ++i) std::printf("%s\n", warnings[i].message);
    } else {
        expect(fwd[0].visible_mig == 0, "no MIG");
        expect(n_warn == 0, "no MIG warning");
    }

    expect(wl_monitor_free(mon) == WL_OK, "free");
    expect(wl_monitor_free(mon) == WL_ERR_BAD_HANDLE, "double free is caught");
    if (failures != 0) return 1;
    std::printf("cuda_like: OK\n");
    return 0;
}
