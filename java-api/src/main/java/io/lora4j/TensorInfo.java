package io.lora4j;

import java.util.Arrays;

/**
 * One tensor of a GGUF file. {@code shape} is in ggml order: shape[0] is the contiguous
 * dimension (a weight of torch shape (out, in) has shape {in, out}).
 */
public record TensorInfo(String name, TensorType type, long[] shape, long offset, long byteSize) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
