package io.lora4j.lora.merge;

import io.lora4j.Model;
import io.lora4j.QuantizationScheme;
import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import io.lora4j.generate.InferenceContext;
import io.lora4j.gguf.GgufFile;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.lora.TestAdapters;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdapterMergeTest {
    static final String TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
            + "{% if add_generation_prompt %}<|assistant|>{% endif %}";
    static final int[] TOKENS = {1, 17, 250, 3, 99, 140, 7, 321, 64, 5};

    @TempDir
    static Path dir;
    static Model llama;
    static Model qwen;

    @BeforeAll
    static void models() {
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(96).vocabSize(400)
                .chatTemplate(TEMPLATE).seed(21).write(dir.resolve("llama.gguf"));
        SyntheticModel.builder().architecture("qwen2").qkvBias(true).embeddingLength(64).blockCount(2).heads(4, 2)
                .feedForwardLength(96).vocabSize(400).seed(22).write(dir.resolve("qwen.gguf"));
        llama = Model.load(dir.resolve("llama.gguf"));
        qwen = Model.load(dir.resolve("qwen.gguf"));
    }

    @AfterAll
    static void close() {
        llama.close();
        qwen.close();
    }

    /** Logits of every position of TOKENS, in f32 against exactly dequantized weights. */
    static float[] logits(Model model, List<ScaledAdapter> adapters) {
        try (InferenceContext ctx = new InferenceContext(model, 32, 1, 1, true)) {
            if (!adapters.isEmpty()) ctx.setAdapters(adapters);
            boolean[] all = new boolean[TOKENS.length];
            Arrays.fill(all, true);
            return ctx.decode(TOKENS, new int[TOKENS.length], all);
        }
    }

    static float[] logits(Path model) {
        try (Model m = Model.load(model)) {
            return logits(m, List.of());
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    static Adapter trained(Model model, LoraConfig config, long seed) {
        return TestAdapters.randomize(Adapter.create(model, config), seed, 0.1f);
    }

    /** Every key of {@code expected} has the same value in {@code actual}; {@code except} may differ or be new. */
    static void assertSameMetadata(Map<String, Object> expected, Map<String, Object> actual, String... except) {
        List<String> skip = List.of(except);
        for (Map.Entry<String, Object> e : expected.entrySet()) {
            if (skip.contains(e.getKey())) continue;
            assertTrue(Objects.deepEquals(e.getValue(), actual.get(e.getKey())), e.getKey());
        }
        for (String k : actual.keySet()) assertTrue(expected.containsKey(k) || skip.contains(k), "unexpected key " + k);
    }

    @Test
    void f32MergeGivesTheLogitsOfBasePlusAdapter() {
        Path out = dir.resolve("llama-merged.gguf");
        try (Adapter adapter = trained(llama, LoraConfig.builder().rank(4).alpha(8).build(), 1)) {
            float[] base = logits(llama, List.of());
            float[] adapted = logits(llama, List.of(new ScaledAdapter(adapter, 0.7f)));
            AdapterMerge.merge(llama, adapter, 0.7f, null, out);
            float[] merged = logits(out);
            assertTrue(maxAbsDiff(base, adapted) > 0.1, "the adapter changes the logits: " + maxAbsDiff(base, adapted));
            assertTrue(maxAbsDiff(adapted, merged) < 1e-4, "merged vs adapter: " + maxAbsDiff(adapted, merged));
        }
        try (Model merged = Model.load(out)) {
            // Tokenizer, chat template, EOS settings: every key survives unchanged.
            assertSameMetadata(llama.metadata(), merged.metadata());
            assertEquals(TEMPLATE, merged.metadata().get("tokenizer.chat_template"));
            assertEquals(llama.tensors().toString(), merged.tensors().toString());
        }
    }

    @Test
    void qwenTrainedBiasesAreAddedToTheBiases() {
        Path out = dir.resolve("qwen-merged.gguf");
        LoraConfig cfg = LoraConfig.builder().rank(2).alpha(4).targets(LoraTarget.ATTN_Q, LoraTarget.ATTN_K, LoraTarget.FFN_UP)
                .bias(LoraConfig.Bias.ALL).build();
        try (Adapter adapter = trained(qwen, cfg, 2)) {
            assertTrue(adapter.info().trainedBiases() > 0);
            float[] adapted = logits(qwen, List.of(ScaledAdapter.of(adapter)));
            AdapterMerge.merge(qwen, adapter, 1f, null, out);
            float[] merged = logits(out);
            assertTrue(maxAbsDiff(logits(qwen, List.of()), adapted) > 0.1);
            assertTrue(maxAbsDiff(adapted, merged) < 1e-4, "merged vs adapter: " + maxAbsDiff(adapted, merged));
        }
    }

    @Test
    void q8TargetIsCloseAndQuantizesEveryWeight() throws java.io.IOException {
        Path out = dir.resolve("llama-q8.gguf");
        try (Adapter adapter = trained(llama, LoraConfig.builder().rank(4).alpha(8).build(), 3)) {
            float[] base = logits(llama, List.of());
            float[] adapted = logits(llama, List.of(ScaledAdapter.of(adapter)));
            AdapterMerge.merge(llama, adapter, 1f, QuantizationScheme.parse("Q8_0"), out);
            float[] merged = logits(out);
            double effect = maxAbsDiff(base, adapted), error = maxAbsDiff(adapted, merged);
            assertTrue(error < 0.1 * effect, "Q8_0 merge error " + error + " vs adapter effect " + effect);
        }
        try (Model merged = Model.load(out)) {
            for (TensorInfo t : merged.tensors()) {
                assertEquals(t.shape().length == 2 ? TensorType.Q8_0 : TensorType.F32, t.type(), t.name());
            }
            assertSameMetadata(llama.metadata(), merged.metadata(), "general.file_type", "general.quantization_version");
            assertEquals(7L, merged.metadata().get("general.file_type"));
        }
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".f32.gguf")), "temporary file removed");
        }
    }

    @Test
    void aQuantizedBaseKeepsItsTypesAndUntouchedTensorsKeepTheirBytes() {
        Path q8 = dir.resolve("llama-q8-base.gguf");
        Path out = dir.resolve("llama-q8-base-merged.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(96).vocabSize(400)
                .weightType(TensorType.Q8_0).seed(23).write(q8);
        try (Model base = Model.load(q8);
             Adapter adapter = trained(base, LoraConfig.builder().rank(4).alpha(8)
                     .targets(LoraTarget.ATTN_V, LoraTarget.FFN_DOWN).layers(1, 2).build(), 4)) {
            float[] plain = logits(base, List.of());
            float[] adapted = logits(base, List.of(ScaledAdapter.of(adapter)));
            AdapterMerge.merge(base, adapter, 1f, null, out);
            double effect = maxAbsDiff(plain, adapted), error = maxAbsDiff(adapted, logits(out));
            assertTrue(error < 0.1 * effect, "re-quantized merge error " + error + " vs adapter effect " + effect);
            try (GgufFile a = GgufFile.open(q8); GgufFile b = GgufFile.open(out)) {
                assertEquals(a.tensors().toString(), b.tensors().toString(), "same names, types and shapes");
                for (TensorInfo t : a.tensors()) {
                    boolean adaptedTensor = t.name().equals("blk.1.attn_v.weight") || t.name().equals("blk.1.ffn_down.weight");
                    boolean same = a.tensorData(t.name()).mismatch(b.tensorData(t.name())) < 0;
                    assertEquals(!adaptedTensor, same, t.name());
                }
            }
        }
    }

    @Test
    void scaleZeroWritesTheBaseWeightsBitForBit() {
        Path out = dir.resolve("llama-zero.gguf");
        try (Adapter adapter = trained(llama, LoraConfig.builder().rank(2).alpha(2).build(), 5)) {
            AdapterMerge.merge(llama, adapter, 0f, null, out);
        }
        try (GgufFile a = GgufFile.open(llama.path()); GgufFile b = GgufFile.open(out)) {
            for (TensorInfo t : a.tensors()) {
                MemorySegment x = a.tensorData(t.name()), y = b.tensorData(t.name());
                assertEquals(-1, x.mismatch(y), t.name());
            }
        }
    }

    @Test
    void anAdapterForAnotherModelIsRejected() {
        Path small = dir.resolve("small.gguf");
        SyntheticModel.builder().embeddingLength(32).blockCount(2).heads(4, 2).feedForwardLength(96).vocabSize(400)
                .seed(24).write(small);
        Path out = dir.resolve("never.gguf");
        try (Model other = Model.load(small);
             Adapter adapter = Adapter.create(other, LoraConfig.builder().rank(2).alpha(2).build())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AdapterMerge.merge(llama, adapter, 1f, null, out));
            assertTrue(e.getMessage().contains("blk.0.attn_q.weight"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> AdapterMerge.merge(llama, adapter, Float.NaN, null, out));
        }
        assertFalse(Files.exists(out));
    }
}
