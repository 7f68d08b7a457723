/* The engine's model and adapters as the backend ABI sees them, and each model's device copies
 * (one upload per model and device, shared by every context and trainer on that device). */
#ifndef LORA4J_BACKEND_MODEL_H
#define LORA4J_BACKEND_MODEL_H

#include "backend/backend.h"
#include "lora/adapter.h"
#include "model/model.h"

/* Fills out with m's weights; layers has room for m->hp.n_layer. */
void l4_backend_describe_model(const lora4j_model *m, l4b_model *out, l4b_layer *layers);

/* An adapter's pairs and factors (views into ad, no copy). */
l4b_adapter l4_backend_adapter(const lora4j_adapter *ad);

/* The model on `device`, uploaded on the first call and cached in the model until
 * lora4j_model_free (thread-safe). */
int32_t l4_backend_model(const lora4j_model *m, int32_t device, const l4_backend **be, void **out);

/* 1 when m already has a copy on `device`. */
int l4_backend_model_resident(const lora4j_model *m, int32_t device);

/* Frees every device copy of m (lora4j_model_free). */
void l4_backend_models_free(lora4j_model *m);

#endif
