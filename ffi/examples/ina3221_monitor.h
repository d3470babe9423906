/*
 * A freestanding INA3221 power monitor for Jetson boards, on libwattledger
 * built without std. No OS, no heap, no C library beyond memcpy/memset:
 * the caller supplies an I2C read, a clock, an output function and static
 * storage for one meter per rail. See ina3221_monitor.c.
 */
#ifndef INA3221_MONITOR_H
#define INA3221_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "wattledger.h"

/* Most rails a board has in wattledger's table (AGX Xavier: 6). */
#define MON_MAX_RAILS 6

struct mon_platform {
    /* Read the 16-bit register `reg` of the chip at 7-bit address `addr`
     * (most significant byte first, as the INA3221 sends it). 0 on success. */
    int (*i2c_read16)(void *ctx, uint8_t addr, uint8_t reg, uint16_t *value);
    /* A monotonic clock, ns. */
    uint64_t (*clock_ns)(void *ctx);
    /* Write `len` bytes of text (no NUL needed). */
    void (*write)(void *ctx, const char *text, size_t len);
    void *ctx;
};

struct mon_rail {
    wl_jetson_rail_info info;
    uint32_t enabled; /* channel enabled in the chip's configuration */
    wl_meter *meter;
};

struct mon {
    struct mon_platform p;
    uint32_t board;
    uint32_t rail_count;
    struct mon_rail rails[MON_MAX_RAILS];
};

/* Bytes of static storage mon_init needs for `rails` rails. */
size_t mon_storage_size(uint32_t rails);

/* Sets up a monitor for board `board` (WL_JETSON_*): checks each chip's
 * manufacturer ID, reads its configuration, makes one meter per rail in
 * `storage` (aligned to wl_meter_align()). A rail whose shunt no public
 * source gives takes `default_shunt_micro_ohms`. Returns a wl_status. */
wl_status mon_init(struct mon *m, const struct mon_platform *p, uint32_t board,
                   unsigned char *storage, size_t storage_len, uint32_t default_shunt_micro_ohms);

/* One round: for each chip, waits for nothing; if its conversion-ready
 * flag is set, reads every enabled channel and feeds its meter. Returns
 * WL_OK, WL_ERR_NOT_READY when no chip had a new conversion, or the first
 * error of a read. */
wl_status mon_poll(struct mon *m);

/* Opens the window `name` on every rail. */
wl_status mon_begin(struct mon *m, const char *name);

/* Closes the window `name` on every rail, writes one line per rail and one
 * for the board total, and stores each rail's energy in nJ in
 * energies_nj[rail] (when not NULL). */
wl_status mon_end(struct mon *m, const char *name, int64_t *energies_nj);

#endif
