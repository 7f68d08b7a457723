/* The backend table liblora4j.so loads (src/backend/backend.h): devices, the model upload, the
 * trainer and inference contexts. */
#include "engine/context.h"
#include "engine/device.h"
#include "engine/engine.h"
#include "engine/trainer.h"

static int32_t model_upload(int32_t device, const l4b_model *m, void **out) {
    *out = NULL;
    int32_t st = lcu_device_use(device, "model_upload");
    if (st != LORA4J_OK) return st;
    lcu_dmodel *d = NULL;
    st = lcu_dmodel_upload(device, m, &d);
    *out = d;
    return st;
}

static void model_free(void *m) { lcu_dmodel_free((lcu_dmodel *)m); }

static l4_backend make_table(void) {
    l4_backend b;
    memset(&b, 0, sizeof b);
    b.abi = L4_BACKEND_ABI;
#ifdef LCU_EMU
    b.name = "cuda-emulation";
#else
    b.name = "cuda";
#endif
    b.last_error = lcu_last_error;
    b.device_count = lcu_device_count;
    b.device_info = lcu_device_info;
    b.model_upload = model_upload;
    b.model_free = model_free;
    b.context_new = lcu_context_new;
    b.context_free = lcu_context_free;
    b.context_set_adapters = lcu_context_set_adapters;
    b.context_decode = lcu_context_decode;
    b.context_kv_copy = lcu_context_kv_copy;
    b.trainer_plan = lcu_trainer_plan;
    b.trainer_new = lcu_trainer_new;
    b.trainer_free = lcu_trainer_free;
    b.trainer_step = lcu_trainer_step;
    b.trainer_zero_grad = lcu_trainer_zero_grad;
    b.trainer_grad_sumsq = lcu_trainer_grad_sumsq;
    b.trainer_update = lcu_trainer_update;
    b.trainer_moments = lcu_trainer_moments;
    return b;
}

static const l4_backend k_table = make_table();

extern "C" __attribute__((visibility("default"))) const l4_backend *lora4j_backend_get(int32_t abi) {
    return abi == L4_BACKEND_ABI ? &k_table : NULL;
}
