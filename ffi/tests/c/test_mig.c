/*
 * The MIG part of the C API tests: profile names, the catalog,
 * capabilities, the WL-MIG-* rules and CUDA_VISIBLE_DEVICES tokens.
 * Valid C99 and C++17; linked with test_api.c, which owns main().
 */
#include "wattledger.h"

#include <math.h>
#include <stdio.h>
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

static const char BAD[] = {(char)0xc3, (char)0x28, 0};

#define PARENT "GPU-00000000-0000-0000-0000-000000000001"
#define H100 "NVIDIA H100 80GB HBM3"

static void profiles(void) {
    wl_mig_profile p;
    EXPECT_STATUS(wl_mig_profile_parse("1c.3g.40gb", &p), WL_OK);
    EXPECT(p.compute_slices == 1 && p.gpu_slices == 3 && p.memory_gb == 40);
    EXPECT(p.is_compute_instance == 1 && p.attribute_sign == 0 && p.attribute_count == 0);
    EXPECT(strcmp(p.canonical, "1c.3g.40gb") == 0);
    EXPECT_STATUS(wl_mig_profile_parse("1g.24gb+me.all", &p), WL_OK);
    EXPECT(p.compute_slices == 1 && p.gpu_slices == 1 && p.memory_gb == 24);
    EXPECT(p.attribute_sign == '+' && p.attribute_count == 1);
    EXPECT(strcmp(p.canonical, "1g.24gb+me.all") == 0);
    EXPECT_STATUS(wl_mig_profile_parse("1g.10gb-me", &p), WL_OK);
    EXPECT(p.attribute_sign == '-');
    p.memory_gb = 12345;
    EXPECT_STATUS(wl_mig_profile_parse("1g.5", &p), WL_ERR_MIG_PROFILE);
    EXPECT_STATUS(wl_mig_profile_parse("", &p), WL_ERR_MIG_PROFILE);
    EXPECT_STATUS(wl_mig_profile_parse("1g.5gb+me,me", &p), WL_ERR_MIG_PROFILE);
    EXPECT(p.memory_gb == 12345);
    EXPECT_STATUS(wl_mig_profile_parse(NULL, &p), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_profile_parse(BAD, &p), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_mig_profile_parse("1g.5gb", NULL), WL_ERR_NULL_POINTER);
}

