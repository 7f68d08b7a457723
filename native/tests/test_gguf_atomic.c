/* The writer replaces files atomically: a write that fails at any step (cannot create the
 * temporary file, runs out of space half-way, cannot rename) leaves the previous file exactly as
 * it was and no temporary file behind; a write that succeeds replaces it whole. */
#include <signal.h>
#include <sys/resource.h>

#include "gguf_test.h"

/* A writer holding one string and a tensor of n_floats f32 values. */
static lora4j_gguf_writer *make_writer(const char *name, int64_t n_floats) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "general.name", name, strlen(name)));
    float *f = calloc((size_t)n_floats, sizeof *f);
    for (int64_t j = 0; j < n_floats; j++) f[j] = (float)j;
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 1, &n_floats, f,
                                           (uint64_t)n_floats * 4));
    free(f);
    return w;
}

static void check_unchanged(const char *path, const uint8_t *before, size_t n_before) {
    size_t n = 0;
    uint8_t *now = read_all(path, &n);
    CHECK(now && n == n_before && memcmp(now, before, n) == 0);
    free(now);
}

static int temp_files(void) { return count_prefixed(g_tmpdir, "model.gguf.tmp."); }

int main(void) {
    tmpdir_make();
    char path[512];
    snprintf(path, sizeof path, "%s/model.gguf", g_tmpdir);

    lora4j_gguf_writer *old = make_writer("old", 16);
    CHECK_OK(lora4j_gguf_writer_write(old, path));
    size_t n_old = 0;
    uint8_t *old_bytes = read_all(path, &n_old);
    CHECK(old_bytes != NULL && temp_files() == 0);

    /* 1. out of space half-way: a file size limit makes write() fail with EFBIG */
    lora4j_gguf_writer *big = make_writer("big", 1 << 20); /* 4 MiB of tensor data */
    struct rlimit saved, limit;
    getrlimit(RLIMIT_FSIZE, &saved);
    limit = saved;
    limit.rlim_cur = 1 << 20;
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    CHECK_FAIL(lora4j_gguf_writer_write(big, path), LORA4J_ERR_IO, "write failed after");
    setrlimit(RLIMIT_FSIZE, &saved);
    check_unchanged(path, old_bytes, n_old);
    CHECK(temp_files() == 0);

    /* 2. the rename fails: the target is a non-empty directory */
    char dir_target[600], inside[700];
    snprintf(dir_target, sizeof dir_target, "%s/model.gguf.d", g_tmpdir);
    snprintf(inside, sizeof inside, "%s/keep", dir_target);
    CHECK(mkdir(dir_target, 0755) == 0);
    write_bytes(inside, "keep", 4);
    CHECK_FAIL(lora4j_gguf_writer_write(old, dir_target), LORA4J_ERR_IO,
               "cannot rename the temporary file into place");
    check_unchanged(inside, (const uint8_t *)"keep", 4);
    CHECK(count_prefixed(g_tmpdir, "model.gguf.d.tmp.") == 0);

    /* 3. the temporary file cannot be created: missing directory */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-dir/model.gguf", g_tmpdir);
    CHECK_FAIL(lora4j_gguf_writer_write(old, missing), LORA4J_ERR_IO,
               "cannot create a temporary file beside it");
    CHECK(strncmp(lora4j_last_error(), missing, strlen(missing)) == 0);

    /* 4. a read-only directory (root ignores permissions, so only checked for other users) */
    if (geteuid() != 0) {
        CHECK(chmod(g_tmpdir, 0555) == 0);
        CHECK_FAIL(lora4j_gguf_writer_write(big, path), LORA4J_ERR_IO,
                   "cannot create a temporary file");
        CHECK(chmod(g_tmpdir, 0755) == 0);
        check_unchanged(path, old_bytes, n_old);
        CHECK(temp_files() == 0);
    } else {
        printf("running as root: read-only directory case not checked\n");
    }

    /* 5. a successful write replaces the file whole, while an open mapping keeps the old bytes */
    lora4j_gguf *before = NULL;
    CHECK_OK(lora4j_gguf_open(path, &before));
    CHECK_OK(lora4j_gguf_writer_write(big, path));
    CHECK(temp_files() == 0);
    lora4j_gguf *after = NULL;
    CHECK_OK(lora4j_gguf_open(path, &after));
    const char *name = NULL;
    uint64_t len;
    CHECK_OK(
        lora4j_gguf_get_string(after, lora4j_gguf_find_key(after, "general.name"), &name, &len));
    CHECK(name && strcmp(name, "big") == 0);
    CHECK_OK(
        lora4j_gguf_get_string(before, lora4j_gguf_find_key(before, "general.name"), &name, &len));
    CHECK(name && strcmp(name, "old") == 0);
    lora4j_tensor_info ti;
    CHECK_OK(lora4j_gguf_tensor_info(before, 0, &ti));
    CHECK(ti.ne[0] == 16 && ((const float *)ti.data)[15] == 15.0f);
    lora4j_gguf_close(before);
    lora4j_gguf_close(after);

    free(old_bytes);
    lora4j_gguf_writer_free(old);
    lora4j_gguf_writer_free(big);
    tmpdir_remove();
    return test_summary("test_gguf_atomic");
}
