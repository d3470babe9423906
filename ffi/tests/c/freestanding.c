/*
 * A program with no C library at all (-ffreestanding -nostdlib -static)
 * that uses libwattledger built without std: hardware from a preset, a
 * composer, a meter and a timeline in static storage, the seed's worked
 * example.
 * It supplies the five mem* functions and nothing else; if the library
 * needed anything more, the link would fail (and run.sh checks `nm -u`).
 * Linux x86-64.
 */
#include <stddef.h>
#include <stdint.h>

#include "wattledger.h"

void *memcpy(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; if (a < b) { while (n--) *a++ = *b++; } else { a += n; b += n; while (n--) *--a = *--b; } return d; }
void *memset(void *d, int c, size_t n) { unsigned char *a = d; while (n--) *a++ = (unsigned char)c; return d; }
int memcmp(const void *x, const void *y, size_t n) { const unsigned char *a = x, *b = y; for (; n; n--, a++, b++) if (*a != *b) return *a - *b; return 0; }
int bcmp(const void *x, const void *y, size_t n) { return memcmp(x, y, n); }

static long sys_exit(long code) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(60), "D"(code) : "rcx", "r11", "memory"); return r; }

/* Storage for one composer and one meter; sizes are checked at run time. */
static _Alignas(64) unsigned char composer_mem[16384];
static _Alignas(64) unsigned char meter_mem[16384];
static _Alignas(64) unsigned char timeline_mem[32768];

static int near(double got, double want) {
    double d = got - want;
    if (d < 0) d = -d;
    return d <= 1e-12;
}

static int run(void) {
    wl_hardware hw;
    wl_composer *c;
    wl_meter *m;
    wl_meter_config cfg;
    wl_subgraph sg;
    wl_sample s;
    wl_report r;
    wl_window_report w;
    wl_timeline *tl;
    wl_kernel k;
    wl_timeline_report tr;
    const double t = 0.01;

    r.struct_size = sizeof r;
    w.struct_size = sizeof w;

    if (wl_composer_size() > sizeof composer_mem || wl_composer_align() > 64) return 10;
    if (wl_meter_size() > sizeof meter_mem || wl_meter_align() > 64) return 11;
    if (wl_hardware_from_preset("seed-h100", &hw) != WL_OK) return 12;
    if (wl_composer_init(composer_mem, sizeof composer_mem, &hw, WL_POLICY_ALWAYS, &c) != WL_OK) return 13;
    /* Without std there is no heap: *_new says so. */
    if (wl_composer_new(&hw, WL_POLICY_OFF, &c) != WL_ERR_NOT_SUPPORTED) return 14;
    wl_subgraph_init(&sg, 1, 0);
    sg.has_units_allocated = 1;
    sg.units_allocated = 24;
    sg.latency_s = t;
    if (wl_composer_push(c, &sg) != WL_OK) return 15;
    sg.latency_s = -1.0;
    if (wl_composer_push(c, &sg) != WL_ERR_NEGATIVE) return 16;
    if (wl_composer_finish(c, &r) != WL_OK) return 17;
    /* Gating always: static 300·24/132·t, saving 300·108/132·t. */
    if (!near(r.energy.static_j, 300.0 * 24.0 / 132.0 * t)) return 18;
    if (!near(r.energy.savings_j, 300.0 * 108.0 / 132.0 * t)) return 19;
    if (wl_composer_release(c) != WL_OK) return 20;
    if (wl_composer_release(c) != WL_ERR_BAD_HANDLE) return 21;

    /* Meter: 1000 mJ → 3500 mJ over 1 s is 2.5 J. */
    wl_meter_config_init(&cfg);
    if (wl_meter_init(meter_mem, sizeof meter_mem, &cfg, &m) != WL_OK) return 22;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.has_energy = 1;
    s.energy_mj = 1000;
    if (wl_meter_ingest(m, &s) != WL_OK) return 23;
    if (wl_meter_begin_id(m, 1) != WL_OK) return 24;
    s.t_ns = 1000000000ull;
    s.energy_mj = 3500;
    if (wl_meter_ingest(m, &s) != WL_OK) return 25;
    if (wl_meter_end_id(m, 1, &w) != WL_OK) return 26;
    if (!near(w.energy_j, 2.5)) return 27;
    if (wl_meter_release(m) != WL_OK) return 28;

    /* Timeline: one kernel on 24 of 132 SMs for 10 ms. */
    if (wl_timeline_size() > sizeof timeline_mem || wl_timeline_align() > 64) return 29;
    if (wl_timeline_init(timeline_mem, sizeof timeline_mem, &hw, WL_TIMELINE_POLICY_ALWAYS, 0,
                         &tl) != WL_OK) return 30;
    wl_kernel_init(&k, 1, 0, 10000000ull, 24);
    if (wl_timeline_push(tl, &k) != WL_OK) return 31;
    if (wl_timeline_push(tl, &k) != WL_OK) return 32; /* a second, alongside */
    k.end_ns = 0;
    k.start_ns = 1;
    if (wl_timeline_push(tl, &k) != WL_ERR_END_BEFORE_START) return 33;
    tr.struct_size = sizeof tr;
    if (wl_timeline_finish(tl, &tr) != WL_OK) return 34;
    /* 48 SMs active for t; the other 84 gated at once; span t. */
    if (!near(tr.span_s, t)) return 35;
    if (!near(tr.states[WL_STATE_ACTIVE].unit_seconds, 48.0 * t)) return 36;
    if (!near(tr.states[WL_STATE_GATED].unit_seconds, 84.0 * t)) return 37;
    if (tr.kernels != 2) return 38;
    if (wl_timeline_release(tl) != WL_OK) return 39;
    return 0;
}

__attribute__((force_align_arg_pointer)) void _start(void) { sys_exit(run()); }
