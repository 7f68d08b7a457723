/* fp16 and bf16 conversions against independent references: every half value decoded by
 * formula, encoding checked against a brute-force nearest-value search (ties to even) on all
 * halves, all midpoints, their neighbours and random floats; and the F16/BF16 row paths at
 * every SIMD level against the scalar conversions, bit for bit. */
#include <string.h>

#include "quant/quant.h"
#include "quant_test.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Value of a half by formula, in double. */
static double half_value(uint16_t h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    const double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 31) return m ? NAN : s * INFINITY;
    return e == 0 ? s * ldexp(m, -24) : s * ldexp(1024 + m, e - 25);
}

/* Nearest half to a finite float, ties to even, by binary search over the positive codes. */
static uint16_t ref_f32_to_f16(float f) {
    const uint16_t sign = (bits(f) >> 16) & 0x8000;
    const double a = fabs((double)f);
    if (a >= 65520.0) return sign | 0x7C00;
    int lo = 0, hi = 0x7BFF; /* largest code with value <= a */
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (half_value((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
    }
    const double vlo = half_value((uint16_t)lo), vhi = lo == 0x7BFF ? 65536.0 : half_value((uint16_t)(lo + 1));
    int code = lo;
    if (a - vlo > vhi - a || (a - vlo == vhi - a && (lo & 1))) code = lo + 1;
    return sign | (uint16_t)code;
}

static uint16_t ref_f32_to_bf16(float f) {
    const uint32_t u = bits(f);
    const uint32_t lo = u & 0xFFFF0000u, hi = lo + 0x10000u;
    const double a = (double)f, vlo = (double)from_bits(lo);
    const double vhi = ((hi >> 23) & 0xFF) == 0xFF ? ldexp(copysign(1.0, a), 128) : (double)from_bits(hi);
    if (fabs(a - vlo) < fabs(vhi - a) || (fabs(a - vlo) == fabs(vhi - a) && !((lo >> 16) & 1))) return (uint16_t)(lo >> 16);
    return (uint16_t)(hi >> 16);
}

static void check_f16(float f) {
    if (isnan(f)) return;
    const uint16_t got = l4_fp32_to_fp16(f), want = ref_f32_to_f16(f);
    QT_CHECK(got == want, "fp32_to_fp16(%a) = 0x%04x, want 0x%04x", (double)f, got, want);
}

static void check_bf16(float f) {
    if (isnan(f)) return;
    const uint16_t got = l4_fp32_to_bf16(f), want = ref_f32_to_bf16(f);
    QT_CHECK(got == want, "fp32_to_bf16(%a) = 0x%04x, want 0x%04x", (double)f, got, want);
}

/* F16/BF16 rows through the public API at each SIMD level must match the scalar functions. */
static void check_rows_all_levels(void) {
    enum { N = 4099 };
    static float src[N], back[N];
    static uint8_t q[2 * N];
    qt_seed(7);
    for (int i = 0; i < N; i++) {
        const int kind = i % 5;
        src[i] = kind == 0 ? from_bits((uint32_t)qt_next()) /* any bit pattern, NaN and inf included */
               : kind == 1 ? ldexpf(qt_gauss(), -20)        /* near and below the half subnormals */
               : kind == 2 ? ldexpf(qt_gauss(), 15)         /* near the half overflow */
                           : qt_gauss();
    }
    const int32_t detected = lora4j_simd_detected();
    for (int32_t level = 0; level <= detected; level++) {
        lora4j_simd_set(level);
        const int32_t types[2] = {LORA4J_TYPE_F16, LORA4J_TYPE_BF16};
        for (int ti = 0; ti < 2; ti++) {
            const int32_t t = types[ti];
            QT_CHECK(lora4j_quantize(t, src, 1, N, q, sizeof q) == LORA4J_OK, "quantize %s", lora4j_type_name(t));
            int bad = 0;
            for (int i = 0; i < N && bad < 5; i++) {
                uint16_t h;
                memcpy(&h, q + 2 * i, 2);
                const uint16_t want = t == LORA4J_TYPE_F16 ? l4_fp32_to_fp16(src[i]) : l4_fp32_to_bf16(src[i]);
                if (h != want) {
                    bad++;
                    QT_CHECK(0, "level %d %s encode[%d] of %a: 0x%04x, want 0x%04x", level, lora4j_type_name(t), i,
                             (double)src[i], h, want);
                }
            }
            QT_CHECK(lora4j_dequantize(t, q, sizeof q, back, N) == LORA4J_OK, "dequantize %s", lora4j_type_name(t));
            for (int i = 0; i < N && bad < 5; i++) {
                uint16_t h;
                memcpy(&h, q + 2 * i, 2);
                const float want = t == LORA4J_TYPE_F16 ? l4_fp16_to_fp32(h) : l4_bf16_to_fp32(h);
                if (bits(back[i]) != bits(want)) {
                    bad++;
                    QT_CHECK(0, "level %d %s decode[%d] of 0x%04x: %08x, want %08x", level, lora4j_type_name(t), i, h,
                             bits(back[i]), bits(want));
                }
            }
        }
    }
    /* every half and bfloat16 code (signalling NaNs included) decodes like the scalar function */
    static uint16_t codes[65536];
    static float dec[65536];
    for (uint32_t h = 0; h < 65536; h++) codes[h] = (uint16_t)h;
    for (int32_t level = 0; level <= detected; level++) {
        lora4j_simd_set(level);
        lora4j_dequantize(LORA4J_TYPE_F16, codes, sizeof codes, dec, 65536);
        for (uint32_t h = 0, bad = 0; h < 65536 && bad < 5; h++)
            if (bits(dec[h]) != bits(l4_fp16_to_fp32((uint16_t)h))) {
                bad++;
                QT_CHECK(0, "level %d: half 0x%04x decodes to %08x, scalar %08x", level, h, bits(dec[h]),
                         bits(l4_fp16_to_fp32((uint16_t)h)));
            }
        lora4j_dequantize(LORA4J_TYPE_BF16, codes, sizeof codes, dec, 65536);
        for (uint32_t h = 0; h < 65536; h++)
            if (bits(dec[h]) != h << 16) {
                QT_CHECK(0, "level %d: bf16 0x%04x decodes to %08x", level, h, bits(dec[h]));
                break;
            }
    }
    lora4j_simd_set(detected);
}

int main(void) {
    /* decode every half; encode(decode(h)) == h; NaNs stay NaN and come back quiet */
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = l4_fp16_to_fp32((uint16_t)h);
        const double want = half_value((uint16_t)h);
        if (isnan(want)) {
            QT_CHECK(isnan(f), "fp16_to_fp32(0x%04x) = %a, want NaN", h, (double)f);
            QT_CHECK(l4_fp32_to_fp16(f) == (h | 0x200), "NaN 0x%04x re-encodes to 0x%04x", h, l4_fp32_to_fp16(f));
            continue;
        }
        QT_CHECK((double)f == want && (signbit(f) != 0) == ((h & 0x8000) != 0), "fp16_to_fp32(0x%04x) = %a, want %a", h,
                 (double)f, want);
        QT_CHECK(l4_fp32_to_fp16(f) == h, "round trip of half 0x%04x gives 0x%04x", h, l4_fp32_to_fp16(f));
    }
    /* midpoints between neighbouring halves (ties) and one float ulp either side */
    for (uint32_t h = 0; h < 0x7BFF; h++) {
        const double mid = 0.5 * (half_value((uint16_t)h) + half_value((uint16_t)(h + 1)));
        const float m = (float)mid;
        check_f16(m);
        check_f16(-m);
        check_f16(nextafterf(m, 0.0f));
        check_f16(nextafterf(m, INFINITY));
    }
    check_f16(65504.0f);
    check_f16(65519.996f);
    check_f16(65520.0f);
    check_f16(1e30f);
    check_f16(INFINITY);
    check_f16(-INFINITY);
    check_f16(ldexpf(1.0f, -25));
    check_f16(nextafterf(ldexpf(1.0f, -25), 1.0f));
    check_f16(ldexpf(1.0f, -140));
    check_f16(0.0f);
    check_f16(-0.0f);
    /* f32 NaNs whose payload lies below the half mantissa still encode as (quiet) NaN */
    QT_CHECK(l4_fp32_to_fp16(from_bits(0x7F800001u)) == 0x7E00, "signalling NaN -> 0x%04x", l4_fp32_to_fp16(from_bits(0x7F800001u)));
    QT_CHECK(l4_fp32_to_fp16(from_bits(0xFFC00000u)) == 0xFE00, "-qNaN -> 0x%04x", l4_fp32_to_fp16(from_bits(0xFFC00000u)));
    QT_CHECK(l4_fp32_to_fp16(from_bits(0x7FFFE000u)) == 0x7FFF, "NaN payload -> 0x%04x", l4_fp32_to_fp16(from_bits(0x7FFFE000u)));
    /* random floats over the whole exponent range */
    qt_seed(1);
    for (int i = 0; i < 2000000; i++) {
        const float f = from_bits((uint32_t)qt_next());
        check_f16(f);
        check_bf16(f);
        const float g = ldexpf(qt_gauss(), (int)(qt_next() % 60) - 40);
        check_f16(g);
        check_bf16(g);
    }
    /* bf16: decode is a shift; NaN stays NaN (quiet); ties to even; overflow to infinity */
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = l4_bf16_to_fp32((uint16_t)h);
        QT_CHECK(bits(f) == h << 16, "bf16_to_fp32(0x%04x)", h);
        if (isnan(f)) QT_CHECK(l4_fp32_to_bf16(f) == (h | 0x40), "bf16 NaN 0x%04x", h);
    }
    QT_CHECK(l4_fp32_to_bf16(from_bits(0x3F808000u)) == 0x3F80, "bf16 tie to even (down)");
    QT_CHECK(l4_fp32_to_bf16(from_bits(0x3F818000u)) == 0x3F82, "bf16 tie to even (up)");
    QT_CHECK(l4_fp32_to_bf16(from_bits(0x7F7FFFFFu)) == 0x7F80, "bf16 FLT_MAX rounds to infinity");
    check_rows_all_levels();
    return qt_finish("test_quant_fp16");
}
