/* The engine of the CUDA backend: device copies of a model and of adapters, the projection with
 * LoRA terms shared by training and decoding, and error reporting (the .cu files of engine/).
 * The backend table (backend.cu) exposes it to liblora4j.so through src/backend/backend.h. */
#ifndef LORA4J_CUDA_ENGINE_H
#define LORA4J_CUDA_ENGINE_H

#include "backend/backend.h"
#include "ops/ops.h"

/* ---- errors: a thread-local message, as lora4j_last_error() ---------------------------------- */

/* Set the message (printf format) and return status. */
int32_t lcu_fail(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *lcu_last_error(void);
/* A CUDA runtime result as a status: cudaSuccess is LORA4J_OK; an allocation failure is
 * LORA4J_ERR_OUT_OF_MEMORY; anything else LORA4J_ERR_STATE; the message names `what`. */
int32_t lcu_check(cudaError_t e, const char *what);
/* cudaGetLastError() after a pass of launches. */
int32_t lcu_check_launch(const char *what);

/* ---- device memory ------------------------------------------------------------------------------ */

/* One allocation carved into aligned pieces (llm.c style: plan every size, allocate once). */
typedef struct lcu_arena {
    uint8_t *base;
    size_t size, used;
} lcu_arena;
int32_t lcu_arena_init(lcu_arena *a, size_t size, const char *what);
void *lcu_arena_take(lcu_arena *a, size_t bytes);   /* 256-byte aligned; NULL when full */
void lcu_arena_free(lcu_arena *a);
/* Bytes lcu_arena_take would use for a piece of `bytes` (for plans). */
size_t lcu_arena_piece(size_t bytes);

/* ---- the model on the device -------------------------------------------------------------------- */

typedef struct lcu_dlayer {
    float *attn_norm, *ffn_norm;   /* [E] */
    lcu_mat w[7];                  /* q k v o gate up down: type as in the file, trans 1 (Y = X·Wᵀ) */
    float *bias[3];                /* q, k, v biases or NULL */
} lcu_dlayer;

typedef struct lcu_dmodel {
    int32_t device;
    lora4j_hparams hp;
    lcu_mat tok_embd, output;      /* output == tok_embd (same data) when tied */
    float *output_norm;            /* [E] */
    float *output_bias;            /* [V] or NULL */
    lcu_dlayer *layers;            /* host array [n_layer] of device views */
    lcu_arena mem;                 /* every weight, uploaded once */
} lcu_dmodel;

int32_t lcu_dmodel_upload(int32_t device, const l4b_model *m, lcu_dmodel **out);
void lcu_dmodel_free(lcu_dmodel *m);
/* Device bytes the weights take (for plans; m's data may be NULL). */
size_t lcu_dmodel_bytes(const l4b_model *m);

/* ---- adapters on the device --------------------------------------------------------------------- */

typedef struct lcu_dpair {
    int32_t layer, target;         /* target index 0..6 */
    int64_t n_in, n_out, rank;
    float *a, *b;                  /* [rank][n_in], [n_out][rank] f32 (NULL when rank 0) */
    float *bias_delta;             /* [n_out] or NULL */
    float scale;                   /* the pair's own factor (alpha/r) */
    int64_t off;                   /* offset of a (then b) in the adapter's flat value buffer */
} lcu_dpair;

typedef struct lcu_dadapter {
    int64_t n_pairs;
    lcu_dpair *pairs;              /* host array of device views */
    int32_t *index;                /* host [n_layer][7]: pair index or -1 */
    float *values;                 /* device: every a and b, pair by pair (a then b) */
    int64_t n_values;
    lcu_arena mem;
} lcu_dadapter;

int32_t lcu_dadapter_upload(const lora4j_hparams *hp, const l4b_adapter *ad, lcu_dadapter **out);
/* Device bytes an upload of ad takes (for plans), and the a/b values it holds. */
size_t lcu_dadapter_bytes(const l4b_adapter *ad);
int64_t lcu_dadapter_values(const l4b_adapter *ad);
void lcu_dadapter_free(lcu_dadapter *ad);
/* Copy the device a/b values back into the host adapter's pairs. */
int32_t lcu_dadapter_download(const lcu_dadapter *d, const l4b_adapter *host);
static inline const lcu_dpair *lcu_dadapter_pair(const lcu_dadapter *ad, int layer, int t) {
    const int32_t i = ad->index[layer * 7 + t];
    return i < 0 ? (const lcu_dpair *)0 : &ad->pairs[i];
}

/* ---- the projection with LoRA terms --------------------------------------------------------------- */

/* Adapters applied to one projection: y += sum_i u_i * s_i * B_i (A_i x) + u_i * bias_delta_i. */
typedef struct lcu_lora_set {
    const lcu_dadapter *const *ads;
    const float *scales;           /* u_i, host */
    int32_t n;
    float *h;                      /* scratch [n_tok][max rank] f32 */
    lcu_bf16 *h16;                 /* scratch [n_tok][max rank] bf16 */
} lcu_lora_set;

/* y [n][n_out] = x·Wᵀ (+ bias) + the set's terms for (layer, t); x [n][n_in] bf16. */
void lcu_project(lcu_stream s, const lcu_mat *w, const float *bias, const lcu_lora_set *set, int layer,
                 int t, const lcu_bf16 *x, int64_t n, float *y);

#endif
