/* The direct dot kernels (gemm.h, l4_vecdot_fn), written once for both SIMD levels. The
 * including file (vecdot_avx2.c or vecdot_avx512.c) first defines the two integer primitives
 * that differ between them, on 256-bit vectors of 32 weight codes u (unsigned) and 32
 * activation codes x (signed, |x| <= 127):
 *
 *   xprep  prep_a(__m256i x, int off)               per-token work for the next primitive
 *   __m256i dot_a(__m256i u, xprep p, int off)      8 int32 lanes, summing to sum (u - off) * x
 *   __m256i dot_b(__m256i acc, __m256i u, __m256i x, __m256i sc)
 *          acc + 8 int32 lanes summing to sum sc * u * x, sc an int16 scale per element pair
 *          (u <= 63, so u * x pairs fit int16)
 *
 * Per type, the kernels decode a block of the packed row into codes and scales held in
 * registers (codes_avx2.h) and take exact integer sums against the activations; offsets and
 * mins are applied exactly, in integers, from the activations' group sums (l4_qact.bs). */
#include "quant/codes_avx2.h"
#include "quant/gemm.h"

#define UNROLL _Pragma("GCC unroll 16")

/* ---- kind A: the 32-block types ------------------------------------------------------------ */

INLINE int64_t a_bytes(int32_t type) {
    switch (type) {
    case LORA4J_TYPE_Q8_0: return 34;
    case LORA4J_TYPE_Q4_1: return 20;
    case LORA4J_TYPE_Q5_0: return 22;
    case LORA4J_TYPE_Q5_1: return 24;
    default: return 18; /* Q4_0, IQ4_NL */
    }
}

/* w = d * (u - off) (+ m for the types with a min) */
INLINE int a_off(int32_t type) {
    switch (type) {
    case LORA4J_TYPE_Q8_0:
    case LORA4J_TYPE_IQ4_NL: return 128;
    case LORA4J_TYPE_Q4_0: return 8;
    case LORA4J_TYPE_Q5_0: return 16;
    default: return 0; /* Q4_1, Q5_1 */
    }
}

INLINE int a_has_min(int32_t type) { return type == LORA4J_TYPE_Q4_1 || type == LORA4J_TYPE_Q5_1; }

INLINE __m256i a_codes(int32_t type, const uint8_t *b) {
    switch (type) {
    case LORA4J_TYPE_Q8_0: return q8_0_codes(b);
    case LORA4J_TYPE_Q4_1: return q4_1_codes(b);
    case LORA4J_TYPE_Q5_0: return q5_0_codes(b);
    case LORA4J_TYPE_Q5_1: return q5_1_codes(b);
    case LORA4J_TYPE_IQ4_NL: return iq4_nl_codes(b);
    default: return q4_0_codes(b);
    }
}

/* Two rows (the second repeats the first when nr is 1) x NT tokens. */
INLINE void a_tile(int32_t type, const uint8_t *w, int64_t row_bytes, int64_t nr, const l4_qact *x, int NT,
                   int64_t n, float *y, int64_t ldy) {
    const int off = a_off(type), has_min = a_has_min(type);
    const int64_t bytes = a_bytes(type);
    const uint8_t *row[2] = {w, w + (nr > 1 ? row_bytes : 0)};
    __m256 acc[2][2];
    float macc[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};
    UNROLL for (int r = 0; r < 2; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / L4_QK; b++) {
        __m256i u[2];
        float dw[2], mw[2];
        UNROLL for (int r = 0; r < 2; r++) {
            const uint8_t *p = row[r] + b * bytes;
            u[r] = a_codes(type, p);
            dw[r] = half_at(p);
            mw[r] = has_min ? half_at(p + 2) : 0.0f;
        }
        UNROLL for (int t = 0; t < NT; t++) {
            const xprep xp = prep_a(_mm256_loadu_si256((const __m256i *)(x->q + t * n + b * L4_QK)), off);
            const float xd = x->dexp[t * (n / 4) + 8 * b];
            const float xsum = has_min ? xd * (float)(x->bs[t * (n / 16) + 2 * b] + x->bs[t * (n / 16) + 2 * b + 1]) : 0.0f;
            UNROLL for (int r = 0; r < 2; r++) {
                const __m256 isum = _mm256_cvtepi32_ps(dot_a(u[r], xp, off));
                acc[r][t] = _mm256_fmadd_ps(isum, _mm256_set1_ps(dw[r] * xd), acc[r][t]);
                if (has_min) macc[r][t] += mw[r] * xsum;
            }
        }
    }
    UNROLL for (int t = 0; t < NT; t++) {
        y[t * ldy] = hsum(acc[0][t]) + macc[0][t];
        if (nr > 1) y[t * ldy + 1] = hsum(acc[1][t]) + macc[1][t];
    }
}

