/* Devices as the backend table reports them (device.cu). */
#ifndef LORA4J_CUDA_DEVICE_H
#define LORA4J_CUDA_DEVICE_H

#include "engine/engine.h"

/* Number of devices; 0 without any; a failure (with the reason) when the runtime is unusable. */
int32_t lcu_device_count(int32_t *out);
int32_t lcu_device_info(int32_t device, lora4j_device_info *out);
/* Makes `device` current for this host thread (CUDA's current device is per thread, and the JVM
 * calls from any thread); INVALID_ARGUMENT naming `what` when it does not exist. */
int32_t lcu_device_use(int32_t device, const char *what);
/* Free bytes on `device`. */
int32_t lcu_device_free_bytes(int32_t device, size_t *out);

#endif
