/* The emulation's own checks (and, on a GPU, the same kernels there): block barriers with shared
 * memory, warp shuffles, a wmma tile product, launch-configuration errors and, on the emulation,
 * the reports of a barrier that not every thread reaches and of a misaligned wmma load, and the
 * crash of a host read of device memory under LCU_EMU_GUARD. */
#include "lcu_test.h"

#ifdef LCU_EMU
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

/* Block sum through shared memory: every thread adds its value, barriers between halvings. */
__global__ void block_sum(const float *x, float *out, int n) {
    __shared__ float buf[256];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    buf[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) buf[threadIdx.x] += buf[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = buf[0];
}

/* Warp sum with xor shuffles, and a rotation with shfl. */
__global__ void warp_ops(const float *x, float *sum, float *rot) {
    float v = x[threadIdx.x];
    const float mine = v;
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    sum[threadIdx.x] = v;
    rot[threadIdx.x] = __shfl_sync(0xffffffffu, mine, (threadIdx.x + 1) % 32);
}

/* C[32][32] = A[32][16] · B[16][32] with four warps, one 16x16 tile each. */
__global__ void wmma_tile(const lcu_bf16 *a, const lcu_bf16 *b, float *c) {
    using namespace nvcuda;
    const int warp = threadIdx.x / 32, tm = warp / 2, tn = warp % 2;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
    wmma::fill_fragment(fc, 0.0f);
    wmma::load_matrix_sync(fa, a + tm * 16 * 16, 16);
    wmma::load_matrix_sync(fb, b + tn * 16, 32);
    wmma::mma_sync(fc, fa, fb, fc);
    for (int i = 0; i < fc.num_elements; i++) fc.x[i] *= 2.0f;
    wmma::store_matrix_sync(c + tm * 16 * 32 + tn * 16, fc, 32, wmma::mem_row_major);
}

/* Lane 0 waits at the block barrier while lanes 1..31 wait for it at a warp barrier. */
__global__ void deadlock(float *x) {
    if (threadIdx.x == 0) __syncthreads();
    else __syncwarp();
    x[threadIdx.x] = 1.0f;
}

__global__ void uses_dyn_smem(float *x) {
    LCU_DYN_SMEM(float, buf);
    buf[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    x[threadIdx.x] = buf[(threadIdx.x + 1) % blockDim.x];
}

int main(void) {
    int skip = lcu_test_require_device();
    if (skip) return skip;
    cudaStream_t s;
    LCU_TEST_CUDA(cudaStreamCreate(&s));

    enum { N = 1000, B = 256 };
    float hx[N];
    lcu_test_fill(hx, N, 1, -1.0f, 1.0f);
    float *dx = lcu_test_upload(hx, N), *dsum;
    LCU_TEST_CUDA(cudaMalloc((void **)&dsum, 4 * sizeof(float)));
    LCU_LAUNCH(block_sum, 4, B, 0, s, dx, dsum, N);
    LCU_TEST_CUDA(cudaGetLastError());
    float hs[4];
    lcu_test_download(hs, dsum, 4);
    for (int b = 0; b < 4; b++) {
        double ref = 0;
        for (int i = b * B; i < (b + 1) * B && i < N; i++) ref += hx[i];
        LCU_TEST_CHECK(fabs(hs[b] - ref) < 1e-4, "block %d sum %g, expected %g", b, hs[b], ref);
    }

    float *dsw, *drot;
    LCU_TEST_CUDA(cudaMalloc((void **)&dsw, 32 * sizeof(float)));
    LCU_TEST_CUDA(cudaMalloc((void **)&drot, 32 * sizeof(float)));
    LCU_LAUNCH(warp_ops, 1, 32, 0, s, dx, dsw, drot);
    float hw[32], hr[32];
    lcu_test_download(hw, dsw, 32);
    lcu_test_download(hr, drot, 32);
    double wref = 0;
    for (int i = 0; i < 32; i++) wref += hx[i];
    for (int i = 0; i < 32; i++) {
        LCU_TEST_CHECK(fabs(hw[i] - wref) < 1e-4, "lane %d warp sum %g, expected %g", i, hw[i], wref);
        LCU_TEST_CHECK(hr[i] == hx[(i + 1) % 32], "lane %d rotation %g, expected %g", i, hr[i], hx[(i + 1) % 32]);
    }

    float fa[32 * 16], fb[16 * 32];
    lcu_test_fill(fa, 32 * 16, 2, -1.0f, 1.0f);
    lcu_test_fill(fb, 16 * 32, 3, -1.0f, 1.0f);
    lcu_bf16 ha[32 * 16], hb[16 * 32];
    for (int i = 0; i < 32 * 16; i++) {
        ha[i] = __float2bfloat16(fa[i]);
        hb[i] = __float2bfloat16(fb[i]);
    }
    lcu_bf16 *da = lcu_test_upload(ha, 32 * 16), *db = lcu_test_upload(hb, 16 * 32);
    float *dc;
    LCU_TEST_CUDA(cudaMalloc((void **)&dc, 32 * 32 * sizeof(float)));
    LCU_LAUNCH(wmma_tile, 1, 128, 0, s, da, db, dc);
    LCU_TEST_CUDA(cudaGetLastError());
    float hc[32 * 32];
    lcu_test_download(hc, dc, 32 * 32);
    for (int m = 0; m < 32; m++) {
        for (int n = 0; n < 32; n++) {
            double ref = 0;
            for (int k = 0; k < 16; k++) ref += (double)__bfloat162float(ha[m * 16 + k]) * __bfloat162float(hb[k * 32 + n]);
            ref *= 2;
            LCU_TEST_CHECK(fabs(hc[m * 32 + n] - ref) < 1e-4, "wmma C[%d][%d] = %g, expected %g", m, n, hc[m * 32 + n], ref);
        }
    }

    /* 2048 threads per block is beyond every GPU's limit */
    LCU_LAUNCH(warp_ops, 1, 2048, 0, s, dx, dsw, drot);
    LCU_TEST_CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration, "an oversized block must fail");

    /* 64 KiB of dynamic shared memory needs the attribute first */
    float *dd;
    LCU_TEST_CUDA(cudaMalloc((void **)&dd, 64 * sizeof(float)));
    LCU_LAUNCH(uses_dyn_smem, 1, 64, 64 * 1024, s, dd);
    LCU_TEST_CHECK(cudaGetLastError() != cudaSuccess, "64 KiB of dynamic shared memory without the attribute must fail");
    LCU_TEST_CUDA(cudaFuncSetAttribute(uses_dyn_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
    LCU_LAUNCH(uses_dyn_smem, 1, 64, 64 * 1024, s, dd);
    LCU_TEST_CUDA(cudaGetLastError());
    float hd[64];
    lcu_test_download(hd, dd, 64);
    for (int i = 0; i < 64; i++) LCU_TEST_CHECK(hd[i] == (float)((i + 1) % 64), "dyn smem [%d] = %g", i, hd[i]);

#ifdef LCU_EMU
    /* faults that would break the context of a real GPU, so they are only provoked here */
    LCU_LAUNCH(deadlock, 1, 64, 0, s, dd);
    LCU_TEST_CHECK(cudaGetLastError() == cudaErrorLaunchFailure, "a barrier not every thread reaches must be reported");
    LCU_LAUNCH(wmma_tile, 1, 128, 0, s, da + 8, db, dc);
    LCU_TEST_CHECK(cudaGetLastError() == cudaErrorMisalignedAddress, "a wmma load from a 16-byte aligned pointer must fault");
    /* with guarded device memory, host code reading a device pointer crashes (in a child here) */
    const char *guard = getenv("LCU_EMU_GUARD");
    if (guard && strcmp(guard, "1") == 0) {
        fflush(NULL);
        const pid_t pid = fork();
        if (pid == 0) _exit((int)*(volatile float *)dx == 12345 ? 3 : 0);
        int status = 0;
        waitpid(pid, &status, 0);
        LCU_TEST_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                       "a host read of device memory must crash under LCU_EMU_GUARD (status %d)", status);
    }
#endif
    cudaFree(dx);
    cudaFree(dsum);
    cudaFree(dsw);
    cudaFree(drot);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dc);
    cudaFree(dd);
    cudaStreamDestroy(s);
    return lcu_test_finish("test_cuda_emu");
}
