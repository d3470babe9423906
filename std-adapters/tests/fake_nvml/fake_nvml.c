/*
 * A fake libnvidia-ml for wattledger's tests (CI has no GPU and no driver).
 *
 * It exports the NVML symbols that nvml-wrapper resolves for the calls the
 * wattledger NVML adapter makes, and answers them from a scenario file:
 *
 *   1. `fake-nvml.scenario` in the same directory as this library file
 *      (found with dladdr), so that tests running in parallel threads can
 *      each load their own copy of the library with their own scenario and
 *      no environment variable is touched;
 *   2. otherwise the file named by the environment variable
 *      FAKE_NVML_SCENARIO (handy for child processes: CLI and C tests).
 *
 * Scenario format: one directive per line, `#` starts a comment line.
 *
 *   gpu                         start a new physical GPU (index = order)
 *   name <rest of line>         marketing name
 *   uuid <GPU-...>              UUID
 *   arch <n>                    NVML architecture number (7 Ampere, 9 Hopper, ...)
 *   pci_device_id <n>           32-bit pciDeviceId (decimal or 0x hex)
 *   energy supported|unsupported  whether the energy counter works
 *   energy_start_mj <n>         counter value at init (default 0)
 *   power <from_ms> <mW>        power from <from_ms> after init onwards
 *                               (piecewise constant; segments in order)
 *   reset_at_ms <n>             the energy counter drops to 0 at this time
 *   lost_at_ms <n>              every call on this GPU returns GPU_IS_LOST
 *                               from this time on
 *   mig_capable 0|1             whether the GPU supports MIG at all (default 0)
 *   mig_mode <current> <pending>  MIG mode (0 or 1 each)
 *   mig_max <n>                 nvmlDeviceGetMaxMigDeviceCount (default 7)
 *   mig <uuid> <gi> <ci> <name> a MIG instance of the current GPU
 *   mig_window <from_ms> <to_ms>  the last `mig` instance exists only from
 *                               <from_ms> until <to_ms> (-1: for ever), so
 *                               a MIG layout can change while a test runs
 *   gone <from_ms> <to_ms>      the GPU falls off the bus at <from_ms>: it
 *                               is left out of the device count, and calls
 *                               on its handle return GPU_IS_LOST; at
 *                               <to_ms> it is back (same UUID), its energy
 *                               counter restarted from 0 (a driver reload)
 *   gpm supported|unsupported   GPM (nvmlGpm*) on this GPU; default: supported
 *                               from Hopper (arch 9) on
 *   activity <gi>|gpu <from_ms> <percent>
 *                               SM activity (GPM metric SM_UTIL, percent) of
 *                               GPU instance <gi>, or of the whole GPU, from
 *                               <from_ms> on (piecewise constant; default 0)
 *
 * GPM samples record the time they were taken; nvmlGpmMetricsGet answers
 * SM_UTIL as the time average of the scripted activity between the two
 * samples (exact integral), and NOT_SUPPORTED for every other metric.
 *
 * Time is CLOCK_MONOTONIC measured from the first nvmlInit, the same clock
 * Rust's Instant uses on Linux. The energy counter is the exact integral of
 * the power segments, floored to whole millijoules.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25
#define NVML_ERROR_UNKNOWN 999

#define MAX_GPUS 16
#define MAX_MIG 8
#define MAX_SEGMENTS 16
#define MAX_ACTIVITY 32
#define ACTIVITY_GPU -1
#define GPM_METRIC_SM_UTIL 2u
#define GPM_METRIC_MAX 210
#define TEXT_LEN 96

typedef struct {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

struct fake_gpu;

/* Both kinds of handle start with this header so a handle can be classified. */
struct fake_mig {
    int is_mig;
    struct fake_gpu *parent;
    char uuid[TEXT_LEN];
    char name[TEXT_LEN];
    unsigned int gi;
    unsigned int ci;
    double from_ms; /* exists from this time */
    double to_ms;   /* until this time; < 0: for ever */
};

/* SM activity of one GPU instance (or the whole GPU) from `from_ms` on. */
struct activity {
    int gi; /* ACTIVITY_GPU: the whole GPU */
    double from_ms;
    double percent;
};

struct segment {
    double from_ms;
    double mw;
};

