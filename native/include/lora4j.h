/*
 * lora4j.h — the one public C API of the lora4j engine.
 *
 * Conventions (as llama.h): opaque handles created and freed in pairs; *_default_params()
 * return plain structs the caller edits; every fallible call returns a lora4j_status and leaves
 * a thread-local message in lora4j_last_error(); callbacks are a function pointer plus
 * void *user_data. Only fixed-width ints, float/double, pointers and POD structs appear here,
 * so the Panama binding generator (bindings/) can map everything.
 *
 * Nothing a caller passes may crash the process: bad input is an error code.
 */
#ifndef LORA4J_H
#define LORA4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LORA4J_BUILDING_LIBRARY)
#define LORA4J_API __attribute__((visibility("default")))
#else
#define LORA4J_API
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status codes and errors                                                                     */
/* ------------------------------------------------------------------------------------------ */

enum lora4j_status {
    LORA4J_OK = 0,
    LORA4J_ERR_INVALID_ARGUMENT = 1, /* a caller-supplied value is out of range or malformed */
    LORA4J_ERR_IO = 2,               /* open/read/write/rename failed */
    LORA4J_ERR_FORMAT = 3,           /* a file is corrupt, truncated or not what it claims */
    LORA4J_ERR_UNSUPPORTED = 4,      /* valid but not supported (type, architecture, version) */
    LORA4J_ERR_OUT_OF_MEMORY = 5,
    LORA4J_ERR_STATE = 6,            /* call not valid in the object's current state */
    LORA4J_ERR_NUMERIC = 7,          /* NaN/inf where a finite value is required */
    LORA4J_ERR_CANCELLED = 8,        /* a callback asked to stop */
    LORA4J_ERR_NOT_FOUND = 9         /* a key, tensor or name does not exist */
};
typedef int32_t lora4j_status_t;

/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
LORA4J_API const char *lora4j_last_error(void);

/* Library version string, e.g. "0.1.0". */
LORA4J_API const char *lora4j_version(void);

/* ------------------------------------------------------------------------------------------ */
/* CPU features and logging                                                                    */
/* ------------------------------------------------------------------------------------------ */

enum lora4j_simd_level {
    LORA4J_SIMD_SCALAR = 0,
    LORA4J_SIMD_AVX2 = 1,   /* AVX2 + FMA + F16C */
    LORA4J_SIMD_AVX512 = 2  /* AVX-512 F/BW/VL/DQ/VNNI */
};

/* The best SIMD level this CPU supports. */
LORA4J_API int32_t lora4j_simd_detected(void);
/* The level the kernels use now (detected, unless lowered with lora4j_simd_set). */
LORA4J_API int32_t lora4j_simd_active(void);
/* Lower (or restore) the level the kernels use; a level above the detected one is an error.
 * Process-wide; meant for tests and benchmarks that compare paths. */
LORA4J_API lora4j_status_t lora4j_simd_set(int32_t level);

enum lora4j_log_level {
    LORA4J_LOG_DEBUG = 0,
    LORA4J_LOG_INFO = 1,
    LORA4J_LOG_WARN = 2,
    LORA4J_LOG_ERROR = 3
};
typedef void (*lora4j_log_callback)(int32_t level, const char *message, void *user_data);
/* Route engine log lines to cb (NULL: silence). Default: WARN and above to stderr. */
LORA4J_API void lora4j_log_set(lora4j_log_callback cb, void *user_data);

/* ------------------------------------------------------------------------------------------ */
/* CUDA devices                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* The CUDA backend is a separate library, liblora4j-cuda.so, loaded from beside liblora4j.so (or
 * from the path in the environment variable LORA4J_CUDA_LIBRARY) the first time a CUDA device is
 * asked for; the engine never links the CUDA runtime, so it runs without one. */
typedef struct lora4j_device_info {
    char name[128];
    int64_t total_memory;   /* bytes */
    int64_t free_memory;    /* bytes, when asked */
    int32_t cc_major;       /* compute capability */
    int32_t cc_minor;
    int32_t multiprocessors;
    int32_t emulated;       /* 1: the backend's CPU emulation (tests), not a GPU */
} lora4j_device_info;

/* Number of CUDA devices; -1 when the backend cannot be used, and lora4j_last_error() says why
 * (library not built or not found, no driver, a driver too old for the CUDA 13 runtime, …). */
LORA4J_API int32_t lora4j_cuda_device_count(void);
LORA4J_API lora4j_status_t lora4j_cuda_device_info(int32_t device, lora4j_device_info *out);

/* ------------------------------------------------------------------------------------------ */
/* Tensor types (ggml type ids, bit-compatible block layouts)                                 */
/* ------------------------------------------------------------------------------------------ */

enum lora4j_type {
    LORA4J_TYPE_F32 = 0,
    LORA4J_TYPE_F16 = 1,
    LORA4J_TYPE_Q4_0 = 2,
    LORA4J_TYPE_Q4_1 = 3,
    LORA4J_TYPE_Q5_0 = 6,
    LORA4J_TYPE_Q5_1 = 7,
    LORA4J_TYPE_Q8_0 = 8,
    LORA4J_TYPE_Q2_K = 10,
    LORA4J_TYPE_Q3_K = 11,
    LORA4J_TYPE_Q4_K = 12,
    LORA4J_TYPE_Q5_K = 13,
    LORA4J_TYPE_Q6_K = 14,
    LORA4J_TYPE_IQ4_NL = 20,
    LORA4J_TYPE_I8 = 24,
    LORA4J_TYPE_I16 = 25,
    LORA4J_TYPE_I32 = 26,
    LORA4J_TYPE_I64 = 27,
    LORA4J_TYPE_F64 = 28,
    LORA4J_TYPE_BF16 = 30,
    LORA4J_TYPE_COUNT = 43
};

