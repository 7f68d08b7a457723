/* Drivers of l4_matmul and l4_matmul_t_acc: plan the scratch (one allocation per call), split
 * rows (or columns) among the pool's threads, dequantize or unpack tiles of W, and hand
 * them to the micro-kernels of the SIMD level in force. */
#include <stdlib.h>

#include "core/log.h"
#include "core/simd.h"
#include "core/threadpool.h"
#include "quant/gemm.h"

#define MC 32  /* weight rows a thread dequantizes/unpacks at a time */
#define KC 512 /* columns per dequantized tile of the exact path (a multiple of 256) */
#define TOC 64 /* rows per tile of the transposed product */
#define TCC 256 /* columns per tile of the transposed product */
#define TLD (TCC + 2 * L4_QK_K) /* row stride of its dequantized tile: whole blocks around TCC */
#define TUNIT 16 /* columns are split among threads in units of 16, whatever the block size */
#define ALIGN 64

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

/* Weights used in place: F32 rows at a float-aligned address need no dequantization. */
static int f32_in_place(int32_t type, const void *w) {
    return type == LORA4J_TYPE_F32 && ((uintptr_t)w & 3) == 0;
}

typedef struct {
    int32_t type;
    const l4_type_traits *tr;
    const uint8_t *w;
    int64_t row_bytes, n_out, n_in;
    const float *x;
    int64_t ldx, n_tok;
    float *y;
    int64_t ldy;
    const l4_gemm_kernels *k;
    int kind; /* L4_KIND_A/B on the int8 path, L4_KIND_NONE on the f32 path */
    l4_unpack_fn unpack;
    l4_qact act;
    uint8_t *scratch; /* per-thread areas of scratch_stride bytes */
    size_t scratch_stride;
} matmul_ctx;

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
    size_t off[3], at = 0;
    off[0] = at, at += align_up(tn);                                  /* q */
    off[1] = at, at += align_up(tn / 16 * sizeof(float));             /* s */
    off[2] = at, at += align_up((kind == L4_KIND_A ? tn / 4 : tn / L4_QK_K) * sizeof(float));
    if (mem) {
        *a = (l4_qact){0};
        a->q = (int8_t *)(mem + off[0]);
        a->s = (float *)(mem + off[1]);
        if (kind == L4_KIND_A) {
            a->dexp = (float *)(mem + off[2]);
        } else {
            a->d = (float *)(mem + off[2]);
        }
    }
    return at;
}

static void exact_task(void *p, int ith, int nth) {
    const matmul_ctx *c = p;
    int64_t r0, r1;
    l4_split(c->n_out, ith, nth, &r0, &r1);
    float *buf = (float *)(c->scratch + (size_t)ith * c->scratch_stride);
    const int in_place = f32_in_place(c->type, c->w);
    for (int64_t rb = r0; rb < r1; rb += MC) {
        const int64_t nr = min64(MC, r1 - rb);
        for (int64_t kb = 0; kb < c->n_in; kb += KC) {
            const int64_t nk = min64(KC, c->n_in - kb);
            const float *wp = buf;
            int64_t ldw = KC;
            if (in_place) {
                wp = (const float *)(c->w + rb * c->row_bytes) + kb;
                ldw = c->n_in;
            } else {
                const int64_t off = kb / c->tr->blck * c->tr->block_bytes;
                for (int64_t r = 0; r < nr; r++) c->tr->to_float(c->w + (rb + r) * c->row_bytes + off, buf + r * KC, nk);
            }
            c->k->f32(wp, ldw, nr, c->x + kb, c->ldx, c->n_tok, nk, c->y + rb, c->ldy, kb > 0);
        }
    }
}

static void act_task(void *p, int ith, int nth) {
    const matmul_ctx *c = p;
    int64_t t0, t1;
    l4_split(c->n_tok, ith, nth, &t0, &t1);
    l4_quantize_acts(c->x, c->ldx, t0, t1, c->n_in, c->kind, &c->act);
}

