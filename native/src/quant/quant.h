/* Internal contract of the quantization layer: type traits, (de)quantization and the matmul
 * kernels every other part of the engine (model, forward, backward) multiplies through. */
#ifndef LORA4J_QUANT_H
#define LORA4J_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "lora4j.h"

typedef struct l4_type_traits {
    const char *name;      /* ggml name: "f32", "q4_0", "q4_K", "iq4_nl", … */
    int64_t blck;          /* elements per block */
    int64_t block_bytes;   /* bytes per block */
    int supported;         /* 1 if the functions below are set */
    /* n is a multiple of blck */
    void (*to_float)(const void *src, float *dst, int64_t n);
    void (*from_float)(const float *src, void *dst, int64_t n);
} l4_type_traits;

/* Traits of a ggml type id, or NULL if the id is unknown. */
const l4_type_traits *l4_traits(int32_t type);

/* Row size in bytes; -1 if n is not a multiple of the block size or the type is unknown. */
int64_t l4_row_bytes(int32_t type, int64_t n);

/* fp16 / bf16 conversions (exact IEEE rounding, round-to-nearest-even). */
float l4_fp16_to_fp32(uint16_t h);
uint16_t l4_fp32_to_fp16(float f);
float l4_bf16_to_fp32(uint16_t h);
uint16_t l4_fp32_to_bf16(float f);

/* y[t*ldy + o] = sum_i W[o][i] * x[t*ldx + i], o in [0,n_out), t in [0,n_tok).
 * W: n_out rows of n_in elements of `type` (row stride l4_row_bytes(type, n_in)).
 * exact != 0: f32 arithmetic on exactly dequantized weights (training path);
 * exact == 0: may quantize x to int8 blocks and use integer dot products (inference path).
 * Runs on up to n_threads threads of the shared pool (<= 0: all cores).
 * (x and y must not overlap. The int8 path rounds each activation to a grid of step
 * amax/127 of its block of 32 (256 for K-quants): |error| <= sum_i |w_i| * step_i / 2,
 * typically ~0.5% of |y|. F32/F16/BF16 weights always take the f32 path.) */
void l4_matmul(int32_t type, const void *w, int64_t n_out, int64_t n_in,
               const float *x, int64_t ldx, int64_t n_tok,
               float *y, int64_t ldy, int n_threads, int exact);

/* One product of a set that shares its activations: y[t*ldy + o] = sum_i W[o][i] * x[t*ldx + i]. */
typedef struct l4_matmul_op {
    int32_t type;
    const void *w;   /* n_out rows of n_in elements of type */
    int64_t n_out;
    float *y;
    int64_t ldy;
} l4_matmul_op;

#define L4_MATMUL_MAX_OPS 4

/* l4_matmul for several weights applied to the same x (a layer's q/k/v or gate/up
 * projections): the activations are quantized once and all products share one parallel
 * region. Each y is what l4_matmul gives for its op. */
void l4_matmul_ops(const l4_matmul_op *ops, int n_ops, int64_t n_in, const float *x, int64_t ldx,
                   int64_t n_tok, int n_threads, int exact);

/* dX accumulate for backward through a frozen weight:
 * dx[t*lddx + i] += sum_o W[o][i] * dy[t*lddy + o]  (x-gradient of y = W x), f32, exact. */
void l4_matmul_t_acc(int32_t type, const void *w, int64_t n_out, int64_t n_in,
                     const float *dy, int64_t lddy, int64_t n_tok,
                     float *dx, int64_t lddx, int n_threads);

#endif
