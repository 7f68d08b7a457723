/* Engine logging, routed to the callback set with lora4j_log_set(). */
#ifndef LORA4J_CORE_LOG_H
#define LORA4J_CORE_LOG_H

#include "lora4j.h"

void l4_log(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
