/*
 * The timeline part of the C API tests (ABI 1.1): the launch mapper, the
 * timeline composer on the hand-worked three-kernel timeline of
 * core/tests/timeline_rules.rs, refusals that change nothing, bad handles,
 * short structs and caller storage. Valid C99 and C++17; linked with
 * test_api.c, which owns main().
 */
#include "wattledger.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int *g_checks;
static int *g_failures;

#define EXPECT(cond)                                                              \
    do {                                                                          \
        ++*g_checks;                                                              \
        if (!(cond)) {                                                            \
            ++*g_failures;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                         \
    } while (0)

#define EXPECT_STATUS(call, want)                                                 \
    do {                                                                          \
        wl_status got_ = (call);                                                  \
        ++*g_checks;                                                              \
        if (got_ != (wl_status)(want)) {                                          \
            ++*g_failures;                                                        \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, \
                    #call, wl_status_name(got_), wl_status_name(want));           \
        }                                                                         \
    } while (0)

#define EXPECT_NEAR(got, want)                                                    \
    do {                                                                          \
        double g_ = (got), w_ = (want);                                           \
        double s_ = fabs(w_) > 1.0 ? fabs(w_) : 1.0;                              \
        ++*g_checks;                                                              \
        if (!(fabs(g_ - w_) <= 1e-9 * s_)) {                                      \
            ++*g_failures;                                                        \
            fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g\n", __FILE__, __LINE__, \
                    #got, g_, w_);                                                \
        }                                                                         \
    } while (0)

#define SEC 1000000000ull

static void launch_mapper(void) {
    wl_device_limits a100, zero;
    wl_launch l;
    wl_occupancy o;
    wl_device d = 99;

    EXPECT(WL_DEVICE_COUNT == 7);
    a100.struct_size = sizeof a100;
    EXPECT_STATUS(wl_device_limits_get(WL_DEVICE_A100, &a100), WL_OK);
    EXPECT(a100.sms == 108 && a100.shared_memory_per_sm == 164 * 1024);
    EXPECT_STATUS(wl_device_limits_get(WL_DEVICE_COUNT, &a100), WL_ERR_OUT_OF_RANGE);
    zero.struct_size = WL_DEVICE_LIMITS_SIZE_V1 - 4;
    EXPECT_STATUS(wl_device_limits_get(WL_DEVICE_H100, &zero), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_device_from_name("NVIDIA A100-SXM4-80GB", &d), WL_OK);
    EXPECT(d == WL_DEVICE_A100);
    EXPECT_STATUS(wl_device_from_name("Radeon", &d), WL_ERR_UNKNOWN_NAME);
    EXPECT(d == WL_DEVICE_A100);

    /* 1000 blocks of 256 threads (8 warps), 32 registers a thread: a warp
     * takes 1024 registers, 16 KiB / 1024 = 16 warps a sub-partition, 64 an
     * SM, the warp limit: 8 blocks an SM, 864 a wave on 108 SMs, 2 waves. */
    memset(&l, 0, sizeof l);
    l.struct_size = sizeof l;
    l.grid_x = 1000; l.grid_y = 1; l.grid_z = 1;
    l.block_x = 256; l.block_y = 1; l.block_z = 1;
    l.registers_per_thread = 32;
    o.struct_size = sizeof o;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_OK);
    EXPECT(o.resident_blocks_per_sm == 8 && o.limiter == WL_LIMITER_WARPS);
    EXPECT(o.blocks == 1000 && o.waves == 2);
    EXPECT(o.units_allocated == 108 && o.tail_units == 108);
    EXPECT(o.struct_size == WL_OCCUPANCY_SIZE_V1);
    /* 20 blocks: 20 SMs. */
    l.grid_x = 20;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_OK);
    EXPECT(o.units_allocated == 20 && o.waves == 1);
    /* Launches CUDA refuses; the output stays as it was. */
    l.block_x = 2048;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_ERR_BLOCK_TOO_LARGE);
    EXPECT(o.units_allocated == 20);
    l.block_x = 0;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_ERR_EMPTY_LAUNCH);
    l.block_x = 128; l.registers_per_thread = 300;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_ERR_TOO_MANY_REGISTERS);
    l.registers_per_thread = 32; l.dynamic_shared_bytes = 200 * 1024;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_ERR_SHARED_MEMORY_TOO_LARGE);
    zero = a100;
    zero.sms = 0;
    l.dynamic_shared_bytes = 0;
    EXPECT_STATUS(wl_launch_map(&zero, &l, &o), WL_ERR_BAD_DEVICE_LIMITS);
    EXPECT_STATUS(wl_launch_map(NULL, &l, &o), WL_ERR_NULL_POINTER);
    l.struct_size = 8;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_ERR_STRUCT_SIZE);
    l.struct_size = sizeof l;
    o.struct_size = 4;
    EXPECT_STATUS(wl_launch_map(&a100, &l, &o), WL_ERR_STRUCT_SIZE);
}

