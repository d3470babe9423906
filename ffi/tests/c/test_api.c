/*
 * Calls every function of the estimating and metering API of wattledger.h,
 * including every error status each can return, and checks hand-computed
 * numbers. Valid C99 and C++17: run.sh compiles it both ways, with
 * -Wall -Wextra -Werror -pedantic, and again under ASan and UBSan.
 */
#include "wattledger.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define EXPECT(cond)                                                              \
    do {                                                                          \
        ++checks;                                                                 \
        if (!(cond)) {                                                            \
            ++failures;                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                         \
    } while (0)

#define EXPECT_STATUS(call, want)                                                 \
    do {                                                                          \
        wl_status got_ = (call);                                                  \
        ++checks;                                                                 \
        if (got_ != (wl_status)(want)) {                                          \
            ++failures;                                                           \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, \
                    #call, wl_status_name(got_), wl_status_name(want));           \
        }                                                                         \
    } while (0)

/* Relative closeness, for sums that floating point may round. */
static int close_to(double got, double want) {
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    return fabs(got - want) <= 1e-12 * scale;
}

#define EXPECT_NEAR(got, want)                                                    \
    do {                                                                          \
        double g_ = (got), w_ = (want);                                           \
        ++checks;                                                                 \
        if (!close_to(g_, w_)) {                                                  \
            ++failures;                                                           \
            fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g\n", __FILE__, __LINE__, \
                    #got, g_, w_);                                                \
        }                                                                         \
    } while (0)

static void test_version_and_status(void) {
    char expected[32];
    wl_status s;
    snprintf(expected, sizeof expected, "%d.%d.%d", WL_VERSION_MAJOR, WL_VERSION_MINOR,
             WL_VERSION_PATCH);
    EXPECT(strcmp(wl_version(), expected) == 0);
    EXPECT(wl_abi_version() == WL_ABI_VERSION);
    EXPECT(WL_OK == 0);
    EXPECT(strcmp(wl_status_name(WL_OK), "WL_OK") == 0);
    EXPECT(strcmp(wl_status_name(WL_ERR_NULL_POINTER), "WL_ERR_NULL_POINTER") == 0);
    EXPECT(strcmp(wl_status_name(WL_ERR_ZERO), "WL_ERR_ZERO") == 0);
    /* Every status up to the highest has its own name and description. */
    for (s = 0; s <= WL_STATUS_MAX; ++s) {
        EXPECT(strcmp(wl_status_name(s), "WL_UNKNOWN") != 0);
        EXPECT(strcmp(wl_status_str(s), "unknown status") != 0);
    }
    EXPECT(strcmp(wl_status_name(WL_STATUS_MAX + 1), "WL_UNKNOWN") == 0);
    EXPECT(strcmp(wl_status_str(WL_STATUS_MAX + 1), "unknown status") == 0);
    EXPECT(strcmp(wl_status_str(WL_ERR_BAD_UTF8), "A string is not valid UTF-8.") == 0);
}

static const char BAD_UTF8[] = {(char)0xff, (char)0xfe, 0};

static void test_presets(void) {
    uint32_t i;
    const char *name = NULL;
    wl_preset id = 99;
    size_t len = 0;
    char small[8];
    char *big;

    EXPECT(wl_preset_count() == WL_PRESET_COUNT);
    EXPECT(WL_PRESET_COUNT == 10);
    for (i = 0; i < wl_preset_count(); ++i) {
        EXPECT_STATUS(wl_preset_name(i, &name), WL_OK);
        EXPECT_STATUS(wl_preset_find(name, &id), WL_OK);
        EXPECT(id == i);
    }
    EXPECT_STATUS(wl_preset_name(WL_PRESET_SEED_H100, &name), WL_OK);
    EXPECT(strcmp(name, "seed-h100") == 0);
    EXPECT_STATUS(wl_preset_name(WL_PRESET_ORIN_NANO, &name), WL_OK);
    EXPECT(strcmp(name, "orin-nano") == 0);
    EXPECT_STATUS(wl_preset_name(10, &name), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_preset_name(0, NULL), WL_ERR_NULL_POINTER);
    id = 77;
    EXPECT_STATUS(wl_preset_find("no-such-gpu", &id), WL_ERR_UNKNOWN_NAME);
    EXPECT(id == 77); /* untouched on error */
    EXPECT_STATUS(wl_preset_find(NULL, &id), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_preset_find(BAD_UTF8, &id), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_preset_find("h200", NULL), WL_ERR_NULL_POINTER);

    /* Source text: query the length, then copy. */
    EXPECT_STATUS(wl_preset_source(WL_PRESET_SEED_H100, NULL, 0, &len), WL_OK);
    EXPECT(len > 100);
    big = (char *)malloc(len + 1);
    EXPECT_STATUS(wl_preset_source(WL_PRESET_SEED_H100, big, len, &len), WL_ERR_CAPACITY);
    EXPECT_STATUS(wl_preset_source(WL_PRESET_SEED_H100, big, len + 1, &len), WL_OK);
    EXPECT(strlen(big) == len);
    EXPECT(strstr(big, "132 SMs") != NULL);
    free(big);
    EXPECT_STATUS(wl_preset_source(WL_PRESET_SEED_H100, small, sizeof small, &len), WL_ERR_CAPACITY);
    EXPECT_STATUS(wl_preset_source(WL_PRESET_SEED_H100, NULL, 5, &len), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_preset_source(WL_PRESET_SEED_H100, NULL, 0, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_preset_source(42, NULL, 0, &len), WL_ERR_OUT_OF_RANGE);
}

static void test_precisions_policies_states(void) {
    wl_precision p = 0;
    wl_policy pol = 0;
    EXPECT(strcmp(wl_precision_name(WL_PRECISION_FP16), "fp16") == 0);
    EXPECT(strcmp(wl_precision_name(WL_PRECISION_FP4), "fp4") == 0);
    EXPECT(wl_precision_name(WL_PRECISIONS) == NULL);
    EXPECT_STATUS(wl_precision_from_name("int8", &p), WL_OK);
    EXPECT(p == WL_PRECISION_INT8);
    EXPECT_STATUS(wl_precision_from_name("fp128", &p), WL_ERR_UNKNOWN_NAME);
    EXPECT_STATUS(wl_precision_from_name(NULL, &p), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_precision_from_name(BAD_UTF8, &p), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_precision_from_name("fp8", NULL), WL_ERR_NULL_POINTER);

    EXPECT(strcmp(wl_policy_name(WL_POLICY_BREAK_EVEN), "break-even") == 0);
    EXPECT(strcmp(wl_policy_name(WL_POLICY_ORACLE), "oracle") == 0);
    EXPECT(wl_policy_name(4) == NULL);
    EXPECT_STATUS(wl_policy_from_name("oracle", &pol), WL_OK);
    EXPECT(pol == WL_POLICY_ORACLE);
    EXPECT_STATUS(wl_policy_from_name("always", &pol), WL_OK);
    EXPECT(pol == WL_POLICY_ALWAYS);
    EXPECT_STATUS(wl_policy_from_name("sometimes", &pol), WL_ERR_UNKNOWN_NAME);
    EXPECT_STATUS(wl_policy_from_name(NULL, &pol), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_policy_from_name(BAD_UTF8, &pol), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_policy_from_name("off", NULL), WL_ERR_NULL_POINTER);

    EXPECT(strcmp(wl_state_name(WL_STATE_ACTIVE), "active") == 0);
    EXPECT(strcmp(wl_state_name(WL_STATE_GATED), "gated") == 0);
    EXPECT(wl_state_name(WL_STATES) == NULL);
}

/* A small hand-made accelerator: 8 units in domains of 2, 16 W idle. */
static wl_hardware_spec toy_spec(void) {
    wl_hardware_spec s;
    memset(&s, 0, sizeof s);
    s.struct_size = (uint32_t)sizeof s;
    s.units = 8;
    s.gating_domain = 2;
    s.threads_per_unit = 1024;
    strcpy(s.name, "toy");
    strcpy(s.unit_name, "core");
    s.supported_precisions = (1u << WL_PRECISION_FP32) | (1u << WL_PRECISION_FP16);
    s.can_gate = 1;
    s.idle_power_w = 16.0;
    s.uncore_power_w = 0.0;
    s.energy_per_op_j[WL_PRECISION_FP32] = 1e-12;
    s.energy_per_op_j[WL_PRECISION_FP16] = 0.5e-12;
    s.energy_per_byte_j = 1e-11;
    s.transition_energy_j = 0.0;
    s.wake_latency_s = 0.0;
    s.nominal_voltage_v = 1.0;
    s.nominal_frequency_mhz = 1000.0;
    s.voltage_v = 1.0;
    s.frequency_mhz = 1000.0;
    s.clock_fraction = 0.0;
    s.leakage_exponent = 1.0;
    return s;
}

static void test_hardware(void) {
    wl_hardware hw, other, garbage;
    wl_hardware_spec s, got;
    uint32_t units = 0;
    double w = 0.0, e = 0.0;

    EXPECT_STATUS(wl_hardware_from_preset("seed-h100", &hw), WL_OK);
    EXPECT_STATUS(wl_hardware_units(&hw, &units), WL_OK);
    EXPECT(units == 132);
    EXPECT_STATUS(wl_hardware_static_power_w(&hw, &w), WL_OK);
    EXPECT(w == 300.0);
    EXPECT_STATUS(wl_hardware_from_preset("nope", &hw), WL_ERR_UNKNOWN_NAME);
    EXPECT_STATUS(wl_hardware_from_preset(NULL, &hw), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_from_preset(BAD_UTF8, &hw), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_hardware_from_preset("h200", NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_from_preset_id(WL_PRESET_A100_40GB, &other), WL_OK);
    EXPECT_STATUS(wl_hardware_units(&other, &units), WL_OK);
    EXPECT(units == 108);
    EXPECT_STATUS(wl_hardware_from_preset_id(10, &other), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_hardware_from_preset_id(0, NULL), WL_ERR_NULL_POINTER);

    /* A struct the library never filled is refused. */
    memset(&garbage, 0xab, sizeof garbage);
    EXPECT_STATUS(wl_hardware_units(&garbage, &units), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_hardware_units(NULL, &units), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_units(&hw, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_static_power_w(&garbage, &w), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_hardware_static_power_w(&hw, NULL), WL_ERR_NULL_POINTER);

    /* A hand-made model, and every rejection of a bad value. */
    s = toy_spec();
    EXPECT_STATUS(wl_hardware_new(&s, &hw), WL_OK);
    EXPECT_STATUS(wl_hardware_energy_per_op_j(&hw, WL_PRECISION_FP16, &e), WL_OK);
    EXPECT(e == 0.5e-12);
    EXPECT_STATUS(wl_hardware_energy_per_op_j(&hw, WL_PRECISION_FP64, &e), WL_ERR_UNSUPPORTED_PRECISION);
    EXPECT_STATUS(wl_hardware_energy_per_op_j(&hw, 9, &e), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_hardware_energy_per_op_j(&hw, WL_PRECISION_FP32, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_energy_per_op_j(&garbage, WL_PRECISION_FP32, &e), WL_ERR_BAD_HANDLE);

    /* Round trip through the spec. */
    memset(&got, 0, sizeof got);
    got.struct_size = (uint32_t)sizeof got;
    EXPECT_STATUS(wl_hardware_get_spec(&hw, &got), WL_OK);
    EXPECT(got.units == 8 && got.gating_domain == 2);
    EXPECT(strcmp(got.name, "toy") == 0 && strcmp(got.unit_name, "core") == 0);
    EXPECT(got.supported_precisions == s.supported_precisions);
    EXPECT(got.energy_per_op_j[WL_PRECISION_FP32] == 1e-12);
    got.struct_size = 4;
    EXPECT_STATUS(wl_hardware_get_spec(&hw, &got), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_hardware_get_spec(&hw, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_get_spec(&garbage, &got), WL_ERR_BAD_HANDLE);

    /* A newer caller's larger struct is accepted; an older, smaller one is not. */
    {
        struct {
            wl_hardware_spec v1;
            double from_the_future;
        } bigger;
        bigger.v1 = toy_spec();
        bigger.v1.struct_size = (uint32_t)sizeof bigger;
        bigger.from_the_future = 42.0;
        EXPECT_STATUS(wl_hardware_new(&bigger.v1, &other), WL_OK);
    }
    s = toy_spec();
    s.struct_size = (uint32_t)sizeof s - 8;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_STRUCT_SIZE);

    other = hw; /* a copy is a valid model too, and is left alone on errors */
    s = toy_spec(); s.idle_power_w = NAN;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_NOT_A_NUMBER);
    s = toy_spec(); s.energy_per_byte_j = INFINITY;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_INFINITE);
    s = toy_spec(); s.uncore_power_w = -1.0;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_NEGATIVE);
    s = toy_spec(); s.units = 0;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_HARDWARE_INVALID);
    s = toy_spec(); s.gating_domain = 3; /* does not divide 8 */
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_HARDWARE_INVALID);
    s = toy_spec(); s.clock_fraction = 1.5;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_HARDWARE_INVALID);
    s = toy_spec(); s.voltage_v = 0.0;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_ZERO);
    s = toy_spec(); memset(s.name, 'x', sizeof s.name); /* no NUL at all */
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_NAME_TOO_LONG);
    s = toy_spec(); memset(s.name, 'x', 49); s.name[49] = 0; /* 49 > 48 bytes */
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_NAME_TOO_LONG);
    s = toy_spec(); s.name[0] = (char)0xff;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_BAD_UTF8);
    s = toy_spec(); s.supported_precisions = 1u << 9;
    EXPECT_STATUS(wl_hardware_new(&s, &other), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_hardware_new(NULL, &other), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_hardware_new(&s, NULL), WL_ERR_NULL_POINTER);
    EXPECT(memcmp(&other, &hw, sizeof hw) == 0);

    /* Operating point: v = 0.5 at f = 1 with c = 0, α = 1 scales static
     * power by (1 − 0)·0.5¹ = 0.5: 16 W → 8 W; dynamic energy by v² = 0.25. */
    EXPECT_STATUS(wl_hardware_with_operating_point(&hw, 0.5, 1000.0, &other), WL_OK);
    EXPECT_STATUS(wl_hardware_static_power_w(&other, &w), WL_OK);
    EXPECT(w == 8.0);
    EXPECT_STATUS(wl_hardware_energy_per_op_j(&other, WL_PRECISION_FP32, &e), WL_OK);
    EXPECT_NEAR(e, 0.25e-12);
    EXPECT_STATUS(wl_hardware_with_operating_point(&hw, NAN, 1000.0, &other), WL_ERR_NOT_A_NUMBER);
    EXPECT_STATUS(wl_hardware_with_operating_point(&hw, 1.0, INFINITY, &other), WL_ERR_INFINITE);
    EXPECT_STATUS(wl_hardware_with_operating_point(&hw, -1.0, 1000.0, &other), WL_ERR_NEGATIVE);
    EXPECT_STATUS(wl_hardware_with_operating_point(&hw, 1.0, 0.0, &other), WL_ERR_ZERO);
    EXPECT_STATUS(wl_hardware_with_operating_point(&garbage, 1.0, 1.0, &other), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_hardware_with_operating_point(&hw, 1.0, 1.0, NULL), WL_ERR_NULL_POINTER);
    /* In place. */
    EXPECT_STATUS(wl_hardware_with_operating_point(&other, 1.0, 1000.0, &other), WL_OK);
    EXPECT_STATUS(wl_hardware_static_power_w(&other, &w), WL_OK);
    EXPECT(w == 16.0);
}