/* ggml's name ("q4_K", "f32", …), or NULL for an id that is not a known type. */
LORA4J_API const char *lora4j_type_name(int32_t type);
/* Elements per block (1 for plain types); 0 for an unknown id. */
LORA4J_API int64_t lora4j_type_block_size(int32_t type);
/* Bytes per block; 0 for an unknown id. */
LORA4J_API int64_t lora4j_type_block_bytes(int32_t type);
/* 1 when this engine can dequantize, quantize and multiply with the type. */
LORA4J_API int32_t lora4j_type_supported(int32_t type);
/* Bytes of one row of n elements; -1 (with an error) if n is not a multiple of the block size. */
LORA4J_API int64_t lora4j_row_bytes(int32_t type, int64_t n);

/* Dequantize n elements (a multiple of the block size) from src to f32. */
LORA4J_API lora4j_status_t lora4j_dequantize(int32_t type, const void *src, size_t src_bytes,
                                             float *dst, int64_t n);
/* Quantize n_rows rows of n_per_row f32 values into dst (dst_bytes must hold them). */
LORA4J_API lora4j_status_t lora4j_quantize(int32_t type, const float *src, int64_t n_rows,
                                           int64_t n_per_row, void *dst, size_t dst_bytes);
/* y[t][o] = sum_i W[o][i] * x[t][i] for W of n_out rows of n_in elements in `type`, x f32
 * [n_tok][n_in], y f32 [n_tok][n_out], using n_threads threads (<= 0: all cores).
 * exact_f32 != 0 multiplies against exactly dequantized weights in f32 (the path training
 * differentiates); 0 allows the faster int8-activation kernels, as llama.cpp does. */
LORA4J_API lora4j_status_t lora4j_matmul(int32_t type, const void *w, size_t w_bytes,
                                         int64_t n_out, int64_t n_in, const float *x,
                                         int64_t n_tok, float *y, int32_t n_threads,
                                         int32_t exact_f32);

/* ------------------------------------------------------------------------------------------ */
/* GGUF v3: reading (mmap, validated) and writing (atomic)                                    */
/* ------------------------------------------------------------------------------------------ */

enum lora4j_gguf_type {
    LORA4J_GGUF_UINT8 = 0,
    LORA4J_GGUF_INT8 = 1,
    LORA4J_GGUF_UINT16 = 2,
    LORA4J_GGUF_INT16 = 3,
    LORA4J_GGUF_UINT32 = 4,
    LORA4J_GGUF_INT32 = 5,
    LORA4J_GGUF_FLOAT32 = 6,
    LORA4J_GGUF_BOOL = 7,
    LORA4J_GGUF_STRING = 8,
    LORA4J_GGUF_ARRAY = 9,
    LORA4J_GGUF_UINT64 = 10,
    LORA4J_GGUF_INT64 = 11,
    LORA4J_GGUF_FLOAT64 = 12
};

typedef struct lora4j_gguf lora4j_gguf;

/* Open and fully validate a GGUF file; tensor data is mmapped, never copied. */
LORA4J_API lora4j_status_t lora4j_gguf_open(const char *path, lora4j_gguf **out);
LORA4J_API void lora4j_gguf_close(lora4j_gguf *gguf);

LORA4J_API uint32_t lora4j_gguf_version(const lora4j_gguf *gguf);
LORA4J_API uint32_t lora4j_gguf_alignment(const lora4j_gguf *gguf);
/* Byte offset of the data section within the file. */
LORA4J_API uint64_t lora4j_gguf_data_offset(const lora4j_gguf *gguf);

/* Metadata: keys are indexed 0..n_kv-1 in file order. */
LORA4J_API int64_t lora4j_gguf_n_kv(const lora4j_gguf *gguf);
/* Index of key, or -1 if absent. */
LORA4J_API int64_t lora4j_gguf_find_key(const lora4j_gguf *gguf, const char *key);
/* NUL-terminated key of entry i (NULL if i is out of range). */
LORA4J_API const char *lora4j_gguf_key(const lora4j_gguf *gguf, int64_t i);
/* Value type of entry i (lora4j_gguf_type), -1 if out of range. */
LORA4J_API int32_t lora4j_gguf_kv_type(const lora4j_gguf *gguf, int64_t i);
/* Scalar value of entry i (any numeric or BOOL type) in native byte order, widened:
 * integers and bools into *out_i64 / floats into *out_f64 (either pointer may be NULL; the
 * other one is left untouched). A UINT64 above INT64_MAX arrives as its bit pattern. */
LORA4J_API lora4j_status_t lora4j_gguf_get_scalar(const lora4j_gguf *gguf, int64_t i,
                                                  int64_t *out_i64, double *out_f64);
/* STRING entry i: pointer to its bytes (NUL-terminated copy) and byte length. */
LORA4J_API lora4j_status_t lora4j_gguf_get_string(const lora4j_gguf *gguf, int64_t i,
                                                  const char **out_str, uint64_t *out_len);
/* ARRAY entry i: element type and count. */
LORA4J_API lora4j_status_t lora4j_gguf_get_array_info(const lora4j_gguf *gguf, int64_t i,
                                                      int32_t *out_elem_type, uint64_t *out_n);
/* ARRAY of a numeric/BOOL type: pointer to the packed elements (native byte order, aligned to
 * the element size; BOOL elements are bytes 0/1; never NULL, even for an empty array). */