static void catalog(void) {
    size_t n = wl_mig_gpu_count(), a100 = 999, b200 = 999, i;
    wl_mig_gpu g;
    wl_mig_profile_spec ps;
    int found_3g = 0;
    EXPECT(n >= 10);
    EXPECT_STATUS(wl_mig_find_gpu("NVIDIA A100-SXM4-40GB", &a100), WL_OK);
    EXPECT_STATUS(wl_mig_gpu_info(a100, &g), WL_OK);
    EXPECT(strcmp(g.name, "A100-40GB") == 0);
    EXPECT(g.architecture == 7 && g.compute_slices == 7 && g.memory_slices == 8);
    EXPECT(g.has_pci_device_id == 0);
    EXPECT(g.nvlink_fabric_with_mig == 0); /* Ampere: no MIG with the fabric */
    EXPECT(g.profile_count == 7);           /* seven A100-40GB rows in the CSV */
    for (i = 0; i < g.profile_count; ++i) {
        EXPECT_STATUS(wl_mig_gpu_profile(a100, i, &ps), WL_OK);
        if (strcmp(ps.name, "3g.20gb") == 0) {
            found_3g = 1;
            /* CSV row: 3 compute slices, 4 memory slices, 20 GB, at most 2. */
            EXPECT(ps.compute_slices == 3 && ps.memory_slices == 4);
            EXPECT(ps.memory_gb == 20 && ps.max_instances == 2 && ps.has_sm_count == 0);
        }
    }
    EXPECT(found_3g);
    EXPECT_STATUS(wl_mig_gpu_profile(a100, g.profile_count, &ps), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_mig_gpu_profile(n, 0, &ps), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_mig_gpu_profile(0, 0, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_gpu_info(n, &g), WL_ERR_OUT_OF_RANGE);
    EXPECT_STATUS(wl_mig_gpu_info(0, NULL), WL_ERR_NULL_POINTER);
    /* B200's PCI device id 0x2901, bare and in NVML's form with the vendor. */
    EXPECT_STATUS(wl_mig_find_gpu_by_pci_device_id(0x2901, &b200), WL_OK);
    EXPECT_STATUS(wl_mig_gpu_info(b200, &g), WL_OK);
    EXPECT(strcmp(g.name, "B200") == 0 && g.pci_device_id == 0x2901 && g.has_pci_device_id == 1);
    EXPECT(g.nvlink_fabric_with_mig == 1);
    i = 12345;
    EXPECT_STATUS(wl_mig_find_gpu_by_pci_device_id(0x290110DE, &i), WL_OK);
    EXPECT(i == b200);
    EXPECT_STATUS(wl_mig_find_gpu_by_pci_device_id(0x2901FFFF, &i), WL_ERR_UNKNOWN_NAME);
    EXPECT_STATUS(wl_mig_find_gpu_by_pci_device_id(0x2901, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_find_gpu("NVIDIA GeForce RTX 4090", &i), WL_ERR_UNKNOWN_NAME);
    EXPECT_STATUS(wl_mig_find_gpu(NULL, &i), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_find_gpu(BAD, &i), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_mig_find_gpu("NVIDIA A100-SXM4-40GB", NULL), WL_ERR_NULL_POINTER);
    /* Inputs are checked before outputs. */
    EXPECT_STATUS(wl_mig_find_gpu("x", NULL), WL_ERR_UNKNOWN_NAME);
}

static void capabilities(void) {
    wl_mig_support s = 99;
    EXPECT_STATUS(wl_mig_supports(9, H100, &s), WL_OK);
    EXPECT(s == WL_MIG_SUPPORTED);
    EXPECT_STATUS(wl_mig_supports(4, "Tesla P100", &s), WL_OK); /* Pascal */
    EXPECT(s == WL_MIG_UNSUPPORTED);
    EXPECT_STATUS(wl_mig_supports(7, "NVIDIA GeForce RTX 3090", &s), WL_OK);
    EXPECT(s == WL_MIG_UNSUPPORTED);
    EXPECT_STATUS(wl_mig_supports(0xffffffffu, "mystery", &s), WL_OK);
    EXPECT(s == WL_MIG_UNKNOWN);
    EXPECT_STATUS(wl_mig_supports(9, NULL, &s), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_supports(9, BAD, &s), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_mig_supports(9, H100, NULL), WL_ERR_NULL_POINTER);
    EXPECT(wl_mig_with_nvlink_fabric(9) == 1);
    EXPECT(wl_mig_with_nvlink_fabric(10) == 1);
    EXPECT(wl_mig_with_nvlink_fabric(7) == 0);
}

static wl_mig_result mig_result(const char *id, const char *uuid, const char *profile,
                                double energy, double start, double end) {
    wl_mig_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = (uint32_t)sizeof r;
    r.is_mig = 1;
    r.architecture = 9;
    r.id = id;
    r.gpu_uuid = uuid;
    r.parent_gpu_uuid = PARENT;
    r.profile = profile;
    r.gpu_model = H100;
    r.energy_j = energy;
    r.start_s = start;
    r.end_s = end;
    return r;
}

static void rules(void) {
    wl_mig_result rs[3];
    wl_mig_warning w[8];
    size_t n = 99;
    char long_id[700];
    struct { wl_mig_result r; double later_field; } newer[2];

    w[0].struct_size = (uint32_t)sizeof w[0];

    /* Two instances of one H100 over [0,10) and [5,15): they overlap over
     * [5,10), so at most 2 run at once: parent power, shared parent with an
     * overcount factor of 2, and mixed profiles (1g.10gb vs 3g.40gb). */
    rs[0] = mig_result("a", "MIG-1", "1g.10gb", 500.0, 0.0, 10.0);
    rs[1] = mig_result("b", "MIG-2", "3g.40gb", 520.0, 5.0, 15.0);
    EXPECT_STATUS(wl_mig_count_warnings(rs, 2, WL_MIG_SHARES_NONE, &n), WL_OK);
    EXPECT(n == 3);
    EXPECT_STATUS(wl_mig_check(rs, 2, WL_MIG_SHARES_NONE, w, 8, &n), WL_OK);
    EXPECT(n == 3);
    EXPECT(w[0].code == 1 && strcmp(w[0].code_text, "WL-MIG-001") == 0);
    EXPECT(strncmp(w[0].message, "WL-MIG-001", 10) == 0);
    EXPECT(w[1].code == 2 && w[1].overcount_factor == 2);
    EXPECT(w[2].code == 4);
    /* Too small an array: nothing written, not even the count. */
    n = 77;
    w[0].code = 0;
    EXPECT_STATUS(wl_mig_check(rs, 2, WL_MIG_SHARES_NONE, w, 2, &n), WL_ERR_CAPACITY);
    EXPECT(n == 77 && w[0].code == 0);

    /* Shares by compute slices: 1g.10gb is 1 of the H100's 7 slices, so
     * 500 J × 1/7; 3g.40gb is 3/7 of 520 J. Two WL-MIG-007 more. */
    EXPECT_STATUS(wl_mig_check(rs, 2, WL_MIG_SHARES_COMPUTE_SLICES, w, 8, &n), WL_OK);
    EXPECT(n == 5);
    EXPECT(w[3].code == 7 && w[3].severity == 0);
    EXPECT(w[3].fraction == 1.0 / 7.0 && w[3].share_j == 500.0 / 7.0);
    EXPECT(w[4].code == 7 && w[4].fraction == 3.0 / 7.0);
    EXPECT_STATUS(wl_mig_check(rs, 2, WL_MIG_SHARES_ACTIVITY, w, 8, &n), WL_ERR_MISSING_ACTIVITY);
    EXPECT_STATUS(wl_mig_check(rs, 2, 3, w, 8, &n), WL_ERR_OUT_OF_RANGE);

    /* Bad numbers, each with its own status. */
    rs[2] = rs[1];
    rs[2].energy_j = -1.0;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_NEGATIVE);
    rs[2].energy_j = NAN;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_NOT_A_NUMBER);
    rs[2].energy_j = INFINITY;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_INFINITE);
    rs[2] = rs[1];
    rs[2].end_s = -1.0;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_END_BEFORE_START);
    rs[2] = rs[1];
    rs[2].id = BAD;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_BAD_UTF8);
    rs[2].id = NULL;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_NULL_POINTER);
    rs[0].struct_size = 8;
    EXPECT_STATUS(wl_mig_check(rs, 2, 0, w, 8, &n), WL_ERR_STRUCT_SIZE);
    rs[0].struct_size = (uint32_t)sizeof rs[0];
    EXPECT_STATUS(wl_mig_check(rs, 2, 0, w, 8, NULL), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_check(NULL, 2, 0, w, 8, &n), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_mig_check(rs, 65, 0, w, 8, &n), WL_ERR_TOO_MANY_RESULTS);
    /* The output's struct_size must be at least the 1.0 size. */
    w[0].struct_size = 4;
    EXPECT_STATUS(wl_mig_check(rs, 2, 0, w, 8, &n), WL_ERR_STRUCT_SIZE);
    w[0].struct_size = WL_MIG_WARNING_SIZE_V1;
    /* A message longer than its buffer has its own status: a WL-MIG-005
     * for a result whose 699-byte id does not fit 640 bytes. */
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    rs[2] = rs[1];
    rs[2].id = long_id;
    rs[2].profile = NULL;
    EXPECT_STATUS(wl_mig_check(rs, 3, 0, w, 8, &n), WL_ERR_MESSAGE_TOO_LONG);
    /* A caller built against a later header: larger elements, stride = struct_size. */
    newer[0].r = mig_result("a", "MIG-1", "1g.10gb", 500.0, 0.0, 10.0);
    newer[1].r = mig_result("b", "MIG-2", "3g.40gb", 520.0, 5.0, 15.0);
    newer[0].r.struct_size = newer[1].r.struct_size = (uint32_t)sizeof newer[0];
    newer[0].later_field = newer[1].later_field = -1.0;
    EXPECT_STATUS(wl_mig_check(&newer[0].r, 2, 0, w, 8, &n), WL_OK);
    EXPECT(n == 3 && w[1].overcount_factor == 2);
    /* Every element must repeat the stride. */
    newer[1].r.struct_size = (uint32_t)sizeof newer[1].r;
    EXPECT_STATUS(wl_mig_check(&newer[0].r, 2, 0, w, 8, &n), WL_ERR_STRUCT_SIZE);
    EXPECT_STATUS(wl_mig_check(NULL, 0, 0, NULL, 0, &n), WL_OK);
    EXPECT(n == 0);
}