/* The core test's toy: 8 units in domains of 2; static 8 W (1 W a unit),
 * uncore 4 W, active 16 W (2 W a unit); FP32 1 nJ an op, 1 nJ a byte;
 * 1 J a transition, 0.5 s to wake: break-even 2*1/2 + 0.5 = 1.5 s. */
static wl_hardware toy(void) {
    wl_hardware_spec s;
    wl_hardware hw;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.units = 8;
    s.gating_domain = 2;
    s.threads_per_unit = 2048;
    strcpy(s.name, "toy");
    strcpy(s.unit_name, "SM");
    s.supported_precisions = 1u << WL_PRECISION_FP32;
    s.can_gate = 1;
    s.idle_power_w = 8.0;
    s.uncore_power_w = 4.0;
    s.active_power_w = 16.0;
    s.energy_per_op_j[WL_PRECISION_FP32] = 1e-9;
    s.energy_per_byte_j = 1e-9;
    s.transition_energy_j = 1.0;
    s.wake_latency_s = 0.5;
    s.nominal_voltage_v = 1.0;
    s.nominal_frequency_mhz = 1000.0;
    s.voltage_v = 1.0;
    s.frequency_mhz = 1000.0;
    s.leakage_exponent = 1.0;
    memset(&hw, 0, sizeof hw);
    EXPECT_STATUS(wl_hardware_new(&s, &hw), WL_OK);
    return hw;
}

struct records {
    wl_kernel_record r[8];
    int n;
};

static void on_kernel(void *user, const wl_kernel_record *r) {
    struct records *rec = (struct records *)user;
    if (rec->n < 8) {
        rec->r[rec->n++] = *r;
    }
}

/* A [0, 2 s) on 4 units without FLOPs; B [1, 3 s) on 2 units with 1e9 FP32
 * FLOPs and 1e9 bytes (1 J each), stream 7; nothing [3, 5 s); C [5, 6 s)
 * on all 8. */
static void three_kernels(wl_kernel k[3]) {
    wl_kernel_init(&k[0], 1, 0, 2 * SEC, 4);
    wl_kernel_init(&k[1], 2, 1 * SEC, 3 * SEC, 2);
    k[1].has_flops = 1;
    k[1].flops = 1e9;
    k[1].precision = WL_PRECISION_FP32;
    k[1].bytes = 1e9;
    k[1].stream = 7;
    wl_kernel_init(&k[2], 3, 5 * SEC, 6 * SEC, 8);
}

static const wl_kernel_record *by_id(const struct records *rec, uint64_t id) {
    int i;
    for (i = 0; i < rec->n; ++i) {
        if (rec->r[i].id == id) {
            return &rec->r[i];
        }
    }
    return NULL;
}

static void run(wl_timeline_policy policy, wl_timeline_report *r, struct records *rec) {
    wl_hardware hw = toy();
    wl_timeline *t = NULL;
    wl_kernel k[3];
    int i;
    rec->n = 0;
    three_kernels(k);
    EXPECT_STATUS(wl_timeline_new(&hw, policy, 0, &t), WL_OK);
    EXPECT_STATUS(wl_timeline_set_callback(t, on_kernel, rec), WL_OK);
    for (i = 0; i < 3; ++i) {
        EXPECT_STATUS(wl_timeline_push(t, &k[i]), WL_OK);
    }
    r->struct_size = sizeof *r;
    EXPECT_STATUS(wl_timeline_finish(t, r), WL_OK);
    EXPECT_STATUS(wl_timeline_free(t), WL_OK);
}