LORA4J_API lora4j_status_t lora4j_gguf_get_array_data(const lora4j_gguf *gguf, int64_t i,
                                                      const void **out_data);
/* ARRAY of STRING: element j (NUL-terminated copy) and byte length. */
LORA4J_API lora4j_status_t lora4j_gguf_get_array_string(const lora4j_gguf *gguf, int64_t i,
                                                        uint64_t j, const char **out_str,
                                                        uint64_t *out_len);

/* Tensors: indexed 0..n_tensors-1 in file order. */
typedef struct lora4j_tensor_info {
    const char *name;   /* NUL-terminated, owned by the gguf handle */
    int32_t type;       /* lora4j_type */
    int32_t n_dims;
    int64_t ne[4];      /* ne[0] is the contiguous dimension; missing dims are 1 */
    uint64_t offset;    /* relative to the data section */
    uint64_t n_bytes;
    const void *data;   /* into the mapping */
} lora4j_tensor_info;

LORA4J_API int64_t lora4j_gguf_n_tensors(const lora4j_gguf *gguf);
LORA4J_API int64_t lora4j_gguf_find_tensor(const lora4j_gguf *gguf, const char *name);
LORA4J_API lora4j_status_t lora4j_gguf_tensor_info(const lora4j_gguf *gguf, int64_t i,
                                                   lora4j_tensor_info *out);

/* Writer: collect metadata and tensors, then write the whole file to a temporary name in the
 * target directory and rename it into place, so no half-written file is ever visible. */
typedef struct lora4j_gguf_writer lora4j_gguf_writer;

LORA4J_API lora4j_status_t lora4j_gguf_writer_new(lora4j_gguf_writer **out);
LORA4J_API void lora4j_gguf_writer_free(lora4j_gguf_writer *w);
/* Set (or replace) a scalar: value_type is a numeric or BOOL lora4j_gguf_type, `value` points
 * to a value of exactly that C type. */
LORA4J_API lora4j_status_t lora4j_gguf_writer_set_scalar(lora4j_gguf_writer *w, const char *key,
                                                         int32_t value_type, const void *value);
LORA4J_API lora4j_status_t lora4j_gguf_writer_set_string(lora4j_gguf_writer *w, const char *key,
                                                         const char *value, uint64_t len);
/* Numeric/BOOL array of n packed elements of elem_type. */
LORA4J_API lora4j_status_t lora4j_gguf_writer_set_array(lora4j_gguf_writer *w, const char *key,
                                                        int32_t elem_type, const void *data,
                                                        uint64_t n);
/* Array of n strings; lens[j] is the byte length of strs[j] (lens NULL: NUL-terminated). */
LORA4J_API lora4j_status_t lora4j_gguf_writer_set_string_array(lora4j_gguf_writer *w,
                                                               const char *key,
                                                               const char *const *strs,
                                                               const uint64_t *lens, uint64_t n);
/* Copy metadata entry i of an open file (any type). */
LORA4J_API lora4j_status_t lora4j_gguf_writer_copy_kv(lora4j_gguf_writer *w,
                                                      const lora4j_gguf *src, int64_t i);
/* LORA4J_ERR_NOT_FOUND if the key is not set. */
LORA4J_API lora4j_status_t lora4j_gguf_writer_remove_key(lora4j_gguf_writer *w, const char *key);
/* Add a tensor; data (row_bytes(type, ne[0]) * ne[1]*ne[2]*ne[3] bytes) is copied. The name
 * (1..63 bytes) must be unique; n_dims (1..4) is written as given. */
LORA4J_API lora4j_status_t lora4j_gguf_writer_add_tensor(lora4j_gguf_writer *w, const char *name,
                                                         int32_t type, int32_t n_dims,
                                                         const int64_t *ne, const void *data,
                                                         uint64_t n_bytes);
/* Write the file atomically (alignment from general.alignment, default 32). */
LORA4J_API lora4j_status_t lora4j_gguf_writer_write(lora4j_gguf_writer *w, const char *path);

/* ------------------------------------------------------------------------------------------ */
/* Models (llama family)                                                                       */
/* ------------------------------------------------------------------------------------------ */

enum lora4j_arch {
    LORA4J_ARCH_OTHER = -1, /* vocab-only load of an architecture the engine cannot run */
    LORA4J_ARCH_LLAMA = 0,
    LORA4J_ARCH_QWEN2 = 1
};

enum lora4j_rope_type {
    LORA4J_ROPE_NORM = 0, /* adjacent pairs (llama) */
    LORA4J_ROPE_NEOX = 2  /* halves (qwen2, HF rotate_half) */
};

enum lora4j_rope_scaling {
    LORA4J_ROPE_SCALING_NONE = 0,
    LORA4J_ROPE_SCALING_LINEAR = 1,
    LORA4J_ROPE_SCALING_YARN = 2,
    LORA4J_ROPE_SCALING_LLAMA3 = 3
};

/* Targets for re-encoding weights (lora4j_quantize_params.type, lora4j_model_params.
 * quantize_type): a plain lora4j_type, or one of these llama-quantize recipes that mix types
 * per tensor (value = 1000 + llama.cpp's llama_ftype). */
enum lora4j_quant_mix {
    LORA4J_MIX_Q4_K_M = 1015, /* Q4_K; Q6_K for attn_v/ffn_down of the use_more_bits layers */
    LORA4J_MIX_Q5_K_M = 1017  /* Q5_K; Q6_K for the same tensors */
};

