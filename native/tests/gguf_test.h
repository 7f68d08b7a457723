/* Shared helpers of the GGUF tests: checks that count failures, a scratch directory, a byte
 * builder for hand-made (and deliberately broken) GGUF files, and the shared vocab directory. */
#ifndef LORA4J_GGUF_TEST_H
#define LORA4J_GGUF_TEST_H

#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lora4j.h"

static int g_checks, g_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        g_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            g_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* expr must return LORA4J_OK. */
#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        g_checks++;                                                                                \
        lora4j_status_t st_ = (expr);                                                              \
        if (st_ != LORA4J_OK) {                                                                    \
            g_failures++;                                                                          \
            fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, st_,         \
                    lora4j_last_error());                                                          \
        }                                                                                          \
    } while (0)

/* expr must fail with `status` and a message containing `needle`. */
#define CHECK_FAIL(expr, status, needle)                                                           \
    check_fail_((expr), (status), (needle), #expr, __FILE__, __LINE__)

static inline void check_fail_(lora4j_status_t st, lora4j_status_t want, const char *needle,
                               const char *expr, const char *file, int line) {
    g_checks++;
    const char *msg = lora4j_last_error();
    if (st != want || !strstr(msg, needle)) {
        g_failures++;
        fprintf(stderr, "%s:%d: %s returned %d (want %d), message \"%s\" (want \"%s\")\n", file,
                line, expr, st, want, msg, needle);
    }
}

static inline int test_summary(const char *name) {
    printf("%s: %d checks, %d failures\n", name, g_checks, g_failures);
    return g_failures ? 1 : 0;
}

/* ---- scratch directory ---------------------------------------------------------------------- */

static char g_tmpdir[256];

static inline void tmpdir_make(void) {
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/l4-gguf-test-XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
}

static inline int rm_entry_(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static inline void tmpdir_remove(void) { nftw(g_tmpdir, rm_entry_, 16, FTW_DEPTH | FTW_PHYS); }

/* g_tmpdir/name in a static buffer (one at a time). */
static inline const char *tmp_path(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_tmpdir, name);
    return buf;
}

/* ---- byte builder ---------------------------------------------------------------------------- */

typedef struct gbuf {
    uint8_t *p;
    size_t n, cap;
} gbuf;

static inline void gb_bytes(gbuf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = (uint8_t *)realloc(b->p, b->cap);
        if (!b->p) exit(2);
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static inline void gb_u8(gbuf *b, uint8_t v) { gb_bytes(b, &v, 1); }
static inline void gb_u32(gbuf *b, uint32_t v) {
    gb_bytes(b, &v, 4);
} /* tests run on little-endian x86 */
static inline void gb_u64(gbuf *b, uint64_t v) { gb_bytes(b, &v, 8); }
static inline void gb_str(gbuf *b, const char *s) {
    gb_u64(b, strlen(s));
    gb_bytes(b, s, strlen(s));
}
static inline void gb_pad(gbuf *b, size_t a) {
    while (b->n % a) gb_u8(b, 0);
}
static inline void gb_header(gbuf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_bytes(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}
/* A tensor info: name, n_dims, ne[0..n_dims), type, offset. */
static inline void gb_tensor(gbuf *b, const char *name, uint32_t n_dims, const int64_t *ne,
                             uint32_t type, uint64_t offset) {
    gb_str(b, name);
    gb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gb_u64(b, (uint64_t)ne[d]);
    gb_u32(b, type);
    gb_u64(b, offset);
}

static inline void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* Whole file into memory (caller frees); NULL if it cannot be read. */
static inline uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = (uint8_t *)malloc(len > 0 ? (size_t)len : 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(p);
        return NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* Number of entries in dir whose name starts with prefix. */
static inline int count_prefixed(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* ---- shared vocab files ---------------------------------------------------------------------- */

/* The shared/vocab directory: $LORA4J_SHARED_DIR/vocab if set, else the first shared/vocab found
 * walking up from the working directory (the repo may hold shared/, or sit beside it). */
static inline int find_vocab_dir(char *out, size_t cap) {
    const char *env = getenv("LORA4J_SHARED_DIR");
    struct stat sb;
    if (env && env[0]) {
        snprintf(out, cap, "%s/vocab", env);
        return stat(out, &sb) == 0 && S_ISDIR(sb.st_mode);
    }
    char up[256] = ".";
    for (int level = 0; level < 8; level++) {
        snprintf(out, cap, "%s/shared/vocab", up);
        if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) return 1;
        strncat(up, "/..", sizeof up - strlen(up) - 1);
    }
    return 0;
}

#endif
