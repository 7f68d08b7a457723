/* Hyper-parameters from GGUF metadata ({arch}.* keys, llama.cpp's names and defaults), with the
 * semantic checks a forward pass relies on. Tensor shapes are checked by the loader. */
#include "model/hparams.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define KEY_MAX 256

static int is_int_type(int32_t t) {
    return (t >= LORA4J_GGUF_UINT8 && t <= LORA4J_GGUF_INT32) || t == LORA4J_GGUF_UINT64 ||
           t == LORA4J_GGUF_INT64;
}

static const char *gguf_type_name(int32_t t) {
    static const char *names[] = {"uint8", "int8",  "uint16", "int16", "uint32",
                                  "int32", "float32", "bool", "string", "array",
                                  "uint64", "int64", "float64"};
    return t >= 0 && t <= LORA4J_GGUF_FLOAT64 ? names[t] : "unknown";
}

/* Integer key in [lo, hi]. Absent: *found = 0 and *out untouched. */
static int32_t key_int(const lora4j_gguf *g, const char *key, int64_t lo, int64_t hi, int64_t *out,
                       int *found) {
    *found = 0;
    int64_t i = lora4j_gguf_find_key(g, key);
    if (i < 0) return LORA4J_OK;
    int32_t t = lora4j_gguf_kv_type(g, i);
    if (!is_int_type(t)) {
        return l4_fail(LORA4J_ERR_FORMAT, "metadata key '%s': expected an integer, found %s", key,
                       gguf_type_name(t));
    }
    int64_t v = 0;
    int32_t st = lora4j_gguf_get_scalar(g, i, &v, NULL);
    if (st != LORA4J_OK) return l4_fail_context(st, "metadata key '%s'", key);
    if (t == LORA4J_GGUF_UINT64 && v < 0) v = INT64_MAX; /* a huge unsigned value */
    if (v < lo || v > hi) {
        return l4_fail(LORA4J_ERR_FORMAT, "metadata key '%s': value %lld is out of range [%lld, %lld]",
                       key, (long long)v, (long long)lo, (long long)hi);
    }
    *out = v;
    *found = 1;
    return LORA4J_OK;
}

/* Finite float key (integer values accepted too). Absent: *found = 0. */
static int32_t key_float(const lora4j_gguf *g, const char *key, double *out, int *found) {
    *found = 0;
    int64_t i = lora4j_gguf_find_key(g, key);
    if (i < 0) return LORA4J_OK;
    int32_t t = lora4j_gguf_kv_type(g, i);
    int64_t iv = 0;
    double fv = 0;
    if (t == LORA4J_GGUF_FLOAT32 || t == LORA4J_GGUF_FLOAT64) {
        int32_t st = lora4j_gguf_get_scalar(g, i, NULL, &fv);
        if (st != LORA4J_OK) return l4_fail_context(st, "metadata key '%s'", key);
    } else if (is_int_type(t)) {
        int32_t st = lora4j_gguf_get_scalar(g, i, &iv, NULL);
        if (st != LORA4J_OK) return l4_fail_context(st, "metadata key '%s'", key);
        fv = (double)iv;
    } else {
        return l4_fail(LORA4J_ERR_FORMAT, "metadata key '%s': expected a number, found %s", key,
                       gguf_type_name(t));
    }
    if (!isfinite(fv)) {
        return l4_fail(LORA4J_ERR_FORMAT, "metadata key '%s': value is not finite", key);
    }
    *out = fv;
    *found = 1;
    return LORA4J_OK;
}

/* String key; absent: *out = NULL. */
static int32_t key_string(const lora4j_gguf *g, const char *key, const char **out) {
    *out = NULL;
    int64_t i = lora4j_gguf_find_key(g, key);
    if (i < 0) return LORA4J_OK;
    int32_t t = lora4j_gguf_kv_type(g, i);
    if (t != LORA4J_GGUF_STRING) {
        return l4_fail(LORA4J_ERR_FORMAT, "metadata key '%s': expected a string, found %s", key,
                       gguf_type_name(t));
    }
    uint64_t len = 0;
    int32_t st = lora4j_gguf_get_string(g, i, out, &len);
    if (st != LORA4J_OK) return l4_fail_context(st, "metadata key '%s'", key);
    return LORA4J_OK;
}

/* Reads {arch}.<suffix> as a positive int32 into *dst. Absent: the default (def > 0), an error
 * when required (def == 0 and required), or left as is. */