struct fake_gpu {
    int is_mig;
    unsigned int index;
    char name[TEXT_LEN];
    char uuid[TEXT_LEN];
    unsigned int arch;
    unsigned int pci_device_id;
    int energy_supported;
    double energy_start_mj;
    struct segment segments[MAX_SEGMENTS];
    int segment_count;
    double reset_at_ms; /* < 0: never */
    double lost_at_ms;  /* < 0: never */
    int mig_capable;
    unsigned int mig_current;
    unsigned int mig_pending;
    unsigned int mig_max;
    struct fake_mig migs[MAX_MIG];
    int mig_count;
    double gone_from_ms; /* < 0: never */
    double gone_to_ms;
    int gpm_supported; /* -1: from the architecture */
    struct activity activity[MAX_ACTIVITY];
    int activity_count;
};

static struct fake_gpu gpus[MAX_GPUS];
static unsigned int gpu_count;
static int init_count;
static struct timespec init_time;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - init_time.tv_sec) * 1e3 +
           (double)(t.tv_nsec - init_time.tv_nsec) / 1e6;
}

static void copy_text(char *dst, const char *src) {
    size_t n = strlen(src);
    if (n >= TEXT_LEN) {
        n = TEXT_LEN - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void trim_end(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) {
        s[--n] = '\0';
    }
}

static int parse_error(const char *path, int line, const char *what) {
    fprintf(stderr, "fake-nvml: %s:%d: %s\n", path, line, what);
    return -1;
}

static int load_scenario(const char *path) {
    FILE *f = fopen(path, "r");
    char line[512];
    int line_no = 0;
    struct fake_gpu *g = NULL;
    if (f == NULL) {
        fprintf(stderr, "fake-nvml: cannot open scenario %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(gpus, 0, sizeof gpus);
    gpu_count = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char key[64];
        int used = 0;
        const char *rest;
        line_no++;
        trim_end(line);
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        if (sscanf(line, "%63s %n", key, &used) != 1) {
            continue;
        }
        rest = line + used;
        if (strcmp(key, "gpu") == 0) {
            if (gpu_count >= MAX_GPUS) {
                fclose(f);
                return parse_error(path, line_no, "too many GPUs");
            }
            g = &gpus[gpu_count];
            g->index = gpu_count++;
            g->energy_supported = 1;
            g->reset_at_ms = -1.0;
            g->lost_at_ms = -1.0;
            g->gone_from_ms = -1.0;
            g->gone_to_ms = -1.0;
            g->gpm_supported = -1;
            g->mig_max = 7;
            continue;
        }
        if (g == NULL) {
            fclose(f);
            return parse_error(path, line_no, "directive before the first `gpu`");
        }
        if (strcmp(key, "name") == 0) {
            copy_text(g->name, rest);
        } else if (strcmp(key, "uuid") == 0) {
            copy_text(g->uuid, rest);
        } else if (strcmp(key, "arch") == 0) {
            g->arch = (unsigned int)strtoul(rest, NULL, 0);
        } else if (strcmp(key, "pci_device_id") == 0) {
            g->pci_device_id = (unsigned int)strtoul(rest, NULL, 0);
        } else if (strcmp(key, "energy") == 0) {
            g->energy_supported = strcmp(rest, "supported") == 0;
        } else if (strcmp(key, "energy_start_mj") == 0) {
            g->energy_start_mj = strtod(rest, NULL);
        } else if (strcmp(key, "power") == 0) {
            double from_ms, mw;
            if (g->segment_count >= MAX_SEGMENTS || sscanf(rest, "%lf %lf", &from_ms, &mw) != 2) {
                fclose(f);
                return parse_error(path, line_no, "bad power segment");
            }
            g->segments[g->segment_count].from_ms = from_ms;
            g->segments[g->segment_count].mw = mw;
            g->segment_count++;
        } else if (strcmp(key, "reset_at_ms") == 0) {
            g->reset_at_ms = strtod(rest, NULL);
        } else if (strcmp(key, "lost_at_ms") == 0) {
            g->lost_at_ms = strtod(rest, NULL);
        } else if (strcmp(key, "mig_capable") == 0) {
            g->mig_capable = atoi(rest);
        } else if (strcmp(key, "mig_mode") == 0) {
            if (sscanf(rest, "%u %u", &g->mig_current, &g->mig_pending) != 2) {
                fclose(f);
                return parse_error(path, line_no, "bad mig_mode");
            }
        } else if (strcmp(key, "mig_max") == 0) {
            g->mig_max = (unsigned int)strtoul(rest, NULL, 0);
        } else if (strcmp(key, "mig") == 0) {
            struct fake_mig *m;
            char uuid[TEXT_LEN];
            int name_at = 0;
            if (g->mig_count >= MAX_MIG) {
                fclose(f);
                return parse_error(path, line_no, "too many MIG instances");
            }
            m = &g->migs[g->mig_count];
            if (sscanf(rest, "%95s %u %u %n", uuid, &m->gi, &m->ci, &name_at) != 3) {
                fclose(f);
                return parse_error(path, line_no, "bad mig line");
            }
            m->is_mig = 1;
            m->parent = g;
            m->from_ms = 0.0;
            m->to_ms = -1.0;
            copy_text(m->uuid, uuid);
            copy_text(m->name, rest + name_at);
            g->mig_count++;
        } else if (strcmp(key, "mig_window") == 0) {
            if (g->mig_count == 0 ||
                sscanf(rest, "%lf %lf", &g->migs[g->mig_count - 1].from_ms,
                       &g->migs[g->mig_count - 1].to_ms) != 2) {
                fclose(f);
                return parse_error(path, line_no, "bad mig_window (it follows a `mig` line)");
            }
        } else if (strcmp(key, "gone") == 0) {
            if (sscanf(rest, "%lf %lf", &g->gone_from_ms, &g->gone_to_ms) != 2 ||
                g->gone_to_ms < g->gone_from_ms) {
                fclose(f);
                return parse_error(path, line_no, "bad gone window");
            }
        } else if (strcmp(key, "gpm") == 0) {
            g->gpm_supported = strcmp(rest, "supported") == 0;
        } else if (strcmp(key, "activity") == 0) {
            struct activity *a;
            char who[16];
            if (g->activity_count >= MAX_ACTIVITY) {
                fclose(f);
                return parse_error(path, line_no, "too many activity segments");
            }
            a = &g->activity[g->activity_count];
            if (sscanf(rest, "%15s %lf %lf", who, &a->from_ms, &a->percent) != 3) {
                fclose(f);
                return parse_error(path, line_no, "bad activity line");
            }
            a->gi = strcmp(who, "gpu") == 0 ? ACTIVITY_GPU : atoi(who);
            g->activity_count++;
        } else {
            fclose(f);
            return parse_error(path, line_no, "unknown directive");
        }
    }
    fclose(f);
    return 0;
}

/* Where the scenario is: next to this very library file, else the env var. */
static int find_and_load_scenario(void) {
    Dl_info info;
    const char *env;
    if (dladdr((void *)&find_and_load_scenario, &info) != 0 && info.dli_fname != NULL) {
        char path[4096];
        const char *slash = strrchr(info.dli_fname, '/');
        size_t dir_len = slash == NULL ? 0 : (size_t)(slash - info.dli_fname) + 1;
        if (dir_len + sizeof "fake-nvml.scenario" < sizeof path) {
            FILE *probe;
            memcpy(path, info.dli_fname, dir_len);
            memcpy(path + dir_len, "fake-nvml.scenario", sizeof "fake-nvml.scenario");
            probe = fopen(path, "r");
            if (probe != NULL) {
                fclose(probe);
                return load_scenario(path);
            }
        }
    }
    env = getenv("FAKE_NVML_SCENARIO");
    if (env != NULL && env[0] != '\0') {
        return load_scenario(env);
    }
    fprintf(stderr, "fake-nvml: no fake-nvml.scenario next to the library and FAKE_NVML_SCENARIO unset\n");
    return -1;
}

/* Energy in mJ from init to `t_ms`: the integral of the power segments. */
static double integral_mj(const struct fake_gpu *g, double t_ms) {
    double total = 0.0;
    int i;
    for (i = 0; i < g->segment_count; i++) {
        double from = g->segments[i].from_ms;
        double to = i + 1 < g->segment_count ? g->segments[i + 1].from_ms : t_ms;
        if (to > t_ms) {
            to = t_ms;
        }
        if (to > from) {
            /* mW * ms = uJ; / 1000 = mJ */
            total += g->segments[i].mw * (to - from) / 1000.0;
        }
    }
    return total;
}

static double power_mw(const struct fake_gpu *g, double t_ms) {
    double mw = 0.0;
    int i;
    for (i = 0; i < g->segment_count; i++) {
        if (g->segments[i].from_ms <= t_ms) {
            mw = g->segments[i].mw;
        }
    }
    return mw;
}

/* Handles are compared for equality only: MIG records live inside the GPU records. */
static int is_gpu_handle(const void *h) {
    unsigned int i;
    for (i = 0; i < gpu_count; i++) {
        if (h == (const void *)&gpus[i]) {
            return 1;
        }
    }
    return 0;
}

static int is_mig_handle(const void *h) {
    unsigned int i;
    int j;
    for (i = 0; i < gpu_count; i++) {
        for (j = 0; j < gpus[i].mig_count; j++) {
            if (h == (const void *)&gpus[i].migs[j]) {
                return 1;
            }
        }
    }
    return 0;
}

static int is_gone_at(const struct fake_gpu *g, double t) {
    return g->gone_from_ms >= 0.0 && t >= g->gone_from_ms && t < g->gone_to_ms;
}

static int is_lost(const struct fake_gpu *g) {
    double t = now_ms();
    return (g->lost_at_ms >= 0.0 && t >= g->lost_at_ms) || is_gone_at(g, t);
}

/* Whether MIG instance `m` exists now. */
static int mig_exists(const struct fake_mig *m, double t) {
    return t >= m->from_ms && (m->to_ms < 0.0 || t < m->to_ms);
}

/* The GPU that NVML index `index` names now: gone GPUs are skipped. */
static struct fake_gpu *gpu_at_index(unsigned int index) {
    double t = now_ms();
    unsigned int i, seen = 0;
    for (i = 0; i < gpu_count; i++) {
        if (is_gone_at(&gpus[i], t)) {
            continue;
        }
        if (seen == index) {
            return &gpus[i];
        }
        seen++;
    }
    return NULL;
}

/* When the energy counter last restarted from 0 at or before `t`, or < 0. */
static double counter_restart_ms(const struct fake_gpu *g, double t) {
    double at = -1.0;
    if (g->reset_at_ms >= 0.0 && t >= g->reset_at_ms) {
        at = g->reset_at_ms;
    }
    if (g->gone_from_ms >= 0.0 && t >= g->gone_to_ms && g->gone_to_ms > at) {
        at = g->gone_to_ms;
    }
    return at;
}

/* Returns from the calling function with the status of `call` unless it
 * succeeded. */
#define RETURN_IF_FAILED(call)                  \
    do {                                        \
        nvmlReturn_t status_ = (call);          \
        if (status_ != NVML_SUCCESS) {          \
            return status_;                     \
        }                                       \
    } while (0)

/* Check a handle of either kind; on success, *gpu is the physical GPU. */
static nvmlReturn_t check_any(void *h, struct fake_gpu **gpu, struct fake_mig **mig) {
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    if (is_gpu_handle(h)) {
        *gpu = (struct fake_gpu *)h;
        *mig = NULL;
    } else if (is_mig_handle(h)) {
        *mig = (struct fake_mig *)h;
        *gpu = (*mig)->parent;
    } else {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    return is_lost(*gpu) ? NVML_ERROR_GPU_IS_LOST : NVML_SUCCESS;
}

static nvmlReturn_t put_text(const char *text, char *out, unsigned int length) {
    size_t n = strlen(text);
    if (out == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (n + 1 > length) {
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    memcpy(out, text, n + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
    if (init_count == 0) {
        if (find_and_load_scenario() != 0) {
            return NVML_ERROR_UNKNOWN;
        }
        clock_gettime(CLOCK_MONOTONIC, &init_time);
    }
    init_count++;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    return nvmlInit_v2();
}

nvmlReturn_t nvmlShutdown(void) {
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    init_count--;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result) {
    switch (result) {
    case NVML_SUCCESS:
        return "Success";
    case NVML_ERROR_UNINITIALIZED:
        return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
        return "Not Supported";
    case NVML_ERROR_NOT_FOUND:
        return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
        return "Insufficient Size";
    case NVML_ERROR_GPU_IS_LOST:
        return "GPU is lost";
    default:
        return "Unknown Error";
    }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    return put_text("550.54.15", version, length);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    if (count == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    {
        double t = now_ms();
        unsigned int i, n = 0;
        for (i = 0; i < gpu_count; i++) {
            n += !is_gone_at(&gpus[i], t);
        }
        *count = n;
    }
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device) {
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    if (device == NULL || gpu_at_index(index) == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *device = gpu_at_index(index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(void *device, char *name, unsigned int length) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    return put_text(m != NULL ? m->name : g->name, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    return put_text(m != NULL ? m->uuid : g->uuid, uuid, length);
}

nvmlReturn_t nvmlDeviceGetArchitecture(void *device, unsigned int *arch) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (arch == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *arch = g->arch;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(void *device, nvmlPciInfo_t *pci) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (pci == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    memset(pci, 0, sizeof *pci);
    pci->domain = 0;
    pci->bus = 0x10u + g->index;
    pci->device = 0;
    pci->pciDeviceId = g->pci_device_id;
    pci->pciSubSystemId = 0x145f10deu;
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02x:00.0", pci->bus);
    snprintf(pci->busId, sizeof pci->busId, "00000000:%02x:00.0", pci->bus);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(void *device, unsigned long long *energy) {
    struct fake_gpu *g;
    struct fake_mig *m;
    double t, mj;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (energy == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (m != NULL || !g->energy_supported) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    t = now_ms();
    if (counter_restart_ms(g, t) >= 0.0) {
        mj = integral_mj(g, t) - integral_mj(g, counter_restart_ms(g, t));
    } else {
        mj = g->energy_start_mj + integral_mj(g, t);
    }
    *energy = (unsigned long long)mj;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(void *device, unsigned int *power) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (power == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (m != NULL) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    *power = (unsigned int)power_mw(g, now_ms());
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(void *device, unsigned int *current, unsigned int *pending) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (current == NULL || pending == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (m != NULL || !g->mig_capable) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    *current = g->mig_current;
    *pending = g->mig_pending;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(void *device, unsigned int *count) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (count == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (m != NULL || !g->mig_capable) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    *count = g->mig_max;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(void *device, unsigned int index, void **mig) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (mig == NULL || m != NULL || index >= g->mig_max) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (!g->mig_capable) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    if (!g->mig_current) {
        return NVML_ERROR_NOT_FOUND;
    }
    {
        /* Slot `index` is the index-th instance that exists now. */
        double t = now_ms();
        unsigned int seen = 0;
        int j;
        for (j = 0; j < g->mig_count; j++) {
            if (!mig_exists(&g->migs[j], t)) {
                continue;
            }
            if (seen == index) {
                *mig = &g->migs[j];
                return NVML_SUCCESS;
            }
            seen++;
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(void *mig, void **device) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(mig, &g, &m));
    if (device == NULL || m == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *device = g;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceIsMigDeviceHandle(void *device, unsigned int *is_mig) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (is_mig == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *is_mig = m != NULL;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(void *device, unsigned int *id) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (id == NULL || m == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *id = m->gi;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeInstanceId(void *device, unsigned int *id) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (id == NULL || m == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *id = m->ci;
    return NVML_SUCCESS;
}

/* ---- GPM (GPU Performance Monitoring, Hopper and later) ---------------- */

typedef struct {
    unsigned int version;
    unsigned int isSupportedDevice;
} nvmlGpmSupport_t;

typedef struct {
    unsigned int metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    struct {
        char *shortName;
        char *longName;
        char *unit;
    } metricInfo;
} nvmlGpmMetric_t;

typedef struct {
    unsigned int version;
    unsigned int numMetrics;
    void *sample1;
    void *sample2;
    nvmlGpmMetric_t metrics[GPM_METRIC_MAX];
} nvmlGpmMetricsGet_t;

#define GPM_SAMPLE_MAGIC 0x47504d53u /* "GPMS" */

struct fake_gpm_sample {
    unsigned int magic;
    const struct fake_gpu *gpu; /* NULL until filled */
    int gi;                     /* ACTIVITY_GPU for a whole-GPU sample */
    double t_ms;
};

static int gpm_supported(const struct fake_gpu *g) {
    return g->gpm_supported < 0 ? g->arch >= 9 : g->gpm_supported;
}

/* SM activity (percent) of `gi` at `t`: the last segment begun by then. */
static double activity_at(const struct fake_gpu *g, int gi, double t) {
    double pct = 0.0, from = -1.0;
    int i;
    for (i = 0; i < g->activity_count; i++) {
        const struct activity *a = &g->activity[i];
        if (a->gi == gi && a->from_ms <= t && a->from_ms >= from) {
            pct = a->percent;
            from = a->from_ms;
        }
    }
    return pct;
}

/* The integral of `gi`'s activity over [t1, t2], percent x ms, from the
 * segment boundaries (exact for a piecewise constant activity). */
static double activity_integral(const struct fake_gpu *g, int gi, double t1, double t2) {
    double total = 0.0, t = t1;
    while (t < t2) {
        double next = t2;
        int i;
        for (i = 0; i < g->activity_count; i++) {
            const struct activity *a = &g->activity[i];
            if (a->gi == gi && a->from_ms > t && a->from_ms < next) {
                next = a->from_ms;
            }
        }
        total += activity_at(g, gi, t) * (next - t);
        t = next;
    }
    return total;
}

static int is_gpm_sample(const void *s) {
    return s != NULL && ((const struct fake_gpm_sample *)s)->magic == GPM_SAMPLE_MAGIC;
}

nvmlReturn_t nvmlGpmQueryDeviceSupport(void *device, nvmlGpmSupport_t *support) {
    struct fake_gpu *g;
    struct fake_mig *m;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (support == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (support->version != 1) {
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    }
    support->isSupportedDevice = m == NULL && gpm_supported(g);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleAlloc(void **sample) {
    struct fake_gpm_sample *s;
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    if (sample == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NVML_ERROR_UNKNOWN;
    }
    s->magic = GPM_SAMPLE_MAGIC;
    *sample = s;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleFree(void *sample) {
    if (!is_gpm_sample(sample)) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    ((struct fake_gpm_sample *)sample)->magic = 0;
    free(sample);
    return NVML_SUCCESS;
}

static nvmlReturn_t gpm_fill(void *device, int gi, void *sample) {
    struct fake_gpu *g;
    struct fake_mig *m;
    struct fake_gpm_sample *s = sample;
    RETURN_IF_FAILED(check_any(device, &g, &m));
    if (m != NULL || !is_gpm_sample(sample)) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (!gpm_supported(g)) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    if (gi != ACTIVITY_GPU) {
        /* The GPU instance must exist now. */
        double t = now_ms();
        int j, found = 0;
        if (!g->mig_current) {
            return NVML_ERROR_NOT_SUPPORTED;
        }
        for (j = 0; j < g->mig_count; j++) {
            found |= (int)g->migs[j].gi == gi && mig_exists(&g->migs[j], t);
        }
        if (!found) {
            return NVML_ERROR_NOT_FOUND;
        }
    }
    s->gpu = g;
    s->gi = gi;
    s->t_ms = now_ms();
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleGet(void *device, void *sample) {
    return gpm_fill(device, ACTIVITY_GPU, sample);
}

nvmlReturn_t nvmlGpmMigSampleGet(void *device, unsigned int gpuInstanceId, void *sample) {
    if (gpuInstanceId > 0x7fffffffu) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    return gpm_fill(device, (int)gpuInstanceId, sample);
}

nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *request) {
    static char sm_short[] = "sm_util", sm_long[] = "SM activity", percent[] = "%";
    const struct fake_gpm_sample *s1, *s2;
    unsigned int i;
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    if (request == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (request->version != 1) {
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    }
    s1 = request->sample1;
    s2 = request->sample2;
    if (!is_gpm_sample(s1) || !is_gpm_sample(s2) || s1->gpu == NULL || s2->gpu == NULL ||
        s1->gpu != s2->gpu || s1->gi != s2->gi || s2->t_ms < s1->t_ms ||
        request->numMetrics > GPM_METRIC_MAX) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    for (i = 0; i < request->numMetrics; i++) {
        nvmlGpmMetric_t *metric = &request->metrics[i];
        if (metric->metricId != GPM_METRIC_SM_UTIL) {
            metric->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        metric->nvmlReturn = NVML_SUCCESS;
        metric->value = s2->t_ms > s1->t_ms
                            ? activity_integral(s1->gpu, s1->gi, s1->t_ms, s2->t_ms) /
                                  (s2->t_ms - s1->t_ms)
                            : activity_at(s1->gpu, s1->gi, s1->t_ms);
        metric->metricInfo.shortName = sm_short;
        metric->metricInfo.longName = sm_long;
        metric->metricInfo.unit = percent;
    }
    return NVML_SUCCESS;
}
