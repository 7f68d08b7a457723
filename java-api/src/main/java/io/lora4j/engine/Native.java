package io.lora4j.engine;

import io.lora4j.Lora4jException;
import io.lora4j.internal.lora4j_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/** Small helpers shared by every wrapper of the C API: status checks and C strings. */
public final class Native {
    private Native() {}

    /** Throws a {@link Lora4jException} with the engine's message unless {@code status} is OK. */
    public static void check(int status, String what) {
        if (status != lora4j_h.LORA4J_OK()) {
            throw new Lora4jException(status, what + ": " + lastError());
        }
    }

    /** The calling thread's last engine error message. */
    public static String lastError() {
        MemorySegment msg = lora4j_h.lora4j_last_error();
        return msg.equals(MemorySegment.NULL) ? "" : cString(msg);
    }

    /** Reads a NUL-terminated UTF-8 string the engine owns. */
    public static String cString(MemorySegment ptr) {
        return ptr.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }

    /** Reads {@code len} bytes at {@code ptr} as UTF-8 (strings may hold NULs). */
    public static String utf8(MemorySegment ptr, long len) {
        return new String(bytes(ptr, len), StandardCharsets.UTF_8);
    }

    /** Copies {@code len} bytes at {@code ptr}. */
    public static byte[] bytes(MemorySegment ptr, long len) {
        if (len > Integer.MAX_VALUE - 8) {
            throw new Lora4jException(-1, "native string of " + len + " bytes is too large for Java");
        }
        return ptr.reinterpret(len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /** A NUL-terminated UTF-8 copy of {@code s} in {@code arena}. */
    public static MemorySegment cString(Arena arena, String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_8);
    }
}
