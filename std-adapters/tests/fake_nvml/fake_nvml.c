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
#define NVML_ERROR_UNKNOWN 999

#define MAX_GPUS 16
#define MAX_MIG 8
#define MAX_SEGMENTS 16
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
            copy_text(m->uuid, uuid);
            copy_text(m->name, rest + name_at);
            g->mig_count++;
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

static int is_lost(const struct fake_gpu *g) {
    return g->lost_at_ms >= 0.0 && now_ms() >= g->lost_at_ms;
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
    *count = gpu_count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device) {
    if (init_count <= 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    if (device == NULL || index >= gpu_count) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *device = &gpus[index];
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
    if (g->reset_at_ms >= 0.0 && t >= g->reset_at_ms) {
        mj = integral_mj(g, t) - integral_mj(g, g->reset_at_ms);
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
    if (!g->mig_current || index >= (unsigned int)g->mig_count) {
        return NVML_ERROR_NOT_FOUND;
    }
    *mig = &g->migs[index];
    return NVML_SUCCESS;
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
