package io.lora4j.tools;

import io.lora4j.TensorType;
import io.lora4j.gguf.GgufWriter;
import io.lora4j.internal.lora4j_h;
import io.lora4j.engine.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a llama-family GGUF model with random weights and a {@link SyntheticVocab}: the models
 * the tests, benchmarks and the demo start from (nothing is downloaded).
 */
public final class SyntheticModel {
    private String architecture = "llama";
    private int embd = 64;
    private int layers = 2;
    private int heads = 4;
    private int headsKv = 4;
    private int ff = 128;
    private int vocab = 512;
    private int context = 256;
    private boolean tiedOutput;
    private boolean qkvBias;
    private TensorType weightType = TensorType.F32;
    private long seed = 42;
    private float weightScale = 0.05f;
    private String chatTemplate;

    public static SyntheticModel builder() {
        return new SyntheticModel();
    }

    /** The stories15M shape: dim 288, 6 layers, 6 heads, ffn 768, vocab 32000, untied output. */
    public static SyntheticModel stories15M() {
        return builder().embeddingLength(288).blockCount(6).heads(6, 6).feedForwardLength(768)
                .vocabSize(32000).contextLength(256);
    }

    public SyntheticModel architecture(String arch) { this.architecture = arch; return this; }
    public SyntheticModel embeddingLength(int n) { this.embd = n; return this; }
    public SyntheticModel blockCount(int n) { this.layers = n; return this; }
    public SyntheticModel heads(int n, int nKv) { this.heads = n; this.headsKv = nKv; return this; }
    public SyntheticModel feedForwardLength(int n) { this.ff = n; return this; }
    public SyntheticModel vocabSize(int n) { this.vocab = n; return this; }
    public SyntheticModel contextLength(int n) { this.context = n; return this; }
    public SyntheticModel tiedOutput(boolean tied) { this.tiedOutput = tied; return this; }
    public SyntheticModel qkvBias(boolean bias) { this.qkvBias = bias; return this; }
    public SyntheticModel weightType(TensorType type) { this.weightType = type; return this; }
    public SyntheticModel seed(long seed) { this.seed = seed; return this; }
    public SyntheticModel weightScale(float scale) { this.weightScale = scale; return this; }
    public SyntheticModel chatTemplate(String jinja) { this.chatTemplate = jinja; return this; }

    public void write(Path path) {
        SplittableRandom rng = new SplittableRandom(seed);
        SyntheticVocab v = SyntheticVocab.of(vocab);
        int headDim = embd / heads;
        try (GgufWriter w = new GgufWriter()) {
            String a = architecture;
            w.putString("general.architecture", a)
                    .putString("general.name", "lora4j synthetic " + a)
                    .putUInt32("general.alignment", 32)
                    .putUInt32(a + ".context_length", context)
                    .putUInt32(a + ".embedding_length", embd)
                    .putUInt32(a + ".block_count", layers)
                    .putUInt32(a + ".feed_forward_length", ff)
                    .putUInt32(a + ".attention.head_count", heads)
                    .putUInt32(a + ".attention.head_count_kv", headsKv)
                    .putUInt32(a + ".rope.dimension_count", headDim)
                    .putFloat32(a + ".rope.freq_base", 10000f)
                    .putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f)
                    .putString("tokenizer.ggml.model", "llama")
                    .putStrings("tokenizer.ggml.tokens", v.tokens())
                    .putFloats("tokenizer.ggml.scores", v.scores())
                    .putInts("tokenizer.ggml.token_type", v.types())
                    .putUInt32("tokenizer.ggml.bos_token_id", SyntheticVocab.BOS)
                    .putUInt32("tokenizer.ggml.eos_token_id", SyntheticVocab.EOS)
                    .putUInt32("tokenizer.ggml.unknown_token_id", SyntheticVocab.UNK)
                    .putBool("tokenizer.ggml.add_bos_token", true)
                    .putBool("tokenizer.ggml.add_eos_token", false);
            if (chatTemplate != null) w.putString("tokenizer.chat_template", chatTemplate);
            weight(w, rng, "token_embd.weight", embd, vocab);
            for (int l = 0; l < layers; l++) {
                String p = "blk." + l + ".";
                ones(w, p + "attn_norm.weight", embd);
                weight(w, rng, p + "attn_q.weight", embd, heads * headDim);
                weight(w, rng, p + "attn_k.weight", embd, headsKv * headDim);
                weight(w, rng, p + "attn_v.weight", embd, headsKv * headDim);
                if (qkvBias) {
                    bias(w, rng, p + "attn_q.bias", heads * headDim);
                    bias(w, rng, p + "attn_k.bias", headsKv * headDim);
                    bias(w, rng, p + "attn_v.bias", headsKv * headDim);
                }
                weight(w, rng, p + "attn_output.weight", heads * headDim, embd);
                ones(w, p + "ffn_norm.weight", embd);
                weight(w, rng, p + "ffn_gate.weight", embd, ff);
                weight(w, rng, p + "ffn_up.weight", embd, ff);
                weight(w, rng, p + "ffn_down.weight", ff, embd);
            }
            ones(w, "output_norm.weight", embd);
            if (!tiedOutput) weight(w, rng, "output.weight", embd, vocab);
            w.write(path);
        }
    }

    private void weight(GgufWriter w, SplittableRandom rng, String name, int in, int out) {
        float[] values = new float[in * out];
        for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextGaussian() * weightScale);
        long[] shape = {in, out};
        if (weightType == TensorType.F32) {
            w.addTensor(name, shape, values);
            return;
        }
        TensorType type = in % weightType.blockSize() == 0 ? weightType : TensorType.F32;
        if (type == TensorType.F32) {
            w.addTensor(name, shape, values);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            long bytes = lora4j_h.lora4j_row_bytes(type.id(), in) * out;
            MemorySegment src = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, values);
            MemorySegment dst = arena.allocate(bytes, 32);
            Native.check(lora4j_h.lora4j_quantize(type.id(), src, out, in, dst, bytes), "quantizing " + name);
            w.addTensor(name, type, shape, dst);
        }
    }

    private static void ones(GgufWriter w, String name, int n) {
        float[] values = new float[n];
        java.util.Arrays.fill(values, 1f);
        w.addTensor(name, new long[] {n}, values);
    }

    private void bias(GgufWriter w, SplittableRandom rng, String name, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float) (rng.nextGaussian() * weightScale);
        w.addTensor(name, new long[] {n}, values);
    }
}
