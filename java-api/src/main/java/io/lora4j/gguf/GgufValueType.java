package io.lora4j.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** GGUF metadata value types (ids as stored in the file). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int byteSize;

    GgufValueType(int id, int byteSize) {
        this.id = id;
        this.byteSize = byteSize;
    }

    public int id() {
        return id;
    }

    /** Size of one packed element (0 for STRING and ARRAY). */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    public static GgufValueType fromId(int id) {
        for (GgufValueType t : values()) {
            if (t.id == id) return t;
        }
        throw new IllegalArgumentException("unknown GGUF value type " + id);
    }

    /** Element j of a packed array of this integer type, widened to long (UINT64 kept as bits). */
    long readInteger(MemorySegment data, long j) {
        return switch (this) {
            case UINT8 -> Byte.toUnsignedLong(data.get(ValueLayout.JAVA_BYTE, j));
            case INT8 -> data.get(ValueLayout.JAVA_BYTE, j);
            case UINT16 -> Short.toUnsignedLong(data.getAtIndex(ValueLayout.JAVA_SHORT, j));
            case INT16 -> data.getAtIndex(ValueLayout.JAVA_SHORT, j);
            case UINT32 -> Integer.toUnsignedLong(data.getAtIndex(ValueLayout.JAVA_INT, j));
            case INT32 -> data.getAtIndex(ValueLayout.JAVA_INT, j);
            case UINT64, INT64 -> data.getAtIndex(ValueLayout.JAVA_LONG, j);
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }
}
