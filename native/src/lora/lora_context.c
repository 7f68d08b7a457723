/* lora4j_context_set_adapters: the adapters an inference context applies, validated against its
 * model, with their own copies of the pointer and scale lists and an h scratch of n_batch rows.
 * A device context copies the adapters' values to the device instead (at this call). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "infer/context.h"
#include "lora/lora_stack.h"

LORA4J_API lora4j_status_t lora4j_context_set_adapters(lora4j_context *ctx,
                                                       const lora4j_adapter *const *adapters,
                                                       const float *scales, int32_t n) {
    l4_clear_error();
    if (!ctx) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_set_adapters: context is NULL");
    if (n < 0) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_set_adapters: n %d is negative", n);
    if (n > 0 && (!adapters || !scales)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_set_adapters: NULL adapters or scales");
    }
    for (int32_t i = 0; i < n; i++) {
        if (!adapters[i]) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_set_adapters: adapter %d is NULL", i);
        if (!isfinite(scales[i])) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_set_adapters: scale %d is %g, not finite", i,
                           scales[i]);
        }
        int32_t st = l4_adapter_check_model(adapters[i], ctx->model, "context_set_adapters");
        if (st != LORA4J_OK) return l4_fail_context(st, "adapter %d", i);
    }
    if (ctx->dev) return l4_device_set_adapters(ctx, adapters, scales, n);
    void *mem = NULL;
    l4_lora_stack s = {0};
    if (n > 0) {
        const int64_t rank = l4_lora_max_rank(adapters, n);
        const size_t ptr_bytes = (size_t)n * sizeof(void *), scale_bytes = (size_t)n * sizeof(float);
        const size_t h_floats = (size_t)ctx->p.n_batch * (size_t)(rank > 0 ? rank : 1);
        mem = malloc(ptr_bytes + scale_bytes + h_floats * sizeof(float));
        if (!mem) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "context_set_adapters: no memory");
        const lora4j_adapter **list = mem;
        float *sc = (float *)((char *)mem + ptr_bytes);
        memcpy(list, adapters, ptr_bytes);
        memcpy(sc, scales, scale_bytes);
        s = (l4_lora_stack){list, sc, n, sc + n, ctx->p.n_batch};
    }
    free(ctx->lora_mem);
    ctx->lora_mem = mem;
    ctx->lora = s;
    return LORA4J_OK;
}
