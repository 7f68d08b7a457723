/* AVX2/FMA micro-kernels (see gemm.h). Tiles are instantiated with constant sizes through
 * always-inline helpers so the accumulators live in registers. */
#include <immintrin.h>
#include <string.h>

#include "quant/gemm.h"

#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 16")

/* Mask of the first n (0..8) lanes, for the tails of rows that are not a multiple of 8. */
INLINE __m256i tail_mask(int64_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx);
}

/* The sums of four vectors' lanes, as one vector [sum a, sum b, sum c, sum d]. */
INLINE __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    const __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

INLINE float hsum(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Store (or add) the first nr of four row results of one token. */
INLINE void store_rows(float *y, __m128 v, int64_t nr, int accumulate) {
    if (nr == 4) {
        _mm_storeu_ps(y, accumulate ? _mm_add_ps(_mm_loadu_ps(y), v) : v);
        return;
    }
    float tmp[4];
    _mm_storeu_ps(tmp, v);
    for (int64_t r = 0; r < nr; r++) y[r] = accumulate ? y[r] + tmp[r] : tmp[r];
}

/* ---- f32 (and F16/BF16 weights): 4 rows x NT tokens, dot-product form ---------------------- */

enum { W_F32, W_F16, W_BF16 };

/* 8 weights from element i of a row of format fmt, as floats. */
INLINE __m256 load_w8(const void *row, int64_t i, int fmt) {
    if (fmt == W_F32) return _mm256_loadu_ps((const float *)row + i);
    const __m128i h = _mm_loadu_si128((const __m128i *)((const uint8_t *)row + 2 * i));
    if (fmt == W_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The last n (< 8) weights from element i, zero-padded. */
INLINE __m256 load_w8_tail(const void *row, int64_t i, int64_t n, int fmt) {
    if (fmt == W_F32) return _mm256_maskload_ps((const float *)row + i, tail_mask(n));
    uint16_t h[8] = {0};
    memcpy(h, (const uint8_t *)row + 2 * i, (size_t)n * 2);
    return load_w8(h, 0, fmt);
}

INLINE void f32_tile(const void *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int NT,
                     int64_t k, float *y, int64_t ldy, int accumulate, int fmt) {
    const int64_t esize = fmt == W_F32 ? 4 : 2;
    const uint8_t *wr[4];
    UNROLL for (int r = 0; r < 4; r++) wr[r] = (const uint8_t *)w + (r < nr ? r : nr - 1) * ldw * esize; /* extra rows repeat the last */
    __m256 acc[4][2];
    UNROLL for (int r = 0; r < 4; r++)
        UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        __m256 wv[4];
        UNROLL for (int r = 0; r < 4; r++) wv[r] = load_w8(wr[r], i, fmt);
        UNROLL for (int t = 0; t < NT; t++) {
            const __m256 xv = _mm256_loadu_ps(x + t * ldx + i);
            UNROLL for (int r = 0; r < 4; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (i < k) {
        const __m256i m = tail_mask(k - i);
        __m256 wv[4];
        UNROLL for (int r = 0; r < 4; r++) wv[r] = load_w8_tail(wr[r], i, k - i, fmt);
        UNROLL for (int t = 0; t < NT; t++) {
            const __m256 xv = _mm256_maskload_ps(x + t * ldx + i, m);
            UNROLL for (int r = 0; r < 4; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) store_rows(y + t * ldy, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]), nr, accumulate);
}

INLINE void gemm_any(const void *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int64_t nt, int64_t k,
                     float *y, int64_t ldy, int accumulate, int fmt) {
    const int64_t esize = fmt == W_F32 ? 4 : 2;
    const uint8_t *wb = w;
    int64_t t = 0;
    for (; t + 2 <= nt; t += 2)
        for (int64_t r = 0; r < nr; r += 4)
            f32_tile(wb + r * ldw * esize, ldw, nr - r < 4 ? nr - r : 4, x + t * ldx, ldx, 2, k, y + t * ldy + r, ldy,
                     accumulate, fmt);
    for (; t < nt; t++)
        for (int64_t r = 0; r < nr; r += 4)
            f32_tile(wb + r * ldw * esize, ldw, nr - r < 4 ? nr - r : 4, x + t * ldx, ldx, 1, k, y + t * ldy + r, ldy,
                     accumulate, fmt);
}

static void gemm_f32(const float *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx,
                     int64_t nt, int64_t k, float *y, int64_t ldy, int accumulate) {
    gemm_any(w, ldw, nr, x, ldx, nt, k, y, ldy, accumulate, W_F32);
}

static void gemm_h16(const uint8_t *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int64_t nt,
                     int64_t k, float *y, int64_t ldy, int bf16) {
    if (bf16) {
        gemm_any(w, ldw, nr, x, ldx, nt, k, y, ldy, 0, W_BF16);
    } else {
        gemm_any(w, ldw, nr, x, ldx, nt, k, y, ldy, 0, W_F16);
    }
}

/* ---- f32 transposed: NT tokens x 16 columns, axpy form ------------------------------------ */

INLINE void t_tile(const float *w, int64_t ldw, int64_t no, const float *dy, int64_t lddy, int NT,
                   int64_t nc, float *dx, int64_t lddx) {
    const int full = nc >= 16;
    const __m256i m0 = tail_mask(nc < 8 ? nc : 8), m1 = tail_mask(nc < 16 ? nc - 8 : 8);
    __m256 acc[4][2];
    UNROLL for (int t = 0; t < NT; t++) {
        acc[t][0] = full ? _mm256_loadu_ps(dx + t * lddx) : _mm256_maskload_ps(dx + t * lddx, m0);
        acc[t][1] = full ? _mm256_loadu_ps(dx + t * lddx + 8) : _mm256_maskload_ps(dx + t * lddx + 8, m1);
    }
    for (int64_t o = 0; o < no; o++) {
        const float *wo = w + o * ldw;
        const __m256 w0 = full ? _mm256_loadu_ps(wo) : _mm256_maskload_ps(wo, m0);
        const __m256 w1 = full ? _mm256_loadu_ps(wo + 8) : _mm256_maskload_ps(wo + 8, m1);
        UNROLL for (int t = 0; t < NT; t++) {
            const __m256 g = _mm256_broadcast_ss(dy + t * lddy + o);
            acc[t][0] = _mm256_fmadd_ps(w0, g, acc[t][0]);
            acc[t][1] = _mm256_fmadd_ps(w1, g, acc[t][1]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) {
        if (full) {
            _mm256_storeu_ps(dx + t * lddx, acc[t][0]);
            _mm256_storeu_ps(dx + t * lddx + 8, acc[t][1]);
        } else {
            _mm256_maskstore_ps(dx + t * lddx, m0, acc[t][0]);
            _mm256_maskstore_ps(dx + t * lddx + 8, m1, acc[t][1]);
        }
    }
}

static void gemm_t_f32(const float *w, int64_t ldw, int64_t no, const float *dy, int64_t lddy,
                       int64_t nt, int64_t nc, float *dx, int64_t lddx) {
    int64_t t = 0;
    for (; t + 4 <= nt; t += 4)
        for (int64_t c = 0; c < nc; c += 16)
            t_tile(w + c, ldw, no, dy + t * lddy, lddy, 4, nc - c, dx + t * lddx + c, lddx);
    for (; t < nt; t++)
        for (int64_t c = 0; c < nc; c += 16)
            t_tile(w + c, ldw, no, dy + t * lddy, lddy, 1, nc - c, dx + t * lddx + c, lddx);
}

/* sum_g c[g]*s[g] over ng groups. */
INLINE float group_terms(const float *c, const float *s, int64_t ng) {
    __m256 acc = _mm256_setzero_ps();
    int64_t g = 0;
    for (; g + 8 <= ng; g += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(c + g), _mm256_loadu_ps(s + g), acc);
    float tail = 0.0f;
    for (; g < ng; g++) tail += c[g] * s[g];
    return hsum(acc) + tail;
}

/* ---- int8, kind A (prompts): 16 rows x NT tokens, one row per int32 lane ------------------- *
 * As in gemm_avx512.c: the unpacked rows are re-laid so that one vector holds the same 4 codes
 * (a quad) of 8 rows, multiplied against a broadcast quad of one token, and the float work is
 * done once per block instead of once per 4 codes. maddubs pairs must fit int16: codes up to
 * 31 (Q4_x, Q5_x) sum four quads in int16 before widening; larger ones (Q8_0, IQ4_NL: up to
 * 255) are made signed (u - 128, corrected with the block's code sum) and use the sign trick. */

#define QA_KB 16 /* blocks per re-laid chunk */

typedef struct {
    __m256i u[QA_KB][4][8];   /* [block][8-row group][quad]: lane r = codes 4q..4q+3 of row r */
    float dw[QA_KB][4][8];    /* block scale of each row */
    float c[QA_KB][4][2][8];  /* [block][group][half-block group term][row] */
    int wide;                 /* some code > 31: u holds u - 128 */
} qa_chunk;

/* 8 rows x 8 dwords -> 8 vectors of one dword (quad) of each row. */
INLINE void transpose8(__m256i z[8]) {
    __m256i t[8], q[8];
    for (int j = 0; j < 4; j++) {
        t[2 * j] = _mm256_unpacklo_epi32(z[2 * j], z[2 * j + 1]);
        t[2 * j + 1] = _mm256_unpackhi_epi32(z[2 * j], z[2 * j + 1]);
    }
    for (int j = 0; j < 2; j++) {
        q[4 * j] = _mm256_unpacklo_epi64(t[4 * j], t[4 * j + 2]);
        q[4 * j + 1] = _mm256_unpackhi_epi64(t[4 * j], t[4 * j + 2]);
        q[4 * j + 2] = _mm256_unpacklo_epi64(t[4 * j + 1], t[4 * j + 3]);
        q[4 * j + 3] = _mm256_unpackhi_epi64(t[4 * j + 1], t[4 * j + 3]);
    }
    /* q[m] (rows 0-3) and q[4+m] (rows 4-7) hold quad m in their low lane, quad m+4 in the high */
    for (int m = 0; m < 4; m++) {
        z[m] = _mm256_permute2x128_si256(q[m], q[4 + m], 0x20);
        z[m + 4] = _mm256_permute2x128_si256(q[m], q[4 + m], 0x31);
    }
}

/* Re-lay blocks [b0, b0 + nb) of nr (<= 32) unpacked rows; missing rows repeat the last. */
static void qa_relay(const l4_unpacked *w, int64_t nr, int64_t n, int64_t b0, int64_t nb, qa_chunk *ch) {
    __m256i any = _mm256_setzero_si256();
    for (int g = 0; 8 * g < nr; g++) {
        int64_t row[8];
        for (int r = 0; r < 8; r++) row[r] = 8 * g + r < nr ? 8 * g + r : nr - 1;
        for (int64_t b = 0; b < nb; b++) {
            __m256i *z = ch->u[b][g];
            for (int r = 0; r < 8; r++) {
                z[r] = _mm256_loadu_si256((const __m256i *)(w->u + row[r] * n + (b0 + b) * L4_QK));
                any = _mm256_or_si256(any, z[r]);
            }
            transpose8(z);
            for (int r = 0; r < 8; r++) {
                ch->dw[b][g][r] = w->dexp[row[r] * (n / 4) + (b0 + b) * 8];
                ch->c[b][g][0][r] = w->c[row[r] * (n / 16) + (b0 + b) * 2];
                ch->c[b][g][1][r] = w->c[row[r] * (n / 16) + (b0 + b) * 2 + 1];
            }
        }
    }
    ch->wide = !_mm256_testz_si256(any, _mm256_set1_epi8((char)0xE0));
    if (!ch->wide) return;
    for (int g = 0; 8 * g < nr; g++)
        for (int64_t b = 0; b < nb; b++)
            for (int q = 0; q < 8; q++) ch->u[b][g][q] = _mm256_xor_si256(ch->u[b][g][q], _mm256_set1_epi8((char)0x80));
}

INLINE __m256i bcast_quad(const int8_t *p) {
    int32_t quad;
    memcpy(&quad, p, 4);
    return _mm256_set1_epi32(quad);
}

/* NG 8-row groups x NT tokens over the chunk's nb blocks; y (+)= the result. */
INLINE void qa_tile(const qa_chunk *ch, int64_t nb, int64_t b0, int g0, int NG, int64_t nr, const l4_qact *x,
                    int NT, int64_t n, float *y, int64_t ldy, int accumulate, int wide) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[2][2];
    UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) acc[g][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int64_t k = (b0 + b) * L4_QK;
        __m256i isum[2][2];
        if (wide) {
            UNROLL for (int t = 0; t < NT; t++) {
                /* sum (u - 128) x + 128 sum x */
                const int32_t xs = 128 * (x->bs[t * (n / 16) + (b0 + b) * 2] + x->bs[t * (n / 16) + (b0 + b) * 2 + 1]);
                UNROLL for (int g = 0; g < NG; g++) isum[g][t] = _mm256_set1_epi32(xs);
            }
            UNROLL for (int q = 0; q < 8; q++) {
                __m256i w[2], aw[2];
                UNROLL for (int g = 0; g < NG; g++) {
                    w[g] = ch->u[b][g0 + g][q];
                    aw[g] = _mm256_abs_epi8(w[g]);
                }
                UNROLL for (int t = 0; t < NT; t++) {
                    const __m256i xb = bcast_quad(x->q + t * n + k + 4 * q);
                    UNROLL for (int g = 0; g < NG; g++) {
                        const __m256i p = _mm256_maddubs_epi16(aw[g], _mm256_sign_epi8(xb, w[g]));
                        isum[g][t] = _mm256_add_epi32(isum[g][t], _mm256_madd_epi16(p, ones));
                    }
                }
            }
        } else {
            UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) isum[g][t] = _mm256_setzero_si256();
            UNROLL for (int h = 0; h < 2; h++) {
                __m256i p[2][2];
                UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) p[g][t] = _mm256_setzero_si256();
                UNROLL for (int q = 4 * h; q < 4 * h + 4; q++) {
                    UNROLL for (int t = 0; t < NT; t++) {
                        const __m256i xb = bcast_quad(x->q + t * n + k + 4 * q);
                        UNROLL for (int g = 0; g < NG; g++)
                            p[g][t] = _mm256_add_epi16(p[g][t], _mm256_maddubs_epi16(ch->u[b][g0 + g][q], xb));
                    }
                }
                UNROLL for (int g = 0; g < NG; g++)
                    UNROLL for (int t = 0; t < NT; t++) isum[g][t] = _mm256_add_epi32(isum[g][t], _mm256_madd_epi16(p[g][t], ones));
            }
        }
        UNROLL for (int t = 0; t < NT; t++) {
            const __m256 xd = _mm256_set1_ps(x->dexp[t * (n / 4) + (b0 + b) * 8]);
            const __m256 s0 = _mm256_set1_ps(x->s[t * (n / 16) + (b0 + b) * 2]);
            const __m256 s1 = _mm256_set1_ps(x->s[t * (n / 16) + (b0 + b) * 2 + 1]);
            UNROLL for (int g = 0; g < NG; g++) {
                const __m256 scale = _mm256_mul_ps(_mm256_load_ps(ch->dw[b][g0 + g]), xd);
                acc[g][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[g][t]), scale, acc[g][t]);
                acc[g][t] = _mm256_fmadd_ps(_mm256_load_ps(ch->c[b][g0 + g][0]), s0, acc[g][t]);
                acc[g][t] = _mm256_fmadd_ps(_mm256_load_ps(ch->c[b][g0 + g][1]), s1, acc[g][t]);
            }
        }
    }
    UNROLL for (int g = 0; g < NG; g++) {
        const int64_t rows = nr - 8 * (g0 + g);
        UNROLL for (int t = 0; t < NT; t++) {
            float *yt = y + t * ldy + 8 * (g0 + g);
            if (rows >= 8) {
                _mm256_storeu_ps(yt, accumulate ? _mm256_add_ps(acc[g][t], _mm256_loadu_ps(yt)) : acc[g][t]);
            } else {
                const __m256i m = tail_mask(rows);
                const __m256 v = accumulate ? _mm256_add_ps(acc[g][t], _mm256_maskload_ps(yt, m)) : acc[g][t];
                _mm256_maskstore_ps(yt, m, v);
            }
        }
    }
}

INLINE void qa_chunk_tokens(const qa_chunk *ch, int64_t nb, int64_t b0, int64_t nr, const l4_qact *x, int64_t nt,
                            int64_t n, float *y, int64_t ldy, int accumulate, int wide) {
    for (int64_t t = 0; t < nt; t += 2) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int g0 = 0; 8 * g0 < nr; g0 += 2) {
            const int two_groups = 8 * (g0 + 1) < nr;
            float *yt = y + t * ldy;
            if (nt - t >= 2) {
                if (two_groups) qa_tile(ch, nb, b0, g0, 2, nr, &xt, 2, n, yt, ldy, accumulate, wide);
                else qa_tile(ch, nb, b0, g0, 1, nr, &xt, 2, n, yt, ldy, accumulate, wide);
            } else {
                if (two_groups) qa_tile(ch, nb, b0, g0, 2, nr, &xt, 1, n, yt, ldy, accumulate, wide);
                else qa_tile(ch, nb, b0, g0, 1, nr, &xt, 1, n, yt, ldy, accumulate, wide);
            }
        }
    }
}

