package io.lora4j.internal;

import static io.lora4j.internal.lora4j_h.*;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The generated lora4j.h bindings against the engine built by this module. */
class BindingsTest {

    @Test
    void versionMatchesTheProjectVersion() {
        String version = lora4j_version().getString(0);
        String project = System.getProperty("lora4j.project.version", "");
        assertFalse(project.isEmpty(), "surefire passes lora4j.project.version");
        assertEquals(project.replace("-SNAPSHOT", ""), version, "engine version vs pom version");
    }

    @Test
    void failedCallLeavesItsMessageInLastError() {
        int status = lora4j_simd_set(99);
        assertEquals(LORA4J_ERR_INVALID_ARGUMENT(), status);
        String message = lora4j_last_error().getString(0);
        assertTrue(message.contains("99"), "message names the bad level: " + message);

        // A successful public call clears the message.
        assertEquals(LORA4J_OK(), lora4j_simd_set(lora4j_simd_detected()));
        assertEquals("", lora4j_last_error().getString(0));
    }

    @Test
    void simdLevelCanBeLoweredAndRestored() {
        int detected = lora4j_simd_detected();
        assertTrue(detected >= LORA4J_SIMD_SCALAR() && detected <= LORA4J_SIMD_AVX512(), "level " + detected);
        try {
            assertEquals(LORA4J_OK(), lora4j_simd_set(LORA4J_SIMD_SCALAR()));
            assertEquals(LORA4J_SIMD_SCALAR(), lora4j_simd_active());
        } finally {
            assertEquals(LORA4J_OK(), lora4j_simd_set(detected));
        }
        assertEquals(detected, lora4j_simd_active());
    }

    record LogLine(int level, String message, long userData) {}

