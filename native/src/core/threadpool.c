/* Persistent worker threads for l4_parallel. Each worker waits on its own "go" counter,
 * spinning briefly (so back-to-back per-token calls do not pay a futex wake-up) and then
 * sleeping on a condition variable. Every share of a task is claimed before it runs, and the
 * caller, once done with its own share, claims and runs any share whose worker has not
 * started yet: a worker descheduled before it starts delays nothing (one preempted in the
 * middle of its share does: the caller must wait for it). Waiting threads spin only briefly
 * before they yield the core between checks: on a busy machine the OS often puts a woken
 * worker on the caller's core, where a spinning thread would only delay the other. Callers
 * are serialised by a mutex; a call made from inside a task runs inline on one thread. */
#include "core/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX_THREADS 256
#define SPIN_NS 100000 /* how long an idle worker spins before sleeping */
/* Spinning past this yields the core between checks: when the OS has put a worker on the
 * caller's core (it does on a busy machine), a spinning thread would only delay the other. */
#define PURE_SPIN_NS 5000
#define CALLER_SPIN_NS 50000 /* how long the caller spins for unfinished shares before sleeping */

typedef struct {
    _Alignas(64) atomic_uint go; /* bumped by the caller for each task this worker may join */
    atomic_int claimed;          /* share ith of the current task has been taken */
} worker_t;

static struct {
    pthread_mutex_t call_lock; /* one caller at a time */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake_cond;
    pthread_cond_t done_cond;   /* the caller sleeps on it when a share outlasts its spin */
    atomic_int n_sleeping;
    atomic_int caller_sleeping;
    _Alignas(64) atomic_int pending; /* shares claimed or not, still to finish */
    l4_task_fn fn;
    void *ctx;
    int nth;
    int n_workers; /* workers 1..n_workers exist (the caller is index 0) */
    worker_t workers[POOL_MAX_THREADS];
} g_pool = {.call_lock = PTHREAD_MUTEX_INITIALIZER,
            .wake_lock = PTHREAD_MUTEX_INITIALIZER,
            .wake_cond = PTHREAD_COND_INITIALIZER,
            .done_cond = PTHREAD_COND_INITIALIZER};

static _Thread_local int tl_in_task;

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spin until go differs from seen (true), or SPIN_NS elapse (false). */
static int spin_for_task(atomic_uint *go, unsigned seen) {
    const int64_t start = now_ns();
    for (int i = 1;; i++) {
        if (atomic_load_explicit(go, memory_order_acquire) != seen) return 1;
        cpu_relax();
        if ((i & 63) == 0) {
            const int64_t spent = now_ns() - start;
            if (spent > SPIN_NS) return 0;
            if (spent > PURE_SPIN_NS) sched_yield();
        }
    }
}

/* Run share ith if nobody has claimed it yet. The claim comes first, so the task fields read
 * afterwards are those of the task the share belongs to. */
static void run_share(int ith) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_pool.workers[ith].claimed, &expected, 1)) return;
    g_pool.fn(g_pool.ctx, ith, g_pool.nth);
    /* seq_cst pairs with the caller's flag store and pending load in wait_shares */
    if (atomic_fetch_sub(&g_pool.pending, 1) == 1 && atomic_load(&g_pool.caller_sleeping)) {
        pthread_mutex_lock(&g_pool.wake_lock);
        pthread_cond_broadcast(&g_pool.done_cond);
        pthread_mutex_unlock(&g_pool.wake_lock);
    }
}

/* The caller's wait for the shares workers have started: a short spin, then sleep. A sleeping
 * caller frees its core, which the scheduler can hand to a worker it had preempted (on a
 * busy machine, that worker is what the caller waits for). */
