/* The cuBLAS path of lcu_gemm (ops/cublas.cu) and what it shares with gemm.cu. cuBLAS is not a
 * build dependency: its library is opened at run time (dlopen) and only the few functions used
 * are resolved, with signatures and enum values declared here from the cuBLAS API reference.
 * Nothing of it exists in the emulation build. */
#ifndef LORA4J_CUDA_CUBLAS_H
#define LORA4J_CUDA_CUBLAS_H

#include "ops/ops.h"

/* gemm.cu's own kernels for lcu_gemm: what runs when cuBLAS is absent, not chosen, or fails. */
void lcu_gemm_wmma(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c,
                   int64_t ldc);

#ifndef LCU_EMU

/* cuBLAS types and values used (cublasOperation_t, cublasComputeType_t, cublasGemmAlgo_t and
 * cublasStatus_t are C enums, int-sized; the data types are CUDA's own cudaDataType_t). */
typedef struct lcu_blas_context *lcu_blas_handle; /* cublasHandle_t, opaque */
enum {
    LCU_BLAS_OP_N = 0,
    LCU_BLAS_OP_T = 1,
    LCU_BLAS_COMPUTE_32F = 68,
    LCU_BLAS_GEMM_DEFAULT = -1,
    LCU_BLAS_STATUS_SUCCESS = 0
};
typedef int (*lcu_blas_create_fn)(lcu_blas_handle *handle);
typedef int (*lcu_blas_destroy_fn)(lcu_blas_handle handle);
typedef int (*lcu_blas_set_stream_fn)(lcu_blas_handle handle, cudaStream_t stream);
typedef int (*lcu_blas_gemm_ex_fn)(lcu_blas_handle handle, int transa, int transb, int m, int n, int k,
                                   const void *alpha, const void *A, cudaDataType_t a_type, int lda, const void *B,
                                   cudaDataType_t b_type, int ldb, const void *beta, void *C, cudaDataType_t c_type,
                                   int ldc, int compute_type, int algo);

/* The resolved entry points of one opened library. */
typedef struct lcu_blas_api {
    void *lib;
    lcu_blas_create_fn create;
    lcu_blas_destroy_fn destroy;
    lcu_blas_set_stream_fn set_stream;
    lcu_blas_gemm_ex_fn gemm_ex;
} lcu_blas_api;

/* Opens library `name` (a dlopen name or path) and resolves every entry point: 1 on success;
 * 0, *api zeroed and the library closed, when it does not open or lacks one. Host only. */
int lcu_blas_load_from(const char *name, lcu_blas_api *api);

/* The process's cuBLAS, opened on first call: env LORA4J_CUBLAS_LIBRARY if set (only that one:
 * an explicit choice is not replaced by another version), else the first of libcublas.so.13,
 * .12 and libcublas.so that loads. Its name; NULL when none did, or once a cuBLAS call has
 * failed (the process then keeps to wmma). */
const char *lcu_blas_library(void);

/* lcu_gemm through cuBLAS: 1 when it ran (wholly or, after a cuBLAS failure part-way, finished
 * by lcu_gemm_wmma, cuBLAS then being given up for the process), 0 when it could not start
 * (no cuBLAS, sizes beyond cuBLAS's int, scratch not allocatable): the caller runs wmma. */
int lcu_gemm_cublas(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c,
                    int64_t ldc);

/* The bound on the bf16 scratch that holds one chunk of dequantized B rows (default 32 MiB);
 * tests lower it to make every GEMM several chunks. */
void lcu_blas_set_chunk_bytes(size_t bytes);

#endif
#endif
