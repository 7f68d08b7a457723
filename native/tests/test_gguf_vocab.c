/* Every vocab-only GGUF in shared/vocab (written by llama.cpp's tools) opens, holds a coherent
 * tokenizer, and is reproduced byte for byte by copying its KVs through the writer. */
#include <dirent.h>

#include "gguf_test.h"

static int64_t key_of_type(const lora4j_gguf *g, const char *key, int32_t type) {
    int64_t i = lora4j_gguf_find_key(g, key);
    CHECK(i >= 0 && lora4j_gguf_kv_type(g, i) == type);
    return i;
}

static uint64_t array_of(const lora4j_gguf *g, const char *key, int32_t elem_type) {
    int64_t i = key_of_type(g, key, LORA4J_GGUF_ARRAY);
    int32_t t = -1;
    uint64_t n = 0;
    CHECK_OK(lora4j_gguf_get_array_info(g, i, &t, &n));
    CHECK(t == elem_type);
    return n;
}

static void check_tokenizer(const lora4j_gguf *g, const char *file) {
    const char *model;
    uint64_t len;
    CHECK_OK(lora4j_gguf_get_string(g, key_of_type(g, "tokenizer.ggml.model", LORA4J_GGUF_STRING),
                                    &model, &len));
    uint64_t n_tok = array_of(g, "tokenizer.ggml.tokens", LORA4J_GGUF_STRING);
    CHECK(n_tok > 0 && array_of(g, "tokenizer.ggml.token_type", LORA4J_GGUF_INT32) == n_tok);
    if (lora4j_gguf_find_key(g, "tokenizer.ggml.scores") >= 0) {
        CHECK(array_of(g, "tokenizer.ggml.scores", LORA4J_GGUF_FLOAT32) == n_tok);
    }
    if (strcmp(model, "gpt2") == 0)
        CHECK(array_of(g, "tokenizer.ggml.merges", LORA4J_GGUF_STRING) > 0);
    int64_t bos = 0;
    CHECK_OK(lora4j_gguf_get_scalar(
        g, key_of_type(g, "tokenizer.ggml.bos_token_id", LORA4J_GGUF_UINT32), &bos, NULL));
    CHECK(bos >= 0 && (uint64_t)bos < n_tok);
    const int32_t *types = NULL;
    CHECK_OK(lora4j_gguf_get_array_data(g, lora4j_gguf_find_key(g, "tokenizer.ggml.token_type"),
                                        (const void **)&types));
    int types_ok = 1;
    for (uint64_t j = 0; types && j < n_tok; j++) types_ok &= types[j] >= 1 && types[j] <= 6;
    CHECK(types_ok);

    /* facts of the SentencePiece llama vocabulary */
    if (strstr(file, "llama-spm")) {
        const char *s;
        int64_t tokens = lora4j_gguf_find_key(g, "tokenizer.ggml.tokens");
        CHECK(strcmp(model, "llama") == 0 && n_tok == 32000 && bos == 1);
        CHECK_OK(lora4j_gguf_get_array_string(g, tokens, 1, &s, &len));
        CHECK(len == 3 && strcmp(s, "<s>") == 0);
        CHECK_OK(lora4j_gguf_get_array_string(g, tokens, 0x0A + 3, &s,
                                              &len)); /* byte tokens start at id 3 */
        CHECK(strcmp(s, "<0x0A>") == 0);
    }
    if (strstr(file, "gpt-2")) {
        CHECK(n_tok == 50257 && array_of(g, "tokenizer.ggml.merges", LORA4J_GGUF_STRING) == 50000);
    }
}

/* Copy every KV into a writer and compare the written file with the original. */
static void check_rewrite(const lora4j_gguf *g, const char *path) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    for (int64_t i = 0; i < lora4j_gguf_n_kv(g); i++) CHECK_OK(lora4j_gguf_writer_copy_kv(w, g, i));
    const char *out = tmp_path("rewrite.gguf");
    CHECK_OK(lora4j_gguf_writer_write(w, out));
    lora4j_gguf_writer_free(w);
    size_t n_a = 0, n_b = 0;
    uint8_t *a = read_all(path, &n_a), *b = read_all(out, &n_b);
    CHECK(a && b && n_a == n_b && memcmp(a, b, n_a) == 0);
    free(a);
    free(b);
}

int main(void) {
    char dir[512];
    if (!find_vocab_dir(dir, sizeof dir)) {
        fprintf(stderr, "shared/vocab not found from %s (set LORA4J_SHARED_DIR)\n",
                getcwd(dir, sizeof dir));
        return 1;
    }
    tmpdir_make();
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".gguf") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        lora4j_gguf *g = NULL;
        CHECK_OK(lora4j_gguf_open(path, &g));
        if (!g) continue;
        files++;
        CHECK(lora4j_gguf_version(g) == 3 && lora4j_gguf_n_tensors(g) == 0 &&
              lora4j_gguf_alignment(g) == 32);
        const char *arch;
        uint64_t len;
        CHECK_OK(lora4j_gguf_get_string(
            g, key_of_type(g, "general.architecture", LORA4J_GGUF_STRING), &arch, &len));
        CHECK(len > 0);
        check_tokenizer(g, e->d_name);
        check_rewrite(g, path);
        printf("%s: %lld keys, arch %s\n", e->d_name, (long long)lora4j_gguf_n_kv(g), arch);
        lora4j_gguf_close(g);
    }
    if (d) closedir(d);
    CHECK(files >= 4);
    tmpdir_remove();
    return test_summary("test_gguf_vocab");
}
