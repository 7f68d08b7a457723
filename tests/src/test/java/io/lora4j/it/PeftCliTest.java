package io.lora4j.it;

import io.lora4j.Model;
import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraPair;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.peft.PeftExport;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lora4j export} (PEFT and merge) and {@code lora4j import}, end to end. */
class PeftCliTest {
    @TempDir
    static Path dir;
    static String model;
    static String adapter;

    @BeforeAll
    static void files() {
        Path m = dir.resolve("base.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(96).vocabSize(400)
                .seed(31).write(m);
        model = m.toString();
        Path a = dir.resolve("adapter.gguf");
        try (Model base = Model.load(m);
             Adapter ad = Adapter.create(base, LoraConfig.builder().rank(4).alpha(8)
                     .targets(LoraTarget.ATTN_Q, LoraTarget.ATTN_K, LoraTarget.FFN_DOWN).build())) {
            SplittableRandom rng = new SplittableRandom(7);
            for (LoraPair p : ad.pairs()) {
                fill(p.a(), rng);
                fill(p.b(), rng);
            }
            ad.save(a);
        }
        adapter = a.toString();
    }

    static void fill(MemorySegment s, SplittableRandom rng) {
        for (long i = 0; i < s.byteSize() / Float.BYTES; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextGaussian() * 0.1f);
    }

    @Test
    void exportToPeftAndImportBackIsLossless() {
        Path peft = dir.resolve("peft");
        CliRunner e = CliRunner.run("export", "-m", model, "--lora", adapter, "--format", "peft", "-o", peft.toString());
        assertEquals(0, e.exitCode(), e.err());
        assertTrue(Files.isRegularFile(peft.resolve("adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(peft.resolve("adapter_config.json")));
        Path back = dir.resolve("back.gguf");
        CliRunner i = CliRunner.run("import", "--peft", peft.toString(), "-m", model, "-o", back.toString());
        assertEquals(0, i.exitCode(), i.err());
        assertTrue(i.out().contains("6 pairs"), i.out());
        try (Model base = Model.load(Path.of(model));
             Adapter original = Adapter.load(base, Path.of(adapter));
             Adapter imported = Adapter.load(base, back)) {
            List<LoraPair> x = original.pairs(), y = imported.pairs();
            assertEquals(x.size(), y.size());
            for (int k = 0; k < x.size(); k++) {
                assertArrayEquals(x.get(k).aValues(), y.get(k).aValues(), x.get(k).baseName());
                assertArrayEquals(x.get(k).bValues(), y.get(k).bValues(), x.get(k).baseName());
            }
            assertEquals(original.info().scale(), imported.info().scale());
        }
    }

    @Test
    void mergeKeepsTypesOrReencodes() {
        Path merged = dir.resolve("merged.gguf");
        CliRunner r = CliRunner.run("export", "-m", model, "--lora", adapter, "--merge", "-o", merged.toString());
        assertEquals(0, r.exitCode(), r.err());
        Path q8 = dir.resolve("merged-q8.gguf");
        CliRunner q = CliRunner.run("export", "-m", model, "--lora", adapter, "--merge", "--type", "Q8_0", "-o", q8.toString());
        assertEquals(0, q.exitCode(), q.err());
        try (Model a = Model.load(merged); Model b = Model.load(q8)) {
            assertTrue(a.tensors().stream().allMatch(t -> t.type() == TensorType.F32));
            for (TensorInfo t : b.tensors()) assertEquals(t.shape().length == 2 ? TensorType.Q8_0 : TensorType.F32, t.type(), t.name());
        }
        CliRunner info = CliRunner.run("info", "-m", q8.toString());
        assertEquals(0, info.exitCode(), info.err());
    }

    @Test
    void importingTrainedBiasesSaysTheGgufCannotHoldThem() {
        Path qwen = dir.resolve("qwen.gguf");
        Path peft = dir.resolve("qwen-peft");
        SyntheticModel.builder().architecture("qwen2").qkvBias(true).embeddingLength(64).blockCount(2).heads(4, 2)
                .feedForwardLength(96).vocabSize(400).seed(32).write(qwen);
        try (Model base = Model.load(qwen);
             Adapter ad = Adapter.create(base, LoraConfig.builder().rank(2).alpha(4).targets(LoraTarget.ATTN_Q)
                     .bias(LoraConfig.Bias.LORA_ONLY).build())) {
            PeftExport.write(base, ad, peft);
        }
        Path out = dir.resolve("qwen-adapter.gguf");
        CliRunner r = CliRunner.run("import", "--peft", peft.toString(), "-m", qwen.toString(), "-o", out.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("bias"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void badArgumentsExitOneWithAMessage() throws IOException {
        Path out = dir.resolve("x");
        CliRunner both = CliRunner.run("export", "-m", model, "--lora", adapter, "--format", "peft", "--merge", "-o", out.toString());
        assertEquals(1, both.exitCode());
        assertTrue(both.err().contains("exactly one"), both.err());
        CliRunner neither = CliRunner.run("export", "-m", model, "--lora", adapter, "-o", out.toString());
        assertEquals(1, neither.exitCode());
        CliRunner format = CliRunner.run("export", "-m", model, "--lora", adapter, "--format", "onnx", "-o", out.toString());
        assertEquals(1, format.exitCode());
        assertTrue(format.err().contains("onnx"), format.err());
        CliRunner type = CliRunner.run("export", "-m", model, "--lora", adapter, "--format", "peft", "--type", "Q8_0",
                "-o", out.toString());
        assertEquals(1, type.exitCode());
        CliRunner badType = CliRunner.run("export", "-m", model, "--lora", adapter, "--merge", "--type", "Q9_9",
                "-o", out.toString());
        assertEquals(1, badType.exitCode());
        assertTrue(badType.err().contains("Q9_9"), badType.err());
        CliRunner noAdapter = CliRunner.run("export", "-m", model, "--lora", dir.resolve("none.gguf").toString(), "--merge",
                "-o", out.toString());
        assertEquals(1, noAdapter.exitCode());
        assertFalse(Files.exists(out));

        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(broken.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, "
                + "\"target_modules\": [\"q_proj\"]}");
        Files.write(broken.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3});
        CliRunner imp = CliRunner.run("import", "--peft", broken.toString(), "-m", model, "-o", dir.resolve("b.gguf").toString());
        assertEquals(1, imp.exitCode());
        assertTrue(imp.err().contains("adapter_model.safetensors"), imp.err());
    }
}