typedef struct lora4j_model_params {
    int32_t n_threads;      /* threads for load-time work (quantization); <= 0: all cores */
    int32_t quantize_type;  /* -1: keep the file's types; else a lora4j_type or lora4j_quant_mix
                               target for the 2-D weights, quantized on load into owned memory */
    int32_t vocab_only;     /* 1: read hyper-parameters and tokenizer only, skip the weights.
                               A file without tensors always loads as vocab-only. */
} lora4j_model_params;

typedef struct lora4j_hparams {
    int32_t arch;               /* lora4j_arch */
    int32_t vocab_only;         /* 1 when the file holds no weights */
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t n_ff;
    int32_t head_dim;
    int32_t n_rot;
    int32_t rope_type;          /* lora4j_rope_type */
    float rope_freq_base;
    float rms_eps;
    int32_t rope_scaling;       /* lora4j_rope_scaling */
    float rope_scale_factor;    /* linear/yarn/llama3 factor (1 when none) */
    int32_t rope_orig_ctx;      /* original context for yarn/llama3 */
    float yarn_beta_fast;
    float yarn_beta_slow;
    float yarn_ext_factor;
    float yarn_attn_factor;
    float llama3_low_freq_factor;
    float llama3_high_freq_factor;
    int32_t tied_output;        /* 1 when output.weight is absent and token_embd is reused */
    int32_t has_qkv_bias;
} lora4j_hparams;

typedef struct lora4j_model lora4j_model;

LORA4J_API lora4j_model_params lora4j_model_default_params(void);
/* Load and validate a model: hyper-parameters, tensors present with the shapes they imply.
 * Architectures llama and qwen2 (vocab-only loads accept any, as LORA4J_ARCH_OTHER); errors name
 * the key or tensor and what was expected. Weights stay in the file mapping unless quantized on
 * load (or 1-D tensors stored in f16/bf16, converted to f32). */
LORA4J_API lora4j_status_t lora4j_model_load(const char *path, lora4j_model_params params,
                                             lora4j_model **out);
LORA4J_API void lora4j_model_free(lora4j_model *model);
LORA4J_API lora4j_status_t lora4j_model_hparams(const lora4j_model *model, lora4j_hparams *out);
/* The file the model was loaded from (metadata and tensor list); owned by the model. */
LORA4J_API const lora4j_gguf *lora4j_model_gguf(const lora4j_model *model);

typedef struct lora4j_quantize_params {
    int32_t type;         /* target lora4j_type (F32/F16/BF16 dequantize) or lora4j_quant_mix */
    int32_t n_threads;    /* <= 0: all cores */
} lora4j_quantize_params;

LORA4J_API lora4j_quantize_params lora4j_quantize_default_params(void);
/* Re-encode a model file as llama-quantize does: 2-D weights to `type` (the output head to Q6_K
 * for quantized targets other than Q8_0), 1-D tensors (norms, biases) copied as they are, a row
 * length the type cannot hold falls back (Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, Q2_K/Q3_K->Q4_0,
 * then F16). Metadata is copied, general.file_type set; written atomically. Default target:
 * LORA4J_MIX_Q4_K_M. */
LORA4J_API lora4j_status_t lora4j_model_quantize(const char *in_path, const char *out_path,
                                                 lora4j_quantize_params params);

/* ------------------------------------------------------------------------------------------ */
/* Inference: contexts, KV cache, forward pass, logits and log-probs                          */
/* ------------------------------------------------------------------------------------------ */

/* A context runs the forward pass of one model: it owns the KV cache of n_seq_max sequences
 * and every activation buffer, all planned when it is created (nothing is allocated per call).
 * The model is only read, so several contexts (one per thread) may share it. A context itself
 * is not thread-safe. The KV cache holds f32 keys and values (bf16 on a CUDA device). */
typedef struct lora4j_context lora4j_context;

typedef struct lora4j_context_params {
    int32_t n_ctx;      /* positions per sequence; <= 0: the training context, at most 4096 */
    int32_t n_seq_max;  /* sequences with their own cache, ids 0..n_seq_max-1 */
    int32_t n_batch;    /* tokens per forward chunk; longer calls are split into chunks */
    int32_t n_threads;  /* <= 0: all cores */
    int32_t exact_f32;  /* 1: f32 products with exactly dequantized weights (as training);
                           0: int8 activations where the weight type allows (llama.cpp's way).
                           CPU only: a device always multiplies bf16 operands on its tensor
                           cores (f32 accumulation) and keeps a bf16 KV cache */
    int32_t device;     /* -1: CPU; >= 0: that CUDA device (lora4j_cuda_device_count); an index
                           out of range, or no usable backend, fails at context_new */
} lora4j_context_params;

/* n_ctx 0 (training context, at most 4096), n_seq_max 1, n_batch 512, n_threads 0,
 * exact_f32 0, device -1 (CPU). */
LORA4J_API lora4j_context_params lora4j_context_default_params(void);
LORA4J_API lora4j_status_t lora4j_context_new(const lora4j_model *model,
                                              lora4j_context_params params,
                                              lora4j_context **out);
LORA4J_API void lora4j_context_free(lora4j_context *ctx);
/* The parameters in force, defaults resolved (n_ctx, n_threads; n_batch capped at n_ctx). */
LORA4J_API lora4j_status_t lora4j_context_get_params(const lora4j_context *ctx,
                                                     lora4j_context_params *out);

