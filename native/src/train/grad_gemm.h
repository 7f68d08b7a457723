/* A small single-threaded f32 GEMM for the backward kernels (attention tiles, LoRA products,
 * weight gradients): C (=|+=) alpha * op(A) * op(B), with op(A) m x k and op(B) k x n given by
 * strides, so one routine computes A*B, A^T*B and A*B^T without transposed copies by the caller.
 * Callers split rows or columns of C among threads themselves. */
#ifndef LORA4J_TRAIN_GRAD_GEMM_H
#define LORA4J_TRAIN_GRAD_GEMM_H

#include <stdint.h>

/* C[i*ldc + j] (accumulate ? += : =) alpha * sum_{p<k} A(i,p) * B(p,j) for i < m, j < n, where
 * A(i,p) = a[i*a_rs + p*a_cs] and B(p,j) = b[p*b_rs + j*b_cs]. k == 0 with accumulate == 0
 * writes zeros. Packs blocks of A and B into a 56 KiB stack buffer. */
void l4_grad_gemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t a_rs,
                  int64_t a_cs, const float *b, int64_t b_rs, int64_t b_cs, float *c, int64_t ldc,
                  int accumulate);

/* Width of a packed panel of B: [kc][L4_GEMM_NR], zero padded past n. */
#define L4_GEMM_NR 16

/* Micro-kernel: C[i*ldc + j] (=|+=) alpha * sum_{p<kc} ap[p*mr_full + i] * bp[p*NR + j] for
 * i < mr, j < nr, where ap is a packed panel of A ([kc][kernel's mr], zero padded). */
typedef void (*l4_gemm_ukernel_fn)(int64_t kc, const float *ap, const float *bp, float *c,
                                   int64_t ldc, int mr, int nr, float alpha, int accumulate);

typedef struct l4_gemm_ukernel {
    int mr; /* rows of a panel of A, and of C per call; divides 48 */
    l4_gemm_ukernel_fn fn;
} l4_gemm_ukernel;

extern const l4_gemm_ukernel l4_gemm_ukernel_scalar;
extern const l4_gemm_ukernel l4_gemm_ukernel_avx2;
extern const l4_gemm_ukernel l4_gemm_ukernel_avx512;

#endif
