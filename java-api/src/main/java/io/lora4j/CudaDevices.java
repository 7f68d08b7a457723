package io.lora4j;

import io.lora4j.engine.Native;
import io.lora4j.internal.NativeLibrary;
import io.lora4j.internal.lora4j_device_info;
import io.lora4j.internal.lora4j_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The engine's view of the CUDA backend: how many devices, what they are, why there are none. */
final class CudaDevices {
    private CudaDevices() {}

    /** The device count, or the reason the backend cannot be used. */
    private record Count(int devices, String reason) {}

    private static Count count() {
        NativeLibrary.extractCudaBackend();
        // An engine from before the CUDA backend (-Dlora4j.library.path naming an old build).
        if (NativeLibrary.lookup().find("lora4j_cuda_device_count").isEmpty()) {
            return new Count(0, "the lora4j engine " + NativeLibrary.path()
                    + " was built without CUDA support (it has no lora4j_cuda_device_count)");
        }
        int n = lora4j_h.lora4j_cuda_device_count();
        if (n >= 0) return new Count(n, null);
        String why = Native.lastError();
        return new Count(0, why.isEmpty() ? "the lora4j engine gave no reason" : why);
    }

    static Optional<String> unavailableReason() {
        return reason(count());
    }

    private static Optional<String> reason(Count c) {
        if (c.reason() != null) return Optional.of("the CUDA backend cannot be used: " + c.reason());
        if (c.devices() == 0) return Optional.of("the CUDA driver reports no devices");
        return Optional.empty();
    }

    static List<GpuInfo> list() {
        Count c = count();
        List<GpuInfo> out = new ArrayList<>(c.devices());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = lora4j_device_info.allocate(arena);
            for (int i = 0; i < c.devices(); i++) {
                Native.check(lora4j_h.lora4j_cuda_device_info(i, info), "reading CUDA device " + i);
                String name = lora4j_device_info.name(info).getString(0);
                out.add(new GpuInfo(i, name, lora4j_device_info.total_memory(info),
                        lora4j_device_info.free_memory(info), lora4j_device_info.cc_major(info),
                        lora4j_device_info.cc_minor(info), lora4j_device_info.multiprocessors(info),
                        lora4j_device_info.emulated(info) != 0));
            }
        }
        return List.copyOf(out);
    }

    static void require(int index) {
        Count c = count();
        String asked = "CUDA device cuda:" + index + " was asked for, but ";
        Optional<String> why = reason(c);
        if (why.isPresent()) throw new CudaUnavailableException(lora4j_h.LORA4J_ERR_UNSUPPORTED(), asked + why.get());
        if (index >= c.devices()) {
            String have = list().stream().map(GpuInfo::toString).collect(Collectors.joining("; "));
            throw new CudaUnavailableException(lora4j_h.LORA4J_ERR_INVALID_ARGUMENT(),
                    asked + "there " + (c.devices() == 1 ? "is 1 device" : "are " + c.devices() + " devices") + ": " + have);
        }
    }
}
