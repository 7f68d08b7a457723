package io.lora4j.lora.peft;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void writerRoundTripsEveryDtypeAndPadsTheHeader() throws IOException {
        float[] f32 = {1.5f, -0.1f, Float.MIN_VALUE, 3.4e38f, -0f, Float.NaN};
        float[] f16 = {1f, -2.5f, 0.0999755859375f, 65504f, 1e-7f, 0.1f};
        float[] bf16 = {1f, -3f, 0.1f, 1e30f, 1.00390625f, 1.01171875f};
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .add("z.bf16", SafetensorsDtype.BF16, new long[] {2, 3}, bf16)
                .add("b.f32", SafetensorsDtype.F32, new long[] {6}, f32)
                .add("a.f16", SafetensorsDtype.F16, new long[] {3, 2}, f16)
                .add("empty", SafetensorsDtype.F32, new long[] {0, 4}, new float[0])
                .write(file);

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
        // Larger dtypes first, then by name, as the reference writer lays them out.
        assertTrue(header.indexOf("b.f32") < header.indexOf("empty") && header.indexOf("empty") < header.indexOf("a.f16")
                && header.indexOf("a.f16") < header.indexOf("z.bf16"), header);
        assertEquals(8 + n + 6 * 4 + 6 * 2 + 6 * 2, bytes.length);

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(List.of("b.f32", "empty", "a.f16", "z.bf16"), st.tensors().stream().map(SafetensorsTensor::name).toList());
            assertArrayEquals(f32, st.floats(st.tensor("b.f32").orElseThrow()));
            SafetensorsTensor h = st.tensor("a.f16").orElseThrow();
            assertArrayEquals(new long[] {3, 2}, h.shape());
            float[] got16 = st.floats(h);
            for (int i = 0; i < f16.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(f16[i])), got16[i]);
            float[] got = st.floats(st.tensor("z.bf16").orElseThrow());
            assertEquals(1f, got[0]);
            assertEquals(-3f, got[1]);
            assertEquals(0.10009765625f, got[2], "0.1 rounds to the nearest BF16");
            assertEquals(1f, got[4], "a tie rounds to the even neighbour below");
            assertEquals(1.015625f, got[5], "a tie rounds to the even neighbour above");
            assertEquals(0, st.floats(st.tensor("empty").orElseThrow()).length);
        }
    }

    @Test
    void readsAFileBuiltByHand() {
        Path file = new RawSafetensors().metadata("{\"k\":\"v\"}")
                .f32("x", new long[] {2}, 1f, 2f).bf16("y", new long[] {1, 2}, 0.5f, -4f).f16("s", new long[] {}, 0.25f)
                .write(dir.resolve("hand.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals("v", st.metadata().get("k"));
            assertArrayEquals(new float[] {1f, 2f}, st.floats(st.tensor("x").orElseThrow()));
            assertArrayEquals(new float[] {0.5f, -4f}, st.floats(st.tensor("y").orElseThrow()));
            assertArrayEquals(new float[] {0.25f}, st.floats(st.tensor("s").orElseThrow()), "a scalar has shape []");
        }
    }

    @Test
    void writerRejectsBadTensors() {
        SafetensorsWriter w = new SafetensorsWriter().add("a", SafetensorsDtype.F32, new long[] {2}, new float[2]);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", SafetensorsDtype.F32, new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("b", SafetensorsDtype.F32, new long[] {3}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", SafetensorsDtype.F32, new long[] {1}, new float[1]));
    }

    private void assertCorrupt(Path file, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    private Path raw(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void corruptHeadersAreErrorsNamingFileAndTensor() throws IOException {
        byte[] four = new byte[4 * 4];
        assertCorrupt(raw("short", new byte[5]), "too short");
        byte[] huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40).array();
        assertCorrupt(raw("huge", huge), "header length");
        byte[] negative = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1).array();
        assertCorrupt(raw("negative", negative), "header length");
        byte[] past = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100).array();
        assertCorrupt(raw("past", past), "past the end");
        assertCorrupt(new RawSafetensors().write(dir.resolve("notjson"), "{\"a\": ".getBytes(StandardCharsets.UTF_8)),
                "not valid JSON");
        assertCorrupt(new RawSafetensors().write(dir.resolve("array"), "[1, 2]   ".getBytes(StandardCharsets.UTF_8)),
                "'{'");
        assertCorrupt(new RawSafetensors().write(dir.resolve("utf8"), new byte[] {'{', '"', (byte) 0xff, '"', '}'}), "UTF-8");
        assertCorrupt(new RawSafetensors().write(dir.resolve("trailing"), "{} {}".getBytes(StandardCharsets.UTF_8)),
                "not valid JSON");
        assertCorrupt(new RawSafetensors().entry("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}")
                .entry("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}").extraData(new byte[8])
                .write(dir.resolve("dup")), "not valid JSON", "Duplicate");
        assertCorrupt(new RawSafetensors().metadata("{\"k\":1}").write(dir.resolve("meta")), "__metadata__");
        assertCorrupt(new RawSafetensors().tensor("t", "I64", new long[] {2}, new byte[16]).write(dir.resolve("i64")),
                "'t'", "I64");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}")
                .write(dir.resolve("negshape")), "'t'", "shape");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}")
                .extraData(new byte[4]).write(dir.resolve("fracshape")), "'t'", "shape");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[1]}").write(dir.resolve("nooffsets")),
                "'t'", "data_offsets");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}")
                .extraData(new byte[8]).write(dir.resolve("outside")), "'t'", "not inside");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}")
                .extraData(four).write(dir.resolve("size")), "'t'", "12");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                + "\"data_offsets\":[0,16]}").extraData(four).write(dir.resolve("overflow")), "'t'", "overflows");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}")
                .entry("\"u\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}").extraData(new byte[12])
                .write(dir.resolve("overlap")), "'u'", "overlaps");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}")
                .extraData(new byte[8]).write(dir.resolve("gap")), "'t'", "gap");
        assertCorrupt(new RawSafetensors().f32("t", new long[] {1}, 1f).extraData(new byte[4]).write(dir.resolve("extra")),
                "cover 4 of the 8");
        assertCorrupt(new RawSafetensors().entry("\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}")
                .extraData(new byte[4]).write(dir.resolve("extrakey")), "'t'", "exactly");
    }

    @Test
    void aMissingFileIsAnIoError() {
        assertThrows(java.io.UncheckedIOException.class, () -> SafetensorsFile.open(dir.resolve("none.safetensors")));
    }

    @Test
    void writesAtomicallyOverAnOldFile() throws IOException {
        Path file = dir.resolve("w.safetensors");
        Files.writeString(file, "old");
        new SafetensorsWriter().add("a", SafetensorsDtype.F32, new long[] {1}, new float[] {7f}).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {7f}, st.floats(st.tensor("a").orElseThrow()));
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
    }
}
