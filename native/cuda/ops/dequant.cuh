/* Device-side reading of matrix rows in every type lcu_gemm and lcu_embed accept: the dense
 * types (F32, BF16, F16) and the GGUF block types (FORMATS.md). The unit is a chunk of 8
 * consecutive elements of one row starting at a multiple of 8: every block size is a multiple
 * of 32 and every K-quant sub-block (16 or 32 elements) a multiple of 8, so a chunk never
 * straddles a block or a scale, and its scale is decoded once for 8 values.
 *
 * Results are bit-identical to the CPU reference (native/src/quant/type_*.c): each value is
 * computed with the same operations in the same order, each rounded on its own (dq_mul/dq_sub
 * keep nvcc from fusing a multiply and an add into one FMA, which rounds once). Blocks sit at
 * any even offset, so block bytes are read at most 16 bits at a time. */
#ifndef LORA4J_CUDA_DEQUANT_CUH
#define LORA4J_CUDA_DEQUANT_CUH

#include "lcu.h"
#include "lora4j.h"

#ifdef LCU_EMU
static inline float dq_mul(float a, float b) { return a * b; }
static inline float dq_add(float a, float b) { return a + b; }
#else
static __device__ __forceinline__ float dq_mul(float a, float b) { return __fmul_rn(a, b); }
static __device__ __forceinline__ float dq_add(float a, float b) { return __fadd_rn(a, b); }
#endif
static __device__ __forceinline__ float dq_sub(float a, float b) { return dq_add(a, -b); }

static __device__ __forceinline__ uint16_t dq_u16(const uint8_t *p) {
    return ((uintptr_t)p & 1) == 0 ? *(const uint16_t *)p : (uint16_t)(p[0] | (p[1] << 8));
}
static __device__ __forceinline__ float dq_half(const uint8_t *p) { return lcu_f16_to_f32(dq_u16(p)); }

/* The 8 code bytes of a chunk. Every block size and every code offset in a block is even, so on
 * an even address (rows of whole blocks from an aligned base) four 16-bit loads replace eight
 * byte loads; any other address is read byte by byte. */
struct dq_bytes8 {
    uint8_t v[8];
};
static __device__ __forceinline__ dq_bytes8 dq_read8(const uint8_t *p) {
    dq_bytes8 r;
    if (((uintptr_t)p & 1) == 0) {
        for (int i = 0; i < 4; i++) {
            const uint16_t u = ((const uint16_t *)p)[i];
            r.v[2 * i] = (uint8_t)u;
            r.v[2 * i + 1] = (uint8_t)(u >> 8);
        }
    } else {
        for (int i = 0; i < 8; i++) r.v[i] = p[i];
    }
    return r;
}

/* ---- the 32-blocks ------------------------------------------------------------------------- */

/* Q4_0 {half d; qs[16]}: element j < 16 in the low nibble of qs[j], j + 16 in its high nibble. */
static __device__ __forceinline__ void dq_q4_0(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b);
    const int sh = j0 < 16 ? 0 : 4;
    const dq_bytes8 q = dq_read8(b + 2 + (j0 & 15));
    for (int i = 0; i < 8; i++) y[i] = dq_mul((float)(((q.v[i] >> sh) & 0xF) - 8), d);
}

/* Q4_1 {half d; half m; qs[16]}: y = d*q + m. */
static __device__ __forceinline__ void dq_q4_1(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b), m = dq_half(b + 2);
    const int sh = j0 < 16 ? 0 : 4;
    const dq_bytes8 q = dq_read8(b + 4 + (j0 & 15));
    for (int i = 0; i < 8; i++) y[i] = dq_add(dq_mul((float)((q.v[i] >> sh) & 0xF), d), m);
}

/* The 32 fifth bits of Q5_0/Q5_1, a little-endian uint32. */
static __device__ __forceinline__ uint32_t dq_u32(const uint8_t *p) {
    return (uint32_t)dq_u16(p) | ((uint32_t)dq_u16(p + 2) << 16);
}