/* Run n_tokens tokens through the model, as llama_decode does with a llama_batch: token i
 * belongs to sequence seq_ids[i] (NULL: all 0) at position pos[i] (NULL: each sequence's next
 * position). Each sequence's tokens must continue its cache: the first at kv_seq_pos(seq), the
 * next ones at consecutive positions, all below n_ctx. Their keys and values are appended to
 * that sequence's cache. Logits (n_vocab floats per row) are written to logits_out for every
 * token with want_logits[i] != 0, in batch order (want_logits NULL: the last token only);
 * logits_cap is the number of floats logits_out holds. Prompts run as matrix-matrix products;
 * several sequences' tokens in one call share every weight pass. Nothing changes on error. */
LORA4J_API lora4j_status_t lora4j_decode(lora4j_context *ctx, const int32_t *tokens,
                                         const int32_t *pos, const int32_t *seq_ids,
                                         int32_t n_tokens, const int8_t *want_logits,
                                         float *logits_out, int64_t logits_cap);

/* Forget sequence seq's cache (its next position becomes 0). */
LORA4J_API lora4j_status_t lora4j_kv_seq_clear(lora4j_context *ctx, int32_t seq);
/* Make dst's cache the first n_tokens positions of src's (a shared prompt prefix is computed
 * once and copied to every sequence of a group). src == dst truncates. */
LORA4J_API lora4j_status_t lora4j_kv_seq_copy(lora4j_context *ctx, int32_t src, int32_t dst,
                                              int32_t n_tokens);
/* Number of positions cached for seq (its next position); -1 if seq is out of range. */
LORA4J_API int32_t lora4j_kv_seq_pos(const lora4j_context *ctx, int32_t seq);

/* Teacher-forced log-probabilities: appends tokens[0..n_tokens-1] to sequence seq's cache and
 * writes out[t-1] = log p(tokens[t] | cache, tokens[<t]) for t = 1..n_tokens-1 (n_tokens-1
 * floats). The output head and log-softmax run over chunks of rows, never n_tokens x n_vocab
 * logits at once. To score a continuation of a cached prefix, pass the prefix's last token
 * first after kv_seq_copy(ctx, seq, seq, prefix_len - 1). */
LORA4J_API lora4j_status_t lora4j_sequence_logprobs(lora4j_context *ctx, int32_t seq,
                                                    const int32_t *tokens, int32_t n_tokens,
                                                    float *out);


/* ------------------------------------------------------------------------------------------ */
/* Sampling                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Token sampling as llama.cpp's default chain (common/sampling.cpp), in this order:
 * penalties -> top_k -> top_p -> min_p -> temperature -> draw from the seeded generator.
 * temp == 0 skips the draw and takes the arg-max of the penalized logits (greedy). Ties between
 * equal logits always go to the lower token id. Values are llama.cpp's unless noted. */
typedef struct lora4j_sampler_params {
    uint64_t seed;          /* 0xFFFFFFFF: a fresh random seed per new()/reset(); any other
                               value gives the same tokens for the same logits and history */
    int32_t top_k;          /* keep the k most likely tokens; 0 = off (llama.cpp: <= 0); >= 0 */
    float top_p;            /* keep the smallest most-likely set whose probability is >= top_p;
                               1 = off; in (0, 1] */
    float min_p;            /* drop tokens with p < min_p * p_max; 0 = off; in [0, 1] */
    float temp;             /* logits / temp before the draw; 0 = greedy; finite and >= 0
                               (llama.cpp takes any value <= 0 as greedy; negative is an error) */
    int32_t penalty_last_n; /* penalize tokens among the last n accepted; 0 = off;
                               -1 = everything accepted since new()/reset() (llama.cpp: context) */
    float penalty_repeat;   /* positive logit / r, negative logit * r; 1 = off; finite, > 0 */
    float penalty_freq;     /* logit -= count * freq; 0 = off; finite */
    float penalty_present;  /* logit -= present when count > 0; 0 = off; finite */
    int32_t min_keep;       /* top_p and min_p keep at least this many tokens; >= 0 */
    int32_t n_probs;        /* how many top raw log-probs lora4j_sampler_sample_ex reports;
                               0..n_vocab */
} lora4j_sampler_params;

/* seed 0xFFFFFFFF (random), top_k 40, top_p 0.95, min_p 0.05, temp 0.8, penalty_last_n 64,
 * penalty_repeat 1, penalty_freq 0, penalty_present 0, min_keep 0, n_probs 0. */
LORA4J_API lora4j_sampler_params lora4j_sampler_default_params(void);

/* A sampler for one sequence: its parameters, the penalty history and the random generator.
 * Not thread-safe; use one per sequence (or per thread). */
typedef struct lora4j_sampler lora4j_sampler;

/* Validate params and allocate every buffer the sampler will use for a vocabulary of n_vocab. */
LORA4J_API lora4j_status_t lora4j_sampler_new(const lora4j_sampler_params *params, int32_t n_vocab,
                                              lora4j_sampler **out);
LORA4J_API void lora4j_sampler_free(lora4j_sampler *s);
/* Forget the penalty history and restart the generator (a new random seed when seed is
 * 0xFFFFFFFF, else the same stream again). */
LORA4J_API lora4j_status_t lora4j_sampler_reset(lora4j_sampler *s);
/* The seed the generator was last started from (the drawn one when seed is 0xFFFFFFFF):
 * passing it as params.seed reproduces the run. 0 for NULL. */
LORA4J_API uint64_t lora4j_sampler_seed(const lora4j_sampler *s);
/* Record a token in the penalty history (prompt tokens too, if they should be penalized).
 * Sampling never records by itself: accept the token you keep. 0 <= token < n_vocab. */
LORA4J_API lora4j_status_t lora4j_sampler_accept(lora4j_sampler *s, int32_t token);

