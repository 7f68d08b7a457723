/* The engine's side of the backend ABI: the CUDA backend library, loaded at most once, on first
 * use, and the way its errors become this library's. */
#ifndef LORA4J_BACKEND_LOAD_H
#define LORA4J_BACKEND_LOAD_H

#include "backend/backend.h"

/* The loaded backend (thread-safe; loads on the first call). On failure *out is NULL and the
 * message says why (no library in this build, dlopen's error, another ABI), every time. */
int32_t l4_backend_get(const l4_backend **out);

/* Sets this thread's message to "<what>: <the backend's last error>" (what NULL: the backend's
 * message alone) and returns st. */
int32_t l4_backend_fail(const l4_backend *be, int32_t st, const char *what);

/* LORA4J_ERR_UNSUPPORTED "the <name> backend has no <fn>", for a NULL entry of the table. */
int32_t l4_backend_missing(const l4_backend *be, const char *fn);

#endif
