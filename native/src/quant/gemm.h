/* Micro-kernel interfaces between the matmul drivers (matmul.c) and the per-ISA kernel files
 * (gemm_scalar.c, gemm_avx2.c, gemm_avx512.c). Kernels loop over tiles of tokens (outer) and
 * rows (inner) so a few tokens' activations stay in L1 while a block of weight rows streams
 * from L2. */
#ifndef LORA4J_QUANT_GEMM_H
#define LORA4J_QUANT_GEMM_H

#include <stdint.h>

#include "quant/quant_impl.h"

/* y[t*ldy + r] (= or += when accumulate) sum_{i<k} w[r*ldw + i] * x[t*ldx + i],
 * r < nr, t < nt. */
typedef void (*l4_gemm_f32_fn)(const float *w, int64_t ldw, int64_t nr, const float *x,
                               int64_t ldx, int64_t nt, int64_t k, float *y, int64_t ldy,
                               int accumulate);

/* y[t*ldy + r] = sum_{i<k} w_r[i] * x[t*ldx + i] for F16 (bf16 0) or BF16 (bf16 1) weights,
 * row r at w + 2*r*ldw, converted (exactly) as they are loaded: the f32 path of the few-token
 * products, with no dequantized copy. */
typedef void (*l4_gemm_h16_fn)(const uint8_t *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx,
                               int64_t nt, int64_t k, float *y, int64_t ldy, int bf16);

/* dx[t*lddx + c] += sum_{o<no} w[o*ldw + c] * dy[t*lddy + o], c < nc, t < nt. */
typedef void (*l4_gemm_t_f32_fn)(const float *w, int64_t ldw, int64_t no, const float *dy,
                                 int64_t lddy, int64_t nt, int64_t nc, float *dx, int64_t lddx);

/* Activations quantized to int8 for the fast path, one row of n per token (row strides are
 * implied by n: q n, dexp n/4, d n/256, s n/16, bs n/16). Blocks of 32 (kind A) carry a scale
 * per block, expanded to 8 floats like l4_unpacked.dexp; blocks of 256 (kind B) one scale.
 * bs[g] = the sum of the 16 codes of group g, s[g] = scale * bs[g]: the integer form serves
 * the direct kernels' offset and min terms, the float form the unpacked kernels' group terms. */
typedef struct l4_qact {
    int8_t *q;
    float *dexp; /* kind A */
    float *d;    /* kind B */
    float *s;
    int16_t *bs;
} l4_qact;

/* Quantize tokens [t0, t1) of x (row stride ldx, n per row) for weights of `kind`: codes
 * rint(clamp(x * 127/amax, +-127)) per block (NaN -> 0), at every SIMD level bit for bit. */
void l4_quantize_acts(const float *x, int64_t ldx, int64_t t0, int64_t t1, int64_t n, int kind,
                      const l4_qact *out);
void l4_quantize_acts_avx2(const float *x, int64_t ldx, int64_t t0, int64_t t1, int64_t n, int kind,
                           const l4_qact *out);

/* Views of an unpacked panel from row r on, and of quantized activations from token t on. */
static inline l4_unpacked l4_unpacked_rows(const l4_unpacked *w, int64_t r, int64_t n) {
    l4_unpacked v = *w;
    v.u += r * n;
    v.c += r * (n / 16);
    if (v.dexp) v.dexp += r * (n / 4);
    if (v.scx) v.scx += r * (n / 2);
    if (v.d) v.d += r * (n / L4_QK_K);
    return v;
}

static inline l4_qact l4_qact_tokens(const l4_qact *x, int64_t t, int64_t n) {
    l4_qact v = *x;
    v.q += t * n;
    v.s += t * (n / 16);
    v.bs += t * (n / 16);
    if (v.dexp) v.dexp += t * (n / 4);
    if (v.d) v.d += t * (n / L4_QK_K);
    return v;
}

/* y[t*ldy + r] = sum_k w_r[k] * x_t[k] in the canonical integer forms, r < nr, t < nt, where
 * row r of w is at the row offsets implied by n (u r*n, dexp r*n/4, scx r*n/2, d r*n/256,
 * c r*n/16) and token t of x likewise. */
typedef void (*l4_gemm_q8_fn)(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt,
                              int64_t n, float *y, int64_t ldy);

/* Direct (decode) kernels: y[t*ldy + r] = sum_k w_r[k] * x_t[k] straight from nr packed rows
 * of w (row_bytes apart), no unpacked copy: each block is decoded in registers and dotted
 * with the int8 activations. The integer block sums are those of the unpacked kernels, the
 * float combination differs only in order. Worth it when few tokens share each weight. */
typedef void (*l4_vecdot_fn)(const uint8_t *w, int64_t row_bytes, int64_t nr, const l4_qact *x,
                             int64_t nt, int64_t n, float *y, int64_t ldy);

typedef struct l4_gemm_kernels {
    l4_gemm_f32_fn f32;
    l4_gemm_h16_fn h16;
    l4_gemm_t_f32_fn t_f32;
    l4_gemm_q8_fn qa; /* kind A */
    l4_gemm_q8_fn qb; /* kind B */
    l4_vecdot_fn (*direct)(int32_t type); /* NULL, or NULL for a type: none at this level */
} l4_gemm_kernels;

l4_vecdot_fn l4_vecdot_avx2(int32_t type);
l4_vecdot_fn l4_vecdot_avx512(int32_t type);

extern const l4_gemm_kernels l4_gemm_scalar;
extern const l4_gemm_kernels l4_gemm_avx2;
extern const l4_gemm_kernels l4_gemm_avx512;

/* The kernel set for the SIMD level in force. */
const l4_gemm_kernels *l4_gemm_select(void);

#endif