/* Pick the next token from n_vocab logits (read only, never modified). Logits may be -inf
 * (masked) but not NaN or +inf (LORA4J_ERR_NUMERIC names the index), and not all -inf. */
LORA4J_API lora4j_status_t lora4j_sampler_sample(lora4j_sampler *s, const float *logits,
                                                 int32_t *out_token);
/* lora4j_sampler_sample, also reporting log-probs of the raw logits (log-softmax before
 * penalties, filters and temperature, as llama.cpp's n_probs): *out_logprob for the chosen token
 * (NULL: skip) and the n_probs most likely tokens, most likely first, in top_ids/top_logprobs
 * (n_probs entries each; both NULL to skip, or both non-NULL). */
LORA4J_API lora4j_status_t lora4j_sampler_sample_ex(lora4j_sampler *s, const float *logits,
                                                    int32_t *out_token, float *out_logprob,
                                                    int32_t *top_ids, float *top_logprobs);

/* out[i] = logits[i] - log(sum_j exp(logits[j])), computed stably; out may equal logits.
 * -inf in gives -inf out; NaN or +inf, or all -inf, is LORA4J_ERR_NUMERIC. */
LORA4J_API lora4j_status_t lora4j_log_softmax(const float *logits, int32_t n, float *out);


/* ------------------------------------------------------------------------------------------ */
/* LoRA adapters                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Which projections of each block get a LoRA pair (bit mask). */
enum lora4j_lora_target {
    LORA4J_TARGET_ATTN_Q = 1,
    LORA4J_TARGET_ATTN_K = 2,
    LORA4J_TARGET_ATTN_V = 4,
    LORA4J_TARGET_ATTN_OUTPUT = 8,
    LORA4J_TARGET_FFN_GATE = 16,
    LORA4J_TARGET_FFN_UP = 32,
    LORA4J_TARGET_FFN_DOWN = 64,
    LORA4J_TARGET_ALL = 127
};

enum lora4j_lora_init {
    LORA4J_LORA_INIT_PEFT = 0,    /* PEFT's default: A Kaiming-uniform (a = sqrt(5)), B zero */
    LORA4J_LORA_INIT_GAUSSIAN = 1 /* PEFT's "gaussian": A normal with standard deviation 1/r, B zero */
};

enum lora4j_lora_bias {
    LORA4J_LORA_BIAS_NONE = 0,      /* biases stay frozen */
    LORA4J_LORA_BIAS_LORA_ONLY = 1, /* train the biases of adapted projections (qwen2 q/k/v) */
    LORA4J_LORA_BIAS_ALL = 2        /* train every bias the model has (q/k/v biases of all layers,
                                       adapted or not: unadapted ones are bias-only entries) */
};

typedef struct lora4j_lora_params {
    int32_t rank;          /* r >= 1, at most min(n_in, n_out) of every adapted weight */
    float alpha;           /* scale = alpha / r (alpha / sqrt(r) with rslora) */
    int32_t rslora;
    float dropout;         /* on the LoRA input during training, in [0, 1) */
    uint32_t targets;      /* lora4j_lora_target bits, non-zero */
    int32_t layer_begin;   /* adapt layers [layer_begin, layer_end); layer_end <= 0: to the last */
    int32_t layer_end;
    int32_t init;          /* lora4j_lora_init */
    int32_t bias;          /* lora4j_lora_bias */
    uint64_t seed;         /* initialisation */
} lora4j_lora_params;

/* A set of LoRA pairs (A, B in f32) for one model's projections. Holds no reference to the
 * model after creation except its shapes; must be used with a model of the same shapes. */
typedef struct lora4j_adapter lora4j_adapter;

typedef struct lora4j_adapter_info {
    int32_t rank;         /* a loaded adapter's pairs may differ in rank (each scaled alpha / its
                             own rank, as llama.cpp does): the largest */
    float alpha;          /* as given; for rsLoRA the saved GGUF carries alpha * sqrt(r) */
    int32_t rslora;
    float dropout;        /* training dropout on the adapter input (0 for a loaded file) */
    float scale;          /* the factor applied to B·A·x (for pairs of rank `rank`) */
    int64_t n_pairs;      /* entries, bias-only ones included */
    int64_t n_params;     /* trainable parameters (A, B and trained biases) */
    int32_t n_biases;     /* trained bias deltas held (not representable in llama.cpp's format) */
} lora4j_adapter_info;

/* One adapted projection; pointers stay valid for the adapter's life and may be written
 * (import from other formats). a: [rank][n_in], b: [n_out][rank], row-major (PEFT's layout).
 * A bias-only entry (LORA4J_LORA_BIAS_ALL on a projection without LoRA) has rank 0 and
 * a = b = NULL. Entries are ordered by layer, then target bit. */
typedef struct lora4j_lora_pair {
    const char *base_name; /* GGUF name of the adapted weight, e.g. "blk.3.attn_q.weight" */
    int32_t layer;
    int32_t target;        /* one lora4j_lora_target bit */
    int64_t n_in, n_out, rank;
    float *a;
    float *b;
    float *bias_delta;     /* [n_out] trained bias delta, or NULL */
} lora4j_lora_pair;

/* r 8, alpha 16, no rslora, dropout 0, all targets, all layers, PEFT init, no bias, seed 42. */
LORA4J_API lora4j_lora_params lora4j_lora_default_params(void);
LORA4J_API lora4j_status_t lora4j_adapter_new(const lora4j_model *model,
                                              const lora4j_lora_params *params,
                                              lora4j_adapter **out);
