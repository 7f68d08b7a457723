/* The CPU emulation of the CUDA runtime subset in lcu_emu.h: kernels run block by block, every
 * CUDA thread of a block a fiber with its own stack, switched by a minimal x86-64 context switch
 * (callee-saved registers, MXCSR and the x87 control word) only where a CUDA thread would wait
 * for others: block barriers, warp barriers and warp collectives. */
#include "emu/lcu_emu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include <mutex>
#include <vector>

#if !defined(__x86_64__)
#error "the CUDA emulation's context switch is written for x86-64"
#endif

/* ---- context switch ------------------------------------------------------------------------------ */

/* Saves the callee-saved state on the current stack, stores the stack pointer in *from and
 * continues on the stack `to` (saved the same way, or prepared by fiber_prepare). */
extern "C" void lcu_emu_switch(void **from, void *to);
__asm__(
    ".text\n"
    ".globl lcu_emu_switch\n"
    ".hidden lcu_emu_switch\n"
    ".type lcu_emu_switch,@function\n"
    "lcu_emu_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size lcu_emu_switch, .-lcu_emu_switch\n");

/* ---- state ------------------------------------------------------------------------------------ */

enum { STACK_BYTES = 128 * 1024, GUARD_BYTES = 4096, MAX_THREADS = 1024, DEFAULT_SMEM = 48 * 1024,
       MAX_SMEM = 227 * 1024 };
enum wait_kind { WAIT_NONE, WAIT_BLOCK, WAIT_WARP };

struct barrier {
    unsigned arrived, live;
    uint64_t gen;
};

struct fiber {
    void *sp;
    lcu_emu_thread info;
    int done;
    int wait;          /* wait_kind */
    uint64_t wait_gen;
};

struct warp_state {
    barrier bar;
    uint64_t slots[32];
};

/* Everything one host thread needs to run launches (blocks run on the launching thread). */
struct emu_thread_state {
    uint8_t *stacks = nullptr;     /* MAX_THREADS stacks, each above a guard page */
    fiber fibers[MAX_THREADS];
    unsigned order[MAX_THREADS];   /* the order fibers run in this round */
    uint64_t rng = 0;
    warp_state warps[MAX_THREADS / 32];
    barrier block_bar;
    lcu_emu_block block;
    unsigned n_threads = 0;
    fiber *cur = nullptr;
    void *sched_sp = nullptr;
    uint8_t *dyn_smem = nullptr;
    size_t dyn_smem_cap = 0;
    void (*body)(void *) = nullptr;
    void *arg = nullptr;
    cudaError_t last_error = cudaSuccess;
    cudaError_t fault = cudaSuccess;  /* raised by a thread of the running launch */

    ~emu_thread_state() {
        if (stacks) munmap(stacks, (size_t)MAX_THREADS * (STACK_BYTES + GUARD_BYTES));
        free(dyn_smem);
    }
};

static thread_local emu_thread_state tls;

/* Kernel attributes (max dynamic shared memory) and device-memory accounting, process-wide. */
static std::mutex g_mu;
struct attr_entry {
    const void *func;
    int max_dyn_smem;
};
static attr_entry g_attrs[256];
static int g_n_attrs;
static size_t g_allocated;

static size_t emu_total_memory(void) {
    const char *env = getenv("LCU_EMU_MEMORY");
    if (env && *env) {
        char *end = nullptr;
        unsigned long long v = strtoull(env, &end, 10);
        if (end && *end == '\0' && v > 0) return (size_t)v;
    }
    return (size_t)16 << 30;
}

static cudaError_t set_error(cudaError_t e) {
    if (e != cudaSuccess && tls.last_error == cudaSuccess) tls.last_error = e;
    return e;
}

/* ---- guarded device memory (LCU_EMU_GUARD=1) --------------------------------------------------------
 * Each device allocation gets its own mapping, kept inaccessible while host code runs and opened
 * only for kernels, copies and sets, so host code that dereferences a device pointer (which a GPU
 * never allows) crashes here too. Protection is process-wide: for single-threaded test programs. */
struct guard_map {
    uint8_t *base;   /* the mapping; the device pointer is base + 256 */
    size_t bytes;    /* mapped */
    size_t n;        /* asked for */
};
static std::vector<guard_map> g_maps;
static int g_open_depth;

static int guard_mode(void) {
    static const int on = [] {
        const char *e = getenv("LCU_EMU_GUARD");
        return e && strcmp(e, "1") == 0;
    }();
    return on;
}