static void hand_worked_timeline(void) {
    wl_timeline_report r;
    struct records rec;
    const wl_kernel_record *a, *b, *c;

    /* Off, as core/tests/timeline_rules.rs works it out:
     * [0,1) A alone on 2 domains: pool uncore 4 + idle static 4 = 8, 4 a domain.
     * [1,2) A+B on 3 domains: pool 4 + 2 = 6, 2 a domain.
     * A: own static 4 units * 2 s = 8, active 2 W * 4 * 2 s = 16,
     *    shared 2 * (4 + 2) = 12: 36.
     * [2,3) B alone: pool 4 + 6 = 10 on its domain.
     * B: own 4, FLOPs 1, bytes 1, shared 2 + 10 = 12: 18.
     * [3,5) nothing: idle bucket 2 s, uncore 8 + static 16 = 24.
     * C: own 8, active 16, shared uncore 4: 28.  Total 36 + 18 + 24 + 28 = 106. */
    run(WL_TIMELINE_POLICY_OFF, &r, &rec);
    EXPECT(rec.n == 3);
    a = by_id(&rec, 1);
    b = by_id(&rec, 2);
    c = by_id(&rec, 3);
    EXPECT(a != NULL && b != NULL && c != NULL);
    if (a != NULL && b != NULL && c != NULL) {
        EXPECT_NEAR(a->total_energy_j, 36.0);
        EXPECT_NEAR(a->own_static_energy_j, 8.0);
        EXPECT_NEAR(a->active_energy_j, 16.0);
        EXPECT_NEAR(a->shared_energy_j, 12.0);
        EXPECT_NEAR(b->total_energy_j, 18.0);
        EXPECT_NEAR(b->compute_energy_j, 1.0);
        EXPECT_NEAR(b->memory_energy_j, 1.0);
        EXPECT(b->stream == 7 && b->start_ns == SEC && b->end_ns == 3 * SEC);
        EXPECT(b->units == 2 && b->kind == WL_KERNEL_KIND_KERNEL);
        EXPECT_NEAR(c->total_energy_j, 28.0);
        EXPECT(a->struct_size == sizeof(wl_kernel_record));
        /* The kernels plus the idle bucket are the total. */
        EXPECT_NEAR(a->total_energy_j + b->total_energy_j + c->total_energy_j + r.idle_energy_j,
                    r.energy.total_j);
    }
    EXPECT(r.struct_size == WL_TIMELINE_REPORT_SIZE_V1);
    EXPECT(r.units == 8 && r.policy == WL_TIMELINE_POLICY_OFF);
    EXPECT(r.kernels == 3 && r.copies == 0 && r.transitions == 0);
    EXPECT(r.peak_units_allocated == 8);
    EXPECT_NEAR(r.span_s, 6.0);
    EXPECT_NEAR(r.busy_s, 4.0);
    EXPECT_NEAR(r.idle_s, 2.0);
    EXPECT_NEAR(r.idle_energy_j, 24.0);
    /* Static 8 W * 6 s; uncore 4 W * 6 s; dynamic: FLOPs 1 + active 8 + 8 + 16. */
    EXPECT_NEAR(r.energy.static_j, 48.0);
    EXPECT_NEAR(r.energy.uncore_j, 24.0);
    EXPECT_NEAR(r.active_energy_j, 32.0);
    EXPECT_NEAR(r.energy.compute_j, 33.0);
    EXPECT_NEAR(r.energy.memory_j, 1.0);
    EXPECT_NEAR(r.energy.total_j, 106.0);
    /* Active unit-seconds 4 + 6 + 2 + 0 + 8 = 20 of 8 * 6 = 48. */
    EXPECT_NEAR(r.states[WL_STATE_ACTIVE].unit_seconds, 20.0);
    EXPECT_NEAR(r.states[WL_STATE_IDLE_UNALLOCATED].unit_seconds, 28.0);
    EXPECT_NEAR(r.states[WL_STATE_IDLE_ALLOCATED].unit_seconds, 0.0);
    EXPECT_NEAR(r.states[WL_STATE_GATED].unit_seconds, 0.0);

    /* Always: every free domain gated at once; B's wake at 1 s costs 2 J of
     * transitions + 1 J of wake window, C's at 5 s 8 + 4 J. A 32 2/3,
     * B 12 1/3, idle uncore 8, C 40: 93 J, 10 transitions, 23 gated unit-s. */
    run(WL_TIMELINE_POLICY_ALWAYS, &r, &rec);
    a = by_id(&rec, 1);
    b = by_id(&rec, 2);
    c = by_id(&rec, 3);
    if (a != NULL && b != NULL && c != NULL) {
        EXPECT_NEAR(a->total_energy_j, 32.0 + 2.0 / 3.0);
        EXPECT_NEAR(b->total_energy_j, 12.0 + 1.0 / 3.0);
        EXPECT_NEAR(c->total_energy_j, 40.0);
    }
    EXPECT_NEAR(r.idle_energy_j, 8.0);
    EXPECT_NEAR(r.energy.total_j, 93.0);
    EXPECT_NEAR(r.energy.transition_j, 10.0);
    EXPECT_NEAR(r.energy.savings_j, 23.0);
    EXPECT_NEAR(r.states[WL_STATE_GATED].unit_seconds, 23.0);
    EXPECT_NEAR(r.states[WL_STATE_TRANSITIONING].unit_seconds, 5.0);
    EXPECT(r.transitions == 10 && r.idle_periods == 5);
    EXPECT((r.flags & WL_TIMELINE_FLAG_GATED_DOMAINS) != 0);
    EXPECT((r.flags & WL_TIMELINE_FLAG_WOKE_DOMAINS) != 0);
    EXPECT((r.flags & WL_TIMELINE_FLAG_WAKE_LATE) == 0);

    /* Oracle: B's domain was idle 1 s <= 1.5 s, powered (2 J); C's four had
     * been idle 4, 3, 3, 2 s, all gated. A 32, B 12, idle 8, C 40: 92 J. */
    run(WL_TIMELINE_POLICY_ORACLE, &r, &rec);
    a = by_id(&rec, 1);
    b = by_id(&rec, 2);
    c = by_id(&rec, 3);
    if (a != NULL && b != NULL && c != NULL) {
        EXPECT_NEAR(a->total_energy_j, 32.0);
        EXPECT_NEAR(b->total_energy_j, 12.0);
        EXPECT_NEAR(c->total_energy_j, 40.0);
    }
    EXPECT_NEAR(r.energy.total_j, 92.0);
    EXPECT_NEAR(r.energy.transition_j, 8.0);
}