/* Load llama.cpp's LoRA GGUF (general.type "adapter", adapter.type "lora"); validated against
 * the model (architecture, names, shapes). */
LORA4J_API lora4j_status_t lora4j_adapter_load(const lora4j_model *model, const char *path,
                                               lora4j_adapter **out);
/* Write llama.cpp's LoRA GGUF atomically (loads with llama.cpp's --lora). An adapter holding
 * trained bias deltas cannot be represented there: LORA4J_ERR_UNSUPPORTED saying so. */
LORA4J_API lora4j_status_t lora4j_adapter_save(const lora4j_adapter *adapter, const char *path);
/* A deep copy (a frozen snapshot, e.g. the reference of an RL run). */
LORA4J_API lora4j_status_t lora4j_adapter_clone(const lora4j_adapter *adapter, lora4j_adapter **out);
LORA4J_API void lora4j_adapter_free(lora4j_adapter *adapter);
LORA4J_API lora4j_status_t lora4j_adapter_get_info(const lora4j_adapter *adapter,
                                                   lora4j_adapter_info *out);
LORA4J_API lora4j_status_t lora4j_adapter_get_pair(const lora4j_adapter *adapter, int64_t i,
                                                   lora4j_lora_pair *out);

/* Adapters applied by an inference context: y = W x + sum_i scales[i] * s_i * B_i A_i x.
 * n = 0 switches them off. The adapters must outlive their use by the context. A context on a
 * CUDA device copies their values to the device here, and again before its next forward after
 * an optimizer step (lora4j_trainer_optimizer_step) changed them; after writing values through
 * lora4j_adapter_get_pair's pointers, set the adapters again for a device context to see them. */
LORA4J_API lora4j_status_t lora4j_context_set_adapters(lora4j_context *ctx,
                                                       const lora4j_adapter *const *adapters,
                                                       const float *scales, int32_t n);

/* ------------------------------------------------------------------------------------------ */
/* Training                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* One differentiable primitive carries every objective (SFT, DPO, GRPO, custom):
 *   L = sum_i weights[i] * log p(tokens[i] | the tokens before i in its segment)
 * The caller supplies the per-token weights (dL/dlog p); the trainer accumulates dL/dθ for the
 * trainable parameters. SFT's mean cross-entropy over n target tokens: weights = -mask / n. */
typedef struct lora4j_train_params {
    int32_t n_rows;        /* sequences per micro-batch */
    int32_t n_seq;         /* tokens per sequence */
    int32_t n_threads;     /* <= 0: all cores */
    int32_t checkpointing; /* 1: keep only each layer's input, recompute the rest in backward */
    int32_t full;          /* 1: full fine-tuning of the model's f32/f16/bf16 weights (no trainable
                              adapter): every layer's weights, norms and q/k/v biases, the output
                              norm and head, and the embedding; a tied head is the embedding (trained
                              with it); an output.bias stays frozen. Quantized weights: an error */
    int32_t freeze_layers; /* full fine-tuning: the first N layers (and the embedding, when N > 0)
                              stay frozen */
    uint64_t seed;         /* dropout, and the classification head's initialisation */
    int32_t n_labels;      /* 0: causal LM (the model's output head). >= 2: sequence classification
                              (lora4j_trainer_classify_step): a head W [n_labels][n_embd] (f32, no
                              bias, initialised normal(0, 0.02) from the seed, as HF's score layer)
                              reads the output-normed final hidden state of each segment's last
                              token and is trained with the adapter (or the weights); the LM head is
                              not used, and trainer_step / trainer_logprobs are LORA4J_ERR_STATE */
    int32_t device;        /* -1: CPU; >= 0: that CUDA device. The GPU trains LoRA adapters (bias
                              "none") of causal LMs; full fine-tuning and classification stay on
                              the CPU (LORA4J_ERR_UNSUPPORTED) */
} lora4j_train_params;

typedef struct lora4j_memory_plan {
    int64_t weights;       /* model weights resident (mmapped or owned) */
    int64_t trainable;     /* trainable parameters and their gradients */
    int64_t optimizer;     /* optimizer state */
    int64_t activations;   /* activations and scratch for one micro-batch */
    int64_t total;
} lora4j_memory_plan;

typedef struct lora4j_trainer lora4j_trainer;

enum lora4j_optimizer {
    LORA4J_OPTIM_ADAMW = 0,
    LORA4J_OPTIM_SGD = 1
};

typedef struct lora4j_optim_params {
    int32_t kind;          /* lora4j_optimizer */
    float lr;
    float beta1, beta2, eps;   /* AdamW */
    float momentum;            /* SGD */
    float weight_decay;
    float max_grad_norm;   /* clip the global norm to this; <= 0: no clipping */
    float grad_scale;      /* gradients are multiplied by this first (e.g. 1 / accumulation) */
} lora4j_optim_params;

/* n_rows 1, n_seq 256, n_threads 0, checkpointing 0, full 0, freeze_layers 0, seed 42, n_labels 0,
 * device -1 (CPU). */
LORA4J_API lora4j_train_params lora4j_train_default_params(void);
/* AdamW, lr 2e-4, betas 0.9/0.999, eps 1e-8, momentum 0, weight decay 0, clip 1.0, scale 1. */
LORA4J_API lora4j_optim_params lora4j_optim_default_params(void);

/* Memory the trainer would need, without allocating it. */
LORA4J_API lora4j_status_t lora4j_trainer_plan(const lora4j_model *model,
                                               const lora4j_adapter *trainable,
                                               const lora4j_train_params *params,
                                               lora4j_memory_plan *out);
