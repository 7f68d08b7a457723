#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static void log_to_stderr(int32_t level, const char *message, void *user_data) {
    if (level >= LORA4J_LOG_WARN) fprintf(stderr, "lora4j: %s\n", message);
}

/* Set once by the host before work starts; reads race-free enough for a logger. */
static lora4j_log_callback g_log_cb = log_to_stderr;
static void *g_log_user_data = NULL;

LORA4J_API void lora4j_log_set(lora4j_log_callback cb, void *user_data) {
    g_log_cb = cb;
    g_log_user_data = user_data;
}

void l4_log(int32_t level, const char *fmt, ...) {
    lora4j_log_callback cb = g_log_cb;
    if (!cb) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cb(level, buf, g_log_user_data);
}
