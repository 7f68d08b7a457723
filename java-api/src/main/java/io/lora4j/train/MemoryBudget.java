package io.lora4j.train;

import java.lang.management.ManagementFactory;

/** Refuses, with the numbers, a run whose planned memory exceeds the machine's RAM. */
public final class MemoryBudget {
    private MemoryBudget() {}

    static long physicalMemory() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getTotalMemorySize();
        return Long.MAX_VALUE;
    }

    public static void check(MemoryPlan plan) {
        long ram = physicalMemory();
        if (plan.total() > ram) {
            throw new IllegalStateException("this run needs " + plan + ", more than the machine's "
                    + MemoryPlan.mib(ram) + " of RAM; lower the batch size or context length, or turn on checkpointing");
        }
    }
}