/* Q5_0 {half d; qh[4]; qs[16]}: 5th bit of element j is bit j of qh; y = d*(q - 16). */
static __device__ __forceinline__ void dq_q5_0(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b);
    const uint32_t h = dq_u32(b + 2);
    const int sh = j0 < 16 ? 0 : 4;
    const dq_bytes8 q = dq_read8(b + 6 + (j0 & 15));
    for (int i = 0; i < 8; i++) {
        const int x = (int)(((q.v[i] >> sh) & 0xF) | (((h >> (j0 + i)) & 1u) << 4));
        y[i] = dq_mul((float)(x - 16), d);
    }
}

/* Q5_1 {half d; half m; qh[4]; qs[16]}: y = d*q + m. */
static __device__ __forceinline__ void dq_q5_1(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b), m = dq_half(b + 2);
    const uint32_t h = dq_u32(b + 4);
    const int sh = j0 < 16 ? 0 : 4;
    const dq_bytes8 q = dq_read8(b + 8 + (j0 & 15));
    for (int i = 0; i < 8; i++) {
        const uint32_t x = ((q.v[i] >> sh) & 0xFu) | (((h >> (j0 + i)) & 1u) << 4);
        y[i] = dq_add(dq_mul((float)x, d), m);
    }
}

/* Q8_0 {half d; int8 qs[32]}: y = q*d. */
static __device__ __forceinline__ void dq_q8_0(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b);
    const dq_bytes8 q = dq_read8(b + 2 + j0);
    for (int i = 0; i < 8; i++) y[i] = dq_mul((float)(int8_t)q.v[i], d);
}

/* IQ4_NL {half d; qs[16]}: 4-bit indices (nibbles as Q4_0) into a fixed grid; y = d*grid[q]. */
static __device__ const int8_t dq_iq4nl_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                    1,    13,   25,  38,  53,  69,  89,  113};
static __device__ __forceinline__ void dq_iq4_nl(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b);
    const int sh = j0 < 16 ? 0 : 4;
    const dq_bytes8 q = dq_read8(b + 2 + (j0 & 15));
    for (int i = 0; i < 8; i++) y[i] = dq_mul(d, (float)dq_iq4nl_grid[(q.v[i] >> sh) & 0xF]);
}

/* ---- the K-quants (super-blocks of 256) ------------------------------------------------------ */

/* Q2_K {scales[16]; qs[64]; half d; half dmin}: element e = 128h + 32j + l has the 2-bit code
 * (qs[32h + l] >> 2j) & 3 and sub-block 8h + 2j + l/16, whose byte holds scale (low nibble)
 * and min (high nibble); y = (d*sc)*q - dmin*m. */
static __device__ __forceinline__ void dq_q2_k(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b + 80), dmin = dq_half(b + 82);
    const int h = j0 >> 7, j = (j0 >> 5) & 3, l0 = j0 & 31;
    const uint8_t sc = b[8 * h + 2 * j + (l0 >> 4)];
    const float dl = dq_mul(d, (float)(sc & 0xF)), ml = dq_mul(dmin, (float)(sc >> 4));
    const dq_bytes8 q = dq_read8(b + 16 + 32 * h + l0);
    for (int i = 0; i < 8; i++) y[i] = dq_sub(dq_mul(dl, (float)((q.v[i] >> (2 * j)) & 3)), ml);
}

/* Q3_K {hmask[32]; qs[64]; scales[12]; half d}: element 128h + 32j + l has 2 low bits
 * (qs[32h + l] >> 2j) & 3 and high bit (hmask[l] >> (4h + j)) & 1; sub-block k = e/16 has a
 * 6-bit scale stored +32; y = (d*sc)*(code - 4). */