/* Opens (1) or closes (0) every device mapping to the host; nested opens close at the last. */
static void guard_access(int open) {
    if (!guard_mode()) return;
    std::lock_guard<std::mutex> lock(g_mu);
    g_open_depth += open ? 1 : -1;
    if (g_open_depth != (open ? 1 : 0)) return;
    for (const guard_map &m : g_maps) mprotect(m.base, m.bytes, open ? PROT_READ | PROT_WRITE : PROT_NONE);
}

/* ---- fibers ----------------------------------------------------------------------------------------- */

static void yield_to_scheduler(void) { lcu_emu_switch(&tls.cur->sp, tls.sched_sp); }

static void release_if_complete(barrier *b) {
    if (b->live > 0 && b->arrived == b->live) {
        b->arrived = 0;
        b->gen++;
    }
}

static void barrier_wait(barrier *b, int kind) {
    b->arrived++;
    if (b->arrived == b->live) { /* last to arrive: release the others and go on */
        b->arrived = 0;
        b->gen++;
        return;
    }
    fiber *f = tls.cur;
    f->wait = kind;
    f->wait_gen = b->gen;
    yield_to_scheduler(); /* resumed once the generation moved on */
    f->wait = WAIT_NONE;
}

static void fiber_entry(void) {
    tls.body(tls.arg);
    fiber *f = tls.cur;
    f->done = 1;
    tls.block_bar.live--;
    release_if_complete(&tls.block_bar);
    barrier *wb = &tls.warps[f->info.warp].bar;
    wb->live--;
    release_if_complete(wb);
    yield_to_scheduler();
    abort(); /* a finished fiber is never resumed */
}

/* A fresh stack whose first switch "returns" into fiber_entry with the ABI's alignment. */
static void *fiber_prepare(unsigned i) {
    uint8_t *top = tls.stacks + (size_t)(i + 1) * (STACK_BYTES + GUARD_BYTES);
    uint64_t *sp = (uint64_t *)(top - 72);
    const uint32_t csr[2] = {0x1f80u, 0x037fu}; /* default MXCSR; x87 control word in the high half */
    memcpy(&sp[0], csr, 8);
    for (int r = 1; r <= 6; r++) sp[r] = 0;     /* r15 r14 r13 r12 rbx rbp */
    sp[7] = (uint64_t)(uintptr_t)&fiber_entry;
    sp[8] = 0;
    return sp;
}

static int runnable(const fiber *f) {
    if (f->done) return 0;
    if (f->wait == WAIT_BLOCK) return tls.block_bar.gen != f->wait_gen;
    if (f->wait == WAIT_WARP) return tls.warps[f->info.warp].bar.gen != f->wait_gen;
    return 1;
}

/* Which order the fibers of a block run in between barriers: LCU_EMU_ORDER = forward (default),
 * reverse or shuffle (a fresh permutation every round, seeded by LCU_EMU_SEED). A GPU runs warps
 * in no fixed order, so a kernel that reads shared memory another warp writes without a barrier
 * between them may pass in one order and fail in another: the tests run the kernels both ways. */
enum { ORDER_FORWARD, ORDER_REVERSE, ORDER_SHUFFLE };

static int order_mode(void) {
    static const int mode = [] {
        const char *e = getenv("LCU_EMU_ORDER");
        if (e && strcmp(e, "reverse") == 0) return (int)ORDER_REVERSE;
        if (e && strcmp(e, "shuffle") == 0) return (int)ORDER_SHUFFLE;
        return (int)ORDER_FORWARD;
    }();
    return mode;
}

static void schedule_order(unsigned n) {
    const int mode = order_mode();
    for (unsigned i = 0; i < n; i++) tls.order[i] = mode == ORDER_REVERSE ? n - 1 - i : i;
    if (mode != ORDER_SHUFFLE) return;
    if (tls.rng == 0) {
        const char *e = getenv("LCU_EMU_SEED");
        tls.rng = (e && *e ? strtoull(e, nullptr, 10) : 1) * 0x9e3779b97f4a7c15ULL | 1;
    }
    for (unsigned i = n - 1; i > 0; i--) { /* Fisher-Yates with xorshift64 */
        tls.rng ^= tls.rng << 13;
        tls.rng ^= tls.rng >> 7;
        tls.rng ^= tls.rng << 17;
        const unsigned j = (unsigned)(tls.rng % (i + 1));
        const unsigned t = tls.order[i];
        tls.order[i] = tls.order[j];
        tls.order[j] = t;
    }
}