INLINE void a_rows(int32_t type, const uint8_t *w, int64_t row_bytes, int64_t nr, const l4_qact *x, int64_t nt,
                   int64_t n, float *y, int64_t ldy) {
    for (int64_t t = 0; t < nt; t += 2) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r += 2) {
            if (nt - t >= 2) {
                a_tile(type, w + r * row_bytes, row_bytes, nr - r, &xt, 2, n, y + t * ldy + r, ldy);
            } else {
                a_tile(type, w + r * row_bytes, row_bytes, nr - r, &xt, 1, n, y + t * ldy + r, ldy);
            }
        }
    }
}

/* ---- kind B: the K-quants -------------------------------------------------------------------- *
 * A super-block of 256 is 8 chunks of 32 codes; group g (16 elements) has the integer scale
 * sc[g] and, for the types with mins, the min m[g]: w = d * sc * (u - off) - dmin * m. */

typedef struct {
    __m128i sc; /* 16 int8 group scales */
    __m128i m;  /* 16 uint8 group mins (types with mins) */
    float d, dmin;
} kscale;

INLINE int64_t k_bytes(int32_t type) {
    switch (type) {
    case LORA4J_TYPE_Q2_K: return 84;
    case LORA4J_TYPE_Q3_K: return 110;
    case LORA4J_TYPE_Q4_K: return 144;
    case LORA4J_TYPE_Q5_K: return 176;
    default: return 210; /* Q6_K */
    }
}

/* log2 of the offset (Q3_K 4, Q6_K 32), or -1 for the types with mins */
INLINE int k_off_log2(int32_t type) {
    return type == LORA4J_TYPE_Q6_K ? 5 : type == LORA4J_TYPE_Q3_K ? 2 : -1;
}

/* Q4_K/Q5_K: eight 6-bit (scale, min) pairs packed in 12 bytes, one pair per 32 elements,
 * spread to the 16 groups. Byte j of each 32-bit word below holds sub-block j's (or j+4's). */
INLINE void q45_k_kscale(const uint8_t *b, kscale *k) {
    const uint32_t a = l4_rd32le(b + 4), m = l4_rd32le(b + 8), c = l4_rd32le(b + 12);
    const uint64_t sc = (a & 0x3f3f3f3fu) | (uint64_t)((c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u)) << 32;
    const uint64_t mn = (m & 0x3f3f3f3fu) | (uint64_t)(((c >> 4) & 0x0f0f0f0fu) | ((m >> 2) & 0x30303030u)) << 32;
    const __m128i s8 = _mm_cvtsi64_si128((long long)sc), m8 = _mm_cvtsi64_si128((long long)mn);
    k->sc = _mm_unpacklo_epi8(s8, s8);
    k->m = _mm_unpacklo_epi8(m8, m8);
    k->d = half_at(b);
    k->dmin = half_at(b + 2);
}

INLINE void q2_k_kscale(const uint8_t *b, kscale *k) {
    const __m128i v = _mm_loadu_si128((const __m128i *)b), lo = _mm_set1_epi8(0x0F);
    k->sc = _mm_and_si128(v, lo);
    k->m = _mm_and_si128(_mm_srli_epi16(v, 4), lo);
    k->d = half_at(b + 80);
    k->dmin = half_at(b + 82);
}

