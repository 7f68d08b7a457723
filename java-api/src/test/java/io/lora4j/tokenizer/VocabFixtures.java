package io.lora4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test access to llama.cpp's vocabulary files in shared/vocab. {@link #metadata} reads only the
 * GGUF key/value section, into the types of the project's GGUF reader contract (integers Long,
 * floats Double, BOOL Boolean, STRING String; arrays List&lt;String&gt;, long[], double[],
 * boolean[]).
 */
final class VocabFixtures {

    private VocabFixtures() {
    }

    /**
     * The shared/vocab directory: system property {@code lora4j.shared} (the shared directory),
     * else the first {@code shared/vocab} found in the working directory or one of its parents.
     * The repository may be a sibling of shared/ (CI, /work/main) or nested deeper (worktrees).
     */
    static Path vocabDir() {
        String configured = System.getProperty("lora4j.shared");
        if (configured != null) {
            Path dir = Path.of(configured, "vocab");
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("lora4j.shared=" + configured + " has no vocab directory");
            }
            return dir;
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("vocab");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/vocab not found above " + Path.of("").toAbsolutePath()
                + "; set -Dlora4j.shared=/path/to/shared");
    }

    static Map<String, Object> metadata(Path gguf) {
        try (FileChannel channel = FileChannel.open(gguf, StandardOpenOption.READ)) {
            ByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
            if (buf.getInt() != 0x46554747) {
                throw new IllegalArgumentException(gguf + " is not a GGUF file");
            }
            int version = buf.getInt();
            if (version < 2 || version > 3) {
                throw new IllegalArgumentException(gguf + ": unsupported GGUF version " + version);
            }
            buf.getLong(); // tensor count
            long count = buf.getLong();
            Map<String, Object> kv = new LinkedHashMap<>();
            for (long i = 0; i < count; i++) {
                String key = string(buf);
                kv.put(key, value(buf, buf.getInt()));
            }
            return kv;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object value(ByteBuffer buf, int type) {
        return switch (type) {
            case 0 -> (long) Byte.toUnsignedInt(buf.get());
            case 1 -> (long) buf.get();
            case 2 -> (long) Short.toUnsignedInt(buf.getShort());
            case 3 -> (long) buf.getShort();
            case 4 -> Integer.toUnsignedLong(buf.getInt());
            case 5 -> (long) buf.getInt();
            case 6 -> (double) buf.getFloat();
            case 7 -> buf.get() != 0;
            case 8 -> string(buf);
            case 9 -> array(buf);
            case 10, 11 -> buf.getLong();
            case 12 -> buf.getDouble();
            default -> throw new IllegalArgumentException("unknown GGUF value type " + type);
        };
    }

    private static Object array(ByteBuffer buf) {
        int type = buf.getInt();
        int n = Math.toIntExact(buf.getLong());
        switch (type) {
            case 8 -> {
                List<String> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(string(buf));
                }
                return list;
            }
            case 6, 12 -> {
                double[] values = new double[n];
                for (int i = 0; i < n; i++) {
                    values[i] = (Double) value(buf, type);
                }
                return values;
            }
            case 7 -> {
                boolean[] values = new boolean[n];
                for (int i = 0; i < n; i++) {
                    values[i] = buf.get() != 0;
                }
                return values;
            }
            default -> {
                long[] values = new long[n];
                for (int i = 0; i < n; i++) {
                    values[i] = (Long) value(buf, type);
                }
                return values;
            }
        }
    }

    private static String string(ByteBuffer buf) {
        byte[] bytes = new byte[Math.toIntExact(buf.getLong())];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