/* Runs one block to completion; cudaErrorLaunchFailure (with a message) on a deadlock. */
static cudaError_t run_block(const void *func) {
    const unsigned n = tls.n_threads;
    for (unsigned i = 0; i < n; i++) {
        fiber *f = &tls.fibers[i];
        f->sp = fiber_prepare(i);
        f->done = 0;
        f->wait = WAIT_NONE;
    }
    tls.block_bar = barrier{0, n, 0};
    for (unsigned w = 0; w * 32 < n; w++) {
        const unsigned in_warp = n - w * 32 < 32 ? n - w * 32 : 32;
        tls.warps[w].bar = barrier{0, in_warp, 0};
    }
    for (;;) {
        unsigned alive = 0, ran = 0;
        schedule_order(n);
        for (unsigned j = 0; j < n; j++) {
            fiber *f = &tls.fibers[tls.order[j]];
            if (f->done) continue;
            alive++;
            if (!runnable(f)) continue;
            ran++;
            tls.cur = f;
            lcu_emu_switch(&tls.sched_sp, f->sp);
        }
        if (alive == 0) return cudaSuccess;
        if (ran == 0) {
            unsigned waiting_block = 0;
            for (unsigned i = 0; i < n; i++) waiting_block += !tls.fibers[i].done && tls.fibers[i].wait == WAIT_BLOCK;
            fprintf(stderr,
                    "lcu emulation: deadlock in kernel %p, block (%u,%u,%u): %u of %u threads still running, %u "
                    "of them at __syncthreads, the others at a warp collective\n",
                    func, tls.block.block_idx.x, tls.block.block_idx.y, tls.block.block_idx.z, alive, n,
                    waiting_block);
            return cudaErrorLaunchFailure;
        }
    }
}

static int max_dyn_smem(const void *func) {
    std::lock_guard<std::mutex> lock(g_mu);
    for (int i = 0; i < g_n_attrs; i++) {
        if (g_attrs[i].func == func) return g_attrs[i].max_dyn_smem;
    }
    return DEFAULT_SMEM;
}

static void run_launch(const void *func, dim3 grid, dim3 block, size_t smem, void (*body)(void *), void *arg) {
    const uint64_t n = (uint64_t)block.x * block.y * block.z;
    if (n == 0 || n > MAX_THREADS || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.y > 65535 || grid.z > 65535) {
        fprintf(stderr, "lcu emulation: invalid launch of kernel %p: grid (%u,%u,%u), block (%u,%u,%u)\n", func,
                grid.x, grid.y, grid.z, block.x, block.y, block.z);
        set_error(cudaErrorInvalidConfiguration);
        return;
    }
    if (smem > (size_t)max_dyn_smem(func)) {
        fprintf(stderr, "lcu emulation: kernel %p asks for %zu bytes of dynamic shared memory, over its limit "
                "of %d (raise it with cudaFuncSetAttribute)\n", func, smem, max_dyn_smem(func));
        set_error(cudaErrorInvalidValue);
        return;
    }
    if (!tls.stacks) {
        const size_t bytes = (size_t)MAX_THREADS * (STACK_BYTES + GUARD_BYTES);
        void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            set_error(cudaErrorMemoryAllocation);
            return;
        }
        tls.stacks = (uint8_t *)p;
        for (int i = 0; i < MAX_THREADS; i++) mprotect(tls.stacks + (size_t)i * (STACK_BYTES + GUARD_BYTES), GUARD_BYTES, PROT_NONE);
    }
    if (smem > tls.dyn_smem_cap) {
        free(tls.dyn_smem);
        tls.dyn_smem = (uint8_t *)aligned_alloc(256, (smem + 255) / 256 * 256);
        tls.dyn_smem_cap = tls.dyn_smem ? smem : 0;
        if (!tls.dyn_smem) {
            set_error(cudaErrorMemoryAllocation);
            return;
        }
    }
    tls.body = body;
    tls.arg = arg;
    tls.n_threads = (unsigned)n;
    for (unsigned i = 0; i < n; i++) {
        lcu_emu_thread *t = &tls.fibers[i].info;
        t->linear = i;
        t->thread_idx = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
        t->lane = i % 32;
        t->warp = i / 32;
    }
    tls.block.block_dim = uint3{block.x, block.y, block.z};
    tls.block.grid_dim = uint3{grid.x, grid.y, grid.z};
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                tls.block.block_idx = uint3{x, y, z};
                /* shared memory starts as garbage on a GPU: NaN bytes make reads before writes show */
                if (smem) memset(tls.dyn_smem, 0xff, smem);
                tls.fault = cudaSuccess;
                const cudaError_t e = run_block(func);
                if (e != cudaSuccess || tls.fault != cudaSuccess) {
                    set_error(e != cudaSuccess ? e : tls.fault);
                    return;
                }
            }
        }
    }
}

