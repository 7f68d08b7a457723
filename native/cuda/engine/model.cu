/* The model on the device: every weight uploaded once, in its GGUF block type (the GEMM
 * dequantizes tiles as it loads them); norms and biases f32; a tied head shares the embedding. */
#include <stdlib.h>

#include "engine/engine.h"

static const char *const k_targets[7] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up",
                                         "ffn_down"};

static int is_dense(int32_t type) { return type == LORA4J_TYPE_F32 || type == LORA4J_TYPE_BF16; }

static size_t weight_bytes(const l4b_weight *w) { return (size_t)w->row_bytes * (size_t)w->n_out; }

static int tied(const l4b_model *m) {
    return m->hp.tied_output || (m->output.data && m->output.data == m->tok_embd.data);
}

size_t lcu_dmodel_bytes(const l4b_model *m) {
    const lora4j_hparams *hp = &m->hp;
    const size_t E = (size_t)hp->n_embd * sizeof(float);
    size_t b = lcu_arena_piece(weight_bytes(&m->tok_embd)) + lcu_arena_piece(E);
    if (!tied(m)) b += lcu_arena_piece(weight_bytes(&m->output));
    if (m->output_bias) b += lcu_arena_piece((size_t)hp->n_vocab * sizeof(float));
    for (int il = 0; il < hp->n_layer; il++) {
        const l4b_layer *ly = &m->layers[il];
        b += 2 * lcu_arena_piece(E);
        for (int t = 0; t < 7; t++) b += lcu_arena_piece(weight_bytes(&ly->w[t]));
        for (int t = 0; t < 3; t++) {
            if (ly->bias[t]) b += lcu_arena_piece((size_t)ly->w[t].n_out * sizeof(float));
        }
    }
    return b;
}

/* Copies n bytes of host data into the next piece of the model's arena. */
static int32_t put(lcu_dmodel *d, const void *src, size_t n, void **out) {
    void *p = lcu_arena_take(&d->mem, n);
    if (!p) return lcu_fail(LORA4J_ERR_STATE, "model_upload: the weight plan is smaller than the weights");
    *out = p;
    return lcu_check(cudaMemcpy(p, src, n, cudaMemcpyHostToDevice), "model_upload: copying weights");
}

static int32_t put_vec(lcu_dmodel *d, const float *src, int64_t n, float **out) {
    *out = NULL;
    if (!src) return LORA4J_OK;
    return put(d, src, (size_t)n * sizeof(float), (void **)out);
}

static int32_t put_mat(lcu_dmodel *d, const l4b_weight *w, lcu_mat *out) {
    void *p = NULL;
    int32_t st = put(d, w->data, weight_bytes(w), &p);
    *out = lcu_mat{w->type, p, w->n_out, w->n_in, is_dense(w->type) ? w->n_in : w->row_bytes, 1};
    return st;
}

/* Every weight must be a type the GEMM reads (the embedding: a type lcu_embed reads, the same). */
static int32_t check_types(const l4b_model *m) {
    const lora4j_hparams *hp = &m->hp;
    if (!lcu_gemm_supports(m->tok_embd.type)) {
        return lcu_fail(LORA4J_ERR_UNSUPPORTED, "model_upload: token_embd.weight has type %d, which the CUDA "
                        "backend cannot read", m->tok_embd.type);
    }
    if (!lcu_gemm_supports(m->output.type)) {
        return lcu_fail(LORA4J_ERR_UNSUPPORTED, "model_upload: output.weight has type %d, which the CUDA backend "
                        "cannot read", m->output.type);
    }
    for (int il = 0; il < hp->n_layer; il++) {
        for (int t = 0; t < 7; t++) {
            const l4b_weight *w = &m->layers[il].w[t];
            if (!lcu_gemm_supports(w->type)) {
                return lcu_fail(LORA4J_ERR_UNSUPPORTED, "model_upload: blk.%d.%s.weight has type %d, which the CUDA "
                                "backend cannot read", il, k_targets[t], w->type);
            }
        }
    }
    return LORA4J_OK;
}

int32_t lcu_dmodel_upload(int32_t device, const l4b_model *m, lcu_dmodel **out) {
    *out = NULL;
    int32_t st = check_types(m);
    if (st != LORA4J_OK) return st;
    st = lcu_check(cudaSetDevice(device), "model_upload: selecting the device");
    if (st != LORA4J_OK) return st;
    lcu_dmodel *d = (lcu_dmodel *)calloc(1, sizeof *d);
    lcu_dlayer *layers = (lcu_dlayer *)calloc((size_t)(m->hp.n_layer > 0 ? m->hp.n_layer : 1), sizeof *layers);
    if (!d || !layers) {
        free(d);
        free(layers);
        return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "model_upload: no host memory");
    }
    d->device = device;
    d->hp = m->hp;
    d->layers = layers;
    st = lcu_arena_init(&d->mem, lcu_dmodel_bytes(m), "model_upload: the weights");
    if (st == LORA4J_OK) st = put_mat(d, &m->tok_embd, &d->tok_embd);
    if (st == LORA4J_OK) st = tied(m) ? LORA4J_OK : put_mat(d, &m->output, &d->output);
    if (st == LORA4J_OK && tied(m)) d->output = d->tok_embd;
    if (st == LORA4J_OK) st = put_vec(d, m->output_norm, m->hp.n_embd, &d->output_norm);
    if (st == LORA4J_OK) st = put_vec(d, m->output_bias, m->hp.n_vocab, &d->output_bias);
    for (int il = 0; il < m->hp.n_layer && st == LORA4J_OK; il++) {
        const l4b_layer *ly = &m->layers[il];
        lcu_dlayer *dl = &layers[il];
        st = put_vec(d, ly->attn_norm, m->hp.n_embd, &dl->attn_norm);
        if (st == LORA4J_OK) st = put_vec(d, ly->ffn_norm, m->hp.n_embd, &dl->ffn_norm);
        for (int t = 0; t < 7 && st == LORA4J_OK; t++) st = put_mat(d, &ly->w[t], &dl->w[t]);
        for (int t = 0; t < 3 && st == LORA4J_OK; t++) st = put_vec(d, ly->bias[t], ly->w[t].n_out, &dl->bias[t]);
    }
    if (st != LORA4J_OK) {
        lcu_dmodel_free(d);
        return st;
    }
    *out = d;
    return LORA4J_OK;
}

void lcu_dmodel_free(lcu_dmodel *m) {
    if (!m) return;
    cudaSetDevice(m->device);
    lcu_arena_free(&m->mem);
    free(m->layers);
    free(m);
}