struct records {
    int stages;
    int subgraphs;
    double subgraph_total;
    double stage_total;
    wl_composer *self;
    wl_status reentry;
};

static void on_record(void *user, const wl_stage_record *stage, const wl_subgraph_record *sg) {
    struct records *r = (struct records *)user;
    wl_subgraph inner;
    if (stage != NULL) {
        r->stages++;
        r->stage_total += stage->energy.total_j;
    }
    if (sg != NULL) {
        r->subgraphs++;
        r->subgraph_total += sg->total_energy_j;
    }
    if (r->self != NULL) {
        /* Calling back into the composer that called us is refused. */
        wl_subgraph_init(&inner, 99, 99);
        r->reentry = wl_composer_push(r->self, &inner);
    }
}

static void seed_worked_example(wl_policy policy, wl_report *out, struct records *rec) {
    wl_hardware hw;
    wl_subgraph sg;
    wl_composer *c = NULL;
    size_t pending = 9;
    void *mem;
    EXPECT_STATUS(wl_hardware_from_preset("seed-h100", &hw), WL_OK);
    EXPECT_STATUS(wl_composer_new(&hw, policy, &c), WL_OK);
    EXPECT_STATUS(wl_composer_set_callback(c, on_record, rec), WL_OK);
    EXPECT_STATUS(wl_subgraph_init(&sg, 7, 0), WL_OK);
    sg.has_units_allocated = 1;
    sg.units_allocated = 24;
    sg.latency_s = 0.01;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);
    EXPECT_STATUS(wl_composer_pending(c, &pending), WL_OK);
    EXPECT(pending == 1);
    EXPECT_STATUS(wl_composer_finish(c, out), WL_OK);
    EXPECT_STATUS(wl_composer_pending(c, &pending), WL_OK);
    EXPECT(pending == 0);
    /* Heap handles are freed, not released; a second free is caught. */
    EXPECT_STATUS(wl_composer_release(c), WL_ERR_WRONG_STORAGE);
    EXPECT_STATUS(wl_composer_free(c), WL_OK);
    EXPECT_STATUS(wl_composer_free(c), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_ERR_BAD_HANDLE);
    (void)mem;
}

