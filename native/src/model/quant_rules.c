/* llama-quantize's type selection (src/llama-quant.cpp) for the targets lora4j writes: a plain
 * type keeps every weight in that type except the output head (Q6_K, as llama.cpp gives it for
 * every quantized target but Q8_0); the *_K_M recipes also give attn_v and ffn_down Q6_K in the
 * "use more bits" layers. Row lengths a type cannot hold fall back to a 32-block type, then F16. */
#include "model/quant_rules.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "lora4j.h"
#include "quant/quant.h"

static int is_float_type(int32_t t) {
    return t == LORA4J_TYPE_F32 || t == LORA4J_TYPE_F16 || t == LORA4J_TYPE_BF16;
}

static int writable(int32_t t) {
    const l4_type_traits *tr = l4_traits(t);
    return tr && tr->supported && tr->from_float && tr->to_float;
}

int32_t l4_quant_target_parse(int32_t code, l4_quant_target *out) {
    out->mix = 0;
    out->type = code;
    if (code == LORA4J_MIX_Q4_K_M) {
        out->mix = code;
        out->type = LORA4J_TYPE_Q4_K;
    } else if (code == LORA4J_MIX_Q5_K_M) {
        out->mix = code;
        out->type = LORA4J_TYPE_Q5_K;
    }
    static const int32_t allowed[] = {
        LORA4J_TYPE_F32,  LORA4J_TYPE_F16,  LORA4J_TYPE_BF16, LORA4J_TYPE_Q4_0, LORA4J_TYPE_Q4_1,
        LORA4J_TYPE_Q5_0, LORA4J_TYPE_Q5_1, LORA4J_TYPE_Q8_0, LORA4J_TYPE_Q2_K, LORA4J_TYPE_Q3_K,
        LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q5_K, LORA4J_TYPE_Q6_K, LORA4J_TYPE_IQ4_NL};
    int ok = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) ok |= allowed[i] == out->type;
    if (!ok) {
        const char *name = lora4j_type_name(code);
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "quantization target %d (%s) is not a type a model can be written in",
                       code, name ? name : "unknown code");
    }
    if (!writable(out->type)) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "quantization target %s is not supported by this engine",
                       lora4j_type_name(out->type));
    }
    return LORA4J_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int l4_quant_tensor_eligible(const char *name, int32_t n_dims) {
    return n_dims == 2 && ends_with(name, "weight") && !strstr(name, "_norm.weight");
}

static int use_more_bits(int i_layer, int n_layer) {
    return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

/* llama.cpp's substitute for a type whose block does not divide the row length. */
static int32_t fallback(int32_t type, int64_t n_in) {
    int64_t blck = lora4j_type_block_size(type);
    if (n_in % blck == 0) return type;
    int32_t alt;
    switch (type) {
    case LORA4J_TYPE_Q2_K:
    case LORA4J_TYPE_Q3_K: alt = LORA4J_TYPE_Q4_0; break;
    case LORA4J_TYPE_Q4_K: alt = LORA4J_TYPE_Q5_0; break;
    case LORA4J_TYPE_Q5_K: alt = LORA4J_TYPE_Q5_1; break;
    case LORA4J_TYPE_Q6_K: alt = LORA4J_TYPE_Q8_0; break;
    default: alt = LORA4J_TYPE_F16; break;
    }
    if (n_in % lora4j_type_block_size(alt) != 0) alt = LORA4J_TYPE_F16;
    return alt;
}

int32_t l4_quant_tensor_type(const l4_quant_target *t, const char *name, int64_t n_in,
                             int32_t n_layer, int tied) {
    int32_t type = t->type;
    if (is_float_type(type)) return type;
    int is_output = strcmp(name, "output.weight") == 0 ||
                    (tied && strcmp(name, "token_embd.weight") == 0);
    int layer = -1;
    if (strncmp(name, "blk.", 4) == 0 && sscanf(name + 4, "%d", &layer) != 1) layer = -1;
    if (is_output) {
        if (n_in % lora4j_type_block_size(type) != 0) type = LORA4J_TYPE_Q8_0;
        else if (type != LORA4J_TYPE_Q8_0) type = LORA4J_TYPE_Q6_K;
    } else if (t->mix && layer >= 0 && layer < n_layer &&
               (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") ||
                strstr(name, "ffn_down")) &&
               use_more_bits(layer, n_layer)) {
        type = LORA4J_TYPE_Q6_K;
    }
    return fallback(type, n_in);
}

uint32_t l4_quant_file_type(const l4_quant_target *t) {
    if (t->mix) return (uint32_t)(t->mix - 1000);
    switch (t->type) {
    case LORA4J_TYPE_F32: return 0;
    case LORA4J_TYPE_F16: return 1;
    case LORA4J_TYPE_Q4_0: return 2;
    case LORA4J_TYPE_Q4_1: return 3;
    case LORA4J_TYPE_Q8_0: return 7;
    case LORA4J_TYPE_Q5_0: return 8;
    case LORA4J_TYPE_Q5_1: return 9;
    case LORA4J_TYPE_Q2_K: return 10;
    case LORA4J_TYPE_Q3_K: return 11; /* MOSTLY_Q3_K_S */
    case LORA4J_TYPE_Q4_K: return 14; /* MOSTLY_Q4_K_S */
    case LORA4J_TYPE_Q5_K: return 16; /* MOSTLY_Q5_K_S */
    case LORA4J_TYPE_Q6_K: return 18;
    case LORA4J_TYPE_IQ4_NL: return 25;
    case LORA4J_TYPE_BF16: return 32;
    default: return 0;
    }
}
