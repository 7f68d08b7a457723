/* lcu_head_logprobs against the CPU engine's l4_head_logprobs (an f32 head W [V][E], so the CPU's
 * logits are exactly the GPU's input): vocabularies smaller than a block (37), odd (1001) and
 * llama-sized (32000); rows without a target (lp 0, zero gradient) and with weight 0 (zero
 * gradient); a row of logits in the hundreds (exp overflows unless the max is taken out first);
 * without w, lp alone and the logits left as they were. Bounds: lp 1e-5 of the largest |lp|,
 * dlogits 1e-5 of the largest |dlogit| (f32 sums of exp over the row in another order). */
#include <vector>

#include "lcu_test.h"
#include "ops/ops.h"

extern "C" {
#include "train/grad_ops.h"
}

typedef std::vector<float> fvec;

static void test_head(int64_t V, int64_t m, float big_row_scale, unsigned seed) {
    const int64_t E = 16;
    printf("V %lld, %lld rows\n", (long long)V, (long long)m);
    fvec w((size_t)(V * E)), xn((size_t)(m * E));
    lcu_test_fill(w.data(), w.size(), seed, -1.0f, 1.0f);
    lcu_test_fill(xn.data(), xn.size(), seed + 1, -1.0f, 1.0f);
    for (int64_t e = 0; e < E; e++) xn[(size_t)(E + e)] *= big_row_scale; /* row 1 */
    std::vector<int32_t> tgt((size_t)m);
    fvec wt((size_t)m);
    for (int64_t i = 0; i < m; i++) {
        tgt[(size_t)i] = (int32_t)((i * 7919 + 13) % V);
        wt[(size_t)i] = 0.25f + 0.5f * (float)i;
    }
    tgt[(size_t)(m - 1)] = -1;       /* no target */
    tgt[0] = (int32_t)(V - 1);       /* the last logit */
    if (m > 3) wt[2] = 0.0f;         /* a target without gradient */
    const l4_matrix head = {LORA4J_TYPE_F32, E, V, w.data()};

    /* the CPU's logits and log-probabilities (no weights: the scratch keeps the logits) */
    fvec logits((size_t)(m * V)), lp_want((size_t)m);
    l4_head_logprobs(&head, NULL, xn.data(), m, tgt.data(), NULL, lp_want.data(), NULL, NULL, logits.data(), m, 1);

    float *d_logits = lcu_test_upload(logits.data(), logits.size()), *d_lp = lcu_test_alloc<float>((size_t)m);
    float *d_w = lcu_test_upload(wt.data(), wt.size());
    int32_t *d_tgt = lcu_test_upload(tgt.data(), tgt.size());
    fvec lp((size_t)m), got((size_t)(m * V));

    lcu_head_logprobs(0, d_logits, m, V, d_tgt, NULL, d_lp);
    lcu_test_sync();
    lcu_test_download(lp.data(), d_lp, lp.size());
    lcu_test_download(got.data(), d_logits, got.size());
    lcu_test_compare("lp (no w)", lp.data(), lp_want.data(), lp.size(), 1e-5);
    lcu_test_compare("logits untouched (no w)", got.data(), logits.data(), got.size(), 0.0);

    lcu_head_logprobs(0, d_logits, m, V, d_tgt, d_w, d_lp);
    lcu_test_sync();
    lcu_test_download(lp.data(), d_lp, lp.size());
    lcu_test_download(got.data(), d_logits, got.size());
    fvec dlogits = logits;
    l4_head_logprobs(&head, NULL, xn.data(), m, tgt.data(), wt.data(), lp_want.data(), NULL, NULL, dlogits.data(), m,
                     1);
    /* the CPU leaves the rows it does not differentiate alone; the GPU zeroes them */
    for (int64_t i = 0; i < m; i++)
        if (tgt[(size_t)i] < 0 || wt[(size_t)i] == 0.0f)
            for (int64_t v = 0; v < V; v++) dlogits[(size_t)(i * V + v)] = 0.0f;
    lcu_test_compare("lp (with w)", lp.data(), lp_want.data(), lp.size(), 1e-5);
    lcu_test_compare("dlogits = w (onehot - softmax)", got.data(), dlogits.data(), got.size(), 1e-5);
    int finite = 1;
    for (float g : got) finite &= g == g && g - g == 0.0f;
    LCU_TEST_CHECK(finite, "V %lld: a non-finite gradient", (long long)V);
    cudaFree(d_logits), cudaFree(d_lp), cudaFree(d_w), cudaFree(d_tgt);
}

int main(void) {
    if (lcu_test_require_device()) return LCU_TEST_SKIP;
    test_head(37, 5, 1.0f, 1);
    test_head(1001, 7, 40.0f, 3);
    test_head(32000, 4, 1.0f, 5);
    return lcu_test_finish("test_cuda_head");
}
