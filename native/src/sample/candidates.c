#include "sample/candidates.h"

#include <stdlib.h>

void l4_cands_load(l4_cands *c, const float *logits, int32_t n) {
    for (int32_t i = 0; i < n; i++) c->data[i] = (l4_cand){logits[i], i};
    c->n = n;
    c->n_sorted = 0;
}

l4_cand l4_cands_best(const l4_cands *c) {
    if (c->n_sorted > 0) return c->data[0];
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

/* Quickselect: rearrange a[0..n) so that a[0..m) are its m best elements (0 < m < n).
 * The order is total and the keys distinct, so Hoare partitioning always makes progress. */
static void select_best(l4_cand *a, int32_t n, int32_t m) {
    int32_t lo = 0, hi = n - 1, k = m - 1;
    while (hi - lo >= 16) {
        int32_t mid = lo + (hi - lo) / 2;
        /* Median of three as the pivot keeps sorted or reversed inputs linear. */
        if (l4_cand_better(a[mid], a[lo])) swap(&a[mid], &a[lo]);
        if (l4_cand_better(a[hi], a[lo])) swap(&a[hi], &a[lo]);
        if (l4_cand_better(a[hi], a[mid])) swap(&a[hi], &a[mid]);
        l4_cand pivot = a[mid];
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (l4_cand_better(a[i], pivot)) i++;
            while (l4_cand_better(pivot, a[j])) j--;
            if (i <= j) swap(&a[i++], &a[j--]);
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return; /* a[k] is the pivot, in place */
        }
    }
    insertion_sort(a + lo, hi - lo + 1);
}

void l4_cands_keep_best(l4_cands *c, int32_t m) {
    if (m >= c->n) return;
    if (m > c->n_sorted) {
        select_best(c->data + c->n_sorted, c->n - c->n_sorted, m - c->n_sorted);
    } else {
        c->n_sorted = m;
    }
    c->n = m;
}

static int compare_better_first(const void *pa, const void *pb) {
    l4_cand a = *(const l4_cand *)pa, b = *(const l4_cand *)pb;
    return l4_cand_better(a, b) ? -1 : l4_cand_better(b, a) ? 1 : 0;
}

void l4_cands_sort_prefix(l4_cands *c, int32_t m) {
    if (m > c->n) m = c->n;
    if (m <= c->n_sorted) return;
    /* Everything past the sorted prefix ranks below it: select the next best, then sort them. */
    l4_cand *rest = c->data + c->n_sorted;
    int32_t n_rest = c->n - c->n_sorted, m_rest = m - c->n_sorted;
    if (m_rest < n_rest) select_best(rest, n_rest, m_rest);
    qsort(rest, (size_t)m_rest, sizeof *rest, compare_better_first);
    c->n_sorted = m;
}
