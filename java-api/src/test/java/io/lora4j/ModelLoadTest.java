package io.lora4j;

import io.lora4j.gguf.GgufFile;
import io.lora4j.gguf.GgufWriter;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelLoadTest {
    @TempDir
    Path dir;

    private Path model(SyntheticModel spec) {
        Path file = dir.resolve("m" + System.nanoTime() + ".gguf");
        spec.write(file);
        return file;
    }

    @Test
    void readsHyperparametersAndTensors() {
        Path file = model(SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2)
                .feedForwardLength(96).vocabSize(400));
        try (Model m = Model.load(file)) {
            Hparams h = m.hparams();
            assertEquals(Architecture.LLAMA, m.architecture());
            assertFalse(h.vocabOnly());
            assertEquals(64, h.embeddingLength());
            assertEquals(2, h.blockCount());
            assertEquals(4, h.headCount());
            assertEquals(2, h.headCountKv());
            assertEquals(16, h.headDim());
            assertEquals(96, h.feedForwardLength());
            assertEquals(400, h.vocabSize());
            assertEquals(Hparams.RopeStyle.NORM, h.ropeStyle());
            assertFalse(h.tiedOutput());
            assertEquals(3 + 2 * 9, m.tensors().size());
            assertEquals("llama", m.tokenizerKind());
            assertEquals(21, m.tensorTypeCounts().get(TensorType.F32));
        }
    }

    @Test
    void qwen2WithBiasesAndTiedOutput() {
        Path file = model(SyntheticModel.builder().architecture("qwen2").qkvBias(true).tiedOutput(true));
        try (Model m = Model.load(file)) {
            assertEquals(Architecture.QWEN2, m.architecture());
            assertEquals(Hparams.RopeStyle.NEOX, m.hparams().ropeStyle());
            assertTrue(m.hparams().tiedOutput());
            assertTrue(m.hparams().qkvBias());
        }
    }

    @Test
    void missingTensorIsAClearError() {
        Path full = model(SyntheticModel.builder());
        Path broken = dir.resolve("broken.gguf");
        try (GgufFile src = GgufFile.open(full); GgufWriter w = new GgufWriter()) {
            w.putAll(src);
            for (TensorInfo t : src.tensors()) {
                if (!t.name().equals("blk.1.ffn_up.weight")) {
                    w.addTensor(t.name(), t.type(), t.shape(), src.tensorData(t.name()));
                }
            }
            w.write(broken);
        }
        Lora4jException e = assertThrows(Lora4jException.class, () -> Model.load(broken));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight"), e.getMessage());
    }

    @Test
    void wrongHeadCountIsAClearError() {
        Path file = model(SyntheticModel.builder().embeddingLength(64).heads(4, 3));
        Lora4jException e = assertThrows(Lora4jException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("head"), e.getMessage());
    }

    @Test
    void quantizeOnLoad() {
        Path file = model(SyntheticModel.builder().embeddingLength(64).feedForwardLength(128));
        try (Model m = Model.load(file, ModelOptions.builder().quantizeTo(TensorType.Q8_0).build())) {
            assertEquals(64, m.hparams().embeddingLength());
        }
    }

    @Test
    void useAfterCloseIsIllegalState() {
        Model m = Model.load(model(SyntheticModel.builder()));
        m.close();
        assertThrows(IllegalStateException.class, m::hparams);
        assertThrows(IllegalStateException.class, m::tensors);
    }

    @Test
    void missingFileIsAnError() {
        assertThrows(Lora4jException.class, () -> Model.load(dir.resolve("absent.gguf")));
    }
}
