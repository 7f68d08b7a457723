/* Without a CUDA backend library (this process points LORA4J_CUDA_LIBRARY at a missing file before
 * the first use), every CUDA entry point fails cleanly and says why, while the CPU keeps
 * working: the situation of a jar on a machine without the backend. */
#include <stdlib.h>

#include "lora_fixture.h"

int main(void) {
    setenv("LORA4J_CUDA_LIBRARY", "/nonexistent/liblora4j-cuda.so", 1);
    tmpdir_make();
    CHECK(lora4j_cuda_device_count() == -1);
    CHECK(strstr(lora4j_last_error(), "no CUDA backend") != NULL);
    CHECK(strstr(lora4j_last_error(), "/nonexistent/liblora4j-cuda.so") != NULL);
    lora4j_device_info info;
    CHECK_FAIL(lora4j_cuda_device_info(0, &info), LORA4J_ERR_UNSUPPORTED, "no CUDA backend");

    const fx_model fm = lf_tiny();
    lora4j_model *m = lf_load(&fm, "tiny.gguf");
    lora4j_adapter *ad = m ? lf_adapter(m, 4, 8, LORA4J_TARGET_ALL) : NULL;
    if (ad) {
        lora4j_train_params tp = lora4j_train_default_params();
        CHECK(tp.device == -1);
        tp.n_rows = 1;
        tp.n_seq = 8;
        tp.device = 0;
        lora4j_trainer *tr = NULL;
        lora4j_memory_plan plan;
        CHECK_FAIL(lora4j_trainer_plan(m, ad, &tp, &plan), LORA4J_ERR_UNSUPPORTED, "no CUDA backend");
        CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr), LORA4J_ERR_UNSUPPORTED, "no CUDA backend");
        CHECK(tr == NULL);
        /* the message stays the same on every later call (the load is attempted once) */
        CHECK(lora4j_cuda_device_count() == -1 && strstr(lora4j_last_error(), "no CUDA backend") != NULL);
        tp.device = -1;
        CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
        lora4j_trainer_free(tr);
    }
    lora4j_adapter_free(ad);
    lora4j_model_free(m);
    tmpdir_remove();
    return test_summary("test_backend_load");
}
