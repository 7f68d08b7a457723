/* An inference context on a CUDA device when the backend library cannot be loaded (this process
 * points LORA4J_CUDA_LIBRARY at a missing file before the first use): context_new fails cleanly,
 * naming the device and why, and CPU contexts keep working. */
#include <stdlib.h>

#include "lora_fixture.h"

int main(void) {
    setenv("LORA4J_CUDA_LIBRARY", "/nonexistent/liblora4j-cuda.so", 1);
    tmpdir_make();
    const fx_model fm = lf_tiny();
    lora4j_model *m = lf_load(&fm, "tiny.gguf");
    if (m) {
        lora4j_context_params cp = lora4j_context_default_params();
        CHECK(cp.device == -1);
        cp.n_ctx = 16;
        cp.device = 0;
        lora4j_context *ctx = NULL;
        CHECK_FAIL(lora4j_context_new(m, cp, &ctx), LORA4J_ERR_UNSUPPORTED, "context_new on CUDA device 0");
        CHECK(strstr(lora4j_last_error(), "no CUDA backend") != NULL);
        CHECK(strstr(lora4j_last_error(), "/nonexistent/liblora4j-cuda.so") != NULL);
        CHECK(ctx == NULL);

        cp.device = -1;
        CHECK_OK(lora4j_context_new(m, cp, &ctx));
        const int32_t tok[3] = {1, 2, 3};
        float logits[64];
        if (ctx) CHECK_OK(lora4j_decode(ctx, tok, NULL, NULL, 3, NULL, logits, fm.n_vocab));
        lora4j_context_free(ctx);
    }
    lora4j_model_free(m);
    tmpdir_remove();
    return test_summary("test_context_no_backend");
}
