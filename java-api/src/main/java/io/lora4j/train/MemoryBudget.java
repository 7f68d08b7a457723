package io.lora4j.train;

import io.lora4j.Device;
import io.lora4j.GpuInfo;

import java.lang.management.ManagementFactory;

/**
 * Refuses, with the numbers, a run whose planned memory exceeds the machine's RAM (CPU) or the
 * device memory free on its GPU (the engine plans a CUDA trainer's device memory).
 */
public final class MemoryBudget {
    private MemoryBudget() {}

    static long physicalMemory() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getTotalMemorySize();
        return Long.MAX_VALUE;
    }

    public static void check(MemoryPlan plan, Device device) {
        String advice = "; lower the batch size or context length, or turn on checkpointing";
        if (device instanceof Device.Cuda(int index)) {
            device.requireAvailable();
            GpuInfo gpu = Device.cudaDevices().get(index);
            // A backend that reports no free figure is held to the device's total.
            long budget = gpu.freeMemory() > 0 ? gpu.freeMemory() : gpu.totalMemory();
            if (plan.total() > budget) {
                throw new IllegalStateException("this run needs " + plan + ", more than the " + MemoryPlan.mib(budget)
                        + " free on " + gpu + advice);
            }
            return;
        }
        long ram = physicalMemory();
        if (plan.total() > ram) {
            throw new IllegalStateException("this run needs " + plan + ", more than the machine's "
                    + MemoryPlan.mib(ram) + " of RAM" + advice);
        }
    }
}
