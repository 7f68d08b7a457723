/* Device scratch buffers that ops reuse call after call (cuBLAS's bf16 operands, split-K's
 * partial sums): one set per host thread and device, allocated on first use, grown when a call
 * needs more (cudaMalloc then, never once the sizes have been seen), freed when the thread ends.
 * Per thread, because two threads may run ops at once on different streams. */
#ifndef LORA4J_CUDA_SCRATCH_H
#define LORA4J_CUDA_SCRATCH_H

#include "lcu.h"

enum { LCU_SCRATCH_BLAS_A, LCU_SCRATCH_BLAS_B, LCU_SCRATCH_SPLITK, LCU_SCRATCH_SLOTS };

/* Buffer `slot` of this thread on the current device, at least `bytes` long, for work about to
 * be queued on stream s; NULL when it cannot be allocated (the CUDA error is cleared, the old
 * buffer kept). When the last use of this thread's scratch on this device was on another stream,
 * its work is waited for first, as it may still read the buffers. */
void *lcu_scratch(lcu_stream s, int slot, size_t bytes);

/* Call after queuing on s the work that uses the scratch: marks it as the last use. */
void lcu_scratch_done(lcu_stream s);

#endif
