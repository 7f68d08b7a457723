/* Thread-local error messages behind lora4j_last_error(). */
#ifndef LORA4J_CORE_ERROR_H
#define LORA4J_CORE_ERROR_H

#include "lora4j.h"

/* Record a formatted message for this thread and return `status`, so callers can write
 * `return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s': ...", name);`. */
int32_t l4_fail(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the current message with more context ("while reading X: <old message>"). */
int32_t l4_fail_context(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear this thread's message (done at the start of every public call that can fail). */
void l4_clear_error(void);

#endif
