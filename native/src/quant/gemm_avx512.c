/* AVX-512 (F/BW/VL/DQ/VNNI) micro-kernels (see gemm.h): 4x4 f32 dot-product tiles, VNNI
 * dpbusd for 32-blocks (two blocks per register), maddubs + dpwssd for K-quant groups. */
#include <immintrin.h>

#include "quant/gemm.h"

#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 16")

INLINE __mmask16 mask16(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

/* [sum a, sum b, sum c, sum d] */
INLINE __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    const __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
    const __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
    const __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), _mm512_extractf32x8_ps(d, 1));
    const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a8, b8), _mm256_hadd_ps(c8, d8));
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/* Store (or add) the first nr of four row results of one token. */
INLINE void store_rows(float *y, __m128 v, int64_t nr, int accumulate) {
    const __mmask8 m = (__mmask8)((1u << (nr < 4 ? nr : 4)) - 1u);
    if (accumulate) v = _mm_add_ps(_mm_maskz_loadu_ps(m, y), v);
    _mm_mask_storeu_ps(y, m, v);
}

/* Row pointers of a 4-row tile; rows past nr repeat the last one (results discarded). */
#define TILE_ROWS(ptr, stride, nr) \
    { (ptr), (ptr) + ((nr) > 1 ? 1 : 0) * (stride), (ptr) + ((nr) > 2 ? 2 : (nr) - 1) * (stride), \
      (ptr) + ((nr) > 3 ? 3 : (nr) - 1) * (stride) }

/* ---- f32 (and F16/BF16 weights): 4 rows x NT tokens, dot-product form ---------------------- */

enum { W_F32, W_F16, W_BF16 };

