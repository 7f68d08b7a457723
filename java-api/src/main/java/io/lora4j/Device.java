package io.lora4j;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a context or a trainer computes: the CPU (the default) or one CUDA GPU.
 *
 * <p>The CUDA backend is a separate native library, {@code liblora4j-cuda.so}, loaded the first
 * time a CUDA device is asked for: from beside {@code liblora4j.so}, or from the path in the
 * environment variable {@code LORA4J_CUDA_LIBRARY}. Without it, or without an NVIDIA driver new
 * enough for it, everything still runs on the CPU, and {@link #cudaUnavailableReason()} says why
 * there is no GPU. Asking for a CUDA device that cannot be used throws a
 * {@link CudaUnavailableException} with that reason.
 *
 * <p>On a GPU: generation, LoRA training (bias "none") and the RL/DPO steps. Full fine-tuning and
 * sequence classification stay on the CPU; the engine refuses them on a GPU with a message.
 */
public sealed interface Device permits Device.Cpu, Device.Cuda {

    /** The CPU. */
    record Cpu() implements Device {
        @Override
        public int ordinal() {
            return -1;
        }

        @Override
        public String toString() {
            return "cpu";
        }
    }

    /** CUDA device {@code index}, numbered as the driver numbers them (see {@link #cudaDevices()}). */
    record Cuda(int index) implements Device {
        public Cuda {
            if (index < 0) throw new IllegalArgumentException("a CUDA device index must be >= 0, got " + index);
        }

        @Override
        public int ordinal() {
            return index;
        }

        @Override
        public String toString() {
            return "cuda:" + index;
        }
    }

    static Device cpu() {
        return new Cpu();
    }

    static Device cuda(int index) {
        return new Cuda(index);
    }

    /** {@code cpu}, {@code cuda} (device 0) or {@code cuda:N}, case-insensitive. */
    static Device parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) return cpu();
        if (s.equals("cuda")) return cuda(0);
        if (s.startsWith("cuda:")) {
            String n = s.substring(5);
            if (!n.isEmpty() && n.chars().allMatch(c -> c >= '0' && c <= '9') && n.length() <= 9) {
                return cuda(Integer.parseInt(n));
            }
        }
        throw new IllegalArgumentException("a device is cpu, cuda or cuda:N (N >= 0), got '" + text + "'");
    }

    /** The engine's device number: -1 for the CPU, the CUDA device index otherwise. */
    int ordinal();

    default boolean isCuda() {
        return this instanceof Cuda;
    }

    /**
     * Checks that this device can be used: always for the CPU; for CUDA, the backend loads and
     * the index names a device. Throws {@link CudaUnavailableException} saying why not.
     */
    default void requireAvailable() {
        if (this instanceof Cuda(int index)) CudaDevices.require(index);
    }

    /**
     * The CUDA devices the backend sees, in index order; empty when there are none or the
     * backend cannot be used ({@link #cudaUnavailableReason()} then says why).
     */
    static List<GpuInfo> cudaDevices() {
        return CudaDevices.list();
    }

    /**
     * Why no CUDA device can be used (the backend library is not in this build or not found, no
     * NVIDIA driver, a driver too old for the CUDA 13 runtime, no device), or empty when at least
     * one can.
     */
    static Optional<String> cudaUnavailableReason() {
        return CudaDevices.unavailableReason();
    }
}
