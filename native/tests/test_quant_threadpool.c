/* The thread pool: every index runs exactly once per call, for any thread count (more than
 * the cores too), back to back, nested (runs inline) and from several caller threads at once
 * (serialised). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/threadpool.h"
#include "quant_test.h"

typedef struct {
    atomic_int hits[64];
    atomic_int nth_seen;
    atomic_int nested_ok;
} counts_t;

static void count_task(void *p, int ith, int nth) {
    counts_t *c = p;
    atomic_fetch_add(&c->hits[ith], 1);
    atomic_store(&c->nth_seen, nth);
}

static void nested_task(void *p, int ith, int nth) {
    counts_t inner;
    memset(&inner, 0, sizeof inner);
    l4_parallel(count_task, &inner, 4); /* inside a task: runs inline as one share */
    if (atomic_load(&inner.hits[0]) == 1 && atomic_load(&inner.nth_seen) == 1) atomic_fetch_add(&((counts_t *)p)->nested_ok, 1);
    count_task(p, ith, nth);
}

static void check_counts(counts_t *c, int nth, int calls, const char *what) {
    for (int i = 0; i < 64; i++) {
        const int want = i < nth ? calls : 0;
        QT_CHECK(atomic_load(&c->hits[i]) == want, "%s: index %d ran %d times, want %d", what, i, atomic_load(&c->hits[i]),
                 want);
    }
}

/* Sum of 0..n-1 split with l4_split, from several caller threads at once. */
typedef struct {
    int64_t n;
    atomic_llong sum;
} sum_t;

static void sum_task(void *p, int ith, int nth) {
    sum_t *s = p;
    int64_t b, e, acc = 0;
    l4_split(s->n, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) acc += i;
    atomic_fetch_add(&s->sum, acc);
}

static void *caller_main(void *arg) {
    int *bad = arg;
    for (int k = 0; k < 2000; k++) {
        sum_t s = {1000 + k, 0};
        l4_parallel(sum_task, &s, 1 + k % 3);
        if (atomic_load(&s.sum) != s.n * (s.n - 1) / 2) (*bad)++;
    }
    return 0;
}

int main(void) {
    QT_CHECK(l4_n_cores() >= 1, "cores");
    const int counts[] = {1, 2, 3, 7, 16, 64};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        counts_t c;
        memset(&c, 0, sizeof c);
        const int calls = counts[k] > 4 ? 10 : 300; /* oversubscribed calls are slow on purpose */
        for (int call = 0; call < calls; call++) l4_parallel(count_task, &c, counts[k]);
        char what[32];
        snprintf(what, sizeof what, "%d threads", counts[k]);
        check_counts(&c, counts[k], calls, what);
        QT_CHECK(atomic_load(&c.nth_seen) == counts[k], "%s: nth", what);
    }
    counts_t c;
    memset(&c, 0, sizeof c);
    l4_parallel(count_task, &c, 0); /* 0: all cores */
    check_counts(&c, l4_n_cores(), 1, "default thread count");
    memset(&c, 0, sizeof c);
    for (int call = 0; call < 50; call++) l4_parallel(nested_task, &c, 3);
    check_counts(&c, 3, 50, "nested");
    QT_CHECK(atomic_load(&c.nested_ok) == 150, "nested calls ran inline: %d", atomic_load(&c.nested_ok));
    /* idle long enough for the workers to go to sleep, then wake them */
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, 0);
    memset(&c, 0, sizeof c);
    l4_parallel(count_task, &c, 2);
    check_counts(&c, 2, 1, "after sleeping");
    /* concurrent callers */
    pthread_t th[3];
    int bad[3] = {0};
    for (int i = 0; i < 3; i++) pthread_create(&th[i], 0, caller_main, &bad[i]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], 0);
    QT_CHECK(bad[0] + bad[1] + bad[2] == 0, "concurrent callers: %d wrong sums", bad[0] + bad[1] + bad[2]);
    return qt_finish("test_quant_threadpool");
}