static __device__ __forceinline__ void dq_q3_k(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b + 108);
    const int h = j0 >> 7, j = (j0 >> 5) & 3, l0 = j0 & 31, k = j0 >> 4;
    const uint8_t *s = b + 96;
    const int lo = k < 8 ? s[k] & 0xF : s[k - 8] >> 4;
    const int hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
    const float dl = dq_mul(d, (float)((lo | (hi << 4)) - 32));
    const dq_bytes8 q = dq_read8(b + 32 + 32 * h + l0), hm = dq_read8(b + l0);
    for (int i = 0; i < 8; i++) {
        const int code = ((q.v[i] >> (2 * j)) & 3) | (((hm.v[i] >> (4 * h + j)) & 1) << 2);
        y[i] = dq_mul(dl, (float)(code - 4));
    }
}

/* The 6-bit (scale, min) pair of sub-block j of Q4_K/Q5_K from their 12 packed bytes. */
static __device__ __forceinline__ void dq_k4_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q4_K {half d; half dmin; scales[12]; qs[128]}: element 64c + 32h + l is nibble h of
 * qs[32c + l], sub-block 2c + h; y = (d*sc)*q - dmin*m. */
static __device__ __forceinline__ void dq_q4_k(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b), dmin = dq_half(b + 2);
    const int c = j0 >> 6, h = (j0 >> 5) & 1, l0 = j0 & 31;
    int sc, m;
    dq_k4_scale_min(b + 4, 2 * c + h, &sc, &m);
    const float d1 = dq_mul(d, (float)sc), m1 = dq_mul(dmin, (float)m);
    const dq_bytes8 q = dq_read8(b + 16 + 32 * c + l0);
    for (int i = 0; i < 8; i++) y[i] = dq_sub(dq_mul(d1, (float)((q.v[i] >> (4 * h)) & 0xF)), m1);
}

/* Q5_K {half d; half dmin; scales[12]; qh[32]; qs[128]}: Q4_K plus a 5th bit, bit 2c + h of
 * qh[l]. */
static __device__ __forceinline__ void dq_q5_k(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b), dmin = dq_half(b + 2);
    const int c = j0 >> 6, h = (j0 >> 5) & 1, l0 = j0 & 31;
    int sc, m;
    dq_k4_scale_min(b + 4, 2 * c + h, &sc, &m);
    const float d1 = dq_mul(d, (float)sc), m1 = dq_mul(dmin, (float)m);
    const dq_bytes8 q = dq_read8(b + 48 + 32 * c + l0), qh = dq_read8(b + 16 + l0);
    for (int i = 0; i < 8; i++) {
        const int code = ((q.v[i] >> (4 * h)) & 0xF) | (((qh.v[i] >> (2 * c + h)) & 1) << 4);
        y[i] = dq_sub(dq_mul(d1, (float)code), m1);
    }
}

/* Q6_K {ql[128]; qh[64]; int8 scales[16]; half d}: element 128h + 32k + l has low nibble
 * (k & 2 ? high : low) of ql[64h + 32(k & 1) + l] and 2 high bits (qh[32h + l] >> 2k) & 3;
 * y = (d*sc)*(q - 32), sub-block e/16. */
static __device__ __forceinline__ void dq_q6_k(const uint8_t *b, int j0, float *y) {
    const float d = dq_half(b + 208);
    const int h = j0 >> 7, k = (j0 >> 5) & 3, l0 = j0 & 31;
    const float ds = dq_mul(d, (float)(int8_t)b[192 + (j0 >> 4)]);
    const dq_bytes8 ql = dq_read8(b + 64 * h + 32 * (k & 1) + l0), qh = dq_read8(b + 128 + 32 * h + l0);
    const int sh = (k & 2) ? 4 : 0;
    for (int i = 0; i < 8; i++) {
        const int code = ((ql.v[i] >> sh) & 0xF) | (((qh.v[i] >> (2 * k)) & 3) << 4);
        y[i] = dq_mul(ds, (float)(code - 32));
    }
}

