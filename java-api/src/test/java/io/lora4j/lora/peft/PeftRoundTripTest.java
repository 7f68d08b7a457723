package io.lora4j.lora.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lora4j.Model;
import io.lora4j.gguf.GgufFile;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.AdapterInfo;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraPair;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.TestAdapters;
import io.lora4j.lora.merge.ModelTensors;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeftRoundTripTest {
    @TempDir
    static Path dir;
    static Model llama;
    static Model qwen;

    @BeforeAll
    static void models() {
        // GQA (4 query heads, 2 kv heads, head dim 16) so that Q and K are permuted with different head counts.
        SyntheticModel.builder().embeddingLength(64).blockCount(3).heads(4, 2).feedForwardLength(96).vocabSize(400)
                .seed(5).write(dir.resolve("llama.gguf"));
        SyntheticModel.builder().architecture("qwen2").qkvBias(true).embeddingLength(64).blockCount(3).heads(4, 2)
                .feedForwardLength(96).vocabSize(400).seed(6).write(dir.resolve("qwen.gguf"));
        llama = Model.load(dir.resolve("llama.gguf"));
        qwen = Model.load(dir.resolve("qwen.gguf"));
    }

    @AfterAll
    static void close() {
        llama.close();
        qwen.close();
    }

    private static JsonNode config(Path peftDir) throws IOException {
        return new ObjectMapper().readTree(Files.readAllBytes(peftDir.resolve("adapter_config.json")));
    }

    private static void assertSamePairs(Adapter expected, Adapter actual, double biasTolerance) {
        List<LoraPair> e = expected.pairs(), a = actual.pairs();
        assertEquals(e.size(), a.size());
        for (int i = 0; i < e.size(); i++) {
            LoraPair x = e.get(i), y = a.get(i);
            assertEquals(x.baseName(), y.baseName());
            assertEquals(x.rank(), y.rank());
            assertArrayEquals(x.aValues(), y.aValues(), x.baseName() + " A");
            assertArrayEquals(x.bValues(), y.bValues(), x.baseName() + " B");
            assertEquals(x.hasBias(), y.hasBias(), x.baseName());
            if (x.hasBias()) {
                assertArrayEquals(x.biasDelta().toArray(ValueLayout.JAVA_FLOAT), y.biasDelta().toArray(ValueLayout.JAVA_FLOAT),
                        (float) biasTolerance, x.baseName() + " bias");
            }
        }
        AdapterInfo ie = expected.info(), ia = actual.info();
        assertEquals(ie.rank(), ia.rank());
        assertEquals(ie.alpha(), ia.alpha());
        assertEquals(ie.rslora(), ia.rslora());
        assertEquals(ie.scale(), ia.scale());
        assertEquals(ie.trainedBiases(), ia.trainedBiases());
    }

    @Test
    void llamaExportImportIsBitIdentical() throws IOException {
        Path out = dir.resolve("llama-peft");
        try (Adapter adapter = TestAdapters.randomize(Adapter.create(llama, LoraConfig.builder().rank(4).alpha(8).build()), 1, 0.1f)) {
            PeftExport.write(llama, adapter, out);
            JsonNode c = config(out);
            assertEquals("LORA", c.get("peft_type").asText());
            assertEquals("CAUSAL_LM", c.get("task_type").asText());
            assertEquals(4, c.get("r").asInt());
            assertEquals(8, c.get("lora_alpha").asInt());
            assertFalse(c.get("use_rslora").asBoolean());
            assertEquals("none", c.get("bias").asText());
            assertTrue(c.get("layers_to_transform").isNull());
            assertTrue(c.get("modules_to_save").isNull());
            assertEquals("lora4j synthetic llama", c.get("base_model_name_or_path").asText());
            List<String> targets = new ArrayList<>();
            c.get("target_modules").forEach(n -> targets.add(n.asText()));
            assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), targets);
            try (SafetensorsFile st = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                assertEquals(3 * 7 * 2, st.tensors().size());
                assertEquals("pt", st.metadata().get("format"));
                SafetensorsTensor k = st.tensor("base_model.model.model.layers.2.self_attn.k_proj.lora_B.weight").orElseThrow();
                assertArrayEquals(new long[] {32, 4}, k.shape());
                assertEquals(SafetensorsDtype.F32, k.dtype());
                SafetensorsTensor d = st.tensor("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight").orElseThrow();
                assertArrayEquals(new long[] {4, 96}, d.shape());
            }
            try (Adapter back = PeftImport.read(llama, out)) {
                assertSamePairs(adapter, back, 0);
            }
        }
    }

    @Test
    void llamaQueryAndKeyRowsAreWrittenInHfOrder() {
        Path out = dir.resolve("llama-order");
        try (Adapter adapter = TestAdapters.randomize(Adapter.create(llama, LoraConfig.builder().rank(3).alpha(6)
                .targets(LoraTarget.ATTN_Q, LoraTarget.ATTN_K, LoraTarget.ATTN_V).layers(1, 2).build()), 2, 1f)) {
            PeftExport.write(llama, adapter, out);
            try (SafetensorsFile st = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                for (LoraPair p : adapter.pairs()) {
                    String module = "base_model.model.model.layers.1.self_attn." + p.target().hfName();
                    float[] hfB = st.floats(st.tensor(module + ".lora_B.weight").orElseThrow());
                    float[] hfA = st.floats(st.tensor(module + ".lora_A.weight").orElseThrow());
                    int heads = switch (p.target()) {
                        case ATTN_Q -> 4;
                        case ATTN_K -> 2;
                        default -> 0;
                    };
                    assertArrayEquals(p.bValues(), heads == 0 ? hfB : HfPermutation.toGguf(hfB, heads, 3), p.baseName());
                    assertArrayEquals(p.aValues(), hfA, "A is never permuted");
                    if (heads > 0) assertFalse(java.util.Arrays.equals(p.bValues(), hfB), "the permutation moved rows");
                }
            }
        }
    }

    @Test
    void qwenTrainedBiasesTravelAsFullBiasesWithoutPermutation() throws IOException {
        Path out = dir.resolve("qwen-bias");
        LoraConfig cfg = LoraConfig.builder().rank(2).alpha(4).targets(LoraTarget.ATTN_Q, LoraTarget.ATTN_V)
                .bias(LoraConfig.Bias.LORA_ONLY).build();
        try (Adapter adapter = TestAdapters.randomize(Adapter.create(qwen, cfg), 3, 0.2f);
             GgufFile file = GgufFile.open(qwen.path())) {
            PeftExport.write(qwen, adapter, out);
            assertEquals("lora_only", config(out).get("bias").asText());
            try (SafetensorsFile st = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                assertEquals(3 * 2 * 3, st.tensors().size());
                for (LoraPair p : adapter.pairs()) {
                    assertTrue(p.hasBias(), p.baseName());
                    String module = "base_model.model.model.layers." + p.layer() + ".self_attn." + p.target().hfName();
                    float[] full = st.floats(st.tensor(module + ".base_layer.bias").orElseThrow());
                    float[] base = ModelTensors.floats(file, file.tensor(ModelTensors.biasName(p)).orElseThrow());
                    float[] delta = p.biasDelta().toArray(ValueLayout.JAVA_FLOAT);
                    for (int i = 0; i < full.length; i++) assertEquals(base[i] + delta[i], full[i], module);
                    assertArrayEquals(p.bValues(), st.floats(st.tensor(module + ".lora_B.weight").orElseThrow()),
                            "qwen2 is not permuted");
                }
            }
            try (Adapter back = PeftImport.read(qwen, out)) {
                assertSamePairs(adapter, back, 1e-6);
            }
        }
    }

    @Test
    void qwenBiasAllWritesUnadaptedBiasesUnwrappedAndLayersToTransform() throws IOException {
        Path out = dir.resolve("qwen-all");
        LoraConfig cfg = LoraConfig.builder().rank(2).alpha(2).targets(LoraTarget.ATTN_Q, LoraTarget.FFN_UP).layers(1, 3)
                .bias(LoraConfig.Bias.ALL).build();
        try (Adapter adapter = TestAdapters.randomize(Adapter.create(qwen, cfg), 4, 0.2f)) {
            PeftExport.write(qwen, adapter, out);
            JsonNode c = config(out);
            assertEquals("all", c.get("bias").asText());
            assertEquals("[1,2]", c.get("layers_to_transform").toString());
            try (SafetensorsFile st = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                assertTrue(st.tensor("base_model.model.model.layers.0.self_attn.k_proj.bias").isPresent());
                assertTrue(st.tensor("base_model.model.model.layers.0.self_attn.q_proj.bias").isPresent());
                assertTrue(st.tensor("base_model.model.model.layers.1.self_attn.q_proj.base_layer.bias").isPresent());
                assertTrue(st.tensor("base_model.model.model.layers.1.self_attn.v_proj.bias").isPresent());
            }
            try (Adapter back = PeftImport.read(qwen, out)) {
                assertSamePairs(adapter, back, 1e-6);
            }
        }
    }

    @Test
    void rsLoraAndALayerRangeRoundTrip() throws IOException {
        Path out = dir.resolve("llama-rs");
        LoraConfig cfg = LoraConfig.builder().rank(4).alpha(3).rslora(true).layers(1, 3)
                .targets(LoraTarget.ATTN_K, LoraTarget.FFN_DOWN).build();
        try (Adapter adapter = TestAdapters.randomize(Adapter.create(llama, cfg), 5, 0.1f)) {
            PeftExport.write(llama, adapter, out);
            JsonNode c = config(out);
            assertTrue(c.get("use_rslora").asBoolean());
            assertEquals("[1,2]", c.get("layers_to_transform").toString());
            assertEquals("[\"k_proj\",\"down_proj\"]", c.get("target_modules").toString());
            try (Adapter back = PeftImport.read(llama, out)) {
                assertSamePairs(adapter, back, 0);
                assertEquals((float) (3 / Math.sqrt(4)), back.info().scale(), 1e-7);
            }
        }
    }

    @Test
    void anAdapterLoadedFromGgufExportsLikeTheOriginal() {
        Path gguf = dir.resolve("saved.gguf");
        Path out = dir.resolve("from-gguf");
        try (Adapter adapter = TestAdapters.randomize(Adapter.create(llama, LoraConfig.builder().rank(2).alpha(5)
                .targets(LoraTarget.ATTN_Q, LoraTarget.ATTN_OUTPUT).build()), 6, 0.1f)) {
            adapter.save(gguf);
            try (Adapter loaded = Adapter.load(llama, gguf)) {
                PeftExport.write(llama, loaded, out);
            }
            try (Adapter back = PeftImport.read(llama, out)) {
                assertSamePairs(adapter, back, 0);
            }
        }
    }
}