    @Test
    void logCallbackIsAnUpcallThatCatchesEverything() {
        List<LogLine> lines = new ArrayList<>();
        List<Throwable> escaped = new ArrayList<>();
        // An exception leaving an upcall kills the JVM, so the callback catches all of them.
        lora4j_log_callback.Function callback = (level, message, userData) -> {
            try {
                String text = message.getString(0);
                if (text.equals("throw")) throw new IllegalStateException("thrown inside the upcall");
                lines.add(new LogLine(level, text, userData.address()));
            } catch (Throwable t) {
                escaped.add(t);
            }
        };
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stub = lora4j_log_callback.allocate(callback, arena);
            MemorySegment userData = arena.allocate(8);
            lora4j_log_set(stub, userData); // the engine now holds the stub
            try {
                // Through native code and back: a downcall into the upcall stub.
                lora4j_log_callback.invoke(stub, LORA4J_LOG_WARN(), arena.allocateFrom("disk almost full"), userData);
                lora4j_log_callback.invoke(stub, LORA4J_LOG_ERROR(), arena.allocateFrom("throw"), userData);
            } finally {
                lora4j_log_set(MemorySegment.NULL, MemorySegment.NULL); // before the stub's arena closes
            }
            assertEquals(List.of(new LogLine(LORA4J_LOG_WARN(), "disk almost full", userData.address())), lines);
            assertEquals(1, escaped.size());
            assertEquals("thrown inside the upcall", escaped.get(0).getMessage());
        }
    }

    @Test
    void tensorInfoStructWithArrayField() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = lora4j_tensor_info.allocate(arena);
            assertEquals(lora4j_tensor_info.sizeof(), info.byteSize());
            MemorySegment name = arena.allocateFrom("blk.0.attn_q.weight");
            MemorySegment data = arena.allocate(64);
            long[] ne = {4096, 11008, 1, 1};

            lora4j_tensor_info.name(info, name);
            lora4j_tensor_info.type(info, LORA4J_TYPE_Q4_K());
            lora4j_tensor_info.n_dims(info, 2);
            for (int i = 0; i < ne.length; i++) lora4j_tensor_info.ne(info, i, ne[i]);
            lora4j_tensor_info.offset(info, 1L << 33);
            lora4j_tensor_info.n_bytes(info, 123_456_789L);
            lora4j_tensor_info.data(info, data);

            assertEquals("blk.0.attn_q.weight", lora4j_tensor_info.name(info).getString(0));
            assertEquals(LORA4J_TYPE_Q4_K(), lora4j_tensor_info.type(info));
            assertEquals(2, lora4j_tensor_info.n_dims(info));
            assertArrayEquals(new long[] {4}, lora4j_tensor_info.ne$dimensions());
            for (int i = 0; i < ne.length; i++) {
                assertEquals(ne[i], lora4j_tensor_info.ne(info, i));
                // The indexed accessor writes the C array where castxml put it.
                assertEquals(ne[i], info.get(ValueLayout.JAVA_LONG, lora4j_tensor_info.ne$offset() + 8L * i));
            }
            assertArrayEquals(ne, lora4j_tensor_info.ne(info).toArray(ValueLayout.JAVA_LONG));
            assertEquals(1L << 33, lora4j_tensor_info.offset(info));
            assertEquals(123_456_789L, lora4j_tensor_info.n_bytes(info));
            assertEquals(data.address(), lora4j_tensor_info.data(info).address());
            assertThrows(IndexOutOfBoundsException.class, () -> lora4j_tensor_info.ne(info, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> lora4j_tensor_info.ne(info, -1, 0L));
        }
    }

    /** Every generated struct class: each named member sits at the offset castxml reported for it. */
    @Test
    void structLayoutsPutEveryFieldAtItsCOffset() throws Exception {
        Path classes = Path.of(lora4j_h.class.getResource("lora4j_h.class").toURI()).getParent();
        int structs = 0;
        try (var files = Files.list(classes)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (!n.endsWith(".class") || n.contains("$")) continue;
                Class<?> c = Class.forName("io.lora4j.internal." + n.substring(0, n.length() - 6));
                // Struct classes have layout(); typedef aliases of structs extend them and are skipped.
                if (!hasMethod(c, "layout") || c.getSuperclass() != Object.class) continue;
                GroupLayout layout = (GroupLayout) c.getMethod("layout").invoke(null);
                structs++;
                long sizeof = (long) c.getMethod("sizeof").invoke(null);
                assertEquals(layout.byteSize(), sizeof, n);
                for (MemoryLayout member : layout.memberLayouts()) {
                    if (member.name().isEmpty()) continue; // padding
                    String field = member.name().get();
                    // Java keywords get a trailing underscore, as in jextract.
                    String accessor = hasMethod(c, field + "$offset") ? field : field + "_";
                    long offset = (long) c.getMethod(accessor + "$offset").invoke(null);
                    assertEquals(layout.byteOffset(groupElement(field)), offset, n + "." + field);
                }
            }
        }
        assertTrue(structs >= 4, "found " + structs + " struct classes in " + classes);
    }

    @Test
    void missingSymbolFailsOnlyWhenLookedUp() {
        var e = assertThrows(UnsatisfiedLinkError.class, () -> findOrThrow("lora4j_no_such_function"));
        assertTrue(e.getMessage().contains("lora4j_no_such_function"), e.getMessage());
        assertTrue(e.getMessage().contains(NativeLibrary.LIBRARY_FILE), e.getMessage());
        // The library itself stays usable.
        assertFalse(lora4j_version().getString(0).isEmpty());
    }

    /** Every enumerator in lora4j.h has a constant of the same value (parsed from the header text). */
    @Test
    void enumConstantsEqualTheHeader() throws Exception {
        Map<String, Long> header = enumerators(Path.of(System.getProperty("lora4j.header", "")));
        assertTrue(header.containsKey("LORA4J_OK") && header.containsKey("LORA4J_TYPE_BF16"), header.toString());
        for (var e : header.entrySet()) {
            Object value = lora4j_h.class.getMethod(e.getKey()).invoke(null);
            assertEquals(e.getValue().longValue(), ((Number) value).longValue(), e.getKey());
        }
    }

    static boolean hasMethod(Class<?> c, String name) {
        return java.util.Arrays.stream(c.getMethods()).anyMatch(m -> m.getName().equals(name));
    }

    private static final Pattern ENUM = Pattern.compile("\\benum\\s+\\w*\\s*\\{([^}]*)\\}");
    private static final Pattern INT = Pattern.compile("(-?)(0[xX][0-9a-fA-F]+|\\d+)[uUlL]*");

    /** Enumerators with plain integer values (explicit or implicit); others are skipped. */
    static Map<String, Long> enumerators(Path header) throws IOException {
        String text = Files.readString(header).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
        Map<String, Long> out = new LinkedHashMap<>();
        Matcher m = ENUM.matcher(text);
        while (m.find()) {
            Long next = 0L;
            for (String item : m.group(1).split(",")) {
                if (item.isBlank()) continue;
                String[] kv = item.split("=", 2);
                String name = kv[0].trim();
                Long value = next;
                if (kv.length == 2) {
                    Matcher v = INT.matcher(kv[1].trim());
                    value = v.matches() ? Long.decode(v.group(1) + v.group(2)) : null;
                }
                if (value != null) out.put(name, value);
                next = value == null ? null : value + 1;
            }
        }
        return out;
    }
}