/* ---- one interface over all types -------------------------------------------------------------- */

/* Elements per block and bytes per block of a type (dense types: blocks of 1 element). */
template <int T> struct dq_traits;
template <> struct dq_traits<LORA4J_TYPE_F32> { enum { blck = 1, bytes = 4 }; };
template <> struct dq_traits<LORA4J_TYPE_BF16> { enum { blck = 1, bytes = 2 }; };
template <> struct dq_traits<LORA4J_TYPE_F16> { enum { blck = 1, bytes = 2 }; };
template <> struct dq_traits<LORA4J_TYPE_Q4_0> { enum { blck = 32, bytes = 18 }; };
template <> struct dq_traits<LORA4J_TYPE_Q4_1> { enum { blck = 32, bytes = 20 }; };
template <> struct dq_traits<LORA4J_TYPE_Q5_0> { enum { blck = 32, bytes = 22 }; };
template <> struct dq_traits<LORA4J_TYPE_Q5_1> { enum { blck = 32, bytes = 24 }; };
template <> struct dq_traits<LORA4J_TYPE_Q8_0> { enum { blck = 32, bytes = 34 }; };
template <> struct dq_traits<LORA4J_TYPE_IQ4_NL> { enum { blck = 32, bytes = 18 }; };
template <> struct dq_traits<LORA4J_TYPE_Q2_K> { enum { blck = 256, bytes = 84 }; };
template <> struct dq_traits<LORA4J_TYPE_Q3_K> { enum { blck = 256, bytes = 110 }; };
template <> struct dq_traits<LORA4J_TYPE_Q4_K> { enum { blck = 256, bytes = 144 }; };
template <> struct dq_traits<LORA4J_TYPE_Q5_K> { enum { blck = 256, bytes = 176 }; };
template <> struct dq_traits<LORA4J_TYPE_Q6_K> { enum { blck = 256, bytes = 210 }; };

/* A dense value from its bits (F32, BF16 or F16). */
template <int T> static __device__ __forceinline__ float dq_dense_bits(uint32_t u) {
    if (T == LORA4J_TYPE_F32) return __uint_as_float(u);
    return T == LORA4J_TYPE_BF16 ? lcu_bf16_bits_to_f32((uint16_t)u) : lcu_f16_to_f32((uint16_t)u);
}

/* One dense element of a row (F16 rows are ld bytes apart, so at any address). */
template <int T> static __device__ __forceinline__ float dq_dense1(const uint8_t *row, int64_t c) {
    if (T == LORA4J_TYPE_F32) return ((const float *)row)[c];
    return dq_dense_bits<T>(dq_u16(row + 2 * c));
}

/* 16 bytes moved as one access where aligned (the tile loaders' vector loads). */
struct __align__(16) dq_vec16 {
    uint32_t w[4];
};

/* Elements c0..c0+7 (c0 % 8 == 0) of a row of n elements starting at byte pointer row (dense
 * rows: F32 4-byte, BF16 2-byte aligned). Elements at or past n read as 0 (only a dense row can end
 * inside a chunk: block rows hold whole blocks). */