/* 16 weights (masked: m) from element i of a row of format fmt, as floats. */
INLINE __m512 load_w16(const uint8_t *row, int64_t i, __mmask16 m, int fmt) {
    if (fmt == W_F32) return _mm512_maskz_loadu_ps(m, (const float *)row + i);
    const __m256i h = _mm256_maskz_loadu_epi16(m, row + 2 * i);
    if (fmt == W_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* One k-step of 16 (masked when m is not all ones) for 4 rows x NT tokens. */
INLINE void f32_step(const uint8_t *const wr[4], const float *const xt[4], int NT, int64_t i, __mmask16 m,
                     __m512 acc[4][4], int fmt) {
    __m512 wv[4];
    UNROLL for (int r = 0; r < 4; r++) wv[r] = load_w16(wr[r], i, m, fmt);
    UNROLL for (int t = 0; t < NT; t++) {
        const __m512 xv = _mm512_maskz_loadu_ps(m, xt[t] + i);
        UNROLL for (int r = 0; r < 4; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
}

INLINE void f32_tile(const uint8_t *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int NT,
                     int64_t k, float *y, int64_t ldy, int accumulate, int fmt) {
    const int64_t stride = ldw * (fmt == W_F32 ? 4 : 2);
    const uint8_t *wr[4] = TILE_ROWS(w, stride, nr);
    const float *xt[4] = {x, x + ldx, x + 2 * ldx, x + 3 * ldx};
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < 4; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    const int64_t kfull = k & ~(int64_t)15;
    for (int64_t i = 0; i < kfull; i += 16) f32_step(wr, xt, NT, i, 0xFFFF, acc, fmt);
    if (kfull < k) f32_step(wr, xt, NT, kfull, mask16(k - kfull), acc, fmt);
    UNROLL for (int t = 0; t < NT; t++)
        store_rows(y + t * ldy, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]), nr, accumulate);
}

INLINE void gemm_any(const uint8_t *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int64_t nt, int64_t k,
                     float *y, int64_t ldy, int accumulate, int fmt) {
    const int64_t stride = ldw * (fmt == W_F32 ? 4 : 2);
    int64_t t = 0;
    for (; t + 4 <= nt; t += 4)
        for (int64_t r = 0; r < nr; r += 4)
            f32_tile(w + r * stride, ldw, nr - r, x + t * ldx, ldx, 4, k, y + t * ldy + r, ldy, accumulate, fmt);
    for (; t < nt; t++)
        for (int64_t r = 0; r < nr; r += 4)
            f32_tile(w + r * stride, ldw, nr - r, x + t * ldx, ldx, 1, k, y + t * ldy + r, ldy, accumulate, fmt);
}

static void gemm_f32(const float *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx,
                     int64_t nt, int64_t k, float *y, int64_t ldy, int accumulate) {
    gemm_any((const uint8_t *)w, ldw, nr, x, ldx, nt, k, y, ldy, accumulate, W_F32);
}

static void gemm_h16(const uint8_t *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int64_t nt,
                     int64_t k, float *y, int64_t ldy, int bf16) {
    if (bf16) {
        gemm_any(w, ldw, nr, x, ldx, nt, k, y, ldy, 0, W_BF16);
    } else {
        gemm_any(w, ldw, nr, x, ldx, nt, k, y, ldy, 0, W_F16);
    }
}

/* ---- f32 transposed: NT tokens x 32 columns, axpy form ------------------------------------ */

INLINE void t_tile(const float *w, int64_t ldw, int64_t no, const float *dy, int64_t lddy, int NT,
                   int64_t nc, float *dx, int64_t lddx) {
    const __mmask16 m0 = mask16(nc), m1 = mask16(nc > 16 ? nc - 16 : 0);
    __m512 acc[4][2];
    for (int t = 0; t < NT; t++) {
        acc[t][0] = _mm512_maskz_loadu_ps(m0, dx + t * lddx);
        acc[t][1] = _mm512_maskz_loadu_ps(m1, dx + t * lddx + 16);
    }
    for (int64_t o = 0; o < no; o++) {
        const __m512 w0 = _mm512_maskz_loadu_ps(m0, w + o * ldw);
        const __m512 w1 = _mm512_maskz_loadu_ps(m1, w + o * ldw + 16);
        for (int t = 0; t < NT; t++) {
            const __m512 g = _mm512_set1_ps(dy[t * lddy + o]);
            acc[t][0] = _mm512_fmadd_ps(w0, g, acc[t][0]);
            acc[t][1] = _mm512_fmadd_ps(w1, g, acc[t][1]);
        }
    }
    for (int t = 0; t < NT; t++) {
        _mm512_mask_storeu_ps(dx + t * lddx, m0, acc[t][0]);
        _mm512_mask_storeu_ps(dx + t * lddx + 16, m1, acc[t][1]);
    }
}

static void gemm_t_f32(const float *w, int64_t ldw, int64_t no, const float *dy, int64_t lddy,
                       int64_t nt, int64_t nc, float *dx, int64_t lddx) {
    int64_t t = 0;
    for (; t + 4 <= nt; t += 4)
        for (int64_t c = 0; c < nc; c += 32)
            t_tile(w + c, ldw, no, dy + t * lddy, lddy, 4, nc - c, dx + t * lddx + c, lddx);
    for (; t < nt; t++)
        for (int64_t c = 0; c < nc; c += 32)
            t_tile(w + c, ldw, no, dy + t * lddy, lddy, 1, nc - c, dx + t * lddx + c, lddx);
}

/* ---- int8 helpers ------------------------------------------------------------------------- */

/* acc += c[g]*s[g] lane-wise over ng groups (folded into the accumulators before the final
 * horizontal sum). */
INLINE __m512 add_group_terms(__m512 acc, const float *c, const float *s, int64_t ng) {
    for (int64_t g = 0; g < ng; g += 16) {
        const __mmask16 m = mask16(ng - g);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, c + g), _mm512_maskz_loadu_ps(m, s + g), acc);
    }
    return acc;
}

/* Mask of the first nbytes (0..64) bytes. */
INLINE __mmask64 mask64(int64_t nbytes) {
    return nbytes >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << nbytes) - 1);
}

/* ---- int8, kind A: 4 rows x NT tokens, two 32-blocks per register ------------------------- */

/* One step of 64 elements (a last odd block: 32 bytes and 8 scales, the rest masked to zero). */
INLINE void qa_step(const uint8_t *const u[4], const float *const wd[4], const int8_t *const xq[4],
                    const float *const xd[4], int NT, int64_t k, __mmask64 mb, __mmask16 ms, __m512 acc[4][4]) {
    __m512i wv[4];
    __m512 ws[4];
    UNROLL for (int r = 0; r < 4; r++) {
        wv[r] = _mm512_maskz_loadu_epi8(mb, u[r] + k);
        ws[r] = _mm512_maskz_loadu_ps(ms, wd[r] + k / 4);
    }
    UNROLL for (int t = 0; t < NT; t++) {
        const __m512i xv = _mm512_maskz_loadu_epi8(mb, xq[t] + k);
        const __m512 xs = _mm512_maskz_loadu_ps(ms, xd[t] + k / 4);
        UNROLL for (int r = 0; r < 4; r++) {
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv[r], xv);
            acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(ws[r], xs), acc[r][t]);
        }
    }
}

