package io.lora4j.gguf;

import io.lora4j.Lora4jException;
import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {
    @TempDir
    Path dir;

    private Path writeSample() {
        Path file = dir.resolve("sample.gguf");
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", "llama")
                    .putString("general.name", "ünïcödé ✓")
                    .putUInt32("u32", 4_000_000_000L)
                    .putInt32("i32", -7)
                    .putUInt64("u64", 1L << 40)
                    .putFloat32("f32", 0.25f)
                    .putBool("flag", true)
                    .putStrings("strings", List.of("a", "", "ß"))
                    .putFloats("floats", new float[] {1.5f, -2f})
                    .putInts("ints", new int[] {3, -4, 5});
            float[] values = new float[64 * 3];
            for (int i = 0; i < values.length; i++) values[i] = i * 0.5f;
            w.addTensor("weights", new long[] {64, 3}, values);
            w.addTensor("vector", new long[] {5}, new float[] {1, 2, 3, 4, 5});
            w.write(file);
        }
        return file;
    }

    @Test
    void roundTripsMetadataAndTensors() {
        Path file = writeSample();
        try (GgufFile g = GgufFile.open(file)) {
            Map<String, Object> md = g.metadata();
            assertEquals(3, g.version());
            assertEquals("ünïcödé ✓", md.get("general.name"));
            assertEquals(4_000_000_000L, md.get("u32"));
            assertEquals(-7L, md.get("i32"));
            assertEquals(1L << 40, md.get("u64"));
            assertEquals(0.25, md.get("f32"));
            assertEquals(true, md.get("flag"));
            assertEquals(List.of("a", "", "ß"), md.get("strings"));
            assertArrayEquals(new double[] {1.5, -2}, (double[]) md.get("floats"));
            assertArrayEquals(new long[] {3, -4, 5}, (long[]) md.get("ints"));
            assertEquals(List.of("general.architecture", "general.name", "u32", "i32", "u64", "f32", "flag",
                    "strings", "floats", "ints"), List.copyOf(md.keySet()));

            TensorInfo w = g.tensor("weights").orElseThrow();
            assertEquals(TensorType.F32, w.type());
            assertArrayEquals(new long[] {64, 3}, w.shape());
            assertEquals(64 * 3 * 4, w.byteSize());
            float[] back = g.tensorData("weights").toArray(ValueLayout.JAVA_FLOAT);
            assertEquals(191 * 0.5f, back[191]);
            TensorInfo v = g.tensor("vector").orElseThrow();
            assertEquals(0, v.offset() % g.alignment(), "tensor data aligned");
        }
    }

    @Test
    void copiesMetadataIntoANewFile() {
        Path src = writeSample();
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile g = GgufFile.open(src); GgufWriter w = new GgufWriter()) {
            w.putAll(g).write(copy);
        }
        try (GgufFile a = GgufFile.open(src); GgufFile b = GgufFile.open(copy)) {
            assertEquals(a.metadata().keySet(), b.metadata().keySet());
            assertEquals(a.metadata().get("strings"), b.metadata().get("strings"));
            assertTrue(b.tensors().isEmpty());
        }
    }

    @Test
    void corruptFilesAreExceptionsNamingTheProblem() throws IOException {
        Path file = writeSample();
        byte[] good = Files.readAllBytes(file);

        Path badMagic = dir.resolve("magic.gguf");
        byte[] b = good.clone();
        b[0] = 'X';
        Files.write(badMagic, b);
        Lora4jException e = assertThrows(Lora4jException.class, () -> GgufFile.open(badMagic));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());

        // (the last tensor is 20 bytes padded to 32: cutting only padding is accepted, as llama.cpp does)
        for (int cut : new int[] {3, 10, 30, good.length / 2, good.length - 13}) {
            Path truncated = dir.resolve("cut" + cut + ".gguf");
            Files.write(truncated, Arrays.copyOf(good, cut));
            assertThrows(Lora4jException.class, () -> GgufFile.open(truncated), "truncated at " + cut);
        }
        Lora4jException missing = assertThrows(Lora4jException.class, () -> GgufFile.open(dir.resolve("nope.gguf")));
        assertFalse(missing.getMessage().isBlank());
    }

    @Test
    void useAfterCloseIsIllegalState() {
        GgufFile g = GgufFile.open(writeSample());
        g.close();
        g.close();
        assertThrows(IllegalStateException.class, g::metadata);
        assertThrows(IllegalStateException.class, () -> g.tensorData("weights"));
    }

    @Test
    void badWriterInputIsRejected() {
        try (GgufWriter w = new GgufWriter()) {
            assertThrows(Lora4jException.class, () -> w.addTensor("t", new long[] {3, 2}, new float[] {1, 2}));
            assertThrows(Lora4jException.class, () -> w.addTensor("x".repeat(64), new long[] {1}, new float[] {1}));
        }
    }
}
