package io.lora4j;

import java.util.Locale;

/**
 * One CUDA device as the backend reports it.
 *
 * @param index the device's index, as in {@link Device#cuda(int)}
 * @param totalMemory bytes of device memory
 * @param freeMemory bytes free when the devices were listed
 * @param emulated true for the backend's CPU emulation (used by tests), not a real GPU
 */
public record GpuInfo(int index, String name, long totalMemory, long freeMemory, int computeMajor, int computeMinor,
                      int multiprocessors, boolean emulated) {

    /** The device to pass to contexts and trainers. */
    public Device device() {
        return Device.cuda(index);
    }

    /** Compute capability as NVIDIA writes it, e.g. {@code 9.0}. */
    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "cuda:%d %s (compute %s, %d SMs, %.1f GiB, %.1f GiB free)%s", index, name,
                computeCapability(), multiprocessors, totalMemory / 1073741824.0, freeMemory / 1073741824.0,
                emulated ? " [CPU emulation]" : "");
    }
}