INLINE void qa_tile(const l4_unpacked *w, int64_t nr, const l4_qact *x, int NT, int64_t n, float *y,
                    int64_t ldy) {
    const uint8_t *u[4] = TILE_ROWS(w->u, n, nr);
    const float *wd[4] = TILE_ROWS(w->dexp, n / 4, nr);
    const float *wc[4] = TILE_ROWS(w->c, n / 16, nr);
    const int8_t *xq[4];
    const float *xd[4];
    UNROLL for (int t = 0; t < 4; t++) {
        xq[t] = x->q + t * n;
        xd[t] = x->dexp + t * (n / 4);
    }
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < 4; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    const int64_t nfull = n & ~(int64_t)63;
    for (int64_t k = 0; k < nfull; k += 64) qa_step(u, wd, xq, xd, NT, k, ~(__mmask64)0, 0xFFFF, acc);
    if (nfull < n) qa_step(u, wd, xq, xd, NT, nfull, 0xFFFFFFFFull, 0x00FF, acc);
    UNROLL for (int t = 0; t < NT; t++) {
        UNROLL for (int r = 0; r < 4; r++) acc[r][t] = add_group_terms(acc[r][t], wc[r], x->s + t * (n / 16), n / 16);
        store_rows(y + t * ldy, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]), nr, 0);
    }
}

static void gemm_qa(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    int64_t t = 0;
    for (; t + 4 <= nt; t += 4) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r += 4) {
            const l4_unpacked wr = l4_unpacked_rows(w, r, n);
            qa_tile(&wr, nr - r, &xt, 4, n, y + t * ldy + r, ldy);
        }
    }
    for (; t < nt; t++) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r += 4) {
            const l4_unpacked wr = l4_unpacked_rows(w, r, n);
            qa_tile(&wr, nr - r, &xt, 1, n, y + t * ldy + r, ldy);
        }
    }
}

/* ---- int8, kind B: 4 rows x NT tokens, super-blocks of 256 with integer group scales ------ */

INLINE void qb_tile(const l4_unpacked *w, int64_t nr, const l4_qact *x, int NT, int64_t n, float *y,
                    int64_t ldy) {
    const uint8_t *u[4] = TILE_ROWS(w->u, n, nr);
    const int16_t *sc[4] = TILE_ROWS(w->scx, n / 2, nr);
    const float *wd[4] = TILE_ROWS(w->d, n / L4_QK_K, nr);
    const float *wc[4] = TILE_ROWS(w->c, n / 16, nr);
    const int8_t *xq[2] = {x->q, x->q + n};
    const float *xd[2] = {x->d, x->d + n / L4_QK_K};
    __m512 acc[4][2];
    UNROLL for (int r = 0; r < 4; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / L4_QK_K; b++) {
        __m512i isum[4][2];
        UNROLL for (int r = 0; r < 4; r++) UNROLL for (int t = 0; t < NT; t++) isum[r][t] = _mm512_setzero_si512();
        UNROLL for (int j = 0; j < L4_QK_K; j += 64) {
            const int64_t k = b * L4_QK_K + j;
            __m512i wv[4], sv[4];
            UNROLL for (int r = 0; r < 4; r++) {
                wv[r] = _mm512_loadu_si512(u[r] + k);
                sv[r] = _mm512_loadu_si512(sc[r] + k / 2);
            }
            UNROLL for (int t = 0; t < NT; t++) {
                const __m512i xv = _mm512_loadu_si512(xq[t] + k);
                UNROLL for (int r = 0; r < 4; r++) {
                    const __m512i p16 = _mm512_maddubs_epi16(wv[r], xv); /* u <= 63: no saturation */
                    isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], p16, sv[r]);
                }
            }
        }
        UNROLL for (int t = 0; t < NT; t++) {
            const float xs = xd[t][b];
            UNROLL for (int r = 0; r < 4; r++)
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][t]), _mm512_set1_ps(wd[r][b] * xs), acc[r][t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) {
        UNROLL for (int r = 0; r < 4; r++) acc[r][t] = add_group_terms(acc[r][t], wc[r], x->s + t * (n / 16), n / 16);
        store_rows(y + t * ldy, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]), nr, 0);
    }
}

static void gemm_qb(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    int64_t t = 0;
    for (; t + 2 <= nt; t += 2) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r += 4) {
            const l4_unpacked wr = l4_unpacked_rows(w, r, n);
            qb_tile(&wr, nr - r, &xt, 2, n, y + t * ldy + r, ldy);
        }
    }
    for (; t < nt; t++) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r += 4) {
            const l4_unpacked wr = l4_unpacked_rows(w, r, n);
            qb_tile(&wr, nr - r, &xt, 1, n, y + t * ldy + r, ldy);
        }
    }
}

const l4_gemm_kernels l4_gemm_avx512 = {gemm_f32, gemm_h16, gemm_t_f32, gemm_qa, gemm_qb, l4_vecdot_avx512};