static void wait_shares(void) {
    const int64_t start = now_ns();
    for (int i = 1; atomic_load_explicit(&g_pool.pending, memory_order_acquire) > 0; i++) {
        cpu_relax();
        if ((i & 63) != 0) continue;
        const int64_t spent = now_ns() - start;
        if (spent > CALLER_SPIN_NS) {
            pthread_mutex_lock(&g_pool.wake_lock);
            atomic_store(&g_pool.caller_sleeping, 1);
            while (atomic_load(&g_pool.pending) > 0) pthread_cond_wait(&g_pool.done_cond, &g_pool.wake_lock);
            atomic_store(&g_pool.caller_sleeping, 0);
            pthread_mutex_unlock(&g_pool.wake_lock);
            return;
        }
        if (spent > PURE_SPIN_NS) sched_yield();
    }
}

static void *worker_main(void *arg) {
    const int ith = (int)(intptr_t)arg;
    worker_t *w = &g_pool.workers[ith];
    unsigned seen = 0;
    tl_in_task = 1;
    for (;;) {
        if (!spin_for_task(&w->go, seen)) {
            pthread_mutex_lock(&g_pool.wake_lock);
            atomic_fetch_add(&g_pool.n_sleeping, 1);
            while (atomic_load(&w->go) == seen) pthread_cond_wait(&g_pool.wake_cond, &g_pool.wake_lock);
            atomic_fetch_sub(&g_pool.n_sleeping, 1);
            pthread_mutex_unlock(&g_pool.wake_lock);
        }
        seen = atomic_load_explicit(&w->go, memory_order_acquire);
        run_share(ith);
    }
    return 0;
}

/* Start workers up to index nth-1; returns how many exist (thread creation can fail). */
static int ensure_workers(int nth) {
    while (g_pool.n_workers < nth - 1) {
        const int ith = g_pool.n_workers + 1;
        atomic_store(&g_pool.workers[ith].claimed, 1); /* nothing to run until a task arrives */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t t;
        const int rc = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)ith);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        g_pool.n_workers = ith;
    }
    return g_pool.n_workers;
}

/* sysconf reads /sys on every call: ask once. */
int l4_n_cores(void) {
    static atomic_int cached;
    int n = atomic_load_explicit(&cached, memory_order_relaxed);
    if (n == 0) {
        const long v = sysconf(_SC_NPROCESSORS_ONLN);
        n = v > 0 ? (int)(v < POOL_MAX_THREADS ? v : POOL_MAX_THREADS) : 1;
        atomic_store_explicit(&cached, n, memory_order_relaxed);
    }
    return n;
}

void l4_parallel(l4_task_fn fn, void *ctx, int n_threads) {
    int nth = n_threads > 0 ? n_threads : l4_n_cores();
    if (nth > POOL_MAX_THREADS) nth = POOL_MAX_THREADS;
    if (nth == 1 || tl_in_task) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&g_pool.call_lock);
    const int n_workers = ensure_workers(nth);
    const int n_helpers = n_workers < nth - 1 ? n_workers : nth - 1;
    /* publish: task fields, the share count, then open the shares, then signal */
    g_pool.fn = fn;
    g_pool.ctx = ctx;
    g_pool.nth = nth;
    atomic_store(&g_pool.pending, n_helpers);
    for (int i = 1; i <= n_helpers; i++) atomic_store(&g_pool.workers[i].claimed, 0);
    for (int i = 1; i <= n_helpers; i++) atomic_fetch_add(&g_pool.workers[i].go, 1);
    if (atomic_load(&g_pool.n_sleeping) > 0) {
        pthread_mutex_lock(&g_pool.wake_lock);
        pthread_cond_broadcast(&g_pool.wake_cond);
        pthread_mutex_unlock(&g_pool.wake_lock);
    }
    tl_in_task = 1;
    fn(ctx, 0, nth);
    for (int i = 1; i <= n_helpers; i++) run_share(i); /* shares no worker has started */
    for (int i = n_helpers + 1; i < nth; i++) fn(ctx, i, nth); /* workers that could not start */
    tl_in_task = 0;
    wait_shares();
    pthread_mutex_unlock(&g_pool.call_lock);
}
