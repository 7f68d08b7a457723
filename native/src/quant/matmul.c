/* Drivers of l4_matmul, l4_matmul_ops and l4_matmul_t_acc. A product, or a set of products
 * sharing their activations, is one parallel region: the rows are cut into units that the
 * pool's threads claim one at a time, so a thread the OS has descheduled holds up at most
 * one unit. Each product takes one of three paths:
 *   f32     exact products, or float weights: f32 micro-kernels on (dequantized) tiles of W;
 *   h16     F16/BF16 weights, few tokens: f32 micro-kernels converting the weights as they load;
 *   direct  int8, few tokens (decoding): kernels that dot the packed blocks in registers;
 *   unpack  int8, many tokens (prompts): a panel of rows is unpacked once to the canonical
 *           form and reused by every token.
 * Scratch comes from a per-thread workspace that grows to the largest product the thread has
 * run and is then reused, so a call allocates nothing once warm. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/simd.h"
#include "core/threadpool.h"
#include "quant/gemm.h"

#define MC 32  /* weight rows a thread dequantizes/unpacks at a time */
#define KC 512 /* columns per dequantized tile of the f32 path (a multiple of 256) */
#define TOC 64 /* rows per tile of the transposed product */
#define TCC 256 /* columns per tile of the transposed product */
#define TLD (TCC + 2 * L4_QK_K) /* row stride of its dequantized tile: whole blocks around TCC */
#define TUNIT 16 /* columns are split among threads in units of 16, whatever the block size */
#define ALIGN 64
/* Up to this many tokens the direct kernels beat unpacking (measured on 768x768: the K-quants'
 * costlier unpacking keeps them ahead longer), and h16 beats dequantizing. */
#define DIRECT_MAX_TOK_A 3
#define DIRECT_MAX_TOK_B 8
#define H16_MAX_TOK 4
#define ACT_PARALLEL_TOK 16 /* from this many tokens the activations are quantized in parallel */
#define UNITS_PER_THREAD 8 /* units per thread and product: enough to even out uneven threads */
#define UNIT_MIN_ROWS 16 /* a unit's rows are a multiple of 4 (f32 and direct tiles), or of MC (panels) */

const l4_gemm_kernels *l4_gemm_select(void) {
    switch (l4_simd_level()) {
    case LORA4J_SIMD_AVX512: return &l4_gemm_avx512;
    case LORA4J_SIMD_AVX2: return &l4_gemm_avx2;
    default: return &l4_gemm_scalar;
    }
}

