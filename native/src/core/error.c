#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define L4_ERROR_CAPACITY 1024

static _Thread_local char tl_message[L4_ERROR_CAPACITY];

int32_t l4_fail(int32_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    return status;
}

int32_t l4_fail_context(int32_t status, const char *fmt, ...) {
    char old[L4_ERROR_CAPACITY];
    memcpy(old, tl_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof tl_message) {
        /* Keep as much of the earlier message as still fits. */
        size_t room = sizeof tl_message - (size_t)n;
        if (room > 3) {
            memcpy(tl_message + n, ": ", 2);
            size_t len = strnlen(old, room - 3);
            memcpy(tl_message + n + 2, old, len);
            tl_message[n + 2 + len] = '\0';
        }
    }
    return status;
}

void l4_clear_error(void) { tl_message[0] = '\0'; }

LORA4J_API const char *lora4j_last_error(void) { return tl_message; }

LORA4J_API const char *lora4j_version(void) { return "0.1.0"; }
