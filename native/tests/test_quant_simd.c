/* SIMD kernels against the scalar reference, bit for bit: dequantization of every type (on
 * quantized data and on random bytes, whose fp16 scales include infinities and NaNs), the
 * unpacking to the int8 path's canonical form, and the int8 quantization of activations
 * (NaN, infinities, zero and subnormal blocks included), at every SIMD level this CPU has. */
#include <string.h>

#include "quant/gemm.h"
#include "quant/quant_impl.h"
#include "quant_test.h"

enum { N_ELEMS = 4096 };

static int same_bits(const float *a, const float *b, int64_t n, int64_t *at) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t x, y;
        memcpy(&x, a + i, 4);
        memcpy(&y, b + i, 4);
        if (x != y) {
            *at = i;
            return 0;
        }
    }
    return 1;
}

typedef struct {
    uint8_t u[N_ELEMS];
    float dexp[N_ELEMS / 4];
    int16_t scx[N_ELEMS / 2];
    float d[N_ELEMS / 256];
    float c[N_ELEMS / 16];
} unpacked_buf;

static void unpack_at(int32_t type, int32_t level, const uint8_t *q, unpacked_buf *buf) {
    memset(buf, 0xA5, sizeof *buf);
    lora4j_simd_set(level);
    const int kind = l4_unpack_kind(type);
    l4_unpacked v = {buf->u, kind == L4_KIND_A ? buf->dexp : 0, kind == L4_KIND_B ? buf->scx : 0,
                     kind == L4_KIND_B ? buf->d : 0, buf->c};
    l4_unpack_for(type)(q, N_ELEMS, &v);
}

enum { ACT_TOK = 3 };

typedef struct {
    int8_t q[ACT_TOK * N_ELEMS];
    float dexp[ACT_TOK * N_ELEMS / 4];
    float d[ACT_TOK * N_ELEMS / 256];
    float s[ACT_TOK * N_ELEMS / 16];
    int16_t bs[ACT_TOK * N_ELEMS / 16];
} act_buf;

static void quantize_acts_at(int32_t level, const float *x, int kind, act_buf *buf) {
    memset(buf, 0xA5, sizeof *buf);
    lora4j_simd_set(level);
    const l4_qact a = {buf->q, kind == L4_KIND_A ? buf->dexp : 0, kind == L4_KIND_B ? buf->d : 0, buf->s, buf->bs};
    l4_quantize_acts(x, N_ELEMS + 5, 0, ACT_TOK, N_ELEMS, kind, &a);
}

static void test_act_quant(int32_t top) {
    static float x[ACT_TOK * (N_ELEMS + 5)];
    static act_buf ref, got;
    qt_fill_gauss(x, ACT_TOK * (N_ELEMS + 5), 2.0f);
    /* special blocks: NaN and infinities inside, all zero, subnormal (127/amax overflows), huge */
    x[3] = NAN;
    x[40] = INFINITY;
    x[70] = -INFINITY;
    for (int i = 256; i < 512; i++) x[i] = 0.0f;
    for (int i = 512; i < 768; i++) x[i] = (float)(i - 600) * 1e-44f;
    for (int i = 768; i < 1024; i++) x[i] *= 3e37f;
    x[N_ELEMS + 5 + 100] = -NAN;
    for (int kind = L4_KIND_A; kind <= L4_KIND_B; kind++) {
        quantize_acts_at(0, x, kind, &ref);
        for (int32_t level = 1; level <= top; level++) {
            quantize_acts_at(level, x, kind, &got);
            QT_CHECK(memcmp(&ref, &got, sizeof ref) == 0, "activation quantization, kind %d, level %d differs from scalar",
                     kind, level);
        }
    }
}

int main(void) {
    static float src[N_ELEMS], ref[N_ELEMS], got[N_ELEMS];
    static uint8_t q[N_ELEMS * 4];
    static unpacked_buf ub_ref, ub_got;
    const int32_t top = lora4j_simd_detected();
    qt_seed(99);
    for (int ti = 0; ti < QT_N_TYPES; ti++) {
        const int32_t type = qt_types[ti];
        const l4_type_traits *tr = l4_traits(type);
        const size_t bytes = (size_t)lora4j_row_bytes(type, N_ELEMS);
        for (int data = 0; data < 2; data++) {
            if (data == 0) {
                qt_fill_gauss(src, N_ELEMS, 3.0f);
                lora4j_simd_set(top);
                lora4j_quantize(type, src, 1, N_ELEMS, q, bytes);
            } else {
                for (size_t i = 0; i < bytes; i++) q[i] = (uint8_t)qt_next();
            }
            const char *what = data ? "random bytes" : "quantized data";
            lora4j_simd_set(0);
            tr->to_float(q, ref, N_ELEMS);
            if (l4_unpack_kind(type) != L4_KIND_NONE) unpack_at(type, 0, q, &ub_ref);
            for (int32_t level = 1; level <= top; level++) {
                lora4j_simd_set(level);
                tr->to_float(q, got, N_ELEMS);
                int64_t at = 0;
                QT_CHECK(same_bits(ref, got, N_ELEMS, &at), "%s dequantize, %s, level %d: element %lld is %a, scalar %a",
                         tr->name, what, level, (long long)at, (double)got[at], (double)ref[at]);
                /* a row that starts inside a larger buffer, odd offsets included */
                if (tr->blck > 1) {
                    tr->to_float(q + tr->block_bytes, got, N_ELEMS - tr->blck);
                    QT_CHECK(same_bits(ref + tr->blck, got, N_ELEMS - tr->blck, &at), "%s dequantize from block 1", tr->name);
                }
                if (l4_unpack_kind(type) == L4_KIND_NONE) continue;
                unpack_at(type, level, q, &ub_got);
                QT_CHECK(memcmp(&ub_ref, &ub_got, sizeof ub_ref) == 0, "%s unpack, %s, level %d differs from scalar",
                         tr->name, what, level);
            }
        }
    }
    test_act_quant(top);
    lora4j_simd_set(top);
    return qt_finish("test_quant_simd");
}