static size_t align_up(size_t v) { return (v + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int thread_count(int n_threads, int64_t units) {
    int nth = n_threads > 0 ? n_threads : l4_n_cores();
    if (units < nth) nth = units > 0 ? (int)units : 1;
    return nth;
}

/* ---- per-thread workspace ------------------------------------------------------------------ */

static pthread_key_t ws_key; /* frees a thread's workspace when the thread exits */
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static _Thread_local struct {
    uint8_t *mem;
    size_t cap;
} tl_ws;

static void ws_make_key(void) { pthread_key_create(&ws_key, free); }

/* At least `bytes` of the calling thread's workspace, or NULL if it cannot grow. */
static uint8_t *workspace(size_t bytes) {
    if (bytes <= tl_ws.cap) return tl_ws.mem;
    pthread_once(&ws_once, ws_make_key);
    free(tl_ws.mem);
    const size_t cap = align_up(bytes);
    tl_ws.mem = aligned_alloc(ALIGN, cap);
    tl_ws.cap = tl_ws.mem ? cap : 0;
    pthread_setspecific(ws_key, tl_ws.mem);
    return tl_ws.mem;
}

/* ---- scratch layouts -------------------------------------------------------------------------- */

/* Weights used in place: F32 rows at a float-aligned address need no dequantization. */
static int f32_in_place(int32_t type, const void *w) {
    return type == LORA4J_TYPE_F32 && ((uintptr_t)w & 3) == 0;
}

/* Carve an unpacked panel of `rows` rows out of mem (NULL: only measure); returns its size. */
static size_t panel_layout(uint8_t *mem, int kind, int64_t n, int64_t rows, l4_unpacked *p) {
    const size_t rn = (size_t)(rows * n);
    size_t off[4], at = 0;
    off[0] = at, at += align_up(rn);                                  /* u */
    off[1] = at, at += align_up(rn / 16 * sizeof(float));             /* c */
    if (kind == L4_KIND_A) {
        off[2] = at, at += align_up(rn / 4 * sizeof(float));          /* dexp */
        off[3] = at;
    } else {
        off[2] = at, at += align_up(rn / 2 * sizeof(int16_t));        /* scx */
        off[3] = at, at += align_up(rn / L4_QK_K * sizeof(float));    /* d */
    }
    if (mem) {
        *p = (l4_unpacked){0};
        p->u = mem + off[0];
        p->c = (float *)(mem + off[1]);
        if (kind == L4_KIND_A) {
            p->dexp = (float *)(mem + off[2]);
        } else {
            p->scx = (int16_t *)(mem + off[2]);
            p->d = (float *)(mem + off[3]);
        }
    }
    return at;
}

/* Carve the quantized activations of n_tok tokens out of mem (NULL: only measure). */
static size_t qact_layout(uint8_t *mem, int kind, int64_t n, int64_t n_tok, l4_qact *a) {
    const size_t tn = (size_t)(n_tok * n);
    size_t off[4], at = 0;
    off[0] = at, at += align_up(tn);                                  /* q */
    off[1] = at, at += align_up(tn / 16 * sizeof(float));             /* s */
    off[2] = at, at += align_up(tn / 16 * sizeof(int16_t));           /* bs */
    off[3] = at, at += align_up((kind == L4_KIND_A ? tn / 4 : tn / L4_QK_K) * sizeof(float));
    if (mem) {
        *a = (l4_qact){0};
        a->q = (int8_t *)(mem + off[0]);
        a->s = (float *)(mem + off[1]);
        a->bs = (int16_t *)(mem + off[2]);
        if (kind == L4_KIND_A) {
            a->dexp = (float *)(mem + off[3]);
        } else {
            a->d = (float *)(mem + off[3]);
        }
    }
    return at;
}

/* ---- the products ------------------------------------------------------------------------------ */

enum { PATH_F32, PATH_H16, PATH_DIRECT, PATH_UNPACK };

typedef struct {
    l4_matmul_op op;
    const l4_type_traits *tr;
    int64_t row_bytes;
    int path, kind;
    l4_unpack_fn unpack;
    l4_vecdot_fn direct;
    int64_t unit_rows;
    int64_t unit_end; /* units of this and the earlier products */
} op_plan;

typedef struct {
    op_plan ops[L4_MATMUL_MAX_OPS];
    int n_ops;
    int64_t n_in, ldx, n_tok;
    const float *x;
    const l4_gemm_kernels *k;
    l4_qact act[3]; /* indexed by kind */
    int act_kind;   /* the kind act_task quantizes */
    uint8_t *scratch; /* per-thread areas of scratch_stride bytes */
    size_t scratch_stride;
    int64_t n_units;
    atomic_llong next_unit;
} matmul_ctx;

/* Rows [r0, r1) of an f32-path product, in tiles of MC rows x KC columns. */
static void f32_rows(const matmul_ctx *c, const op_plan *p, int64_t r0, int64_t r1, float *buf) {
    const int in_place = f32_in_place(p->op.type, p->op.w);
    const uint8_t *w = p->op.w;
    for (int64_t rb = r0; rb < r1; rb += MC) {
        const int64_t nr = min64(MC, r1 - rb);
        for (int64_t kb = 0; kb < c->n_in; kb += KC) {
            const int64_t nk = min64(KC, c->n_in - kb);
            const float *wp = buf;
            int64_t ldw = KC;
            if (in_place) {
                wp = (const float *)(w + rb * p->row_bytes) + kb;
                ldw = c->n_in;
            } else {
                const int64_t off = kb / p->tr->blck * p->tr->block_bytes;
                for (int64_t r = 0; r < nr; r++) p->tr->to_float(w + (rb + r) * p->row_bytes + off, buf + r * KC, nk);
            }
            c->k->f32(wp, ldw, nr, c->x + kb, c->ldx, c->n_tok, nk, p->op.y + rb, p->op.ldy, kb > 0);
        }
    }
}

/* Rows [r0, r1) of an unpack-path product, MC rows per panel. */
static void unpack_rows(const matmul_ctx *c, const op_plan *p, int64_t r0, int64_t r1, uint8_t *scratch) {
    l4_unpacked panel;
    panel_layout(scratch, p->kind, c->n_in, MC, &panel);
    const l4_gemm_q8_fn kernel = p->kind == L4_KIND_A ? c->k->qa : c->k->qb;
    const uint8_t *w = p->op.w;
    for (int64_t rb = r0; rb < r1; rb += MC) {
        const int64_t nr = min64(MC, r1 - rb);
        for (int64_t r = 0; r < nr; r++) {
            const l4_unpacked row = l4_unpacked_rows(&panel, r, c->n_in);
            p->unpack(w + (rb + r) * p->row_bytes, c->n_in, &row);
        }
        kernel(&panel, nr, &c->act[p->kind], c->n_tok, c->n_in, p->op.y + rb, p->op.ldy);
    }
}

static void matmul_task(void *arg, int ith, int nth) {
    matmul_ctx *c = arg;
    uint8_t *scratch = c->scratch + (size_t)ith * c->scratch_stride;
    int o = 0;
    int64_t first = 0; /* first unit of product o */
    for (;;) {
        const int64_t u = atomic_fetch_add_explicit(&c->next_unit, 1, memory_order_relaxed);
        if (u >= c->n_units) return;
        while (u >= c->ops[o].unit_end) first = c->ops[o++].unit_end; /* claims only increase */
        const op_plan *p = &c->ops[o];
        const int64_t r0 = (u - first) * p->unit_rows, r1 = min64(r0 + p->unit_rows, p->op.n_out);
        switch (p->path) {
        case PATH_DIRECT:
            p->direct((const uint8_t *)p->op.w + r0 * p->row_bytes, p->row_bytes, r1 - r0, &c->act[p->kind], c->n_tok,
                      c->n_in, p->op.y + r0, p->op.ldy);
            break;
        case PATH_H16:
            c->k->h16((const uint8_t *)p->op.w + r0 * p->row_bytes, c->n_in, r1 - r0, c->x, c->ldx, c->n_tok, c->n_in,
                      p->op.y + r0, p->op.ldy, p->op.type == LORA4J_TYPE_BF16);
            break;
        case PATH_UNPACK: unpack_rows(c, p, r0, r1, scratch); break;
        default: f32_rows(c, p, r0, r1, (float *)scratch); break;
        }
    }
}

static void act_task(void *arg, int ith, int nth) {
    const matmul_ctx *c = arg;
    int64_t t0, t1;
    l4_split(c->n_tok, ith, nth, &t0, &t1);
    l4_quantize_acts(c->x, c->ldx, t0, t1, c->n_in, c->act_kind, &c->act[c->act_kind]);
}

/* Without scratch memory: exact products one block at a time, on the calling thread. */
static void matmul_unbuffered(const matmul_ctx *c) {
    float tmp[L4_QK_K];
    for (int i = 0; i < c->n_ops; i++) {
        const op_plan *p = &c->ops[i];
        const int64_t blck = p->tr->blck, chunk = blck == 1 ? L4_QK_K : blck;
        float *y = p->op.y;
        for (int64_t t = 0; t < c->n_tok; t++)
            for (int64_t o = 0; o < p->op.n_out; o++) y[t * p->op.ldy + o] = 0.0f;
        for (int64_t o = 0; o < p->op.n_out; o++) {
            for (int64_t kb = 0; kb < c->n_in; kb += chunk) {
                const int64_t nk = min64(chunk, c->n_in - kb);
                p->tr->to_float((const uint8_t *)p->op.w + o * p->row_bytes + kb / blck * p->tr->block_bytes, tmp, nk);
                for (int64_t t = 0; t < c->n_tok; t++) {
                    float s = 0.0f;
                    for (int64_t i = 0; i < nk; i++) s += tmp[i] * c->x[t * c->ldx + kb + i];
                    y[t * p->op.ldy + o] += s;
                }
            }
        }
    }
}

void l4_matmul_ops(const l4_matmul_op *ops, int n_ops, int64_t n_in, const float *x, int64_t ldx,
                   int64_t n_tok, int n_threads, int exact) {
    if (n_tok <= 0 || n_ops <= 0) return;
    if (n_ops > L4_MATMUL_MAX_OPS) {
        l4_matmul_ops(ops, L4_MATMUL_MAX_OPS, n_in, x, ldx, n_tok, n_threads, exact);
        l4_matmul_ops(ops + L4_MATMUL_MAX_OPS, n_ops - L4_MATMUL_MAX_OPS, n_in, x, ldx, n_tok, n_threads, exact);
        return;
    }
    if (n_in <= 0) {
        for (int i = 0; i < n_ops; i++)
            for (int64_t t = 0; t < n_tok && ops[i].n_out > 0; t++)
                memset(ops[i].y + t * ops[i].ldy, 0, (size_t)ops[i].n_out * sizeof(float));
        return;
    }
    matmul_ctx c = {0};
    c.n_in = n_in;
    c.x = x;
    c.ldx = ldx;
    c.n_tok = n_tok;
    c.k = l4_gemm_select();
    int64_t total_rows = 0;
    for (int i = 0; i < n_ops; i++) {
        if (ops[i].n_out <= 0) continue;
        total_rows += ops[i].n_out;
        op_plan *p = &c.ops[c.n_ops++];
        p->op = ops[i];
        p->tr = l4_traits(ops[i].type);
        p->row_bytes = l4_row_bytes(ops[i].type, n_in);
        p->kind = exact ? L4_KIND_NONE : l4_unpack_kind(ops[i].type);
        const int64_t direct_max = p->kind == L4_KIND_A ? DIRECT_MAX_TOK_A : DIRECT_MAX_TOK_B;
        p->direct = p->kind != L4_KIND_NONE && n_tok <= direct_max && c.k->direct ? c.k->direct(ops[i].type) : 0;
        const int h16 = (ops[i].type == LORA4J_TYPE_F16 || ops[i].type == LORA4J_TYPE_BF16) && n_tok <= H16_MAX_TOK;
        p->path = h16 ? PATH_H16 : p->kind == L4_KIND_NONE ? PATH_F32 : p->direct ? PATH_DIRECT : PATH_UNPACK;
        if (p->path == PATH_UNPACK) p->unpack = l4_unpack_for(ops[i].type);
    }
    if (c.n_ops == 0) return;
    const int nth = thread_count(n_threads, (total_rows + 3) / 4);

    /* scratch: quantized activations per kind in use, then one area per thread */
    size_t shared = 0, act_at[3] = {0};
    for (int i = 0; i < c.n_ops; i++) {
        const op_plan *p = &c.ops[i];
        if (p->kind != L4_KIND_NONE && act_at[p->kind] == 0) {
            act_at[p->kind] = shared + 1; /* + 1: 0 means "not in use" */
            shared += qact_layout(0, p->kind, n_in, n_tok, 0);
        }
        size_t need = 0;
        if (p->path == PATH_UNPACK) need = panel_layout(0, p->kind, n_in, MC, 0);
        if (p->path == PATH_F32 && !f32_in_place(p->op.type, p->op.w)) need = align_up((size_t)MC * KC * sizeof(float));
        if (need > c.scratch_stride) c.scratch_stride = need;
    }
    uint8_t *mem = workspace(shared + (size_t)nth * c.scratch_stride);
    if (!mem && shared + c.scratch_stride > 0) {
        l4_log(LORA4J_LOG_WARN, "matmul: cannot allocate %zu bytes of scratch; using the unbuffered path",
               shared + (size_t)nth * c.scratch_stride);
        matmul_unbuffered(&c);
        return;
    }
    c.scratch = mem ? mem + shared : 0;
    for (int kind = L4_KIND_A; kind <= L4_KIND_B; kind++) {
        if (act_at[kind] == 0) continue;
        qact_layout(mem + act_at[kind] - 1, kind, n_in, n_tok, &c.act[kind]);
        c.act_kind = kind;
        if (n_tok >= ACT_PARALLEL_TOK) {
            l4_parallel(act_task, &c, thread_count(n_threads, n_tok / 4));
        } else {
            act_task(&c, 0, 1);
        }
    }
    /* units: about UNITS_PER_THREAD per thread over all products */
    const int64_t per_unit = (total_rows + (int64_t)nth * UNITS_PER_THREAD - 1) / ((int64_t)nth * UNITS_PER_THREAD);
    for (int i = 0; i < c.n_ops; i++) {
        op_plan *p = &c.ops[i];
        const int64_t mult = p->path == PATH_UNPACK ? MC : 4;
        p->unit_rows = per_unit < UNIT_MIN_ROWS ? UNIT_MIN_ROWS : per_unit;
        p->unit_rows = (p->unit_rows + mult - 1) / mult * mult;
        c.n_units += (p->op.n_out + p->unit_rows - 1) / p->unit_rows;
        p->unit_end = c.n_units;
    }
    atomic_init(&c.next_unit, 0);
    l4_parallel(matmul_task, &c, nth);
}

void l4_matmul(int32_t type, const void *w, int64_t n_out, int64_t n_in, const float *x,
               int64_t ldx, int64_t n_tok, float *y, int64_t ldy, int n_threads, int exact) {
    const l4_matmul_op op = {type, w, n_out, y, ldy};
    l4_matmul_ops(&op, 1, n_in, x, ldx, n_tok, n_threads, exact);
}

/* ---- dx += W^T dy ------------------------------------------------------------------------------ */

typedef struct {
    const l4_type_traits *tr;
    const uint8_t *w;
    int64_t row_bytes, n_out, n_in;
    const float *dy;
    int64_t lddy, n_tok;
    float *dx;
    int64_t lddx;
    int in_place;
    const l4_gemm_kernels *k;
    uint8_t *scratch;
    size_t scratch_stride;
} matmul_t_ctx;

/* Columns [c0, c1) of dx for this thread. A tile's columns need not start or end on a block
 * boundary: the whole blocks around them are dequantized and the tile starts inside. */
static void t_acc_task(void *p, int ith, int nth) {
    const matmul_t_ctx *c = p;
    int64_t u0, u1;
    l4_split((c->n_in + TUNIT - 1) / TUNIT, ith, nth, &u0, &u1);
    const int64_t c0 = u0 * TUNIT, c1 = min64(u1 * TUNIT, c->n_in), blck = c->tr->blck;
    float *buf = (float *)(c->scratch + (size_t)ith * c->scratch_stride);
    for (int64_t cb = c0; cb < c1; cb += TCC) {
        const int64_t nc = min64(TCC, c1 - cb);
        const int64_t d0 = cb / blck * blck, d1 = min64((cb + nc + blck - 1) / blck * blck, c->n_in);
        for (int64_t ob = 0; ob < c->n_out; ob += TOC) {
            const int64_t no = min64(TOC, c->n_out - ob);
            const float *wp = buf + (cb - d0);
            int64_t ldw = TLD;
            if (c->in_place) {
                wp = (const float *)(c->w + ob * c->row_bytes) + cb;
                ldw = c->n_in;
            } else {
                const int64_t off = d0 / blck * c->tr->block_bytes;
                for (int64_t o = 0; o < no; o++) c->tr->to_float(c->w + (ob + o) * c->row_bytes + off, buf + o * TLD, d1 - d0);
            }
            c->k->t_f32(wp, ldw, no, c->dy + ob, c->lddy, c->n_tok, nc, c->dx + cb, c->lddx);
        }
    }
}

/* Without scratch memory: one block at a time, on the calling thread. */
static void matmul_t_unbuffered(const matmul_t_ctx *c) {
    const int64_t blck = c->tr->blck;
    const int64_t chunk = blck == 1 ? L4_QK_K : blck;
    float tmp[L4_QK_K];
    for (int64_t o = 0; o < c->n_out; o++) {
        for (int64_t kb = 0; kb < c->n_in; kb += chunk) {
            const int64_t nk = min64(chunk, c->n_in - kb);
            c->tr->to_float(c->w + o * c->row_bytes + kb / blck * c->tr->block_bytes, tmp, nk);
            for (int64_t t = 0; t < c->n_tok; t++) {
                const float g = c->dy[t * c->lddy + o];
                for (int64_t i = 0; i < nk; i++) c->dx[t * c->lddx + kb + i] += tmp[i] * g;
            }
        }
    }
}

void l4_matmul_t_acc(int32_t type, const void *w, int64_t n_out, int64_t n_in, const float *dy,
                     int64_t lddy, int64_t n_tok, float *dx, int64_t lddx, int n_threads) {
    if (n_out <= 0 || n_in <= 0 || n_tok <= 0) return;
    matmul_t_ctx c = {0};
    c.tr = l4_traits(type);
    c.w = w;
    c.row_bytes = l4_row_bytes(type, n_in);
    c.n_out = n_out;
    c.n_in = n_in;
    c.dy = dy;
    c.lddy = lddy;
    c.n_tok = n_tok;
    c.dx = dx;
    c.lddx = lddx;
    c.in_place = f32_in_place(type, w);
    c.k = l4_gemm_select();
    const int nth = thread_count(n_threads, (n_in + TUNIT - 1) / TUNIT);
    if (!c.in_place) {
        c.scratch_stride = align_up((size_t)TOC * TLD * sizeof(float));
        c.scratch = workspace((size_t)nth * c.scratch_stride);
        if (!c.scratch) {
            l4_log(LORA4J_LOG_WARN, "matmul_t_acc: cannot allocate scratch; using the unbuffered path");
            matmul_t_unbuffered(&c);
            return;
        }
    }
    l4_parallel(t_acc_task, &c, nth);
}