static void test_seed_worked_example(void) {
    wl_report r;
    struct records rec;
    double t = 0.01;
    memset(&rec, 0, sizeof rec);
    r.struct_size = (uint32_t)sizeof r;

    /* Gating off: static 300·t = 3 J, of which 300·24/132·t allocated
     * (Active: 24 units × 300/132 W × 0.01 s = 0.545454… J) and
     * 300·108/132·t idle-unallocated (2.454545… J). Unit-seconds:
     * 132 · 0.01 = 1.32 in all, 0.24 active, 1.08 idle. No work, no bytes:
     * compute and memory are 0. */
    seed_worked_example(WL_POLICY_OFF, &r, &rec);
    EXPECT(r.units == 132 && r.stages == 1 && r.subgraphs == 1);
    EXPECT(r.policy == WL_POLICY_OFF);
    EXPECT_NEAR(r.latency_s, t);
    EXPECT_NEAR(r.energy.static_j, 300.0 * t);
    EXPECT_NEAR(r.energy.total_j, 300.0 * t);
    EXPECT_NEAR(r.states[WL_STATE_ACTIVE].energy_j, 300.0 * 24.0 / 132.0 * t);
    EXPECT_NEAR(r.states[WL_STATE_IDLE_UNALLOCATED].energy_j, 300.0 * 108.0 / 132.0 * t);
    EXPECT_NEAR(r.states[WL_STATE_ACTIVE].unit_seconds, 24.0 * t);
    EXPECT_NEAR(r.states[WL_STATE_IDLE_UNALLOCATED].unit_seconds, 108.0 * t);
    EXPECT(r.states[WL_STATE_GATED].unit_seconds == 0.0);
    EXPECT(r.energy.compute_j == 0.0 && r.energy.memory_j == 0.0);
    EXPECT_NEAR(r.energy.savings_j, 0.0);
    EXPECT(r.peak_units_allocated == 24);
    /* utilisation = active unit-seconds / (N · latency) = 0.24 / 1.32 = 2/11 */
    EXPECT_NEAR(r.utilization, 24.0 / 132.0);
    /* The callback saw one subgraph and one stage, each the whole total. */
    EXPECT(rec.stages == 1 && rec.subgraphs == 1);
    EXPECT_NEAR(rec.stage_total, 300.0 * t);
    EXPECT_NEAR(rec.subgraph_total, 300.0 * t);

    /* Gating always: static 300·24/132·t; saving 300·108/132·t (82 %). */
    memset(&rec, 0, sizeof rec);
    seed_worked_example(WL_POLICY_ALWAYS, &r, &rec);
    EXPECT_NEAR(r.energy.static_j, 300.0 * 24.0 / 132.0 * t);
    EXPECT_NEAR(r.energy.total_j, 300.0 * 24.0 / 132.0 * t);
    EXPECT_NEAR(r.energy.savings_j, 300.0 * 108.0 / 132.0 * t);
    EXPECT_NEAR(r.states[WL_STATE_GATED].unit_seconds, 108.0 * t);
    EXPECT(r.states[WL_STATE_GATED].energy_j == 0.0);
    EXPECT((r.flags & WL_FLAG_GATED_DOMAINS) != 0);
    EXPECT(r.policy == WL_POLICY_ALWAYS);

    /* Oracle: the 108 free units idle for the whole model, 0.01 s; at its
     * end one power-down pays as soon as 300/132 W · 0.01 s exceeds the
     * seed's transition energy (0 J): gated, the same figures as Always,
     * booked when `finish` ends the period. */
    seed_worked_example(WL_POLICY_ORACLE, &r, &rec);
    EXPECT_NEAR(r.energy.static_j, 300.0 * 24.0 / 132.0 * t);
    EXPECT_NEAR(r.energy.savings_j, 300.0 * 108.0 / 132.0 * t);
    EXPECT_NEAR(r.states[WL_STATE_GATED].unit_seconds, 108.0 * t);
    EXPECT(r.policy == WL_POLICY_ORACLE);
}

