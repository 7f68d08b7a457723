package io.lora4j.lora.peft;

/**
 * convert_hf_to_gguf's llama Q/K permutation written as its NumPy expression, independently of
 * {@link QkPermutation}: W.reshape(heads, 2, rows/heads/2, cols).swapaxes(1, 2).reshape(rows, cols).
 */
final class HfPermutation {
    private HfPermutation() {}

    static float[] toGguf(float[] hf, int heads, int cols) {
        int rows = hf.length / cols;
        int d2 = rows / heads / 2;
        // Source shape (heads, 2, d2, cols); result shape (heads, d2, 2, cols) with out[a][c][b][e] = in[a][b][c][e].
        float[] out = new float[hf.length];
        for (int a = 0; a < heads; a++)
            for (int b = 0; b < 2; b++)
                for (int c = 0; c < d2; c++)
                    for (int e = 0; e < cols; e++)
                        out[((a * d2 + c) * 2 + b) * cols + e] = hf[((a * 2 + b) * d2 + c) * cols + e];
        return out;
    }
}
