/* Internal view of a LoRA adapter: one entry per adapted projection (layer, target), each a pair
 * A [rank][n_in], B [n_out][rank] in f32 (PEFT's layout) and an optional trained bias delta.
 * All values live in one contiguous buffer (A's, B's and bias deltas), so the trainer's
 * gradients and optimizer moments are flat arrays with the same layout. */
#ifndef LORA4J_LORA_ADAPTER_H
#define LORA4J_LORA_ADAPTER_H

#include <stdint.h>

#include "lora4j.h"
#include "model/model.h"

/* Target indices: bit t of lora4j_lora_target. */
enum { L4_T_Q, L4_T_K, L4_T_V, L4_T_O, L4_T_GATE, L4_T_UP, L4_T_DOWN, L4_N_TARGETS };
#define L4_LORA_NAME_MAX 64  /* GGUF tensor names are at most 63 bytes */
#define L4_ARCH_NAME_MAX 65

struct lora4j_adapter {
    char arch[L4_ARCH_NAME_MAX]; /* general.architecture of the base model */
    int32_t n_layer;
    lora4j_lora_params params;   /* as created; a loaded adapter: largest rank, file alpha */
    int64_t n_pairs;             /* entries, bias-only ones (rank 0) included */
    lora4j_lora_pair *pairs;     /* [n_pairs]; base_name points into names */
    char (*names)[L4_LORA_NAME_MAX];
    float *scales;               /* [n_pairs] factor on B·A·x: alpha/r (alpha/sqrt(r) rsLoRA) */
    int32_t *index;              /* [n_layer][L4_N_TARGETS] entry index, -1 when not adapted */
    float *data;                 /* every A, B and bias delta */
    int64_t n_data;
    int32_t n_biases;
    uint64_t generation;         /* bumped by each optimizer step that changes the values, so a
                                    device context re-uploads them before its next forward */
};

/* Target index t (0..6) of a lora4j_lora_target bit, and back. */
static inline uint32_t l4_target_bit(int t) { return 1u << t; }

/* "attn_q", …, "ffn_down" for target index t. */
const char *l4_target_name(int t);

/* The weight and bias (NULL when absent) of target t in a layer. */
const l4_matrix *l4_layer_weight(const l4_layer *ly, int t);
const float *l4_layer_bias(const l4_layer *ly, int t);

/* The entry adapting (layer, t), or NULL. */
static inline const lora4j_lora_pair *l4_adapter_entry(const lora4j_adapter *ad, int layer, int t) {
    int32_t i = ad->index[layer * L4_N_TARGETS + t];
    return i < 0 ? NULL : &ad->pairs[i];
}

/* Checks that ad was made for a model of this architecture and these shapes; `what` prefixes
 * the message. */
int32_t l4_adapter_check_model(const lora4j_adapter *ad, const lora4j_model *model, const char *what);

/* general.architecture of a model (copied into out, L4_ARCH_NAME_MAX bytes). */
int32_t l4_model_arch_name(const lora4j_model *model, char *out);

/* An empty adapter of n entries with the given ranks/shapes, values zeroed: layer[i], t[i],
 * rank[i] (0: bias-only), has_bias[i]. Used by new, load and clone. */
int32_t l4_adapter_alloc(const lora4j_model *model, int64_t n, const int32_t *layer, const int32_t *t,
                         const int64_t *rank, const uint8_t *has_bias, lora4j_adapter **out);

/* Scale of an entry of rank r: alpha/r, alpha/sqrt(r) with rsLoRA, 1 when alpha is 0 (what
 * llama.cpp does for a file without adapter.lora.alpha). */
float l4_lora_scale(float alpha, int rslora, int64_t r);

#endif