static int32_t arch_int(const lora4j_gguf *g, const char *arch, const char *suffix, int32_t def,
                        int required, int64_t lo, int32_t *dst, int *found) {
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t i = lora4j_gguf_find_key(g, key);
    if (i >= 0 && lora4j_gguf_kv_type(g, i) == LORA4J_GGUF_ARRAY) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED,
                       "metadata key '%s': per-layer arrays are not supported (expected one integer)",
                       key);
    }
    int64_t v = 0;
    int f = 0;
    int32_t st = key_int(g, key, lo, INT32_MAX, &v, &f);
    if (st != LORA4J_OK) return st;
    if (found) *found = f;
    if (f) {
        *dst = (int32_t)v;
    } else if (def > 0) {
        *dst = def;
    } else if (required) {
        return l4_fail(LORA4J_ERR_FORMAT, "missing metadata key '%s'", key);
    }
    return LORA4J_OK;
}

static int32_t arch_float(const lora4j_gguf *g, const char *arch, const char *suffix, double def,
                          double *dst, int *found) {
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int f = 0;
    int32_t st = key_float(g, key, dst, &f);
    if (st != LORA4J_OK) return st;
    if (!f) *dst = def;
    if (found) *found = f;
    return LORA4J_OK;
}

static int32_t read_vocab_size(const lora4j_gguf *g, const char *arch, int32_t *n_vocab) {
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    int64_t v = 0;
    int found = 0;
    int32_t st = key_int(g, key, 1, L4_MAX_VOCAB, &v, &found);
    if (st != LORA4J_OK) return st;
    if (found) {
        *n_vocab = (int32_t)v;
        return LORA4J_OK;
    }
    int64_t i = lora4j_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (i < 0) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "cannot tell the vocabulary size: neither '%s' nor 'tokenizer.ggml.tokens' "
                       "is present", key);
    }
    int32_t elem = 0;
    uint64_t n = 0;
    if (lora4j_gguf_kv_type(g, i) != LORA4J_GGUF_ARRAY ||
        lora4j_gguf_get_array_info(g, i, &elem, &n) != LORA4J_OK || elem != LORA4J_GGUF_STRING) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "metadata key 'tokenizer.ggml.tokens': expected an array of strings");
    }
    if (n < 1 || n > L4_MAX_VOCAB) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "metadata key 'tokenizer.ggml.tokens': %llu tokens, expected 1..%d",
                       (unsigned long long)n, L4_MAX_VOCAB);
    }
    *n_vocab = (int32_t)n;
    return LORA4J_OK;
}

/* The scaling type string, or llama.cpp's rule when the key is absent: linear (a no-op when no
 * factor is given). */
static int32_t read_scaling_type(const lora4j_gguf *g, const char *arch, int32_t *out) {
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const char *s = NULL;
    int32_t st = key_string(g, key, &s);
    if (st != LORA4J_OK) return st;
    if (!s || strcmp(s, "linear") == 0) *out = LORA4J_ROPE_SCALING_LINEAR;
    else if (strcmp(s, "none") == 0) *out = LORA4J_ROPE_SCALING_NONE;
    else if (strcmp(s, "yarn") == 0) *out = LORA4J_ROPE_SCALING_YARN;
    else if (strcmp(s, "llama3") == 0) *out = LORA4J_ROPE_SCALING_LLAMA3;
    else {
        return l4_fail(LORA4J_ERR_UNSUPPORTED,
                       "metadata key '%s': rope scaling '%s' is not supported "
                       "(supported: none, linear, yarn, llama3)", key, s);
    }
    return LORA4J_OK;
}

/* RoPE scaling: factor, original context and the YaRN/llama3 parameters, resolved the way
 * llama.cpp's context does, so the rope kernel needs no further policy. */