static void tokens(void) {
    wl_cuda_token t[4];
    size_t n = 99;
    uint32_t stopped = 99;
    EXPECT_STATUS(wl_cuda_classify_token("3", &t[0]), WL_OK);
    EXPECT(t[0].kind == WL_TOKEN_INDEX && t[0].index == 3);
    EXPECT_STATUS(wl_cuda_classify_token("MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b", &t[0]), WL_OK);
    EXPECT(t[0].kind == WL_TOKEN_MIG && t[0].uuid_complete == 1);
    EXPECT(strcmp(t[0].uuid, "0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b") == 0);
    EXPECT_STATUS(wl_cuda_classify_token("GPU-4f1c", &t[0]), WL_OK);
    EXPECT(t[0].kind == WL_TOKEN_GPU && t[0].uuid_complete == 0 && strcmp(t[0].uuid, "4f1c") == 0);
    EXPECT_STATUS(wl_cuda_classify_token("MIG-GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f/1/2", &t[0]), WL_OK);
    EXPECT(t[0].kind == WL_TOKEN_LEGACY_MIG && t[0].gpu_instance == 1 && t[0].compute_instance == 2);
    EXPECT_STATUS(wl_cuda_classify_token("gpu-1", &t[0]), WL_ERR_DEVICE_TOKEN);
    EXPECT_STATUS(wl_cuda_classify_token("-1", &t[0]), WL_ERR_DEVICE_TOKEN);
    EXPECT_STATUS(wl_cuda_classify_token(NULL, &t[0]), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_cuda_classify_token(BAD, &t[0]), WL_ERR_BAD_UTF8);
    EXPECT_STATUS(wl_cuda_classify_token("1", NULL), WL_ERR_NULL_POINTER);

    /* "1,GPU-4f1c,-1,0": CUDA stops at -1 and hides 0. */
    EXPECT_STATUS(wl_cuda_visible_devices("1,GPU-4f1c,-1,0", t, 4, &n, &stopped), WL_OK);
    EXPECT(n == 2 && stopped == 1);
    EXPECT(t[0].kind == WL_TOKEN_INDEX && t[0].index == 1 && t[1].kind == WL_TOKEN_GPU);
    EXPECT_STATUS(wl_cuda_visible_devices("0,1,2", t, 2, &n, &stopped), WL_ERR_CAPACITY);
    EXPECT(n == 2);
    EXPECT_STATUS(wl_cuda_visible_devices("", NULL, 0, &n, &stopped), WL_OK);
    EXPECT(n == 0 && stopped == 0);
    EXPECT_STATUS(wl_cuda_visible_devices(NULL, t, 4, &n, &stopped), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_cuda_visible_devices("0", t, 4, NULL, &stopped), WL_ERR_NULL_POINTER);
    EXPECT_STATUS(wl_cuda_visible_devices("0", t, 4, &n, NULL), WL_ERR_NULL_POINTER);
}

void test_mig(int *checks_, int *failures_);
void test_mig(int *checks_, int *failures_) {
    g_checks = checks_;
    g_failures = failures_;
    profiles();
    catalog();
    capabilities();
    rules();
    tokens();
}