/* Q3_K: sixteen 6-bit scales minus 32: the low 4 bits of group g in byte g (g < 8, low
 * nibble) or g-8 (high nibble), the high 2 bits in byte 8 + g%4 at bit 2*(g/4). */
INLINE void q3_k_kscale(const uint8_t *b, kscale *k) {
    const uint64_t a = (uint64_t)l4_rd32le(b + 96) | (uint64_t)l4_rd32le(b + 100) << 32;
    const uint32_t c = l4_rd32le(b + 104), m2 = 0x03030303u;
    const uint64_t nib = 0x0F0F0F0F0F0F0F0Full;
    const uint64_t hi0 = (uint64_t)(c & m2) | (uint64_t)((c >> 2) & m2) << 32;        /* groups 0-7 */
    const uint64_t hi1 = (uint64_t)((c >> 4) & m2) | (uint64_t)((c >> 6) & m2) << 32; /* groups 8-15 */
    const __m128i v = _mm_set_epi64x((long long)(((a >> 4) & nib) | hi1 << 4), (long long)((a & nib) | hi0 << 4));
    k->sc = _mm_sub_epi8(v, _mm_set1_epi8(32));
    k->m = _mm_setzero_si128();
    k->d = half_at(b + 108);
    k->dmin = 0.0f;
}

INLINE void q6_k_kscale(const uint8_t *b, kscale *k) {
    k->sc = _mm_loadu_si128((const __m128i *)(b + 192));
    k->m = _mm_setzero_si128();
    k->d = half_at(b + 208);
    k->dmin = 0.0f;
}

INLINE void k_decode(int32_t type, const uint8_t *b, __m256i c[8], kscale *k) {
    switch (type) {
    case LORA4J_TYPE_Q2_K: q2_k_codes(b, c), q2_k_kscale(b, k); break;
    case LORA4J_TYPE_Q3_K: q3_k_codes(b, c), q3_k_kscale(b, k); break;
    case LORA4J_TYPE_Q4_K: q4_k_codes(b, c), q45_k_kscale(b, k); break;
    case LORA4J_TYPE_Q5_K: q5_k_codes(b, c), q45_k_kscale(b, k); break;
    default: q6_k_codes(b, c), q6_k_kscale(b, k); break;
    }
}

/* The int16 scales of chunk j: group 2j's in the low 128-bit lane, group 2j+1's in the high. */
INLINE __m256i chunk_scale(__m128i sc, int j) {
    const __m128i pick = _mm_setr_epi8((char)(2 * j), (char)(2 * j), (char)(2 * j), (char)(2 * j), (char)(2 * j),
                                       (char)(2 * j), (char)(2 * j), (char)(2 * j), (char)(2 * j + 1), (char)(2 * j + 1),
                                       (char)(2 * j + 1), (char)(2 * j + 1), (char)(2 * j + 1), (char)(2 * j + 1),
                                       (char)(2 * j + 1), (char)(2 * j + 1));
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc, pick));
}

/* One row x NT tokens. */
INLINE void k_tile(int32_t type, const uint8_t *w, const l4_qact *x, int NT, int64_t n, float *y, int64_t ldy) {
    const int off_log2 = k_off_log2(type);
    const int64_t bytes = k_bytes(type);
    __m256 acc[4];
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / L4_QK_K; b++) {
        __m256i c[8];
        kscale k;
        k_decode(type, w + b * bytes, c, &k);
        __m256i isum[4][2];
        UNROLL for (int t = 0; t < NT; t++) isum[t][0] = isum[t][1] = _mm256_setzero_si256();
        UNROLL for (int j = 0; j < 8; j++) {
            const __m256i sc = chunk_scale(k.sc, j);
            UNROLL for (int t = 0; t < NT; t++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(x->q + t * n + b * L4_QK_K + 32 * j));
                isum[t][j & 1] = dot_b(isum[t][j & 1], c[j], xv, sc); /* two chains: half the latency */
            }
        }
        const __m256i sc16 = _mm256_cvtepi8_epi16(k.sc), m16 = _mm256_cvtepu8_epi16(k.m);
        UNROLL for (int t = 0; t < NT; t++) {
            const __m256i bs = _mm256_loadu_si256((const __m256i *)(x->bs + t * (n / 16) + b * 16));
            __m256i is = _mm256_add_epi32(isum[t][0], isum[t][1]);
            if (off_log2 >= 0) is = _mm256_sub_epi32(is, _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), off_log2));
            const float xd = x->d[t * (n / L4_QK_K) + b];
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(k.d * xd));
            if (off_log2 < 0) f = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(m16, bs)), _mm256_set1_ps(k.dmin * xd), f);
            acc[t] = _mm256_add_ps(acc[t], f);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) y[t * ldy] = hsum(acc[t]);
}