void lcu_emu_run(const void *func, dim3 grid, dim3 block, size_t smem, void (*body)(void *), void *arg) {
    guard_access(1);
    run_launch(func, grid, block, smem, body, arg);
    guard_access(0);
}

const lcu_emu_thread *lcu_emu_self(void) { return &tls.cur->info; }
const lcu_emu_block *lcu_emu_block_info(void) { return &tls.block; }
void *lcu_emu_dyn_smem(void) { return tls.dyn_smem; }
int lcu_emu_is_lane0(void) { return tls.cur->info.lane == 0; }

void lcu_emu_check_wmma(const void *p, unsigned ldm, unsigned elem_bytes) {
    if (((uintptr_t)p & 31) == 0 && (ldm * elem_bytes) % 16 == 0) return;
    if (tls.fault == cudaSuccess) {
        fprintf(stderr, "lcu emulation: wmma load/store at %p with stride %u (x %u bytes): needs a 32-byte aligned "
                "pointer and a stride of whole 16-byte units (block (%u,%u,%u), thread %u)\n", p, ldm, elem_bytes,
                tls.block.block_idx.x, tls.block.block_idx.y, tls.block.block_idx.z, tls.cur->info.linear);
    }
    tls.fault = cudaErrorMisalignedAddress;
}

void __syncthreads(void) { barrier_wait(&tls.block_bar, WAIT_BLOCK); }

void lcu_emu_syncwarp(void) { barrier_wait(&tls.warps[tls.cur->info.warp].bar, WAIT_WARP); }

void lcu_emu_warp_exchange(const void *val, void *all, size_t size) {
    warp_state *w = &tls.warps[tls.cur->info.warp];
    memcpy(&w->slots[tls.cur->info.lane], val, size);
    lcu_emu_syncwarp();
    for (int i = 0; i < 32; i++) memcpy((uint8_t *)all + (size_t)i * size, &w->slots[i], size);
    lcu_emu_syncwarp();
}

cudaError_t lcu_emu_func_set_attribute(const void *func, int attr, int value) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || value > MAX_SMEM) {
        return set_error(cudaErrorInvalidValue);
    }
    std::lock_guard<std::mutex> lock(g_mu);
    for (int i = 0; i < g_n_attrs; i++) {
        if (g_attrs[i].func == func) {
            g_attrs[i].max_dyn_smem = value;
            return cudaSuccess;
        }
    }
    if (g_n_attrs == (int)(sizeof g_attrs / sizeof g_attrs[0])) return set_error(cudaErrorInvalidValue);
    g_attrs[g_n_attrs++] = attr_entry{func, value};
    return cudaSuccess;
}

/* ---- runtime -------------------------------------------------------------------------------------- */

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unknown error";
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = tls.last_error;
    tls.last_error = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError(void) { return tls.last_error; }

cudaError_t cudaGetDeviceCount(int *n) {
    *n = 1;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : set_error(cudaErrorInvalidDevice); }
cudaError_t cudaGetDevice(int *d) {
    *d = 0;
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d) {
    if (d != 0) return set_error(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "lora4j CUDA emulation (CPU)");
    p->totalGlobalMem = emu_total_memory();
    p->sharedMemPerBlock = DEFAULT_SMEM;
    p->sharedMemPerBlockOptin = MAX_SMEM;
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = 4;
    p->maxThreadsPerBlock = MAX_THREADS;
    p->warpSize = 32;
    return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int *v) {
    *v = 13000;
    return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int *v) {
    *v = 13000;
    return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    std::lock_guard<std::mutex> lock(g_mu);
    const size_t total = emu_total_memory();
    *total_bytes = total;
    *free_bytes = g_allocated < total ? total - g_allocated : 0;
    return cudaSuccess;
}

