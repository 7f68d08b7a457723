package io.lora4j.lora.peft;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds safetensors files byte by byte, independently of {@link SafetensorsWriter}: tensors are
 * laid out in the order added, F32 values as given, F16/BF16 from values exactly representable.
 */
final class RawSafetensors {
    private final StringBuilder header = new StringBuilder("{");
    private final List<byte[]> chunks = new ArrayList<>();
    private long offset;

    RawSafetensors metadata(String json) {
        return entry("\"__metadata__\":" + json);
    }

    RawSafetensors f32(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return tensor(name, "F32", shape, b.array());
    }

    RawSafetensors f16(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putShort(Float.floatToFloat16(v));
        return tensor(name, "F16", shape, b.array());
    }

    /** BF16 keeps the top 16 bits: the values must have no lower bits set. */
    RawSafetensors bf16(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            int bits = Float.floatToRawIntBits(v);
            if ((bits & 0xffff) != 0) throw new IllegalArgumentException(v + " is not exact in BF16");
            b.putShort((short) (bits >>> 16));
        }
        return tensor(name, "BF16", shape, b.array());
    }

    RawSafetensors tensor(String name, String dtype, long[] shape, byte[] data) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ",").append(shape[i]);
        entry("\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + s + "],\"data_offsets\":[" + offset + ","
                + (offset + data.length) + "]}");
        chunks.add(data);
        offset += data.length;
        return this;
    }

    /** An entry written verbatim (for corrupt headers). */
    RawSafetensors entry(String json) {
        if (header.length() > 1) header.append(',');
        header.append(json);
        return this;
    }

    /** Extra bytes in the data buffer that no tensor claims. */
    RawSafetensors extraData(byte[] data) {
        chunks.add(data);
        return this;
    }

    Path write(Path file) {
        return write(file, (header + "}").getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code headerBytes} as the header, then the data. */
    Path write(Path file, byte[] headerBytes) {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length);
        try {
            var out = new java.io.ByteArrayOutputStream();
            out.write(len.array());
            out.write(headerBytes);
            for (byte[] c : chunks) out.write(c);
            Files.write(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
