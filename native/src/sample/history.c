#include "sample/history.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int32_t l4_history_init(l4_history *h, int32_t window, int32_t n_vocab) {
    memset(h, 0, sizeof *h);
    h->window = window;
    h->n_vocab = n_vocab;
    if (window == 0) return LORA4J_OK;
    h->counts = calloc((size_t)n_vocab, sizeof *h->counts);
    if (window > 0) h->ring = malloc((size_t)window * sizeof *h->ring);
    if (!h->counts || (window > 0 && !h->ring)) {
        l4_history_free(h);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "penalty history of %d tokens over a vocabulary of %d",
                       (int)window, (int)n_vocab);
    }
    return LORA4J_OK;
}

void l4_history_free(l4_history *h) {
    free(h->counts);
    free(h->ring);
    h->counts = NULL;
    h->ring = NULL;
}

void l4_history_clear(l4_history *h) {
    if (h->counts) memset(h->counts, 0, (size_t)h->n_vocab * sizeof *h->counts);
    h->len = 0;
    h->head = 0;
}

void l4_history_push(l4_history *h, int32_t token) {
    if (h->window == 0) return;
    if (h->window < 0) {
        /* Unbounded: saturate rather than wrap after 2^31 repeats of one token. */
        if (h->counts[token] < INT32_MAX) h->counts[token]++;
        return;
    }
    if (h->len == h->window) {
        h->counts[h->ring[h->head]]--;
        h->ring[h->head] = token;
        h->head = (h->head + 1) % h->window;
    } else {
        h->ring[(h->head + h->len) % h->window] = token;
        h->len++;
    }
    h->counts[token]++;
}
