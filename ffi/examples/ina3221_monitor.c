/*
 * A freestanding INA3221 power monitor for Jetson boards.
 *
 * Runs with no operating system, no heap and no C library beyond the mem*
 * functions: the caller supplies an I2C read, a clock and an output
 * function (struct mon_platform) and static storage for the meters. Each
 * round it reads the mask/enable register of every chip; where the
 * conversion-ready flag (CVRF) is set it reads the shunt- and bus-voltage
 * registers of every enabled channel and hands them, with the time, to
 * that rail's meter (wl_meter_ingest_ina3221), which decodes them by the
 * datasheet and integrates power. Named windows open and close on every
 * rail at once; closing one writes each rail's energy and the board's
 * total, which adds the rails the board table marks in_total (the input
 * rail, or the sum of parts where no input is measured) and never a rail
 * together with its own part.
 *
 * Build (see ffi/tests/c/ina3221_monitor.sh):
 *   cargo build -p wattledger-ffi --no-default-features --features panic-handler --profile firmware
 *   cc -ffreestanding -nostdlib -I include -c ffi/examples/ina3221_monitor.c
 */
#include "ina3221_monitor.h"

/* The one C library function used; a freestanding program supplies it. */
void *memset(void *d, int c, size_t n);

/* ---- text output without printf ---- */

