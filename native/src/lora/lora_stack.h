/* Frozen adapters applied on top of a model's weights (inference, and the frozen part of a
 * training forward): y = W x + sum_i u_i (s_i B_i A_i x + bias_delta_i), with u_i the caller's
 * scale of adapter i and s_i the adapter's own factor. Also the x-gradient through them. */
#ifndef LORA4J_LORA_STACK_H
#define LORA4J_LORA_STACK_H

#include <stdint.h>

#include "lora/adapter.h"

typedef struct l4_lora_stack {
    const lora4j_adapter *const *adapters;
    const float *scales;   /* u_i */
    int n;
    float *h;              /* scratch [h_rows][max rank] */
    int64_t h_rows;
} l4_lora_stack;

/* Largest rank among the adapters' pairs. */
int64_t l4_lora_max_rank(const lora4j_adapter *const *adapters, int n);

/* y [n][n_out] += the stack's terms for (layer, target index t); x is [n][n_in]. */
void l4_lora_stack_forward(const l4_lora_stack *s, int layer, int t, const float *x, int64_t n, float *y,
                           int n_threads);

/* dx [n][n_in] += sum_i u_i s_i A_i^T (B_i^T dy) for (layer, t); dy is [n][n_out]. */
void l4_lora_stack_backward_x(const l4_lora_stack *s, int layer, int t, const float *dy, int64_t n, float *dx,
                              int n_threads);

/* The projection of an adapted weight: y = W x, then the stack's terms (s NULL or empty: W x
 * only, at no extra cost). exact selects l4_matmul's exact f32 path. */
void l4_project(const l4_matrix *w, const l4_lora_stack *s, int layer, int t, const float *x, int64_t n,
                float *y, int n_threads, int exact);

#endif
