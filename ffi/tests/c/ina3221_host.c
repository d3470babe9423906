/*
 * Runs the freestanding INA3221 monitor example on the host, with no C
 * library (-ffreestanding -nostdlib), against a stub I2C bus that replays
 * registers derived from the Orin Nano recording (ina3221_stub_data.h,
 * written by ffi/tests/ina3221_stub.rs), and checks that every window's
 * energy matches the recording's within the bound the registers'
 * quantisation allows. Linux x86-64 (raw write/exit system calls).
 */
#include <stddef.h>
#include <stdint.h>

#include "ina3221_monitor.h"
#include "ina3221_stub_data.h"

void *memcpy(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; if (a < b) { while (n--) *a++ = *b++; } else { a += n; b += n; while (n--) *--a = *--b; } return d; }
void *memset(void *d, int c, size_t n) { unsigned char *a = d; while (n--) *a++ = (unsigned char)c; return d; }
int memcmp(const void *x, const void *y, size_t n) { const unsigned char *a = x, *b = y; for (; n; n--, a++, b++) if (*a != *b) return *a - *b; return 0; }
int bcmp(const void *x, const void *y, size_t n) { return memcmp(x, y, n); }

static long sys_write(long fd, const void *buf, unsigned long n) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(1), "D"(fd), "S"(buf), "d"(n) : "rcx", "r11", "memory"); return r; }
static long sys_exit(long code) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(60), "D"(code) : "rcx", "r11", "memory"); return r; }

/* The stub bus: one INA3221 at 0x40. Each read of mask/enable starts the
 * next recorded round with CVRF set, and (as on the chip) clears the flag,
 * so a second read in the same round, or any after the last round, reads
 * CVRF clear. */
struct stub {
    int round;    /* round whose data registers are visible; -1 before the first */
    int fresh;    /* CVRF set for the next mask/enable read */
    int clock_i;  /* next clock reading within the round */
};

static int stub_read(void *ctx, uint8_t addr, uint8_t reg, uint16_t *v) {
    struct stub *s = ctx;
    if (addr != 0x40) return -1; /* nobody answers */
    switch (reg) {
    case WL_INA3221_REG_MANUFACTURER_ID: *v = WL_INA3221_MANUFACTURER_ID; return 0;
    case WL_INA3221_REG_CONFIG: *v = STUB_CONFIG; return 0;
    case WL_INA3221_REG_MASK_ENABLE:
        if (s->fresh && s->round + 1 < STUB_ROUNDS) {
            s->round++;
            s->clock_i = 0;
            *v = 0x0001;
        } else {
            *v = 0x0000;
        }
        s->fresh = 0;
        return 0;
    default:
        if (reg >= 1 && reg <= 4 && s->round >= 0) {
            const struct stub_read *r = &stub_reads[s->round][(reg - 1) / 2];
            *v = (reg % 2) ? r->shunt : r->bus;
            return 0;
        }
        *v = 0;
        return 0;
    }
}

static uint64_t stub_clock(void *ctx) {
    struct stub *s = ctx;
    int i = s->clock_i < 2 ? s->clock_i++ : 1;
    return stub_reads[s->round][i].t_ns;
}

static void out(void *ctx, const char *text, size_t len) { (void)ctx; sys_write(1, text, len); }

static _Alignas(64) unsigned char storage[3 * 16384 + 64];

static int run(void) {
    struct stub bus = {-1, 1, 0};
    struct mon_platform p = {stub_read, stub_clock, out, &bus};
    struct mon m;
    int64_t e[MON_MAX_RAILS];
    wl_status s;

    if (mon_storage_size(3) > sizeof storage) return 10;
    s = mon_init(&m, &p, WL_JETSON_ORIN_NANO_NX, storage, sizeof storage, 0);
    if (s != WL_OK) return 11;
    if (m.rails[2].enabled) return 12; /* VDD_SOC is off in the stub's config */
    /* Round 1, window "whole" from there; round 2, window "late"; round 3. */
    bus.fresh = 1;
    if (mon_poll(&m) != WL_OK) return 13;
    if (mon_begin(&m, "whole") != WL_OK) return 14;
    bus.fresh = 1;
    if (mon_poll(&m) != WL_OK) return 15;
    if (mon_begin(&m, "late") != WL_OK) return 16;
    /* Polled again before a new conversion: CVRF is clear, nothing fed. */
    if (mon_poll(&m) != WL_ERR_NOT_READY) return 17;
    bus.fresh = 1;
    if (mon_poll(&m) != WL_OK) return 18;
    /* The same registers with a time that went back are refused. */
    if (wl_meter_ingest_ina3221(m.rails[0].meter, 5, 1, 0x0560, 0x13A8, 5000) != WL_ERR_TIME_WENT_BACK) return 19;
    /* A read nobody answered (0xFFFF) is refused, not taken as -40 uV. */
    if (wl_meter_ingest_ina3221(m.rails[0].meter, 30001000ull, 1, 0xFFFF, 0xFFFF, 5000) != WL_ERR_BAD_REGISTER) return 20;

    for (int w = 1; w >= 0; w--) {
        if (mon_end(&m, stub_expect[w].window, e) != WL_OK) return 21;
        for (int r = 0; r < 2; r++) {
            int64_t d = e[r] - stub_expect[w].recorded_nj[r];
            if (d < 0) d = -d;
            if (d > stub_expect[w].bound_nj[r]) return 30 + 2 * w + r;
        }
    }
    return 0;
}

__attribute__((force_align_arg_pointer)) void _start(void) {
    int rc = run();
    if (rc == 0) {
        static const char ok[] = "ina3221 monitor: every window within the register quantisation bound of the recording\n";
        sys_write(1, ok, sizeof ok - 1);
    }
    sys_exit(rc);
}