static void test_composer_errors(void) {
    wl_hardware hw, toy, nogate, garbage;
    wl_hardware_spec s;
    wl_subgraph sg, bad;
    wl_composer *c = NULL, *c2 = NULL;
    wl_report r, before, after;
    struct records rec;
    size_t size = wl_composer_size(), align = wl_composer_align(), pending = 0;
    unsigned char *raw;
    void *mem;
    int i;

    EXPECT(size > 0 && align >= 8 && (align & (align - 1)) == 0);
    r.struct_size = before.struct_size = after.struct_size = (uint32_t)sizeof r;
    raw = (unsigned char *)malloc(size + 2 * align);
    mem = raw + (align - ((size_t)raw % align)) % align;

    EXPECT_STATUS(wl_hardware_from_preset("seed-h100", &hw), WL_OK);
    s = toy_spec();
    EXPECT_STATUS(wl_hardware_new(&s, &toy), WL_OK);
    s.can_gate = 0;
    EXPECT_STATUS(wl_hardware_new(&s, &nogate), WL_OK);
    memset(&garbage, 0, sizeof garbage);

    /* Caller storage: every refusal, then success. */
    EXPECT_STATUS(wl_composer_init(NULL, size, &hw, WL_POLICY_OFF, &c), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_init(mem, size, &hw, WL_POLICY_OFF, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_init(mem, size, NULL, WL_POLICY_OFF, &c), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_init(mem, size - 1, &hw, WL_POLICY_OFF, &c), WL_ERR_STORAGE_TOO_SMALL);
    EXPECT_STATUS(wl_composer_init((unsigned char *)mem + 1, size, &hw, WL_POLICY_OFF, &c),
                  WL_ERR_STORAGE_MISALIGNED);
    EXPECT_STATUS(wl_composer_init(mem, size, &garbage, WL_POLICY_OFF, &c), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_init(mem, size, &hw, 4, &c), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_composer_init(mem, size, &nogate, WL_POLICY_ALWAYS, &c), WL_ERR_GATING_UNSUPPORTED);
    EXPECT(c == NULL);
    EXPECT_STATUS(wl_composer_new(&nogate, WL_POLICY_BREAK_EVEN, &c2), WL_ERR_GATING_UNSUPPORTED);
    EXPECT_STATUS(wl_composer_new(&nogate, WL_POLICY_ORACLE, &c2), WL_ERR_GATING_UNSUPPORTED);
    EXPECT_STATUS(wl_composer_new(&hw, WL_POLICY_OFF, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_new(NULL, WL_POLICY_OFF, &c2), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_new(&hw, 17, &c2), WL_ERR_OUT_OF_RANGE);
    EXPECT(c2 == NULL);
    {
        /* More units than a composer can hold (2^20). */
        wl_hardware big;
        s = toy_spec();
        s.units = (1u << 20) + 2;
        s.gating_domain = 2;
        EXPECT_STATUS(wl_hardware_new(&s, &big), WL_OK);
        EXPECT_STATUS(wl_composer_new(&big, WL_POLICY_OFF, &c2), WL_ERR_TOO_MANY_UNITS);
    }
    EXPECT_STATUS(wl_composer_init(mem, size, &toy, WL_POLICY_OFF, &c), WL_OK);
    EXPECT(c != NULL);
    EXPECT_STATUS(wl_composer_free(c), WL_ERR_WRONG_STORAGE);

    /* Null and wrong handles everywhere. */
    EXPECT_STATUS(wl_subgraph_init(&sg, 0, 0), WL_OK);
    EXPECT_STATUS(wl_composer_push(NULL, &sg), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_finish(NULL, &r), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_finish(c, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_report(NULL, &r), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_report(c, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_pending(c, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_pending((wl_composer *)&garbage, &pending), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_reset(NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_set_callback(NULL, NULL, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_free(NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_release(NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_subgraph_init(NULL, 0, 0), WL_ERR_NULL_POINTER);

    /* Stage 0: two concurrent subgraphs of 2 units each on the toy (8 units,
     * 16 W idle, 2 W per unit), 1e9 FP32 ops (1 pJ each: 1 mJ) and 0.5 ms,
     * 1e9 FP16 ops (0.5 mJ) and 1 ms. */
    EXPECT_STATUS(wl_subgraph_init(&sg, 1, 0), WL_OK);
    sg.has_units_allocated = 1;
    sg.units_allocated = 2;
    sg.flops = 1e9;
    sg.latency_s = 0.0005;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);
    sg.id = 2;
    sg.precision = WL_PRECISION_FP16;
    sg.latency_s = 0.001;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);

    /* Every bad subgraph is refused and changes nothing. */
    EXPECT_STATUS(wl_composer_report(c, &before), WL_OK);
    bad = sg; bad.flops = NAN;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_NOT_A_NUMBER);
    bad = sg; bad.latency_s = INFINITY;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_INFINITE);
    bad = sg; bad.input_bytes = -1.0;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_NEGATIVE);
    bad = sg; bad.units_allocated = 0;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_ZERO_ALLOCATION);
    bad = sg; bad.precision = WL_PRECISION_INT8;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_UNSUPPORTED_PRECISION);
    bad = sg; bad.precision = 12;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_OUT_OF_RANGE);
    bad = sg; bad.has_units_allocated = 0;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_LEGACY_SHARES_STAGE);
    bad = sg; bad.struct_size = 8;
    EXPECT_STATUS(wl_composer_push(c, &bad), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_composer_push(c, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_pending(c, &pending), WL_OK);
    EXPECT(pending == 2);
    EXPECT_STATUS(wl_composer_report(c, &after), WL_OK);
    EXPECT(memcmp(&before, &after, sizeof before) == 0);

    /* Finish: T = 1 ms. Static 16 W × 1 ms = 16 mJ (gating off), compute
     * 1 mJ + 0.5 mJ = 1.5 mJ, no bytes, no uncore: total 17.5 mJ. Active
     * unit-seconds 2·0.5 ms + 2·1 ms = 3e-3; idle-allocated 2·0.5 ms = 1e-3;
     * idle-unallocated 4·1 ms = 4e-3; sum 8e-3 = N·T. */
    memset(&rec, 0, sizeof rec);
    EXPECT_STATUS(wl_composer_set_callback(c, on_record, &rec), WL_OK);
    EXPECT_STATUS(wl_composer_finish(c, &r), WL_OK);
    EXPECT_NEAR(r.energy.total_j, 0.0175);
    EXPECT_NEAR(r.energy.compute_j, 0.0015);
    EXPECT_NEAR(r.energy.static_j, 0.016);
    EXPECT_NEAR(r.states[WL_STATE_ACTIVE].unit_seconds, 3e-3);
    EXPECT_NEAR(r.states[WL_STATE_IDLE_ALLOCATED].unit_seconds, 1e-3);
    EXPECT_NEAR(r.states[WL_STATE_IDLE_UNALLOCATED].unit_seconds, 4e-3);
    EXPECT(r.peak_units_allocated == 4);
    EXPECT(rec.stages == 1 && rec.subgraphs == 2);
    EXPECT_NEAR(rec.subgraph_total, 0.0175);

    /* Stages must not go backwards, nor reopen after finish. */
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_ERR_STAGE_OUT_OF_ORDER);

    /* Re-entry from the callback is refused with WL_ERR_BUSY. */
    rec.self = c;
    rec.reentry = WL_OK;
    sg.stage = 1;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);
    EXPECT_STATUS(wl_composer_finish(c, &r), WL_OK);
    EXPECT(rec.reentry == WL_ERR_BUSY);
    rec.self = NULL;
    EXPECT_STATUS(wl_composer_set_callback(c, NULL, NULL), WL_OK);

    /* A stage holds at most WL_STAGE_CAPACITY subgraphs. */
    EXPECT_STATUS(wl_composer_reset(c), WL_OK);
    EXPECT_STATUS(wl_composer_report(c, &r), WL_OK);
    EXPECT(r.stages == 0 && r.energy.total_j == 0.0);
    sg.stage = 0;
    sg.units_allocated = 1;
    for (i = 0; i < WL_STAGE_CAPACITY; ++i) {
        sg.id = (uint32_t)i;
        EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);
    }
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_ERR_STAGE_FULL);

    /* Overflow: a stage of 1e308 s costs 16 W × 1e308 s = +inf. */
    EXPECT_STATUS(wl_composer_reset(c), WL_OK);
    sg.latency_s = 1e308;
    sg.stage = 0;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);
    sg.stage = 1;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_ERR_OVERFLOW);
    EXPECT_STATUS(wl_composer_finish(c, &r), WL_ERR_OVERFLOW);
    EXPECT_STATUS(wl_composer_pending(c, &pending), WL_OK);
    EXPECT(pending == 1);

    /* The refused stage is dropped and the composer goes on. Stage 0 again,
     * 1 ms on one domain with gating off: 16 W x 1 ms = 16 mJ static, plus
     * 1e9 FP16 ops x 0.5 pJ = 0.5 mJ compute: 16.5 mJ. */
    EXPECT_STATUS(wl_composer_discard_pending(NULL, &pending), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_discard_pending(c, &pending), WL_OK);
    EXPECT(pending == 1);
    EXPECT_STATUS(wl_composer_discard_pending(c, NULL), WL_OK);
    EXPECT_STATUS(wl_composer_pending(c, &pending), WL_OK);
    EXPECT(pending == 0);
    sg.stage = 0;
    sg.latency_s = 0.001;
    EXPECT_STATUS(wl_composer_push(c, &sg), WL_OK);
    EXPECT_STATUS(wl_composer_finish(c, &r), WL_OK);
    EXPECT(r.stages == 1 && r.subgraphs == 1);
    EXPECT_NEAR(r.energy.total_j, 0.0165);
    EXPECT_NEAR(r.energy.compute_j, 0.0005);
    {
        /* An output struct from a later header: the library writes its own
         * size, says so in struct_size, and leaves the rest alone. */
        struct { wl_report r; double later_field; } big;
        big.r.struct_size = (uint32_t)sizeof big;
        big.later_field = -1.0;
        EXPECT_STATUS(wl_composer_report(c, &big.r), WL_OK);
        EXPECT(big.r.struct_size == WL_REPORT_SIZE_V1 && big.later_field == -1.0);
        EXPECT_NEAR(big.r.energy.total_j, 0.0165);
        big.r.struct_size = 8;
        EXPECT_STATUS(wl_composer_report(c, &big.r), WL_ERR_STRUCT_SIZE);
    }

    /* Release: the handle is dead, the storage the caller's. */
    EXPECT_STATUS(wl_composer_release(c), WL_OK);
    EXPECT_STATUS(wl_composer_release(c), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_reset(c), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_set_callback(c, NULL, NULL), WL_ERR_BAD_HANDLE);
    free(raw);
}

