/* AVX-512 (F/BW/VL/DQ/VNNI) micro-kernels (see gemm.h): 4x4 f32 dot-product tiles (F16/BF16
 * weights converted as they load), and int8 GEMMs for prompts whose dpbusd lanes each hold one
 * weight row (32-blocks and K-quant groups alike). */
#include <immintrin.h>
#include <string.h>

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

/* ---- int8 (prompts): 32 rows x NT tokens, one row per dpbusd lane -------------------------- *
 * The unpacked rows are re-laid, a chunk of blocks at a time, so that one vector holds the same
 * 4 codes (a "quad") of 16 rows: a dpbusd against a broadcast quad of one token then adds to
 * 16 row sums at once, and once a block's (or K-quant group's) quads are in, every lane holds
 * that row's whole integer sum, scaled once. Lanes over elements instead would need the float
 * work for every 4 codes; dpbusd, the bottleneck port's main load, does the rest. */

/* The 32 codes at element k of 16 rows (row[r] * n from u) as 8 vectors: vector q, lane r =
 * codes 4q..4q+3 of row r. Pairs of rows share a vector, then 4x4 dword transposes within
 * 128-bit lanes and a final gather of the lanes. */
INLINE void relay32(const uint8_t *u, const int64_t row[16], int64_t n, int64_t k, __m512i *out) {
    const __m512i lo_idx = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i hi_idx = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    __m512i z[8], t[8], q[8];
    /* z[i]: row i in the low half, row i+8 in the high half */
    for (int i = 0; i < 8; i++)
        z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(u + row[i] * n + k))),
                                  _mm256_loadu_si256((const __m256i *)(u + row[i + 8] * n + k)), 1);
    /* q[4j + m], 128-bit lane L: quad m (L even) or m + 4 (L odd) of rows 4j..4j+3 (+8 for L >= 2) */
    for (int j = 0; j < 2; j++) {
        t[4 * j] = _mm512_unpacklo_epi32(z[4 * j], z[4 * j + 1]);
        t[4 * j + 1] = _mm512_unpackhi_epi32(z[4 * j], z[4 * j + 1]);
        t[4 * j + 2] = _mm512_unpacklo_epi32(z[4 * j + 2], z[4 * j + 3]);
        t[4 * j + 3] = _mm512_unpackhi_epi32(z[4 * j + 2], z[4 * j + 3]);
        q[4 * j] = _mm512_unpacklo_epi64(t[4 * j], t[4 * j + 2]);
        q[4 * j + 1] = _mm512_unpackhi_epi64(t[4 * j], t[4 * j + 2]);
        q[4 * j + 2] = _mm512_unpacklo_epi64(t[4 * j + 1], t[4 * j + 3]);
        q[4 * j + 3] = _mm512_unpackhi_epi64(t[4 * j + 1], t[4 * j + 3]);
    }
    for (int m = 0; m < 4; m++) {
        out[m] = _mm512_permutex2var_epi64(q[m], lo_idx, q[4 + m]);
        out[m + 4] = _mm512_permutex2var_epi64(q[m], hi_idx, q[4 + m]);
    }
}

/* Rows 16g..16g+15 of a panel of nr; missing rows repeat the last (their lanes are not stored). */
INLINE void group_rows(int g, int64_t nr, int64_t row[16]) {
    for (int r = 0; r < 16; r++) row[r] = 16 * g + r < nr ? 16 * g + r : nr - 1;
}

/* Store (or add) the first rows (<= 16) lanes of v at y. */
INLINE void store_lanes(float *y, __m512 v, int64_t rows, int accumulate) {
    const __mmask16 m = mask16(rows < 16 ? rows : 16);
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y));
    _mm512_mask_storeu_ps(y, m, v);
}

/* ---- kind A: blocks of 32 with a float scale per row and block ---- */

#define QA_KB 16 /* blocks per re-laid chunk */

typedef struct {
    __m512i u[QA_KB][2][8];   /* [block][16-row group][quad] */
    float dw[QA_KB][2][16];   /* block scale of each row */
    float c[QA_KB][2][2][16]; /* [block][group][half-block group term][row] */
} qa_chunk;

/* Re-lay blocks [b0, b0 + nb) of nr (<= 32) unpacked rows. */
static void qa_relay(const l4_unpacked *w, int64_t nr, int64_t n, int64_t b0, int64_t nb, qa_chunk *ch) {
    for (int g = 0; 16 * g < nr; g++) {
        int64_t row[16];
        group_rows(g, nr, row);
        for (int64_t b = 0; b < nb; b++) {
            relay32(w->u, row, n, (b0 + b) * L4_QK, ch->u[b][g]);
            for (int r = 0; r < 16; r++) {
                ch->dw[b][g][r] = w->dexp[row[r] * (n / 4) + (b0 + b) * 8];
                ch->c[b][g][0][r] = w->c[row[r] * (n / 16) + (b0 + b) * 2];
                ch->c[b][g][1][r] = w->c[row[r] * (n / 16) + (b0 + b) * 2 + 1];
            }
        }
    }
}

