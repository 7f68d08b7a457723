/* A small single-threaded f32 GEMM for the backward kernels (attention tiles, LoRA products,
 * weight gradients): C (=|+=) alpha * op(A) * op(B), with op(A) m x k and op(B) k x n given by
 * strides, so one routine computes A*B, A^T*B and A*B^T without transposed copies by the caller.
 * Callers split rows or columns of C among threads themselves. */
#ifndef LORA4J_TRAIN_GRAD_GEMM_H
#define LORA4J_TRAIN_GRAD_GEMM_H

#include <stdint.h>

/* C[i*ldc + j] (accumulate ? += : =) alpha * sum_{p<k} A(i,p) * B(p,j) for i < m, j < n, where
 * A(i,p) = a[i*a_rs + p*a_cs] and B(p,j) = b[p*b_rs + j*b_cs]. k == 0 with accumulate == 0
 * writes zeros. Fastest when a_cs == 1 and b_cs == 1 (both read in place); other strides are
 * packed through a 56 KiB stack buffer. */
void l4_grad_gemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t a_rs,
                  int64_t a_cs, const float *b, int64_t b_rs, int64_t b_cs, float *c, int64_t ldc,
                  int accumulate);

/* Columns of C per micro-kernel call, and the width of a packed panel of B. */
#define L4_GEMM_NR 16

/* Micro-kernel: C[i*ldc + j] (=|+=) alpha * sum_{p<kc} a[i*a_rs + p*a_cs] * b[p*b_rs + j] for
 * i < mr, j < nr. Reads no column of B past nr; rows of A past mr are not used (kernels may
 * re-read row 0 for them). */
typedef void (*l4_gemm_ukernel_fn)(int64_t kc, const float *a, int64_t a_rs, int64_t a_cs,
                                   const float *b, int64_t b_rs, float *c, int64_t ldc, int mr,
                                   int nr, float alpha, int accumulate);

/* dst[p*w + q] = src[p*s_p + q] for q < nq, 0 for nq <= q < w (w <= 16), p < kc. */
typedef void (*l4_gemm_pack_fn)(const float *src, int64_t s_p, int64_t nq, int64_t kc, int w,
                                float *dst);

typedef struct l4_gemm_ukernel {
    int mr; /* rows of C per call; divides 48 */
    l4_gemm_ukernel_fn fn;
    l4_gemm_pack_fn pack_rows;
} l4_gemm_ukernel;

extern const l4_gemm_ukernel l4_gemm_ukernel_scalar;
extern const l4_gemm_ukernel l4_gemm_ukernel_avx2;
extern const l4_gemm_ukernel l4_gemm_ukernel_avx512;

#endif
