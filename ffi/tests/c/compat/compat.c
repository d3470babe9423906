/*
 * The ABI only grows: this program is compiled against the header of
 * wattledger 1.0 as it was released (wattledger-1.0.h, frozen here, never
 * edited) and run against the library built from today's source. Every
 * struct it passes has the 1.0 size, so a later library must read them with
 * their later fields defaulted, and write no more than the 1.0 size into the
 * outputs. Expected numbers are computed in the comments.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wattledger-1.0.h"

static int failures;
#define EXPECT(cond)                                                    \
    do {                                                                \
        if (!(cond)) {                                                  \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);  \
            ++failures;                                                 \
        }                                                               \
    } while (0)
#define NEAR(got, want) (fabs((got) - (want)) <= 1e-12 * (1.0 + fabs(want)))

/* A 1.0 output struct followed by a guard that must stay untouched. */
struct guarded_report { wl_report r; unsigned char guard[64]; };
struct guarded_window { wl_window_report w; unsigned char guard[64]; };

static int untouched(const unsigned char *g, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) {
        if (g[i] != 0xA5) return 0;
    }
    return 1;
}

static void composer(void) {
    wl_hardware hw;
    wl_composer *c = NULL;
    wl_subgraph sg;
    struct guarded_report out;
    size_t dropped = 0;

    EXPECT(wl_hardware_from_preset("seed-h100", &hw) == WL_OK);
    EXPECT(wl_composer_new(&hw, WL_POLICY_OFF, &c) == WL_OK);
    EXPECT(wl_subgraph_init(&sg, 1, 0) == WL_OK);
    EXPECT(sg.struct_size == WL_SUBGRAPH_SIZE_V1);
    sg.has_units_allocated = 1;
    sg.units_allocated = 24;
    sg.latency_s = 0.01;
    EXPECT(wl_composer_push(c, &sg) == WL_OK);
    /* A refused stage (300 W x 1e308 s) is dropped; the composer goes on. */
    sg.stage = 1;
    sg.latency_s = 1e308;
    EXPECT(wl_composer_push(c, &sg) == WL_OK);
    memset(&out, 0xA5, sizeof out);
    out.r.struct_size = WL_REPORT_SIZE_V1;
    EXPECT(wl_composer_finish(c, &out.r) == WL_ERR_OVERFLOW);
    EXPECT(wl_composer_discard_pending(c, &dropped) == WL_OK && dropped == 1);
    EXPECT(wl_composer_finish(c, &out.r) == WL_OK);
    /* Seed H100, gating off: 300 W x 0.01 s = 3 J, all of it static. */
    EXPECT(out.r.struct_size == WL_REPORT_SIZE_V1);
    EXPECT(NEAR(out.r.energy.total_j, 3.0) && NEAR(out.r.energy.static_j, 3.0));
    EXPECT(out.r.stages == 1 && out.r.units == 132);
    EXPECT(untouched(out.guard, sizeof out.guard));
    EXPECT(wl_composer_free(c) == WL_OK);
    EXPECT(wl_composer_free(c) == WL_ERR_BAD_HANDLE);
}

static void meter(void) {
    wl_meter_config cfg;
    wl_meter *m = NULL;
    wl_sample s;
    struct guarded_window out;

    EXPECT(wl_meter_config_init(&cfg) == WL_OK);
    EXPECT(cfg.struct_size == WL_METER_CONFIG_SIZE_V1);
    EXPECT(wl_meter_new(&cfg, &m) == WL_OK);
    memset(&s, 0, sizeof s);
    s.struct_size = WL_SAMPLE_SIZE_V1;
    s.has_energy = 1;
    s.energy_mj = 1000;
    EXPECT(wl_meter_ingest(m, &s) == WL_OK);
    EXPECT(wl_meter_begin(m, "w") == WL_OK);
    s.t_ns = 1000000000ull;
    s.energy_mj = 3500;
    EXPECT(wl_meter_ingest(m, &s) == WL_OK);
    memset(&out, 0xA5, sizeof out);
    out.w.struct_size = WL_WINDOW_REPORT_SIZE_V1;
    EXPECT(wl_meter_end(m, "w", &out.w) == WL_OK);
    /* 3500 mJ - 1000 mJ over 1 s from the counter: 2.5 J. */
    EXPECT(NEAR(out.w.energy_j, 2.5) && out.w.method == WL_METHOD_COUNTER);
    EXPECT(strcmp(out.w.name, "w") == 0);
    EXPECT(untouched(out.guard, sizeof out.guard));
    EXPECT(wl_meter_free(m) == WL_OK);
}

static void mig(void) {
    wl_mig_result rs[2];
    wl_mig_warning w[4];
    size_t n = 0;
    int i;
    const char *parent = "GPU-00000000-0000-0000-0000-000000000001";
    for (i = 0; i < 2; ++i) {
        memset(&rs[i], 0, sizeof rs[i]);
        rs[i].struct_size = WL_MIG_RESULT_SIZE_V1;
        rs[i].is_mig = 1;
        rs[i].architecture = 9;
        rs[i].id = i == 0 ? "a" : "b";
        rs[i].gpu_uuid = i == 0 ? "MIG-1" : "MIG-2";
        rs[i].parent_gpu_uuid = parent;
        rs[i].profile = "1g.10gb";
        rs[i].gpu_model = "NVIDIA H100 80GB HBM3";
        rs[i].energy_j = 500.0;
        rs[i].start_s = 5.0 * i;
        rs[i].end_s = 10.0 + 5.0 * i;
    }
    w[0].struct_size = WL_MIG_WARNING_SIZE_V1;
    /* [0,10) and [5,15) overlap: parent power (001) and shared parent (002). */
    EXPECT(wl_mig_check(rs, 2, WL_MIG_SHARES_NONE, w, 4, &n) == WL_OK);
    EXPECT(n == 2 && w[0].code == 1 && w[1].code == 2 && w[1].overcount_factor == 2);
    EXPECT(wl_mig_check(rs, 65, WL_MIG_SHARES_NONE, w, 4, &n) == WL_ERR_TOO_MANY_RESULTS);
}

int main(void) {
    EXPECT(wl_abi_version() >> 16 == WL_ABI_VERSION_MAJOR);
    /* The minor version the library implements is at least the header's
     * (written as a sum, since with minor 0 a plain >= is always true). */
    EXPECT((wl_abi_version() & 0xffffu) + 1u > (unsigned)WL_ABI_VERSION_MINOR);
    EXPECT(strcmp(wl_status_name(WL_ERR_MESSAGE_TOO_LONG), "WL_ERR_MESSAGE_TOO_LONG") == 0);
    composer();
    meter();
    mig();
    printf("compat (1.0 header, library %s): %s\n", wl_version(), failures ? "FAILED" : "OK");
    return failures ? 1 : 0;
}