static void fast_task(void *p, int ith, int nth) {
    const matmul_ctx *c = p;
    int64_t r0, r1;
    l4_split(c->n_out, ith, nth, &r0, &r1);
    l4_unpacked panel;
    panel_layout(c->scratch + (size_t)ith * c->scratch_stride, c->kind, c->n_in, MC, &panel);
    const l4_gemm_q8_fn kernel = c->kind == L4_KIND_A ? c->k->qa : c->k->qb;
    for (int64_t rb = r0; rb < r1; rb += MC) {
        const int64_t nr = min64(MC, r1 - rb);
        for (int64_t r = 0; r < nr; r++) {
            const l4_unpacked row = l4_unpacked_rows(&panel, r, c->n_in);
            c->unpack(c->w + (rb + r) * c->row_bytes, c->n_in, &row);
        }
        kernel(&panel, nr, &c->act, c->n_tok, c->n_in, c->y + rb, c->ldy);
    }
}

/* Without scratch memory: exact products one block at a time, on the calling thread. */
static void matmul_unbuffered(const matmul_ctx *c) {
    const int64_t blck = c->tr->blck;
    float tmp[L4_QK_K];
    const int64_t chunk = blck == 1 ? L4_QK_K : blck;
    for (int64_t t = 0; t < c->n_tok; t++)
        for (int64_t o = 0; o < c->n_out; o++) c->y[t * c->ldy + o] = 0.0f;
    for (int64_t o = 0; o < c->n_out; o++) {
        for (int64_t kb = 0; kb < c->n_in; kb += chunk) {
            const int64_t nk = min64(chunk, c->n_in - kb);
            c->tr->to_float(c->w + o * c->row_bytes + kb / blck * c->tr->block_bytes, tmp, nk);
            for (int64_t t = 0; t < c->n_tok; t++) {
                float s = 0.0f;
                for (int64_t i = 0; i < nk; i++) s += tmp[i] * c->x[t * c->ldx + kb + i];
                c->y[t * c->ldy + o] += s;
            }
        }
    }
}

void l4_matmul(int32_t type, const void *w, int64_t n_out, int64_t n_in, const float *x,
               int64_t ldx, int64_t n_tok, float *y, int64_t ldy, int n_threads, int exact) {
    if (n_out <= 0 || n_tok <= 0) return;
    if (n_in <= 0) {
        for (int64_t t = 0; t < n_tok; t++) memset(y + t * ldy, 0, (size_t)n_out * sizeof(float));
        return;
    }
    matmul_ctx c = {0};
    c.type = type;
    c.tr = l4_traits(type);
    c.w = w;
    c.row_bytes = l4_row_bytes(type, n_in);
    c.n_out = n_out;
    c.n_in = n_in;
    c.x = x;
    c.ldx = ldx;
    c.n_tok = n_tok;
    c.y = y;
    c.ldy = ldy;
    c.k = l4_gemm_select();
    c.kind = exact ? L4_KIND_NONE : l4_unpack_kind(type);
    const int nth = thread_count(n_threads, (n_out + 3) / 4);

    size_t shared = 0;
    if (c.kind != L4_KIND_NONE) {
        c.unpack = l4_unpack_for(type);
        shared = qact_layout(0, c.kind, n_in, n_tok, 0);
        c.scratch_stride = panel_layout(0, c.kind, n_in, MC, 0);
    } else if (!f32_in_place(type, w)) {
        c.scratch_stride = align_up((size_t)MC * KC * sizeof(float));
    }
    uint8_t *mem = 0;
    const size_t total = shared + (size_t)nth * c.scratch_stride;
    if (total > 0) {
        mem = aligned_alloc(ALIGN, align_up(total));
        if (!mem) {
            l4_log(LORA4J_LOG_WARN, "matmul: cannot allocate %zu bytes of scratch; using the unbuffered path", total);
            matmul_unbuffered(&c);
            return;
        }
    }
    c.scratch = mem + shared;
    if (c.kind != L4_KIND_NONE) {
        qact_layout(mem, c.kind, n_in, n_tok, &c.act);
        l4_parallel(act_task, &c, thread_count(n_threads, n_tok / 4));
        l4_parallel(fast_task, &c, nth);
    } else {
        l4_parallel(exact_task, &c, nth);
    }
    free(mem);
}

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
    uint8_t *mem = 0;
    if (!c.in_place) {
        c.scratch_stride = align_up((size_t)TOC * TLD * sizeof(float));
        mem = aligned_alloc(ALIGN, (size_t)nth * c.scratch_stride);
        if (!mem) {
            l4_log(LORA4J_LOG_WARN, "matmul_t_acc: cannot allocate scratch; using the unbuffered path");
            matmul_t_unbuffered(&c);
            return;
        }
    }
    c.scratch = mem;
    l4_parallel(t_acc_task, &c, nth);
    free(mem);
}