INLINE void k_rows(int32_t type, const uint8_t *w, int64_t row_bytes, int64_t nr, const l4_qact *x, int64_t nt,
                   int64_t n, float *y, int64_t ldy) {
    for (int64_t t = 0; t < nt; t += 2) {
        const l4_qact xt = l4_qact_tokens(x, t, n);
        for (int64_t r = 0; r < nr; r++) {
            if (nt - t >= 2) {
                k_tile(type, w + r * row_bytes, &xt, 2, n, y + t * ldy + r, ldy);
            } else {
                k_tile(type, w + r * row_bytes, &xt, 1, n, y + t * ldy + r, ldy);
            }
        }
    }
}

/* ---- one entry point per type ------------------------------------------------------------------ */

#define DIRECT_A(t, TYPE)                                                                                 \
    static void direct_##t(const uint8_t *w, int64_t row_bytes, int64_t nr, const l4_qact *x, int64_t nt, \
                           int64_t n, float *y, int64_t ldy) {                                            \
        a_rows(TYPE, w, row_bytes, nr, x, nt, n, y, ldy);                                                  \
    }
#define DIRECT_K(t, TYPE)                                                                                 \
    static void direct_##t(const uint8_t *w, int64_t row_bytes, int64_t nr, const l4_qact *x, int64_t nt, \
                           int64_t n, float *y, int64_t ldy) {                                            \
        k_rows(TYPE, w, row_bytes, nr, x, nt, n, y, ldy);                                                  \
    }

DIRECT_A(q8_0, LORA4J_TYPE_Q8_0)
DIRECT_A(q4_0, LORA4J_TYPE_Q4_0)
DIRECT_A(q4_1, LORA4J_TYPE_Q4_1)
DIRECT_A(q5_0, LORA4J_TYPE_Q5_0)
DIRECT_A(q5_1, LORA4J_TYPE_Q5_1)
DIRECT_A(iq4_nl, LORA4J_TYPE_IQ4_NL)
DIRECT_K(q2_k, LORA4J_TYPE_Q2_K)
DIRECT_K(q3_k, LORA4J_TYPE_Q3_K)
DIRECT_K(q4_k, LORA4J_TYPE_Q4_K)
DIRECT_K(q5_k, LORA4J_TYPE_Q5_K)
DIRECT_K(q6_k, LORA4J_TYPE_Q6_K)

static l4_vecdot_fn direct_for(int32_t type) {
    switch (type) {
    case LORA4J_TYPE_Q8_0: return direct_q8_0;
    case LORA4J_TYPE_Q4_0: return direct_q4_0;
    case LORA4J_TYPE_Q4_1: return direct_q4_1;
    case LORA4J_TYPE_Q5_0: return direct_q5_0;
    case LORA4J_TYPE_Q5_1: return direct_q5_1;
    case LORA4J_TYPE_IQ4_NL: return direct_iq4_nl;
    case LORA4J_TYPE_Q2_K: return direct_q2_k;
    case LORA4J_TYPE_Q3_K: return direct_q3_k;
    case LORA4J_TYPE_Q4_K: return direct_q4_k;
    case LORA4J_TYPE_Q5_K: return direct_q5_k;
    case LORA4J_TYPE_Q6_K: return direct_q6_k;
    default: return 0;
    }
}
