/* Reading and validating a model's hyper-parameters from GGUF metadata. */
#ifndef LORA4J_MODEL_HPARAMS_H
#define LORA4J_MODEL_HPARAMS_H

#include "lora4j.h"

/* Bounds that keep every size computed from hyper-parameters far from overflow. */
#define L4_MAX_VOCAB (1 << 24)
#define L4_MAX_DIM (1 << 20)
#define L4_MAX_LAYERS 4096

/* Fill hp from g's metadata. vocab_only: the architecture may be unknown and only the vocabulary
 * size is required; otherwise every key a forward pass needs must be present and consistent.
 * tied_output / has_qkv_bias and rope_freqs-driven llama3 scaling are set by the loader. */
int32_t l4_hparams_read(const lora4j_gguf *g, int vocab_only, lora4j_hparams *hp);

#endif
