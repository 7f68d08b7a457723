#include "sample/candidates.h"

#include <math.h>
#include <stdlib.h>

void l4_cands_load(l4_cands *c, const float *logits, int32_t n) {
    for (int32_t i = 0; i < n; i++) c->data[i] = (l4_cand){logits[i], i};
    c->n = n;
}

l4_cand l4_cands_best(const l4_cands *c) {
    l4_cand best = c->data[0];
    for (int32_t i = 1; i < c->n; i++) {
        if (l4_cand_better(c->data[i], best)) best = c->data[i];
    }
    return best;
}

static void swap(l4_cand *a, l4_cand *b) {
    l4_cand t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(l4_cand *a, int32_t n) {
    for (int32_t i = 1; i < n; i++) {
        l4_cand x = a[i];
        int32_t j = i;
        while (j > 0 && l4_cand_better(x, a[j - 1])) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Partition a[lo..hi) (hi - lo >= 3) around a median-of-three pivot; return its final index p:
 * a[lo..p) are better than the pivot, a(p..hi) worse. Keys are distinct, so this always
 * splits off at least the pivot and sorted or reversed inputs stay linear. */
static int32_t partition(l4_cand *a, int32_t lo, int32_t hi) {
    int32_t mid = lo + (hi - lo) / 2, last = hi - 1;
    if (l4_cand_better(a[mid], a[lo])) swap(&a[mid], &a[lo]);
    if (l4_cand_better(a[last], a[lo])) swap(&a[last], &a[lo]);
    if (l4_cand_better(a[last], a[mid])) swap(&a[last], &a[mid]);
    swap(&a[mid], &a[last]); /* the median goes to the end while partitioning */
    l4_cand pivot = a[last];
    int32_t store = lo;
    for (int32_t i = lo; i < last; i++) {
        if (l4_cand_better(a[i], pivot)) swap(&a[i], &a[store++]);
    }
    swap(&a[store], &a[last]);
    return store;
}

/* Heap of a[0..n) with the worst candidate at the root. */
static void sift_down(l4_cand *a, int32_t n, int32_t i) {
    l4_cand x = a[i];
    for (;;) {
        int32_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && l4_cand_better(a[child], a[child + 1])) child++;
        if (!l4_cand_better(x, a[child])) break;
        a[i] = a[child];
        i = child;
    }
    a[i] = x;
}

/* One pass with a heap of the m best so far at the front: most candidates cost a single
 * comparison with the root, so this beats partitioning when m is small. */
static void heap_select(l4_cand *a, int32_t n, int32_t m) {
    for (int32_t i = m / 2 - 1; i >= 0; i--) sift_down(a, m, i);
    for (int32_t i = m; i < n; i++) {
        if (l4_cand_better(a[i], a[0])) {
            swap(&a[i], &a[0]);
            sift_down(a, m, 0);
        }
    }
}

enum {
    SMALL_RANGE = 16,  /* below this, insertion sort beats partitioning */
    HEAP_SELECT_MAX = 512 /* keep at most this many with a heap pass, more by partitioning */
};

static void quick_select(l4_cand *a, int32_t n, int32_t m) {
    int32_t lo = 0, hi = n;
    /* Invariant: a[0..lo) are better than a[lo..hi), which are better than a[hi..n), and
     * lo <= m <= hi. */
    while (hi - lo > SMALL_RANGE) {
        int32_t p = partition(a, lo, hi);
        if (p >= m) {
            hi = p;
        } else {
            lo = p + 1;
        }
        if (lo == m || hi == m) return;
    }
    insertion_sort(a + lo, hi - lo);
}

void l4_cands_keep_best(l4_cands *c, int32_t m) {
    if (m >= c->n) return;
    if (m <= HEAP_SELECT_MAX) {
        heap_select(c->data, c->n, m);
    } else {
        quick_select(c->data, c->n, m);
    }
    c->n = m;
}

static int compare_better_first(const void *pa, const void *pb) {
    l4_cand a = *(const l4_cand *)pa, b = *(const l4_cand *)pb;
    return l4_cand_better(a, b) ? -1 : l4_cand_better(b, a) ? 1 : 0;
}

void l4_cands_sort(l4_cands *c) {
    qsort(c->data, (size_t)c->n, sizeof *c->data, compare_better_first);
}

int32_t l4_cands_best_by_mass(l4_cands *c, float max, double target) {
    l4_cand *a = c->data;
    int32_t lo = 0, hi = c->n;
    double acc = 0.0; /* weight of a[0..lo), all better than a[lo..hi) */
    while (hi - lo > SMALL_RANGE) {
        int32_t p = partition(a, lo, hi);
        double better = 0.0;
        for (int32_t i = lo; i < p; i++) better += expf(a[i].logit - max);
        if (acc + better >= target) {
            hi = p; /* the answer is at most p */
            continue;
        }
        acc += better + expf(a[p].logit - max);
        if (acc >= target) return p + 1;
        lo = p + 1;
    }
    insertion_sort(a + lo, hi - lo);
    for (int32_t i = lo; i < hi; i++) {
        acc += expf(a[i].logit - max);
        if (acc >= target) return i + 1;
    }
    /* Only rounding gets here (the sums above ran in another order): keep the whole range. */
    return hi;
}