/* The report as bytes, for "nothing changed" checks. */
static int same_report(wl_timeline *t, const wl_timeline_report *before) {
    wl_timeline_report now;
    memset(&now, 0, sizeof now);
    now.struct_size = sizeof now;
    if (wl_timeline_get_report(t, &now) != WL_OK) {
        return 0;
    }
    return memcmp(&now, before, sizeof now) == 0;
}

static void refusals_and_handles(void) {
    wl_hardware hw = toy();
    wl_timeline *t = (wl_timeline *)0, *bad;
    wl_composer *comp = NULL;
    wl_timeline_report before, r;
    wl_kernel k, good;
    size_t n = 0;
    uint64_t be = 0;
    void *raw;
    unsigned char *mem;
    wl_timeline_policy p = 99;

    EXPECT(strcmp(wl_timeline_policy_name(WL_TIMELINE_POLICY_TIMEOUT), "timeout") == 0);
    EXPECT(wl_timeline_policy_name(4) == NULL);
    EXPECT_STATUS(wl_timeline_policy_from_name("oracle", &p), WL_OK);
    EXPECT(p == WL_TIMELINE_POLICY_ORACLE);
    EXPECT_STATUS(wl_timeline_policy_from_name("break-even", &p), WL_ERR_UNKNOWN_NAME);
    EXPECT(p == WL_TIMELINE_POLICY_ORACLE);

    /* Caller storage, the way firmware makes one. */
    raw = malloc(wl_timeline_size() + wl_timeline_align());
    mem = (unsigned char *)raw;
    while (((size_t)mem) % wl_timeline_align() != 0) {
        ++mem;
    }
    EXPECT_STATUS(wl_timeline_init(mem, wl_timeline_size() - 1, &hw, 0, 0, &t),
                  WL_ERR_STORAGE_TOO_SMALL);
    EXPECT_STATUS(wl_timeline_init(NULL, wl_timeline_size(), &hw, 0, 0, &t), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_timeline_init(mem, wl_timeline_size(), &hw, 4, 0, &t), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_timeline_init(mem, wl_timeline_size(), &hw, 0, 0, NULL), WL_ERR_NULL_POINTER);
    EXPECT(t == NULL);
    EXPECT_STATUS(wl_timeline_init(mem, wl_timeline_size(), &hw, WL_TIMELINE_POLICY_TIMEOUT,
                                   10, &t), WL_OK);
    EXPECT_STATUS(wl_timeline_break_even_ns(t, &be), WL_OK);
    EXPECT(be == 3 * SEC / 2);

    wl_kernel_init(&k, 1, 10, 20, 4);
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_OK);
    memset(&before, 0, sizeof before);
    before.struct_size = sizeof before;
    EXPECT_STATUS(wl_timeline_get_report(t, &before), WL_OK);

    /* Each refused kernel leaves the timeline as it was. */
    wl_kernel_init(&good, 2, 15, 30, 2);
    k = good; k.start_ns = 9;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_TIME_WENT_BACK);
    k = good; k.end_ns = 14;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_END_BEFORE_START);
    k = good; k.units = 0;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_ZERO_ALLOCATION);
    k = good; k.bytes = -1.0;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_NEGATIVE);
    k = good; k.bytes = NAN;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_NOT_A_NUMBER);
    k = good; k.has_flops = 1; k.flops = INFINITY;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_INFINITE);
    k = good; k.has_flops = 1; k.precision = WL_PRECISION_FP8;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_UNSUPPORTED_PRECISION);
    k = good; k.has_flops = 1; k.precision = WL_PRECISIONS;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_OUT_OF_RANGE);
    k = good; k.kind = 7;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_OUT_OF_RANGE);
    k = good; k.kind = WL_KERNEL_KIND_COPY;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_COPY_WITH_WORK);
    k = good; k.struct_size = WL_KERNEL_SIZE_V1 - 1;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_timeline_push(t, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_timeline_advance(t, 5), WL_ERR_TIME_WENT_BACK);
    r.struct_size = WL_TIMELINE_REPORT_SIZE_V1 - 8;
    r.kernels = 77;
    EXPECT_STATUS(wl_timeline_get_report(t, &r), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_timeline_finish(t, &r), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_timeline_finish(t, NULL), WL_ERR_NULL_POINTER);
    EXPECT(r.kernels == 77);
    EXPECT(same_report(t, &before));
    EXPECT_STATUS(wl_timeline_in_flight(t, &n), WL_OK);
    EXPECT(n == 1);

    /* A copy on no units is fine; it ends kernel 1 at 20. */
    wl_kernel_init(&k, 3, 20, 25, 0);
    k.kind = WL_KERNEL_KIND_COPY;
    k.bytes = 1e6;
    EXPECT_STATUS(wl_timeline_push(t, &k), WL_OK);
    EXPECT_STATUS(wl_timeline_in_flight(t, &n), WL_OK);
    EXPECT(n == 1);
    r.struct_size = sizeof r;
    EXPECT_STATUS(wl_timeline_finish(t, &r), WL_OK);
    EXPECT(r.kernels == 1 && r.copies == 1);
    /* Span from the origin 10 ns to the copy's end at 25 ns. */
    EXPECT_NEAR(r.span_s, 15e-9);
    memcpy(&before, &r, sizeof r);
    EXPECT_STATUS(wl_timeline_finish(t, &r), WL_ERR_FINISHED);
    EXPECT_STATUS(wl_timeline_push(t, &good), WL_ERR_FINISHED);
    EXPECT_STATUS(wl_timeline_advance(t, 100), WL_ERR_FINISHED);
    EXPECT(same_report(t, &before));
    EXPECT_STATUS(wl_timeline_reset(t, 0), WL_OK);
    EXPECT_STATUS(wl_timeline_push(t, &good), WL_OK);

    /* Handles: wrong storage, wrong kind, released, NULL, made-up. */
    EXPECT_STATUS(wl_timeline_free(t), WL_ERR_WRONG_STORAGE);
    EXPECT_STATUS(wl_composer_new(&hw, WL_POLICY_OFF, &comp), WL_OK);
    EXPECT_STATUS(wl_timeline_reset((wl_timeline *)comp, 0), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_reset((wl_composer *)t), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_composer_free(comp), WL_OK);
    EXPECT_STATUS(wl_timeline_release(t), WL_OK);
    EXPECT_STATUS(wl_timeline_release(t), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_timeline_push(t, &good), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_timeline_get_report(t, &r), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_timeline_set_callback(t, NULL, NULL), WL_ERR_BAD_HANDLE);
    bad = (wl_timeline *)(void *)&hw;
    EXPECT_STATUS(wl_timeline_advance(bad, 0), WL_ERR_BAD_HANDLE);
    EXPECT_STATUS(wl_timeline_advance(NULL, 0), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_timeline_in_flight(NULL, &n), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_timeline_free(NULL), WL_ERR_NULL_POINTER);
    free(raw);

    /* A heap timeline freed twice. */
    EXPECT_STATUS(wl_timeline_new(&hw, WL_TIMELINE_POLICY_ALWAYS, 0, &t), WL_OK);
    EXPECT_STATUS(wl_timeline_release(t), WL_ERR_WRONG_STORAGE);
    EXPECT_STATUS(wl_timeline_free(t), WL_OK);
    EXPECT_STATUS(wl_timeline_free(t), WL_ERR_BAD_HANDLE);
}

void test_timeline(int *checks_, int *failures_);

void test_timeline(int *checks_, int *failures_) {
    g_checks = checks_;
    g_failures = failures_;
    launch_mapper();
    hand_worked_timeline();
    refusals_and_handles();
}