static void gemm_qa(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    qa_chunk ch __attribute__((aligned(32)));
    for (int64_t r = 0; r < nr; r += 32) {
        const l4_unpacked wr = l4_unpacked_rows(w, r, n);
        const int64_t rows = nr - r < 32 ? nr - r : 32;
        for (int64_t b0 = 0; b0 < n / L4_QK; b0 += QA_KB) {
            const int64_t nb = n / L4_QK - b0 < QA_KB ? n / L4_QK - b0 : QA_KB;
            qa_relay(&wr, rows, n, b0, nb, &ch);
            if (ch.wide) {
                qa_chunk_tokens(&ch, nb, b0, rows, x, nt, n, y + r, ldy, b0 > 0, 1);
            } else {
                qa_chunk_tokens(&ch, nb, b0, rows, x, nt, n, y + r, ldy, b0 > 0, 0);
            }
        }
    }
}

/* ---- int8, kind B: 2 rows x NT tokens, super-blocks of 256 with integer group scales ------ */

INLINE void qb_tile(const l4_unpacked *w, int64_t nr, const l4_qact *x, int NT, int64_t n, float *y,
                    int64_t ldy) {
    const int64_t r1 = nr > 1 ? 1 : 0;
    const uint8_t *u[2] = {w->u, w->u + r1 * n};
    const int16_t *sc[2] = {w->scx, w->scx + r1 * (n / 2)};
    const float *wd[2] = {w->d, w->d + r1 * (n / L4_QK_K)};
    __m256 acc[2][2];
    UNROLL for (int r = 0; r < 2; r++)
        UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / L4_QK_K; b++) {
        __m256i isum[2][2];
        UNROLL for (int r = 0; r < 2; r++)
            UNROLL for (int t = 0; t < NT; t++) isum[r][t] = _mm256_setzero_si256();
        UNROLL for (int j = 0; j < L4_QK_K; j += 32) {
            const int64_t k = b * L4_QK_K + j;
            __m256i wv[2], sv[2];
            UNROLL for (int r = 0; r < 2; r++) {
                wv[r] = _mm256_loadu_si256((const __m256i *)(u[r] + k));
                sv[r] = _mm256_loadu_si256((const __m256i *)(sc[r] + k / 2));
            }
            UNROLL for (int t = 0; t < NT; t++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x->q + t * n + k));
                UNROLL for (int r = 0; r < 2; r++) {
                    const __m256i p16 = _mm256_maddubs_epi16(wv[r], xv); /* u <= 63: no saturation */
                    isum[r][t] = _mm256_add_epi32(isum[r][t], _mm256_madd_epi16(p16, sv[r]));
                }
            }
        }
        UNROLL for (int t = 0; t < NT; t++) {
            const float xd = x->d[t * (n / L4_QK_K) + b];
            UNROLL for (int r = 0; r < 2; r++)
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][t]), _mm256_set1_ps(wd[r][b] * xd), acc[r][t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++)
        for (int r = 0; r < nr && r < 2; r++)
            y[t * ldy + r] = hsum(acc[r][t]) + group_terms(w->c + r * (n / 16), x->s + t * (n / 16), n / 16);
}

static void gemm_qb(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    for (int64_t t = 0; t < nt; t += 2) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r += 2) {
            const l4_unpacked wr = l4_unpacked_rows(w, r, n);
            if (nt - t >= 2) {
                qb_tile(&wr, nr - r, &xt, 2, n, y + t * ldy + r, ldy);
            } else {
                qb_tile(&wr, nr - r, &xt, 1, n, y + t * ldy + r, ldy);
            }
        }
    }
}

const l4_gemm_kernels l4_gemm_avx2 = {gemm_f32, gemm_h16, gemm_t_f32, gemm_qa, gemm_qb, l4_vecdot_avx2};
