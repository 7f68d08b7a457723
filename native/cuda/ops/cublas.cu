/* The cuBLAS path of lcu_gemm: B dequantized tile-wise (chunks of its stored rows) into a bf16
 * scratch, A converted to bf16 when it is f32, then cublasGemmEx with bf16 inputs, f32 compute and
 * f32 C. cuBLAS is opened at run time (ops/cublas.h); without it nothing here runs. */
#ifndef LCU_EMU

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <atomic>

#include "ops/cublas.h"
#include "ops/dequant.cuh"
#include "ops/scratch.h"

/* ---- loading -------------------------------------------------------------------------------- */

int lcu_blas_load_from(const char *name, lcu_blas_api *api) {
    memset(api, 0, sizeof *api);
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return 0;
    api->create = (lcu_blas_create_fn)dlsym(lib, "cublasCreate_v2");
    api->destroy = (lcu_blas_destroy_fn)dlsym(lib, "cublasDestroy_v2");
    api->set_stream = (lcu_blas_set_stream_fn)dlsym(lib, "cublasSetStream_v2");
    api->gemm_ex = (lcu_blas_gemm_ex_fn)dlsym(lib, "cublasGemmEx");
    if (!api->create || !api->destroy || !api->set_stream || !api->gemm_ex) {
        dlclose(lib);
        memset(api, 0, sizeof *api);
        return 0;
    }
    api->lib = lib;
    return 1;
}

static lcu_blas_api g_api;          /* set once, by blas_open; never closed (handles outlive calls) */
static const char *g_api_name;
static std::atomic<int> g_given_up; /* a cuBLAS call failed: use wmma from then on */

static bool blas_open(void) {
    const char *env = getenv("LORA4J_CUBLAS_LIBRARY");
    if (env && *env) {
        if (lcu_blas_load_from(env, &g_api)) g_api_name = env;
        return true;
    }
    static const char *const names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    for (const char *n : names)
        if (lcu_blas_load_from(n, &g_api)) {
            g_api_name = n;
            break;
        }
    return true;
}

const char *lcu_blas_library(void) {
    static const bool opened = blas_open(); /* thread-safe once */
    (void)opened;
    return g_given_up.load() ? NULL : g_api_name;
}

/* ---- per thread and device: a cuBLAS handle --------------------------------------------------- */

#define BLAS_MAX_DEVICES 16

static std::atomic<size_t> g_chunk_bytes{(size_t)32 << 20};

void lcu_blas_set_chunk_bytes(size_t bytes) { g_chunk_bytes.store(bytes > 0 ? bytes : 1); }

/* A handle is not safe to share between threads: each thread has its own, per device, created on
 * first use, destroyed when the thread ends. Its bf16 operands go in this thread's scratch
 * (ops/scratch.h). */
struct blas_thread {
    lcu_blas_handle handle[BLAS_MAX_DEVICES];
    ~blas_thread() {
        int cur = 0;
        if (cudaGetDevice(&cur) != cudaSuccess) return;
        for (int d = 0; d < BLAS_MAX_DEVICES; d++) {
            if (!handle[d]) continue;
            cudaSetDevice(d);
            g_api.destroy(handle[d]); /* synchronizes the device */
        }
        cudaSetDevice(cur);
    }
};
static thread_local blas_thread t_blas;

/* This thread's handle on the current device, created and bound to stream s; NULL when that
 * fails. */
static lcu_blas_handle blas_handle_for(lcu_stream s) {
    int d = 0;
    if (cudaGetDevice(&d) != cudaSuccess || d < 0 || d >= BLAS_MAX_DEVICES) return NULL;
    lcu_blas_handle &h = t_blas.handle[d];
    if (!h && g_api.create(&h) != LCU_BLAS_STATUS_SUCCESS) {
        h = NULL;
        return NULL;
    }
    if (g_api.set_stream(h, s) != LCU_BLAS_STATUS_SUCCESS) return NULL;
    return h;
}

/* ---- the GEMM ---------------------------------------------------------------------------------- */

/* Row-major to cuBLAS's column-major: a row-major matrix X [r][c] with row stride ld is, read
 * column-major with leading dimension ld, the matrix Xᵀ [c][r]. So the row-major C [M][N] is the
 * column-major Cᵀ [N][M] (ldc), and C = op(A)·op(B) is computed as
 *     Cᵀ = op(B)ᵀ · op(A)ᵀ,   cuBLAS m = N, n = M, k = K.
 * cuBLAS's first operand is B: its stored rows read column-major are Bᵀ, which is op(B)ᵀ when
 * tb = 0 (OP_N) and the transpose of op(B)ᵀ = B when tb = 1 (OP_T); likewise the second operand
 * is A with OP_N for ta = 0 and OP_T for ta = 1. Leading dimensions stay the row strides.
 *
 * B goes in chunks of its stored rows, each dequantized to dense bf16 [rows][cols] (ld cols):
 * with tb = 1 (B stored [N][K]) a chunk is a range of output columns n0.. (C at c + n0, each C
 * element written once, beta as given); with tb = 0 (B stored [K][N]) it is a range of the
 * reduction k0.., multiplied by the matching columns of op(A) and accumulated (beta for the first
 * chunk, 1 after). */
namespace {
struct blas_gemm {
    lcu_stream s;
    const lcu_mat *a, *b;
    float alpha, beta;
    float *c;
    int64_t ldc, M, N, K;

