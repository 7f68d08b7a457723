package io.lora4j.lora.peft;

import java.util.Arrays;

/**
 * One entry of a safetensors header. {@code shape} is in torch order (row-major, last dimension
 * contiguous); {@code begin}/{@code end} are byte offsets into the data buffer after the header.
 */
public record SafetensorsTensor(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