/* NG 16-row groups x NT tokens over the chunk's nb blocks; y (+)= the result. */
INLINE void qa_tile(const qa_chunk *ch, int64_t nb, int64_t b0, int NG, int64_t nr, const l4_qact *x, int NT,
                    int64_t n, float *y, int64_t ldy, int accumulate) {
    __m512 acc[2][4];
    UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) acc[g][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int64_t k = (b0 + b) * L4_QK;
        __m512i isum[2][4];
        UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) isum[g][t] = _mm512_setzero_si512();
        UNROLL for (int q = 0; q < 8; q++) {
            UNROLL for (int t = 0; t < NT; t++) {
                int32_t quad;
                memcpy(&quad, x->q + t * n + k + 4 * q, 4);
                const __m512i xb = _mm512_set1_epi32(quad);
                UNROLL for (int g = 0; g < NG; g++) isum[g][t] = _mm512_dpbusd_epi32(isum[g][t], ch->u[b][g][q], xb);
            }
        }
        UNROLL for (int t = 0; t < NT; t++) {
            const __m512 xd = _mm512_set1_ps(x->dexp[t * (n / 4) + (b0 + b) * 8]);
            const __m512 s0 = _mm512_set1_ps(x->s[t * (n / 16) + (b0 + b) * 2]);
            const __m512 s1 = _mm512_set1_ps(x->s[t * (n / 16) + (b0 + b) * 2 + 1]);
            UNROLL for (int g = 0; g < NG; g++) {
                const __m512 scale = _mm512_mul_ps(_mm512_load_ps(ch->dw[b][g]), xd);
                acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[g][t]), scale, acc[g][t]);
                acc[g][t] = _mm512_fmadd_ps(_mm512_load_ps(ch->c[b][g][0]), s0, acc[g][t]);
                acc[g][t] = _mm512_fmadd_ps(_mm512_load_ps(ch->c[b][g][1]), s1, acc[g][t]);
            }
        }
    }
    UNROLL for (int g = 0; g < NG; g++)
        UNROLL for (int t = 0; t < NT; t++) store_lanes(y + t * ldy + 16 * g, acc[g][t], nr - 16 * g, accumulate);
}

INLINE void qa_chunk_tokens(const qa_chunk *ch, int64_t nb, int64_t b0, int NG, int64_t nr, const l4_qact *x,
                            int64_t nt, int64_t n, float *y, int64_t ldy, int accumulate) {
    int64_t t = 0;
    for (; t + 4 <= nt; t += 4) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        qa_tile(ch, nb, b0, NG, nr, &xt, 4, n, y + t * ldy, ldy, accumulate);
    }
    for (; t < nt; t++) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        qa_tile(ch, nb, b0, NG, nr, &xt, 1, n, y + t * ldy, ldy, accumulate);
    }
}

static void gemm_qa(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    qa_chunk ch __attribute__((aligned(64)));
    for (int64_t r = 0; r < nr; r += 32) {
        const l4_unpacked wr = l4_unpacked_rows(w, r, n);
        const int64_t rows = nr - r < 32 ? nr - r : 32;
        for (int64_t b0 = 0; b0 < n / L4_QK; b0 += QA_KB) {
            const int64_t nb = n / L4_QK - b0 < QA_KB ? n / L4_QK - b0 : QA_KB;
            qa_relay(&wr, rows, n, b0, nb, &ch);
            if (rows > 16) {
                qa_chunk_tokens(&ch, nb, b0, 2, rows, x, nt, n, y + r, ldy, b0 > 0);
            } else {
                qa_chunk_tokens(&ch, nb, b0, 1, rows, x, nt, n, y + r, ldy, b0 > 0);
            }
        }
    }
}

/* ---- kind B: super-blocks of 256, an integer scale per group of 16 ---- */

#define QB_KB 2 /* super-blocks per re-laid chunk */

typedef struct {
    __m512i u[QB_KB * 8][2][8]; /* [32-block][16-row group][quad] */
    float scw[QB_KB][2][16][16]; /* [super-block][row group][group][row]: d * sc */
    float c[QB_KB][2][16][16];   /* group terms */
} qb_chunk;