static wl_sample sample_at(uint64_t t_ns) {
    wl_sample s;
    memset(&s, 0, sizeof s);
    s.struct_size = (uint32_t)sizeof s;
    s.t_ns = t_ns;
    return s;
}

static void test_meter(void) {
    wl_meter_config cfg;
    wl_meter *m = NULL, *h = NULL;
    wl_sample s;
    wl_window_report w;
    size_t size = wl_meter_size(), align = wl_meter_align();
    unsigned char *raw = (unsigned char *)malloc(size + 2 * align);
    void *mem = raw + (align - ((size_t)raw % align)) % align;
    char name[16];
    int i;

    w.struct_size = (uint32_t)sizeof w;
    EXPECT_STATUS(wl_meter_config_init(&cfg), WL_OK);
    EXPECT(cfg.max_gap_ns == 1000000000ull && cfg.update_period_ns == 100000000ull);
    EXPECT_STATUS(wl_meter_config_init(NULL), WL_ERR_NULL_POINTER);
    cfg.device_uuid = "GPU-1234";
    cfg.has_idle_baseline = 1;
    cfg.idle_baseline_mw = 50000; /* 50 W */
    cfg.has_total_units = 1;
    cfg.total_units = 8;

    EXPECT_STATUS(wl_meter_init(mem, size - 1, &cfg, &m), WL_ERR_STORAGE_TOO_SMALL);
    EXPECT_STATUS(wl_meter_init((unsigned char *)mem + 1, size, &cfg, &m), WL_ERR_STORAGE_MISALIGNED);
    EXPECT_STATUS(wl_meter_init(NULL, size, &cfg, &m), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_init(mem, size, NULL, &m), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_init(mem, size, &cfg, NULL), WL_ERR_NULL_POINTER);
    cfg.struct_size = 4;
    EXPECT_STATUS(wl_meter_init(mem, size, &cfg, &m), WL_ERR_STRUCT_SIZE);
    cfg.struct_size = (uint32_t)sizeof cfg;
    cfg.device_uuid = BAD_UTF8;
    EXPECT_STATUS(wl_meter_init(mem, size, &cfg, &m), WL_ERR_BAD_UTF8);
    cfg.device_uuid = "GPU-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789";
    EXPECT_STATUS(wl_meter_init(mem, size, &cfg, &m), WL_ERR_NAME_TOO_LONG);
    cfg.device_uuid = "GPU-1234";
    EXPECT(m == NULL);
    EXPECT_STATUS(wl_meter_init(mem, size, &cfg, &m), WL_OK);
    EXPECT_STATUS(wl_meter_free(m), WL_ERR_WRONG_STORAGE);

    /* Counter: 1000 mJ at 0 s, 3000 mJ at 1 s: the window holds 2 J over
     * 1 s, all covered. Baseline 50 W × 1 s = 50 J > 2 J: idle part 50 J,
     * dynamic clamped to 0 and the below-baseline flag. Gated 2 of 8 units
     * over 1 s: 2 gated unit-seconds, 6 powered. */
    s = sample_at(0);
    s.has_energy = 1; s.energy_mj = 1000;
    s.has_gated_units = 1; s.gated_units = 2;
    EXPECT_STATUS(wl_meter_ingest(m, &s), WL_OK);
    EXPECT_STATUS(wl_meter_begin(m, "phase"), WL_OK);
    EXPECT_STATUS(wl_meter_begin(m, "phase"), WL_ERR_WINDOW_ALREADY_OPEN);
    EXPECT_STATUS(wl_meter_begin_id(m, 7), WL_OK);
    EXPECT_STATUS(wl_meter_begin_id(m, 7), WL_ERR_WINDOW_ALREADY_OPEN);
    s = sample_at(1000000000ull);
    s.has_energy = 1; s.energy_mj = 3000;
    s.has_gated_units = 1; s.gated_units = 2;
    EXPECT_STATUS(wl_meter_ingest(m, &s), WL_OK);
    EXPECT_STATUS(wl_meter_peek(m, "phase", &w), WL_OK);
    EXPECT_NEAR(w.energy_j, 2.0);
    EXPECT_STATUS(wl_meter_end(m, "phase", &w), WL_OK);
    EXPECT(w.is_named == 1 && strcmp(w.name, "phase") == 0);
    EXPECT(w.duration_ns == 1000000000ull && w.covered_ns == 1000000000ull);
    EXPECT_NEAR(w.energy_j, 2.0);
    EXPECT_NEAR(w.coverage, 1.0);
    EXPECT(w.method == WL_METHOD_COUNTER);
    EXPECT(w.has_split == 1);
    EXPECT_NEAR(w.idle_j, 50.0);
    EXPECT(w.dynamic_j == 0.0);
    EXPECT((w.flags & WL_WINDOW_BELOW_BASELINE) != 0);
    EXPECT(w.has_units == 1);
    EXPECT_NEAR(w.gated_unit_s, 2.0);
    EXPECT_NEAR(w.powered_unit_s, 6.0);
    EXPECT(w.is_mig == 0 && strcmp(w.device_uuid, "GPU-1234") == 0);
    EXPECT(strcmp(w.parent_uuid, "GPU-1234") == 0);
    EXPECT_STATUS(wl_meter_end(m, "phase", &w), WL_ERR_WINDOW_NOT_OPEN);
    EXPECT_STATUS(wl_meter_end_id(m, 7, &w), WL_OK);
    EXPECT(w.is_named == 0 && w.number == 7);
    EXPECT_STATUS(wl_meter_end_id(m, 7, &w), WL_ERR_WINDOW_NOT_OPEN);
    EXPECT_STATUS(wl_meter_end_id(m, 8, NULL), WL_ERR_NULL_POINTER);

    /* Refused samples change nothing. */
    s = sample_at(5);
    EXPECT_STATUS(wl_meter_ingest(m, &s), WL_ERR_TIME_WENT_BACK);
    s = sample_at(2000000000ull);
    s.has_gated_units = 1; s.gated_units = 9;
    EXPECT_STATUS(wl_meter_ingest(m, &s), WL_ERR_GATED_EXCEEDS_TOTAL);
    s.struct_size = 4;
    EXPECT_STATUS(wl_meter_ingest(m, &s), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_meter_ingest(m, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_ingest(NULL, &s), WL_ERR_NULL_POINTER);

    /* Names: too long, bad UTF-8, NULL; windows: at most WL_WINDOW_CAPACITY. */
    EXPECT_STATUS(wl_meter_begin(m, "a-window-name-of-thirty-three-by"), WL_OK);
    EXPECT_STATUS(wl_meter_begin(m, "a-window-name-of-thirty-four-byte"), WL_ERR_NAME_TOO_LONG);
    EXPECT_STATUS(wl_meter_begin(m, BAD_UTF8), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_meter_begin(m, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_end(m, BAD_UTF8, &w), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_meter_end(m, "x", NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_peek(m, "none", &w), WL_ERR_WINDOW_NOT_OPEN);
    for (i = 1; i < WL_WINDOW_CAPACITY; ++i) {
        snprintf(name, sizeof name, "w%d", i);
        EXPECT_STATUS(wl_meter_begin(m, name), WL_OK);
    }
    EXPECT_STATUS(wl_meter_begin(m, "one-more"), WL_ERR_TOO_MANY_WINDOWS);
    EXPECT_STATUS(wl_meter_begin_id(m, 1), WL_ERR_TOO_MANY_WINDOWS);

    /* Lost device: the open windows say so. */
    EXPECT_STATUS(wl_meter_mark_device_lost(m), WL_OK);
    EXPECT_STATUS(wl_meter_end(m, "w1", &w), WL_OK);
    EXPECT((w.flags & WL_WINDOW_DEVICE_LOST) != 0);
    EXPECT_STATUS(wl_meter_mark_device_lost(NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_release(m), WL_OK);
    EXPECT_STATUS(wl_meter_release(m), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_meter_begin(m, "after"), WL_ERR_BAD_HANDLE);

    /* Heap meter, MIG instance, power only: 100 W at 0 s and 200 W at 1 s
     * integrate by the trapezoid to (100 + 200)/2 × 1 = 150 J. */
    EXPECT_STATUS(wl_meter_config_init(&cfg), WL_OK);
    cfg.is_mig = 1;
    cfg.device_uuid = "MIG-aaaa";
    cfg.parent_uuid = "GPU-bbbb";
    cfg.profile = "3g.40gb";
    EXPECT_STATUS(wl_meter_new(&cfg, &h), WL_OK);
    EXPECT_STATUS(wl_meter_new(&cfg, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_meter_new(NULL, &h), WL_ERR_NULL_POINTER);
    s = sample_at(0); s.has_power = 1; s.power_mw = 100000;
    EXPECT_STATUS(wl_meter_ingest(h, &s), WL_OK);
    EXPECT_STATUS(wl_meter_begin(h, "p"), WL_OK);
    s = sample_at(1000000000ull); s.has_power = 1; s.power_mw = 200000;
    EXPECT_STATUS(wl_meter_ingest(h, &s), WL_OK);
    EXPECT_STATUS(wl_meter_end(h, "p", &w), WL_OK);
    EXPECT_NEAR(w.energy_j, 150.0);
    EXPECT(w.method == WL_METHOD_POWER);
    EXPECT(w.is_mig == 1 && strcmp(w.profile, "3g.40gb") == 0);
    EXPECT(strcmp(w.parent_uuid, "GPU-bbbb") == 0);
    EXPECT((w.flags & WL_WINDOW_MIG_PARENT_ENERGY) != 0);
    EXPECT_STATUS(wl_meter_release(h), WL_ERR_WRONG_STORAGE);
    /* A meter handle is not a composer handle. */
    EXPECT_STATUS(wl_composer_reset((wl_composer *)h), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_meter_free(h), WL_OK);
    EXPECT_STATUS(wl_meter_free(h), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_meter_free(NULL), WL_ERR_NULL_POINTER);
    free(raw);
}

void test_mig(int *checks_, int *failures_);
void test_timeline(int *checks_, int *failures_);

/* wl_composer_push_all: a slice gives what one push per subgraph gives,
 * stops at the first refused subgraph saying how many went in, and checks
 * its pointers before adding anything. */
static void test_composer_push_all(void) {
    wl_hardware hw;
    wl_composer *one = NULL, *all = NULL;
    wl_subgraph sgs[3];
    wl_report r1, r2;
    size_t pushed = 99, pending = 9, i;
    r1.struct_size = (uint32_t)sizeof r1;
    r2.struct_size = (uint32_t)sizeof r2;
    EXPECT_STATUS(wl_hardware_from_preset("seed-h100", &hw), WL_OK);
    EXPECT_STATUS(wl_composer_new(&hw, WL_POLICY_ALWAYS, &one), WL_OK);
    EXPECT_STATUS(wl_composer_new(&hw, WL_POLICY_ALWAYS, &all), WL_OK);
    /* Stage 0 holds subgraphs 0 and 1 (24 + 40 SMs), stage 1 subgraph 2. */
    for (i = 0; i < 3; i++) {
        EXPECT_STATUS(wl_subgraph_init(&sgs[i], (uint32_t)i, i < 2 ? 0u : 1u), WL_OK);
        sgs[i].has_units_allocated = 1;
        sgs[i].units_allocated = 24u + 16u * (uint32_t)i;
        sgs[i].latency_s = 0.001 * (double)(i + 1);
        sgs[i].flops = 1e9;
        EXPECT_STATUS(wl_composer_push(one, &sgs[i]), WL_OK);
    }
    EXPECT_STATUS(wl_composer_push_all(all, sgs, 3, &pushed), WL_OK);
    EXPECT(pushed == 3);
    EXPECT_STATUS(wl_composer_finish(one, &r1), WL_OK);
    EXPECT_STATUS(wl_composer_finish(all, &r2), WL_OK);
    /* Same arithmetic in the same order: equal to the bit. */
    EXPECT(r1.energy.total_j == r2.energy.total_j && r1.energy.total_j > 0.0);
    EXPECT(r1.stages == 2 && r2.stages == 2 && r2.subgraphs == 3);

    /* Pointers first: nothing is added. */
    EXPECT_STATUS(wl_composer_reset(all), WL_OK);
    EXPECT_STATUS(wl_composer_push_all(all, sgs, 3, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_push_all(all, NULL, 3, &pushed), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_push_all(NULL, sgs, 3, &pushed), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_composer_pending(all, &pending), WL_OK);
    EXPECT(pending == 0);
    /* An empty slice adds nothing and succeeds, even with NULL. */
    EXPECT_STATUS(wl_composer_push_all(all, NULL, 0, &pushed), WL_OK);
    EXPECT(pushed == 0);

    /* The second subgraph is refused: the first stays, the third is not tried. */
    sgs[1].latency_s = -1.0;
    EXPECT_STATUS(wl_composer_push_all(all, sgs, 3, &pushed), WL_ERR_NEGATIVE);
    EXPECT(pushed == 1);
    EXPECT_STATUS(wl_composer_pending(all, &pending), WL_OK);
    EXPECT(pending == 1);
    /* An element whose struct_size differs from the first one's. */
    sgs[1].latency_s = 0.002;
    sgs[1].struct_size = 8;
    EXPECT_STATUS(wl_composer_reset(all), WL_OK);
    EXPECT_STATUS(wl_composer_push_all(all, sgs, 3, &pushed), WL_ERR_STRUCT_SIZE);
    EXPECT(pushed == 1);
    EXPECT_STATUS(wl_composer_free(one), WL_OK);
    EXPECT_STATUS(wl_composer_free(all), WL_OK);
}

int main(void) {
    test_version_and_status();
    test_presets();
    test_precisions_policies_states();
    test_hardware();
    test_seed_worked_example();
    test_composer_errors();
    test_composer_push_all();
    test_meter();
#ifdef WL_TEST_MIG
    test_mig(&checks, &failures);
#endif
#ifdef WL_TEST_TIMELINE
    test_timeline(&checks, &failures);
#endif
    printf("test_api: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
