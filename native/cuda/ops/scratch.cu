/* Per thread and device scratch buffers (ops/scratch.h). */
#include "ops/scratch.h"

#define SCRATCH_MAX_DEVICES 16

/* `done` is recorded on `last`, the stream of the last use, after its work: until it completes
 * that work may still read the buffers, so a use from another stream, or a growth (which frees
 * the old buffer), waits for it first (an event of our own: the caller's stream may be gone by
 * then). */
struct scratch_device {
    cudaEvent_t done; /* NULL until the first use */
    void *buf[LCU_SCRATCH_SLOTS];
    size_t cap[LCU_SCRATCH_SLOTS]; /* bytes */
    lcu_stream last;
};
struct scratch_thread {
    scratch_device dev[SCRATCH_MAX_DEVICES];
    ~scratch_thread() {
        int cur = 0;
        if (cudaGetDevice(&cur) != cudaSuccess) return;
        for (int d = 0; d < SCRATCH_MAX_DEVICES; d++) {
            scratch_device &sd = dev[d];
            if (!sd.done) continue;
            cudaSetDevice(d);
            cudaEventSynchronize(sd.done);
            cudaEventDestroy(sd.done);
            for (int i = 0; i < LCU_SCRATCH_SLOTS; i++) cudaFree(sd.buf[i]);
        }
        cudaSetDevice(cur);
    }
};
static thread_local scratch_thread t_scratch;

/* This thread's state on the current device, its event created; NULL when that fails. */
static scratch_device *scratch_device_now(void) {
    int d = 0;
    if (cudaGetDevice(&d) != cudaSuccess || d < 0 || d >= SCRATCH_MAX_DEVICES) return NULL;
    scratch_device *sd = &t_scratch.dev[d];
    if (!sd->done && cudaEventCreate(&sd->done) != cudaSuccess) {
        cudaGetLastError();
        sd->done = NULL;
        return NULL;
    }
    return sd;
}

void *lcu_scratch(lcu_stream s, int slot, size_t bytes) {
    if (slot < 0 || slot >= LCU_SCRATCH_SLOTS) return NULL;
    scratch_device *sd = scratch_device_now();
    if (!sd) return NULL;
    if (sd->last != s) cudaEventSynchronize(sd->done);
    sd->last = s;
    if (sd->cap[slot] >= bytes) return sd->buf[slot];
    void *p = NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
        cudaGetLastError(); /* not an error of the op: the callers have a path without scratch */
        return NULL;
    }
    cudaEventSynchronize(sd->done); /* earlier calls' work may still read the old buffer */
    cudaFree(sd->buf[slot]);
    sd->buf[slot] = p;
    sd->cap[slot] = bytes;
    return p;
}

void lcu_scratch_done(lcu_stream s) {
    scratch_device *sd = scratch_device_now();
    if (sd) cudaEventRecord(sd->done, s);
}