static void qb_relay(const l4_unpacked *w, int64_t nr, int64_t n, int64_t s0, int64_t ns, qb_chunk *ch) {
    for (int g = 0; 16 * g < nr; g++) {
        int64_t row[16];
        group_rows(g, nr, row);
        for (int64_t sb = 0; sb < ns; sb++) {
            for (int blk = 0; blk < 8; blk++) relay32(w->u, row, n, (s0 + sb) * L4_QK_K + blk * L4_QK, ch->u[sb * 8 + blk][g]);
            for (int grp = 0; grp < 16; grp++) {
                for (int r = 0; r < 16; r++) {
                    const int64_t at = row[r] * (n / 16) + (s0 + sb) * 16 + grp;
                    ch->scw[sb][g][grp][r] = w->d[row[r] * (n / L4_QK_K) + s0 + sb] * (float)w->scx[at * 8];
                    ch->c[sb][g][grp][r] = w->c[at];
                }
            }
        }
    }
}

INLINE void qb_tile(const qb_chunk *ch, int64_t ns, int64_t s0, int NG, int64_t nr, const l4_qact *x, int NT,
                    int64_t n, float *y, int64_t ldy, int accumulate) {
    __m512 acc[2][4];
    UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) acc[g][t] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < ns; sb++) {
        __m512 xd[4];
        UNROLL for (int t = 0; t < NT; t++) xd[t] = _mm512_set1_ps(x->d[t * (n / L4_QK_K) + s0 + sb]);
        for (int grp = 0; grp < 16; grp++) {
            const int64_t k = (s0 + sb) * L4_QK_K + grp * 16;
            const __m512i *u = ch->u[sb * 8 + grp / 2][0] + (grp & 1) * 4; /* group g's quads: + 8 * g */
            __m512i isum[2][4];
            UNROLL for (int g = 0; g < NG; g++) UNROLL for (int t = 0; t < NT; t++) isum[g][t] = _mm512_setzero_si512();
            UNROLL for (int q = 0; q < 4; q++) {
                UNROLL for (int t = 0; t < NT; t++) {
                    int32_t quad;
                    memcpy(&quad, x->q + t * n + k + 4 * q, 4);
                    const __m512i xb = _mm512_set1_epi32(quad);
                    UNROLL for (int g = 0; g < NG; g++) isum[g][t] = _mm512_dpbusd_epi32(isum[g][t], u[8 * g + q], xb);
                }
            }
            UNROLL for (int t = 0; t < NT; t++) {
                const __m512 s = _mm512_set1_ps(x->s[t * (n / 16) + (s0 + sb) * 16 + grp]);
                UNROLL for (int g = 0; g < NG; g++) {
                    const __m512 scale = _mm512_mul_ps(_mm512_load_ps(ch->scw[sb][g][grp]), xd[t]);
                    acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[g][t]), scale, acc[g][t]);
                    acc[g][t] = _mm512_fmadd_ps(_mm512_load_ps(ch->c[sb][g][grp]), s, acc[g][t]);
                }
            }
        }
    }
    UNROLL for (int g = 0; g < NG; g++)
        UNROLL for (int t = 0; t < NT; t++) store_lanes(y + t * ldy + 16 * g, acc[g][t], nr - 16 * g, accumulate);
}

INLINE void qb_chunk_tokens(const qb_chunk *ch, int64_t ns, int64_t s0, int NG, int64_t nr, const l4_qact *x,
                            int64_t nt, int64_t n, float *y, int64_t ldy, int accumulate) {
    int64_t t = 0;
    for (; t + 4 <= nt; t += 4) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        qb_tile(ch, ns, s0, NG, nr, &xt, 4, n, y + t * ldy, ldy, accumulate);
    }
    for (; t < nt; t++) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        qb_tile(ch, ns, s0, NG, nr, &xt, 1, n, y + t * ldy, ldy, accumulate);
    }
}

static void gemm_qb(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    qb_chunk ch __attribute__((aligned(64)));
    for (int64_t r = 0; r < nr; r += 32) {
        const l4_unpacked wr = l4_unpacked_rows(w, r, n);
        const int64_t rows = nr - r < 32 ? nr - r : 32;
        for (int64_t s0 = 0; s0 < n / L4_QK_K; s0 += QB_KB) {
            const int64_t ns = n / L4_QK_K - s0 < QB_KB ? n / L4_QK_K - s0 : QB_KB;
            qb_relay(&wr, rows, n, s0, ns, &ch);
            if (rows > 16) {
                qb_chunk_tokens(&ch, ns, s0, 2, rows, x, nt, n, y + r, ldy, s0 > 0);
            } else {
                qb_chunk_tokens(&ch, ns, s0, 1, rows, x, nt, n, y + r, ldy, s0 > 0);
            }
        }
    }
}

const l4_gemm_kernels l4_gemm_avx512 = {gemm_f32, gemm_h16, gemm_t_f32, gemm_qa, gemm_qb, l4_vecdot_avx512};