static int32_t read_rope_scaling(const lora4j_gguf *g, const char *arch, lora4j_hparams *hp) {
    int32_t type = LORA4J_ROPE_SCALING_NONE;
    int32_t st = read_scaling_type(g, arch, &type);
    if (st != LORA4J_OK) return st;

    double factor = 0;
    int found = 0;
    st = arch_float(g, arch, "rope.scaling.factor", 0.0, &factor, &found);
    if (st == LORA4J_OK && !found) st = arch_float(g, arch, "rope.scale_linear", 0.0, &factor, &found);
    if (st != LORA4J_OK) return st;
    if (factor < 0) {
        return l4_fail(LORA4J_ERR_FORMAT, "metadata key '%s.rope.scaling.factor': %g is negative",
                       arch, factor);
    }
    if (factor == 0) factor = 1; /* llama.cpp: absent or 0 means no scaling */
    if (type == LORA4J_ROPE_SCALING_NONE) factor = 1;
    if (type == LORA4J_ROPE_SCALING_LINEAR && factor == 1) type = LORA4J_ROPE_SCALING_NONE;
    hp->rope_scaling = type;
    hp->rope_scale_factor = (float)factor;

    int32_t orig_def = type == LORA4J_ROPE_SCALING_LLAMA3 ? 8192 : hp->n_ctx_train;
    hp->rope_orig_ctx = 0;
    st = arch_int(g, arch, "rope.scaling.original_context_length", orig_def > 0 ? orig_def : 0, 0, 1,
                  &hp->rope_orig_ctx, NULL);
    if (st != LORA4J_OK) return st;

    double v = 0;
    if ((st = arch_float(g, arch, "rope.scaling.yarn_beta_fast", 32.0, &v, NULL))) return st;
    hp->yarn_beta_fast = (float)v;
    if ((st = arch_float(g, arch, "rope.scaling.yarn_beta_slow", 1.0, &v, NULL))) return st;
    hp->yarn_beta_slow = (float)v;
    if ((st = arch_float(g, arch, "rope.scaling.yarn_ext_factor", -1.0, &v, &found))) return st;
    hp->yarn_ext_factor = found ? (float)v : (type == LORA4J_ROPE_SCALING_YARN ? 1.0f : 0.0f);

    /* Attention (magnitude) factor: llama.cpp sets it so that, with the 1 + 0.1 ln(factor)
     * the rope kernel applies whenever ext_factor != 0, the net scale is YaRN's mscale. */
    double attn = 1, rope_attn = 1, log_mul = 0;
    if ((st = arch_float(g, arch, "rope.scaling.yarn_attn_factor", 1.0, &attn, NULL))) return st;
    if ((st = arch_float(g, arch, "rope.scaling.attn_factor", 1.0, &rope_attn, NULL))) return st;
    if ((st = arch_float(g, arch, "rope.scaling.yarn_log_multiplier", 0.0, &log_mul, NULL))) return st;
    if (hp->yarn_ext_factor != 0) {
        float f = (float)factor;
        float ms1 = f <= 1 ? 1.0f : 0.1f * logf(f) + 1.0f;
        float msl = f <= 1 ? 1.0f : 0.1f * (float)log_mul * logf(f) + 1.0f;
        attn = log_mul != 0 ? ms1 / msl : ms1;
        attn *= 1.0f / (1.0f + 0.1f * logf(f));
    }
    hp->yarn_attn_factor = (float)(attn * rope_attn);

    if ((st = arch_float(g, arch, "rope.scaling.low_freq_factor", 1.0, &v, NULL))) return st;
    hp->llama3_low_freq_factor = (float)v;
    if ((st = arch_float(g, arch, "rope.scaling.high_freq_factor", 4.0, &v, NULL))) return st;
    hp->llama3_high_freq_factor = (float)v;
    if (type == LORA4J_ROPE_SCALING_LLAMA3 &&
        !(hp->llama3_high_freq_factor > hp->llama3_low_freq_factor)) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "llama3 rope scaling: high_freq_factor %g must exceed low_freq_factor %g",
                       hp->llama3_high_freq_factor, hp->llama3_low_freq_factor);
    }
    return LORA4J_OK;
}

static int32_t validate(const lora4j_hparams *hp, const char *arch) {
    if (hp->n_head_kv > hp->n_head || hp->n_head % hp->n_head_kv != 0) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "'%s.attention.head_count' %d is not a multiple of "
                       "'%s.attention.head_count_kv' %d", arch, hp->n_head, arch, hp->n_head_kv);
    }
    if (hp->n_rot <= 0 || hp->n_rot % 2 != 0 || hp->n_rot > hp->head_dim) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "'%s.rope.dimension_count' %d must be even and in 2..head_dim (%d)", arch,
                       hp->n_rot, hp->head_dim);
    }
    if (!(hp->rms_eps > 0)) {
        return l4_fail(LORA4J_ERR_FORMAT, "'%s.attention.layer_norm_rms_epsilon' %g must be > 0",
                       arch, hp->rms_eps);
    }
    if (!(hp->rope_freq_base > 0)) {
        return l4_fail(LORA4J_ERR_FORMAT, "'%s.rope.freq_base' %g must be > 0", arch,
                       hp->rope_freq_base);
    }
    if ((int64_t)hp->n_head * hp->head_dim > L4_MAX_DIM) {
        return l4_fail(LORA4J_ERR_FORMAT, "n_head * head_dim = %lld exceeds %d",
                       (long long)hp->n_head * hp->head_dim, L4_MAX_DIM);
    }
    return LORA4J_OK;
}