    /* op(A)'s columns k0.. as a stored-matrix view (for the wmma finish) */
    lcu_mat a_from(int64_t k0) const {
        lcu_mat v = *a;
        const int64_t es = dq_row_bytes(a->type, 1);
        if (a->trans) {
            v.data = (const uint8_t *)a->data + k0 * a->ld * es;
            v.rows -= k0;
        } else {
            v.data = (const uint8_t *)a->data + k0 * es;
            v.cols -= k0;
        }
        return v;
    }

    /* Stored rows r0.. of B and what they multiply, by lcu_gemm_wmma: the rest of the work after a
     * cuBLAS failure. */
    void finish_wmma(int64_t r0, float beta_now) const {
        lcu_mat bv = *b;
        bv.data = (const uint8_t *)b->data + r0 * dq_row_bytes(b->type, b->ld);
        bv.rows -= r0;
        if (b->trans) {
            lcu_gemm_wmma(s, a, &bv, alpha, beta_now, c + r0, ldc);
        } else {
            const lcu_mat av = a_from(r0);
            lcu_gemm_wmma(s, &av, &bv, alpha, beta_now, c, ldc);
        }
    }

    int run() {
        if (M <= 0 || N <= 0 || K <= 0) return 0;
        if (M > INT_MAX || N > INT_MAX || K > INT_MAX || ldc > INT_MAX || a->ld > INT_MAX || b->ld > INT_MAX) return 0;
        if (!lcu_blas_library()) return 0;
        const lcu_blas_handle handle = blas_handle_for(s);
        if (!handle) return 0;

        /* B: a BF16 B is used in place, in one chunk; any other type is dequantized in chunks of
         * as many stored rows as the scratch bound allows (at least one). */
        const bool direct = b->type == LORA4J_TYPE_BF16;
        int64_t chunk = b->rows;
        lcu_bf16 *bbuf = NULL;
        if (!direct) {
            const int64_t fit = (int64_t)(g_chunk_bytes.load() / (sizeof(lcu_bf16) * (size_t)b->cols));
            chunk = fit < 1 ? 1 : fit < b->rows ? fit : b->rows;
            bbuf = (lcu_bf16 *)lcu_scratch(s, LCU_SCRATCH_BLAS_B, (size_t)(chunk * b->cols) * sizeof(lcu_bf16));
            if (!bbuf) return 0;
        }
        /* A as bf16, row stride kept: an f32 A is converted over its span, rows-1 full strides plus
         * one row, so nothing past its last element is read. Both scratch buffers are in hand
         * before any work is queued: a return of 0 leaves nothing behind on the stream. */
        const lcu_bf16 *abf = (const lcu_bf16 *)a->data;
        if (a->type == LORA4J_TYPE_F32) {
            const int64_t span = (a->rows - 1) * a->ld + a->cols;
            lcu_bf16 *p = (lcu_bf16 *)lcu_scratch(s, LCU_SCRATCH_BLAS_A, (size_t)span * sizeof(lcu_bf16));
            if (!p) return 0;
            lcu_to_bf16(s, (const float *)a->data, p, span);
            abf = p;
        }
        const int opb = b->trans ? LCU_BLAS_OP_T : LCU_BLAS_OP_N;
        const int opa = a->trans ? LCU_BLAS_OP_T : LCU_BLAS_OP_N;
        const int ldb = direct ? (int)b->ld : (int)b->cols;

        for (int64_t r0 = 0; r0 < b->rows; r0 += chunk) {
            const int64_t nr = chunk < b->rows - r0 ? chunk : b->rows - r0;
            const lcu_bf16 *bp = (const lcu_bf16 *)b->data;
            if (!direct) {
                lcu_dequant_bf16(s, b, r0, nr, bbuf);
                bp = bbuf;
            }
            const float beta_now = b->trans || r0 == 0 ? beta : 1.0f;
            int st;
            if (b->trans) /* output columns r0..r0+nr-1 */
                st = g_api.gemm_ex(handle, opb, opa, (int)nr, (int)M, (int)K, &alpha, bp, CUDA_R_16BF, ldb, abf,
                                   CUDA_R_16BF, (int)a->ld, &beta_now, c + r0, CUDA_R_32F, (int)ldc,
                                   LCU_BLAS_COMPUTE_32F, LCU_BLAS_GEMM_DEFAULT);
            else /* reduction indices r0..r0+nr-1: op(A)'s columns r0.. */
                st = g_api.gemm_ex(handle, opb, opa, (int)N, (int)M, (int)nr, &alpha, bp, CUDA_R_16BF, ldb,
                                   a->trans ? abf + r0 * a->ld : abf + r0, CUDA_R_16BF, (int)a->ld, &beta_now, c,
                                   CUDA_R_32F, (int)ldc, LCU_BLAS_COMPUTE_32F, LCU_BLAS_GEMM_DEFAULT);
            if (st != LCU_BLAS_STATUS_SUCCESS) {
                g_given_up.store(1);
                finish_wmma(r0, beta_now);
                break;
            }
        }
        lcu_scratch_done(s);
        return 1;
    }
};
} /* namespace */

int lcu_gemm_cublas(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c,
                    int64_t ldc) {
    blas_gemm g = {s, a, b, alpha, beta, c, ldc, 0, 0, 0};
    lcu_gemm_dims(a, b, &g.M, &g.N, &g.K);
    return g.run();
}

#endif
