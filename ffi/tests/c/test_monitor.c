/*
 * The monitor's error statuses, and a replayed Jetson trace with
 * hand-computed energies. Usage: test_monitor <trace.jsonl>
 */
#include "wattledger.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            ++failures;                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                         \
    } while (0)

int main(int argc, char **argv) {
    wl_monitor *m = NULL;
    wl_device_window_report r[4];
    wl_mig_warning w[4];
    size_t n = 0;
    if (argc < 2) return 2;
    /* Output arrays carry their stride in the first element. */
    r[0].struct_size = (uint32_t)sizeof r[0];
    w[0].struct_size = (uint32_t)sizeof w[0];

    EXPECT(wl_monitor_new_replay(NULL, &m) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_new_replay(argv[1], NULL) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_new_replay("/nonexistent/trace.jsonl", &m) == WL_ERR_IO);
    EXPECT(wl_monitor_new_nvml("/nonexistent/libnvidia-ml.so", &m) == WL_ERR_UNAVAILABLE);
    EXPECT(m == NULL);
    EXPECT(wl_monitor_begin(NULL, "x") == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_free(NULL) == WL_ERR_NULL_POINTER);

    /* The trace: device 0 (VDD_IN) at 6944, 7120, 7301 mW and device 1 at
     * 1869, 2011, 2230 mW, 10 ms apart. Making the monitor takes the first
     * sample, begin the second, end the third, so the window spans 10 ms:
     * device 0: (7120 + 7301)/2 mW × 0.01 s = 72.105 mJ;
     * device 1: (2011 + 2230)/2 mW × 0.01 s = 21.205 mJ. */
    EXPECT(wl_monitor_new_replay(argv[1], &m) == WL_OK);
    EXPECT(wl_monitor_device_count(m, &n) == WL_OK && n == 2);
    EXPECT(wl_monitor_device_count(m, NULL) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_begin(m, NULL) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_begin(m, "a-window-name-of-thirty-four-byte") == WL_ERR_NAME_TOO_LONG);
    EXPECT(wl_monitor_end(m, "never", r, 4, &n) == WL_ERR_WINDOW_NOT_OPEN);
    EXPECT(wl_monitor_begin(m, "phase") == WL_OK);
    EXPECT(wl_monitor_end(m, "phase", r, 1, &n) == WL_ERR_CAPACITY);
    EXPECT(wl_monitor_end(m, "phase", NULL, 4, &n) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_end(m, "phase", r, 4, NULL) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_end(m, "phase", r, 4, &n) == WL_OK);
    EXPECT(n == 2);
    EXPECT(strcmp(r[0].source, "replay") == 0);
    EXPECT(strcmp(r[0].uuid, "jetson-rail:VDD_IN") == 0);
    EXPECT(r[0].window.duration_ns == 10000000ull);
    EXPECT(fabs(r[0].window.energy_j - 0.072105) < 1e-12);
    EXPECT(fabs(r[1].window.energy_j - 0.021205) < 1e-12);
    EXPECT(r[0].window.method == WL_METHOD_POWER);
    EXPECT(r[0].architecture == 0xffffffffu && r[0].has_energy_counter == 0);
    EXPECT(wl_monitor_mig_warnings(m, "phase", WL_MIG_SHARES_NONE, w, 4, &n) == WL_OK && n == 0);
    EXPECT(wl_monitor_mig_warnings(m, "phase", WL_MIG_SHARES_NONE, w, 4, NULL) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_mig_warnings(NULL, "phase", WL_MIG_SHARES_NONE, w, 4, &n) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_mig_warnings(m, NULL, WL_MIG_SHARES_NONE, w, 4, &n) == WL_ERR_NULL_POINTER);
    EXPECT(wl_monitor_mig_warnings(m, "never", WL_MIG_SHARES_NONE, w, 4, &n) == WL_ERR_NO_SUCH_WINDOW);
    EXPECT(wl_monitor_mig_warnings(m, "phase", 9, w, 4, &n) == WL_ERR_OUT_OF_RANGE);
    EXPECT(wl_monitor_free(m) == WL_OK);
    EXPECT(wl_monitor_free(m) == WL_ERR_BAD_HANDLE);
    EXPECT(wl_monitor_begin(m, "after") == WL_ERR_BAD_HANDLE);
    printf("test_monitor: %s\n", failures == 0 ? "OK" : "FAILED");
    return failures == 0 ? 0 : 1;
}
