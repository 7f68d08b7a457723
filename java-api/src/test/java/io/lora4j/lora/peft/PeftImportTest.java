package io.lora4j.lora.peft;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.AdapterInfo;
import io.lora4j.lora.LoraPair;
import io.lora4j.lora.LoraTarget;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT directories written by hand (config text, safetensors bytes) imported onto a GQA llama. */
class PeftImportTest {
    static final int EMBD = 64, HEADS = 4, HEADS_KV = 2, HD = 16, FF = 96, LAYERS = 3;
    static final String P = "base_model.model.model.layers.";

    @TempDir
    static Path dir;
    static Model llama;
    static int dirs;

    @BeforeAll
    static void model() {
        SyntheticModel.builder().embeddingLength(EMBD).blockCount(LAYERS).heads(HEADS, HEADS_KV).feedForwardLength(FF)
                .vocabSize(400).seed(8).write(dir.resolve("llama.gguf"));
        llama = Model.load(dir.resolve("llama.gguf"));
    }

    @AfterAll
    static void close() {
        llama.close();
    }

    static String config(String extra) {
        return "{\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 2, \"lora_alpha\": 4, "
                + "\"target_modules\": [\"q_proj\"], \"bias\": \"none\"" + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    static Path peftDir(String config, Consumer<RawSafetensors> tensors) {
        Path d = dir.resolve("peft" + dirs++);
        try {
            Files.createDirectories(d);
            Files.writeString(d.resolve("adapter_config.json"), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RawSafetensors st = new RawSafetensors();
        tensors.accept(st);
        st.write(d.resolve("adapter_model.safetensors"));
        return d;
    }

    /** A[k][i] and B[o][k] with values exact in BF16 and F16. */
    static float[] a(int rank, int in, int salt) {
        float[] v = new float[rank * in];
        for (int k = 0; k < rank; k++) for (int i = 0; i < in; i++) v[k * in + i] = (k + 1) * 0.25f + i * 0.125f - salt;
        return v;
    }

    static float[] b(int out, int rank, int salt) {
        float[] v = new float[out * rank];
        for (int o = 0; o < out; o++) for (int k = 0; k < rank; k++) v[o * rank + k] = o * 0.5f - k * 0.25f + salt;
        return v;
    }

    static Consumer<RawSafetensors> qLayer(int layer) {
        return st -> st.f32(P + layer + ".self_attn.q_proj.lora_A.weight", new long[] {2, EMBD}, a(2, EMBD, layer))
                .f32(P + layer + ".self_attn.q_proj.lora_B.weight", new long[] {EMBD, 2}, b(EMBD, 2, layer));
    }

    static Consumer<RawSafetensors> allQ() {
        return st -> {
            for (int l = 0; l < LAYERS; l++) qLayer(l).accept(st);
        };
    }

    @Test
    void handBuiltAdapterImportsWithTheHfPermutationApplied() {
        int r = 2, kvRows = HEADS_KV * HD;
        Path d = peftDir("{\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 2, \"lora_alpha\": 4, "
                + "\"use_rslora\": true, \"target_modules\": [\"q_proj\", \"k_proj\", \"v_proj\"], "
                + "\"layers_to_transform\": [1], \"lora_dropout\": 0.05, \"bias\": \"none\", \"rank_pattern\": {}, "
                + "\"alpha_pattern\": {}, \"modules_to_save\": null, \"use_dora\": false, \"fan_in_fan_out\": false, "
                + "\"inference_mode\": true, \"init_lora_weights\": true}", st -> st
                .bf16(P + "1.self_attn.q_proj.lora_A.weight", new long[] {r, EMBD}, a(r, EMBD, 0))
                .f16(P + "1.self_attn.q_proj.lora_B.weight", new long[] {EMBD, r}, b(EMBD, r, 0))
                .bf16(P + "1.self_attn.k_proj.lora_A.weight", new long[] {r, EMBD}, a(r, EMBD, 1))
                .f16(P + "1.self_attn.k_proj.lora_B.weight", new long[] {kvRows, r}, b(kvRows, r, 1))
                .f32(P + "1.self_attn.v_proj.lora_A.weight", new long[] {r, EMBD}, a(r, EMBD, 2))
                .f32(P + "1.self_attn.v_proj.lora_B.weight", new long[] {kvRows, r}, b(kvRows, r, 2)));
        try (Adapter adapter = PeftImport.read(llama, d)) {
            AdapterInfo info = adapter.info();
            assertEquals(2, info.rank());
            assertEquals(4.0, info.alpha());
            assertTrue(info.rslora());
            assertEquals((float) (4 / Math.sqrt(2)), info.scale(), 1e-7);
            List<LoraPair> pairs = adapter.pairs();
            assertEquals(List.of(LoraTarget.ATTN_Q, LoraTarget.ATTN_K, LoraTarget.ATTN_V),
                    pairs.stream().map(LoraPair::target).toList());
            for (LoraPair p : pairs) {
                assertEquals(1, p.layer());
                int salt = p.target().ordinal();
                assertArrayEquals(a(r, EMBD, salt), p.aValues(), p.baseName());
                float[] hfB = b((int) p.nOut(), r, salt);
                float[] expected = switch (p.target()) {
                    case ATTN_Q -> HfPermutation.toGguf(hfB, HEADS, r);
                    case ATTN_K -> HfPermutation.toGguf(hfB, HEADS_KV, r);
                    default -> hfB;
                };
                assertArrayEquals(expected, p.bValues(), p.baseName());
            }
            // One spot worked by hand: GGUF row 1 of head 0 (2i+t with i=0, t=1) is HF row hd/2 = 8.
            LoraPair q = pairs.getFirst();
            assertEquals(8 * 0.5f, q.bValues()[1 * r]);
            assertEquals(8 * 0.5f - 0.25f, q.bValues()[1 * r + 1]);
        }
    }

    @Test
    void targetModulesAsARegexAndAllLinearAreUnderstood() {
        try (Adapter a = PeftImport.read(llama, peftDir(config("").replace("[\"q_proj\"]", "\".*\\\\.q_proj\""), allQ()))) {
            assertEquals(LAYERS, a.pairs().size());
        }
        Path all = peftDir(config("").replace("[\"q_proj\"]", "\"all-linear\""), st -> {
            for (int l = 0; l < LAYERS; l++) {
                for (LoraTarget t : LoraTarget.values()) {
                    String m = P + l + (t.isAttention() ? ".self_attn." : ".mlp.") + t.hfName();
                    int in = t == LoraTarget.FFN_DOWN ? FF : EMBD;
                    int out = switch (t) {
                        case ATTN_K, ATTN_V -> HEADS_KV * HD;
                        case FFN_GATE, FFN_UP -> FF;
                        default -> EMBD;
                    };
                    st.f32(m + ".lora_A.weight", new long[] {2, in}, new float[2 * in])
                            .f32(m + ".lora_B.weight", new long[] {out, 2}, new float[2 * out]);
                }
            }
        });
        try (Adapter a = PeftImport.read(llama, all)) {
            assertEquals(LAYERS * 7, a.pairs().size());
        }
    }

    private static void assertRejected(Path d, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PeftImport.read(llama, d).close());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    @Test
    void tensorsLora4jCannotHoldAreErrorsNamingThem() {
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32(P + "1.self_attn.v_proj.lora_A.weight",
                new long[] {2, EMBD}, a(2, EMBD, 0)))), P + "1.self_attn.v_proj.lora_B.weight", "has no");
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32("base_model.model.lm_head.lora_A.weight",
                new long[] {2, EMBD}, a(2, EMBD, 0)))), "base_model.model.lm_head.lora_A.weight", "lm_head");
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32("base_model.model.model.embed_tokens.lora_embedding_A",
                new long[] {2, 400}, new float[800]))), "embed_tokens");
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32(P + "0.self_attn.q_proj.lora_magnitude_vector",
                new long[] {EMBD}, new float[EMBD]))), "DoRA");
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32("foo.weight", new long[] {1}, 1f))), "'foo.weight'");
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32(P + "0.mlp.q_proj.lora_A.weight",
                new long[] {2, EMBD}, a(2, EMBD, 0)))), "mlp.q_proj");
        assertRejected(peftDir(config(""), allQ().andThen(qLayer(7))), P + "7.self_attn.q_proj", "3 layers");
    }

    @Test
    void shapesAndRanksMustMatchTheModelAndConfig() {
        assertRejected(peftDir(config(""), st -> {
            qLayer(0).accept(st);
            qLayer(2).accept(st);
            st.f32(P + "1.self_attn.q_proj.lora_A.weight", new long[] {2, 32}, new float[64])
                    .f32(P + "1.self_attn.q_proj.lora_B.weight", new long[] {EMBD, 2}, b(EMBD, 2, 0));
        }), P + "1.self_attn.q_proj.lora_A.weight", "[2, 32]", "expected [2, 64]");
        assertRejected(peftDir(config("").replace("\"r\": 2", "\"r\": 8"), allQ()), "has rank 2", "r = 8");
        assertRejected(peftDir(config(""), st -> {
            qLayer(0).accept(st);
            qLayer(1).accept(st);
            st.f32(P + "2.self_attn.q_proj.lora_A.weight", new long[] {1, EMBD}, new float[EMBD])
                    .f32(P + "2.self_attn.q_proj.lora_B.weight", new long[] {EMBD, 1}, new float[EMBD]);
        }), "rank 1", "per-module ranks");
    }

    @Test
    void theTensorSetMustMatchWhatTheConfigSelects() {
        assertRejected(peftDir(config("").replace("[\"q_proj\"]", "[\"q_proj\", \"v_proj\"]"), allQ()),
                "missing tensor '" + P + "0.self_attn.v_proj.lora_A.weight'");
        assertRejected(peftDir(config("\"layers_to_transform\": [0, 1]"), allQ()), P + "2.self_attn.q_proj.lora_A.weight",
                "do not select");
        assertRejected(peftDir(config("\"layers_to_transform\": [0, 2]"), qLayer(0).andThen(qLayer(2))),
                P + "1.self_attn.q_proj.lora_A.weight", "contiguous");
        assertRejected(peftDir(config("\"exclude_modules\": [\"model.layers.1.self_attn.q_proj\"]"), allQ()),
                P + "1.self_attn.q_proj", "do not select");
    }

    @Test
    void configOptionsLora4jCannotReproduceAreRejected() {
        assertRejected(peftDir(config("\"use_dora\": true"), allQ()), "use_dora");
        assertRejected(peftDir(config("\"modules_to_save\": [\"lm_head\"]"), allQ()), "modules_to_save");
        assertRejected(peftDir(config("\"alpha_pattern\": {\"q_proj\": 8}"), allQ()), "alpha_pattern");
        assertRejected(peftDir(config("\"fan_in_fan_out\": true"), allQ()), "fan_in_fan_out");
        assertRejected(peftDir(config("").replace("\"LORA\"", "\"IA3\""), allQ()), "peft_type");
        assertRejected(peftDir(config("").replace("\"CAUSAL_LM\"", "\"SEQ_CLS\""), allQ()), "task_type");
        assertRejected(peftDir(config("").replace("\"none\"", "\"some\""), allQ()), "bias 'some'");
        assertRejected(peftDir(config("").replace("\"r\": 2", "\"r\": \"2\""), allQ()), "r is not an integer");
        assertRejected(peftDir(config("").replace("[\"q_proj\"]", "\"(q_proj\""), allQ()), "target_modules");
        assertRejected(peftDir("{\"peft_type\": ", allQ()), "adapter_config.json", "not valid JSON");
        assertRejected(peftDir(config(""), allQ().andThen(st -> st.f32(P + "0.self_attn.q_proj.base_layer.bias",
                new long[] {EMBD}, new float[EMBD]))), "q_proj.base_layer.bias", "bias \"none\"");
    }

    @Test
    void missingFilesAreClearErrors() throws IOException {
        assertRejected(dir.resolve("nowhere"), "not found");
        Path d = peftDir(config(""), allQ());
        Files.delete(d.resolve("adapter_model.safetensors"));
        assertRejected(d, "no adapter_model.safetensors");
        Files.write(d.resolve("adapter_model.bin"), new byte[] {1});
        assertRejected(d, "safe_serialization");
        Files.delete(d.resolve("adapter_config.json"));
        assertRejected(d, "no adapter_config.json");
    }
}
