/* Which type each weight gets when a model is re-encoded (llama-quantize's rules), shared by the
 * quantize tool and load-time quantization. */
#ifndef LORA4J_MODEL_QUANT_RULES_H
#define LORA4J_MODEL_QUANT_RULES_H

#include <stdint.h>

typedef struct l4_quant_target {
    int32_t type; /* base lora4j_type */
    int32_t mix;  /* 0, or a lora4j_quant_mix recipe on top of `type` */
} l4_quant_target;

/* Decode a lora4j_type / lora4j_quant_mix code; an error names codes the engine cannot write. */
int32_t l4_quant_target_parse(int32_t code, l4_quant_target *out);

/* 1 when the tensor is re-encoded: 2-D, named "*weight", not a norm (others are copied). */
int l4_quant_tensor_eligible(const char *name, int32_t n_dims);

/* Type of one eligible tensor with rows of n_in elements in a model of n_layer blocks; tied: the
 * model has no output.weight, so token_embd is treated as the output head. */
int32_t l4_quant_tensor_type(const l4_quant_target *t, const char *name, int64_t n_in,
                             int32_t n_layer, int tied);

/* general.file_type (llama_ftype) describing a file written for this target. */
uint32_t l4_quant_file_type(const l4_quant_target *t);

#endif