/* A trainer of `trainable` (NULL with params.full) on top of the frozen adapters (applied with
 * their scales, never updated: a fine-tuned starting point, or the RL reference). All buffers
 * are planned here. Model and adapters must outlive the trainer. */
LORA4J_API lora4j_status_t lora4j_trainer_new(const lora4j_model *model, lora4j_adapter *trainable,
                                              const lora4j_adapter *const *frozen,
                                              const float *frozen_scales, int32_t n_frozen,
                                              const lora4j_train_params *params,
                                              lora4j_trainer **out);
LORA4J_API void lora4j_trainer_free(lora4j_trainer *tr);

/* Forward and backward of one micro-batch. All arrays are [n_rows * n_seq]:
 *   tokens: ids (padding too must hold a valid id); pos: position of each token within its
 *   segment (restarting at 0 for every packed example; +1 per token along a segment; ignored
 *   for padding); seg: segment id per token, each segment one contiguous run within its row
 *   (attention never crosses segments; -1 marks padding); weights: dL/dlog p for predicting
 *   token i from the tokens before it in its segment (finite; must be 0 where no such
 *   prediction exists: a segment's first token, padding). Violations are
 *   LORA4J_ERR_INVALID_ARGUMENT naming the token, checked before any work.
 * Accumulates gradients (+=); writes every token's log p to out_logprobs (NULL: skip; 0 where
 * no prediction) and L to *out_objective (NULL: skip). NaN/inf loss: LORA4J_ERR_NUMERIC and the
 * gradients are left unchanged. */
LORA4J_API lora4j_status_t lora4j_trainer_step(lora4j_trainer *tr, const int32_t *tokens,
                                               const int32_t *pos, const int32_t *seg,
                                               const float *weights, float *out_logprobs,
                                               double *out_objective);
/* Forward only: log-probs as in trainer_step, with the trainable adapter on (the policy) or off
 * (the reference: frozen adapters only). Full fine-tuning: use_trainable is ignored. */
LORA4J_API lora4j_status_t lora4j_trainer_logprobs(lora4j_trainer *tr, const int32_t *tokens,
                                                   const int32_t *pos, const int32_t *seg,
                                                   int32_t use_trainable, float *out_logprobs);
LORA4J_API lora4j_status_t lora4j_trainer_zero_grad(lora4j_trainer *tr);
/* Global L2 norm of the accumulated gradients. */
LORA4J_API lora4j_status_t lora4j_trainer_grad_norm(lora4j_trainer *tr, double *out);
/* Scale, clip and apply the accumulated gradients, then zero them; *out_grad_norm (may be NULL)
 * gets the norm before clipping. Non-finite gradients: LORA4J_ERR_NUMERIC, nothing changes. */
LORA4J_API lora4j_status_t lora4j_trainer_optimizer_step(lora4j_trainer *tr,
                                                         const lora4j_optim_params *params,
                                                         double *out_grad_norm);
/* Optimizer steps taken so far (restored by load_state). */
LORA4J_API int64_t lora4j_trainer_steps(const lora4j_trainer *tr);
/* Optimizer state (moments, step count, dropout position) as a GGUF file, atomically; load
 * checks it was saved for the same set of trained tensors (else LORA4J_ERR_INVALID_ARGUMENT)
 * and changes nothing on error. The optimizer kind of the state must then be kept. */
LORA4J_API lora4j_status_t lora4j_trainer_save_state(const lora4j_trainer *tr, const char *path);
LORA4J_API lora4j_status_t lora4j_trainer_load_state(lora4j_trainer *tr, const char *path);
/* Full fine-tuning: write the model with its trained weights (metadata and tokenizer of the base,
 * untouched tensors copied), atomically. */
LORA4J_API lora4j_status_t lora4j_trainer_save_model(const lora4j_trainer *tr, const char *path);

/* Sequence classification (params.n_labels >= 2). tokens, pos and seg as in trainer_step; each
 * segment (a contiguous run of one segment id within a row) is one example, classified from its
 * last token; segments count in order of appearance, row by row, and there must be exactly
 * n_segments of them. labels[n_segments] in [0, n_labels). Forward and backward of the mean
 * cross-entropy over the segments: gradients accumulate into the head and the trained parameters
 * (the head is one of them: global norm, clipping, optimizer state). Writes the logits to
 * out_logits ([n_segments][n_labels], NULL: skip) and the loss to *out_loss (NULL: skip).
 * NaN/inf loss: LORA4J_ERR_NUMERIC and the gradients are left unchanged. A causal-LM trainer:
 * LORA4J_ERR_STATE. */
LORA4J_API lora4j_status_t lora4j_trainer_classify_step(lora4j_trainer *tr, const int32_t *tokens,
                                                        const int32_t *pos, const int32_t *seg,
                                                        const int32_t *labels, int32_t n_segments,
                                                        float *out_logits, double *out_loss);
/* Forward only: the logits of every segment, trainable adapter on, no dropout. */
LORA4J_API lora4j_status_t lora4j_trainer_classify(lora4j_trainer *tr, const int32_t *tokens,
                                                   const int32_t *pos, const int32_t *seg,
                                                   int32_t n_segments, float *out_logits);
/* The classification head, row-major [n_labels][n_embd] (*out_n values), writable in place: read
 * it to save a trained head, write it to continue from one (before steps or classify). */
LORA4J_API lora4j_status_t lora4j_trainer_head(lora4j_trainer *tr, float **out, int64_t *out_n);

#ifdef __cplusplus
}
#endif

#endif /* LORA4J_H */
