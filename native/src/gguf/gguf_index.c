/* Hash index from names to indices: duplicate detection and lookups stay linear in the number
 * of keys/tensors even for hostile files with millions of entries. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

lora4j_status_t l4_name_index_init(l4_name_index *ix, int64_t n_max) {
    memset(ix, 0, sizeof *ix);
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)n_max) cap *= 2; /* callers bound n_max by the file size */
    ix->names = calloc(cap, sizeof *ix->names);
    ix->ids = calloc(cap, sizeof *ix->ids);
    if (!ix->names || !ix->ids) {
        l4_name_index_free(ix);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "out of memory for a name index of %lld entries",
                       (long long)n_max);
    }
    ix->cap = cap;
    return LORA4J_OK;
}

void l4_name_index_free(l4_name_index *ix) {
    free(ix->names);
    free(ix->ids);
    memset(ix, 0, sizeof *ix);
}

void l4_name_index_insert(l4_name_index *ix, const char *name, int64_t id, int64_t *dup) {
    uint64_t mask = ix->cap - 1;
    for (uint64_t s = hash_name(name) & mask;; s = (s + 1) & mask) {
        if (!ix->names[s]) {
            ix->names[s] = name;
            ix->ids[s] = id;
            *dup = -1;
            return;
        }
        if (strcmp(ix->names[s], name) == 0) {
            *dup = ix->ids[s];
            return;
        }
    }
}

int64_t l4_name_index_find(const l4_name_index *ix, const char *name) {
    if (!ix->cap) return -1;
    uint64_t mask = ix->cap - 1;
    for (uint64_t s = hash_name(name) & mask; ix->names[s]; s = (s + 1) & mask) {
        if (strcmp(ix->names[s], name) == 0) return ix->ids[s];
    }
    return -1;
}
