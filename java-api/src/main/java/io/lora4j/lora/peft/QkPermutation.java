package io.lora4j.lora.peft;

import io.lora4j.Architecture;
import io.lora4j.Hparams;
import io.lora4j.lora.LoraTarget;

/**
 * The row order convert_hf_to_gguf gives llama's q_proj / k_proj (and their biases) so that
 * llama.cpp can rotate adjacent pairs: within each head of hd rows, GGUF row 2i+t holds HF row
 * t*(hd/2)+i. Only the output dimension moves, so a LoRA pair needs it on B's rows (and on a
 * bias), never on A.
 */
final class QkPermutation {
    private QkPermutation() {}

    /** Heads whose rows are permuted for target {@code t} of this model, or 0 when none are. */
    static int heads(Hparams hp, LoraTarget t) {
        if (hp.architecture() != Architecture.LLAMA) return 0;
        return switch (t) {
            case ATTN_Q -> hp.headCount();
            case ATTN_K -> hp.headCountKv();
            default -> 0;
        };
    }

    /** HF row order to GGUF row order; {@code values} holds rows of {@code rowLength} floats. */
    static float[] hfToGguf(float[] values, int heads, int rowLength) {
        return permute(values, heads, rowLength, true);
    }

    /** GGUF row order back to HF row order. */
    static float[] ggufToHf(float[] values, int heads, int rowLength) {
        return permute(values, heads, rowLength, false);
    }

    private static float[] permute(float[] values, int heads, int rowLength, boolean toGguf) {
        int rows = values.length / rowLength;
        if (heads < 1 || rows * rowLength != values.length || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException("cannot split " + rows + " rows into " + heads + " heads of an even size");
        }
        int hd = rows / heads;
        int half = hd / 2;
        float[] out = new float[values.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int t = 0; t < 2; t++) {
                    int gguf = h * hd + 2 * i + t;
                    int hf = h * hd + t * half + i;
                    int from = toGguf ? hf : gguf;
                    int to = toGguf ? gguf : hf;
                    System.arraycopy(values, from * rowLength, out, to * rowLength, rowLength);
                }
            }
        }
        return out;
    }
}