/* lora4j_arch of general.architecture's value (LORA4J_ARCH_OTHER when unknown). */
static int32_t arch_from_name(const char *name) {
    if (strcmp(name, "llama") == 0) return LORA4J_ARCH_LLAMA;
    if (strcmp(name, "qwen2") == 0) return LORA4J_ARCH_QWEN2;
    return LORA4J_ARCH_OTHER;
}

int32_t l4_hparams_read(const lora4j_gguf *g, int vocab_only, lora4j_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    const char *arch = NULL;
    int32_t st = key_string(g, "general.architecture", &arch);
    if (st != LORA4J_OK) return st;
    if (!arch) return l4_fail(LORA4J_ERR_FORMAT, "missing metadata key 'general.architecture'");
    if (strlen(arch) > 64) {
        return l4_fail(LORA4J_ERR_FORMAT, "'general.architecture' is longer than 64 bytes");
    }
    hp->arch = arch_from_name(arch);
    if (hp->arch == LORA4J_ARCH_OTHER && !vocab_only) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED,
                       "unsupported architecture '%s' (supported: llama, qwen2)", arch);
    }
    hp->vocab_only = vocab_only ? 1 : 0;
    hp->rope_type = hp->arch == LORA4J_ARCH_QWEN2 ? LORA4J_ROPE_NEOX : LORA4J_ROPE_NORM;
    if ((st = read_vocab_size(g, arch, &hp->n_vocab))) return st;

    /* Vocab-only loads fill what is present and check nothing the tokenizer does not need. */
    int req = !vocab_only;
    if ((st = arch_int(g, arch, "context_length", 0, req, 1, &hp->n_ctx_train, NULL))) return st;
    if ((st = arch_int(g, arch, "embedding_length", 0, req, 1, &hp->n_embd, NULL))) return st;
    if ((st = arch_int(g, arch, "block_count", 0, req, 1, &hp->n_layer, NULL))) return st;
    if ((st = arch_int(g, arch, "feed_forward_length", 0, req, 1, &hp->n_ff, NULL))) return st;
    if ((st = arch_int(g, arch, "attention.head_count", 0, req, 1, &hp->n_head, NULL))) return st;
    if ((st = arch_int(g, arch, "attention.head_count_kv", hp->n_head, 0, 1, &hp->n_head_kv, NULL)))
        return st;
    if (hp->n_embd > L4_MAX_DIM || hp->n_ff > L4_MAX_DIM || hp->n_layer > L4_MAX_LAYERS) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "model dimensions out of range: n_embd %d, n_ff %d (max %d), n_layer %d "
                       "(max %d)", hp->n_embd, hp->n_ff, L4_MAX_DIM, hp->n_layer, L4_MAX_LAYERS);
    }

    int has_k = 0, has_v = 0;
    int32_t key_len = 0, val_len = 0;
    if ((st = arch_int(g, arch, "attention.key_length", 0, 0, 1, &key_len, &has_k))) return st;
    if ((st = arch_int(g, arch, "attention.value_length", 0, 0, 1, &val_len, &has_v))) return st;
    if (has_k && has_v && key_len != val_len) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED,
                       "'%s.attention.key_length' %d differs from '%s.attention.value_length' %d",
                       arch, key_len, arch, val_len);
    }
    if (has_k || has_v) {
        hp->head_dim = has_k ? key_len : val_len;
    } else if (hp->n_head > 0) {
        if (hp->n_embd % hp->n_head != 0 && req) {
            return l4_fail(LORA4J_ERR_FORMAT,
                           "'%s.embedding_length' %d is not a multiple of "
                           "'%s.attention.head_count' %d (and no attention.key_length is given)",
                           arch, hp->n_embd, arch, hp->n_head);
        }
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    if ((st = arch_int(g, arch, "rope.dimension_count", hp->head_dim, 0, 1, &hp->n_rot, NULL)))
        return st;

    double v = 0;
    int found = 0;
    if ((st = arch_float(g, arch, "rope.freq_base", 10000.0, &v, NULL))) return st;
    hp->rope_freq_base = (float)v;
    if ((st = arch_float(g, arch, "attention.layer_norm_rms_epsilon", 0.0, &v, &found))) return st;
    if (!found && req) {
        return l4_fail(LORA4J_ERR_FORMAT, "missing metadata key '%s.attention.layer_norm_rms_epsilon'",
                       arch);
    }
    hp->rms_eps = (float)v;
    hp->rope_scale_factor = 1;
    if (!req) return LORA4J_OK; /* RoPE scaling only matters to a forward pass */
    if ((st = read_rope_scaling(g, arch, hp))) return st;
    return validate(hp, arch);
}