static size_t text_len(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

static void put(const struct mon *m, const char *s) { m->p.write(m->p.ctx, s, text_len(s)); }

/* Writes `s` padded with spaces to `width`. */
static void put_padded(const struct mon *m, const char *s, size_t width) {
    size_t n = text_len(s);
    put(m, s);
    while (n++ < width) m->p.write(m->p.ctx, " ", 1);
}

/* Writes nJ as mJ with three decimals, right-aligned in 10 columns. */
static void put_mj(const struct mon *m, int64_t nj) {
    char buf[32];
    int i = (int)sizeof buf;
    int neg = nj < 0;
    uint64_t uj = (uint64_t)(neg ? -nj : nj);
    uj = (uj + 500) / 1000; /* nJ -> uJ, rounded */
    buf[--i] = '\0';
    buf[--i] = 'J';
    buf[--i] = 'm';
    buf[--i] = ' ';
    for (int d = 0; d < 3; d++) {
        buf[--i] = (char)('0' + uj % 10);
        uj /= 10;
    }
    buf[--i] = '.';
    do {
        buf[--i] = (char)('0' + uj % 10);
        uj /= 10;
    } while (uj != 0);
    if (neg) buf[--i] = '-';
    while (i > (int)sizeof buf - 14) buf[--i] = ' ';
    put(m, buf + i);
}

/* ---- the monitor ---- */

size_t mon_storage_size(uint32_t rails) {
    size_t a = wl_meter_align();
    size_t per = (wl_meter_size() + a - 1) / a * a;
    return per * rails + a; /* + a: room to align the start */
}

wl_status mon_init(struct mon *m, const struct mon_platform *p, uint32_t board,
                   unsigned char *storage, size_t storage_len, uint32_t default_shunt_micro_ohms) {
    uint32_t count;
    size_t align = wl_meter_align();
    size_t per = (wl_meter_size() + align - 1) / align * align;
    unsigned char *at = storage;
    uint8_t last_addr = 0;
    uint16_t config = 0;
    wl_status s;

    memset(m, 0, sizeof *m);
    m->p = *p;
    m->board = board;
    s = wl_jetson_rail_count(board, &count);
    if (s != WL_OK) return s;
    if (count > MON_MAX_RAILS || storage_len < mon_storage_size(count)) return WL_ERR_STORAGE_TOO_SMALL;
    while (((uintptr_t)at) % align != 0) at++;
    for (uint32_t i = 0; i < count; i++) {
        struct mon_rail *r = &m->rails[i];
        wl_meter_config cfg;
        s = wl_jetson_rail(board, i, &r->info);
        if (s != WL_OK) return s;
        if (!r->info.has_shunt) r->info.shunt_micro_ohms = default_shunt_micro_ohms;
        if (i == 0 || r->info.address != last_addr) {
            uint16_t id;
            last_addr = (uint8_t)r->info.address;
            if (p->i2c_read16(p->ctx, last_addr, WL_INA3221_REG_MANUFACTURER_ID, &id) != 0) return WL_ERR_SENSOR;
            if (id != WL_INA3221_MANUFACTURER_ID) return WL_ERR_SENSOR;
            if (p->i2c_read16(p->ctx, last_addr, WL_INA3221_REG_CONFIG, &config) != 0) return WL_ERR_SENSOR;
        }
        r->enabled = wl_ina3221_channel_enabled(config, r->info.channel);
        wl_meter_config_init(&cfg);
        cfg.update_period_ns = wl_ina3221_sample_period_ns(config);
        s = wl_meter_init(at, per, &cfg, &r->meter);
        if (s != WL_OK) return s;
        at += per;
    }
    m->rail_count = count;
    return WL_OK;
}

wl_status mon_poll(struct mon *m) {
    wl_status result = WL_ERR_NOT_READY;
    uint16_t mask = 0;
    for (uint32_t i = 0; i < m->rail_count; i++) {
        struct mon_rail *r = &m->rails[i];
        uint8_t addr = (uint8_t)r->info.address;
        uint8_t ch = (uint8_t)r->info.channel;
        uint16_t shunt, bus;
        wl_status s;
        /* Reading mask/enable clears CVRF: once per chip per round. */
        if (i == 0 || r->info.address != m->rails[i - 1].info.address) {
            if (m->p.i2c_read16(m->p.ctx, addr, WL_INA3221_REG_MASK_ENABLE, &mask) != 0) return WL_ERR_SENSOR;
        }
        if (!r->enabled || (mask & 1u) == 0) continue;
        if (m->p.i2c_read16(m->p.ctx, addr, (uint8_t)(WL_INA3221_REG_SHUNT_0 + 2 * ch), &shunt) != 0 ||
            m->p.i2c_read16(m->p.ctx, addr, (uint8_t)(WL_INA3221_REG_BUS_0 + 2 * ch), &bus) != 0)
            return WL_ERR_SENSOR;
        s = wl_meter_ingest_ina3221(r->meter, m->p.clock_ns(m->p.ctx), mask, shunt, bus,
                                    r->info.shunt_micro_ohms);
        if (s != WL_OK) return s;
        result = WL_OK;
    }
    return result;
}

wl_status mon_begin(struct mon *m, const char *name) {
    for (uint32_t i = 0; i < m->rail_count; i++) {
        wl_status s = wl_meter_begin(m->rails[i].meter, name);
        if (s != WL_OK) return s;
    }
    return WL_OK;
}

wl_status mon_end(struct mon *m, const char *name, int64_t *energies_nj) {
    int64_t total = 0;
    int total_complete = 1;
    put(m, "window ");
    put(m, name);
    put(m, "\n");
    for (uint32_t i = 0; i < m->rail_count; i++) {
        struct mon_rail *r = &m->rails[i];
        wl_window_report w;
        int64_t nj;
        wl_status s;
        w.struct_size = sizeof w;
        s = wl_meter_end(r->meter, name, &w);
        if (s != WL_OK) return s;
        nj = (int64_t)(w.energy_j * 1e9 + 0.5);
        if (energies_nj) energies_nj[i] = nj;
        put(m, "  ");
        put_padded(m, r->info.name, 16);
        if (!r->enabled) {
            put(m, "      not measured (channel off)");
            if (r->info.in_total) total_complete = 0;
        } else {
            put_mj(m, nj);
            if (r->info.in_total) total += nj;
        }
        switch (r->info.role) {
        case WL_RAIL_INPUT: put(m, "  input: the total"); break;
        case WL_RAIL_PART:
            put(m, "  inside ");
            put(m, m->rails[r->info.parent].info.name);
            break;
        case WL_RAIL_SUM_PART: put(m, "  part of the sum"); break;
        default: put(m, "  not in the total"); break;
        }
        put(m, "\n");
    }
    put(m, "  ");
    put_padded(m, "total", 16);
    put_mj(m, total);
    put(m, total_complete ? "\n" : "  incomplete\n");
    return WL_OK;
}