/* Each allocation carries its size just before the returned (256-byte aligned) pointer, so
 * cudaFree can keep the emulated free memory honest (guarded allocations keep it in g_maps). */
static cudaError_t guarded_malloc(void **p, size_t n) {
    const size_t page = 4096, bytes = (256 + n + page - 1) / page * page;
    void *m = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return cudaErrorMemoryAllocation;
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_open_depth > 0) mprotect(m, bytes, PROT_READ | PROT_WRITE);
    g_maps.push_back(guard_map{(uint8_t *)m, bytes, n});
    *p = (uint8_t *)m + 256;
    return cudaSuccess;
}

/* Frees a guarded allocation; 0 when p is not one. */
static int guarded_free(void *p, size_t *n) {
    std::lock_guard<std::mutex> lock(g_mu);
    for (size_t i = 0; i < g_maps.size(); i++) {
        if (g_maps[i].base + 256 != (uint8_t *)p) continue;
        *n = g_maps[i].n;
        munmap(g_maps[i].base, g_maps[i].bytes);
        g_maps.erase(g_maps.begin() + (long)i);
        return 1;
    }
    return 0;
}

cudaError_t cudaMalloc(void **p, size_t n) {
    *p = nullptr;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        if (n > emu_total_memory() - g_allocated) return set_error(cudaErrorMemoryAllocation);
        g_allocated += n;
    }
    if (guard_mode()) {
        if (guarded_malloc(p, n) == cudaSuccess) return cudaSuccess;
        std::lock_guard<std::mutex> lock(g_mu);
        g_allocated -= n;
        return set_error(cudaErrorMemoryAllocation);
    }
    uint8_t *raw = (uint8_t *)aligned_alloc(256, 256 + (n + 255) / 256 * 256);
    if (!raw) {
        std::lock_guard<std::mutex> lock(g_mu);
        g_allocated -= n;
        return set_error(cudaErrorMemoryAllocation);
    }
    memcpy(raw, &n, sizeof n);
    *p = raw + 256;
    return cudaSuccess;
}
cudaError_t cudaFree(void *p) {
    if (!p) return cudaSuccess;
    size_t n;
    if (guard_mode() && guarded_free(p, &n)) {
        std::lock_guard<std::mutex> lock(g_mu);
        g_allocated -= n;
        return cudaSuccess;
    }
    uint8_t *raw = (uint8_t *)p - 256;
    memcpy(&n, raw, sizeof n);
    {
        std::lock_guard<std::mutex> lock(g_mu);
        g_allocated -= n;
    }
    free(raw);
    return cudaSuccess;
}
cudaError_t cudaMallocHost(void **p, size_t n) {
    *p = malloc(n ? n : 1);
    return *p ? cudaSuccess : set_error(cudaErrorMemoryAllocation);
}
cudaError_t cudaFreeHost(void *p) {
    free(p);
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind k) {
    (void)k;
    guard_access(1);
    if (n) memmove(dst, src, n);
    guard_access(0);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind k, cudaStream_t s) {
    (void)s;
    return cudaMemcpy(dst, src, n, k);
}
cudaError_t cudaMemset(void *p, int v, size_t n) {
    guard_access(1);
    if (n) memset(p, v, n);
    guard_access(0);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s) {
    (void)s;
    return cudaMemset(p, v, n);
}

struct lcu_emu_stream {
    int unused;
};
struct lcu_emu_event {
    struct timespec t;
};

cudaError_t cudaStreamCreate(cudaStream_t *s) {
    *s = (cudaStream_t)calloc(1, sizeof(lcu_emu_stream));
    return *s ? cudaSuccess : set_error(cudaErrorMemoryAllocation);
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    free(s);
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    (void)s;
    return tls.last_error;
}
cudaError_t cudaDeviceSynchronize(void) { return tls.last_error; }
cudaError_t cudaEventCreate(cudaEvent_t *e) {
    *e = (cudaEvent_t)calloc(1, sizeof(lcu_emu_event));
    return *e ? cudaSuccess : set_error(cudaErrorMemoryAllocation);
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    free(e);
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    (void)s;
    clock_gettime(CLOCK_MONOTONIC, &e->t);
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    (void)e;
    return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) {
    *ms = (float)((b->t.tv_sec - a->t.tv_sec) * 1e3 + (b->t.tv_nsec - a->t.tv_nsec) / 1e6);
    return cudaSuccess;
}
