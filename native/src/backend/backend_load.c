/* Loading the CUDA backend: from $LORA4J_CUDA_LIBRARY, else liblora4j-cuda.so beside this
 * library. dlopen'ed once (RTLD_LOCAL: its CUDA runtime stays private) and never closed. The
 * engine links no CUDA code, so it runs on machines without a driver; only asking for a device
 * loads the backend. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend_load.h"
#include "core/error.h"

#define LIB_NAME "liblora4j-cuda.so"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const l4_backend *g_backend;
static int32_t g_status;
static char g_message[8192]; /* room for a full path in every message */

static void fail_load(int32_t st, const char *fmt, const char *a, const char *b) {
    g_status = st;
    snprintf(g_message, sizeof g_message, fmt, a, b);
}

/* The directory this library was loaded from (with a trailing '/'), or "" when unknown. */
static void own_dir(char *out, size_t cap) {
    Dl_info info;
    out[0] = '\0';
    if (!dladdr((void *)&l4_backend_get, &info) || !info.dli_fname) return;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash) return;
    const size_t n = (size_t)(slash - info.dli_fname) + 1;
    if (n < cap) {
        memcpy(out, info.dli_fname, n);
        out[n] = '\0';
    }
}

static void load(void) {
    char path[4096];
    const char *env = getenv("LORA4J_CUDA_LIBRARY");
    if (env && env[0]) {
        snprintf(path, sizeof path, "%s", env);
    } else {
        char dir[3584];
        own_dir(dir, sizeof dir);
        snprintf(path, sizeof path, "%s%s", dir, LIB_NAME);
    }
    if (access(path, F_OK) != 0) {
        fail_load(LORA4J_ERR_UNSUPPORTED, "this build of lora4j has no CUDA backend: %s was not found%s (build lora4j "
                  "where the CUDA toolkit, nvcc 13, is installed to get liblora4j-cuda.so, or point the environment "
                  "variable LORA4J_CUDA_LIBRARY at one)", path, env && env[0] ? " (from LORA4J_CUDA_LIBRARY)" : "");
        return;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        fail_load(LORA4J_ERR_UNSUPPORTED, "cannot load the CUDA backend %s: %s", path, e ? e : "unknown dlopen error");
        return;
    }
    l4_backend_get_fn get;
    *(void **)&get = dlsym(h, L4_BACKEND_SYMBOL);
    if (!get) {
        fail_load(LORA4J_ERR_UNSUPPORTED, "%s is not a lora4j backend (it has no symbol %s)", path, L4_BACKEND_SYMBOL);
        return;
    }
    const l4_backend *be = get(L4_BACKEND_ABI);
    if (!be || be->abi != L4_BACKEND_ABI) {
        char want[32];
        snprintf(want, sizeof want, "%d", L4_BACKEND_ABI);
        fail_load(LORA4J_ERR_UNSUPPORTED, "the CUDA backend %s was built for another version of lora4j (it does not "
                  "offer backend ABI %s; use the liblora4j-cuda.so built with this liblora4j.so)", path, want);
        return;
    }
    g_backend = be;
    g_status = LORA4J_OK;
}

int32_t l4_backend_get(const l4_backend **out) {
    pthread_once(&g_once, load);
    *out = g_backend;
    if (!g_backend) return l4_fail(g_status, "%s", g_message);
    return LORA4J_OK;
}

int32_t l4_backend_fail(const l4_backend *be, int32_t st, const char *what) {
    const char *msg = be->last_error ? be->last_error() : NULL;
    if (!msg || !msg[0]) msg = "the backend gave no reason";
    return what ? l4_fail(st, "%s: %s", what, msg) : l4_fail(st, "%s", msg);
}

int32_t l4_backend_missing(const l4_backend *be, const char *fn) {
    return l4_fail(LORA4J_ERR_UNSUPPORTED, "the %s backend has no %s", be->name ? be->name : "CUDA", fn);
}

LORA4J_API int32_t lora4j_cuda_device_count(void) {
    l4_clear_error();
    const l4_backend *be;
    if (l4_backend_get(&be) != LORA4J_OK) return -1;
    if (!be->device_count) {
        l4_backend_missing(be, "device_count");
        return -1;
    }
    int32_t n = 0;
    int32_t st = be->device_count(&n);
    if (st != LORA4J_OK) {
        l4_backend_fail(be, st, "cuda_device_count");
        return -1;
    }
    return n;
}

LORA4J_API lora4j_status_t lora4j_cuda_device_info(int32_t device, lora4j_device_info *out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "cuda_device_info: out is NULL");
    memset(out, 0, sizeof *out);
    const l4_backend *be;
    int32_t st = l4_backend_get(&be);
    if (st != LORA4J_OK) return st;
    if (!be->device_info) return l4_backend_missing(be, "device_info");
    st = be->device_info(device, out);
    return st == LORA4J_OK ? st : l4_backend_fail(be, st, "cuda_device_info");
}