template <int T>
static __device__ __forceinline__ void dq_load8(const uint8_t *row, int64_t c0, int64_t n, float *y) {
    if (dq_traits<T>::blck == 1) {
        const uint8_t *p = row + c0 * dq_traits<T>::bytes;
        if (c0 + 8 <= n && ((uintptr_t)p & 15) == 0) {
            const dq_vec16 v0 = ((const dq_vec16 *)p)[0];
            if (T == LORA4J_TYPE_F32) {
                const dq_vec16 v1 = ((const dq_vec16 *)p)[1];
                for (int i = 0; i < 4; i++) {
                    y[i] = dq_dense_bits<T>(v0.w[i]);
                    y[i + 4] = dq_dense_bits<T>(v1.w[i]);
                }
            } else {
                for (int i = 0; i < 8; i++) y[i] = dq_dense_bits<T>(v0.w[i / 2] >> (16 * (i & 1)));
            }
        } else {
            for (int i = 0; i < 8; i++) y[i] = c0 + i < n ? dq_dense1<T>(row, c0 + i) : 0.0f;
        }
        return;
    }
    const uint8_t *b = row + (c0 / dq_traits<T>::blck) * dq_traits<T>::bytes;
    const int j0 = (int)(c0 % dq_traits<T>::blck);
    switch (T) {
    case LORA4J_TYPE_Q4_0: dq_q4_0(b, j0, y); break;
    case LORA4J_TYPE_Q4_1: dq_q4_1(b, j0, y); break;
    case LORA4J_TYPE_Q5_0: dq_q5_0(b, j0, y); break;
    case LORA4J_TYPE_Q5_1: dq_q5_1(b, j0, y); break;
    case LORA4J_TYPE_Q8_0: dq_q8_0(b, j0, y); break;
    case LORA4J_TYPE_IQ4_NL: dq_iq4_nl(b, j0, y); break;
    case LORA4J_TYPE_Q2_K: dq_q2_k(b, j0, y); break;
    case LORA4J_TYPE_Q3_K: dq_q3_k(b, j0, y); break;
    case LORA4J_TYPE_Q4_K: dq_q4_k(b, j0, y); break;
    case LORA4J_TYPE_Q5_K: dq_q5_k(b, j0, y); break;
    case LORA4J_TYPE_Q6_K: dq_q6_k(b, j0, y); break;
    default: break;
    }
}

/* Bytes between rows of an operand: dense types store ld in elements, block types (F16 too)
 * in bytes (lcu_mat). */
static inline int64_t dq_row_bytes(int32_t type, int64_t ld) {
    return type == LORA4J_TYPE_F32 ? 4 * ld : type == LORA4J_TYPE_BF16 ? 2 * ld : ld;
}

/* Calls f.template run<T>() for a supported type; returns 0 for any other. */
template <class F> static inline int dq_dispatch(int32_t type, F &f) {
    switch (type) {
    case LORA4J_TYPE_F32: f.template run<LORA4J_TYPE_F32>(); return 1;
    case LORA4J_TYPE_BF16: f.template run<LORA4J_TYPE_BF16>(); return 1;
    case LORA4J_TYPE_F16: f.template run<LORA4J_TYPE_F16>(); return 1;
    case LORA4J_TYPE_Q4_0: f.template run<LORA4J_TYPE_Q4_0>(); return 1;
    case LORA4J_TYPE_Q4_1: f.template run<LORA4J_TYPE_Q4_1>(); return 1;
    case LORA4J_TYPE_Q5_0: f.template run<LORA4J_TYPE_Q5_0>(); return 1;
    case LORA4J_TYPE_Q5_1: f.template run<LORA4J_TYPE_Q5_1>(); return 1;
    case LORA4J_TYPE_Q8_0: f.template run<LORA4J_TYPE_Q8_0>(); return 1;
    case LORA4J_TYPE_IQ4_NL: f.template run<LORA4J_TYPE_IQ4_NL>(); return 1;
    case LORA4J_TYPE_Q2_K: f.template run<LORA4J_TYPE_Q2_K>(); return 1;
    case LORA4J_TYPE_Q3_K: f.template run<LORA4J_TYPE_Q3_K>(); return 1;
    case LORA4J_TYPE_Q4_K: f.template run<LORA4J_TYPE_Q4_K>(); return 1;
    case LORA4J_TYPE_Q5_K: f.template run<LORA4J_TYPE_Q5_K>(); return 1;
    case LORA4J_TYPE_Q6_K: f.template run<LORA4J_TYPE_Q6_K>(); return 1;
    default: return 0;
    }
}

#endif
