/* The penalty history: how often each token occurs among the last n accepted (a ring of the
 * last n ids to retire old ones), or among all accepted since the last clear when n is -1. */
#ifndef LORA4J_SAMPLE_HISTORY_H
#define LORA4J_SAMPLE_HISTORY_H

#include <stdint.h>

typedef struct l4_history {
    int32_t *counts;  /* [n_vocab] occurrences in the window */
    int32_t *ring;    /* [window] ids, oldest at head once full; NULL when window <= 0 */
    int32_t window;   /* n > 0, 0 = off, -1 = unbounded */
    int32_t len;
    int32_t head;
    int32_t n_vocab;
} l4_history;

int32_t l4_history_init(l4_history *h, int32_t window, int32_t n_vocab);
void l4_history_free(l4_history *h);
void l4_history_clear(l4_history *h);
/* token must be in [0, n_vocab). */
void l4_history_push(l4_history *h, int32_t token);

#endif
