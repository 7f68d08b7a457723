package io.lora4j.cli;

import io.lora4j.Device;
import io.lora4j.GpuInfo;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code lora4j devices}: the CUDA devices --device can name, or why there are none. */
@Command(name = "devices", description = "List the CUDA devices (for --device cuda:N), or say why there are none.")
final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        List<GpuInfo> gpus = Device.cudaDevices();
        System.out.println("cpu");
        for (GpuInfo g : gpus) System.out.println(g);
        if (gpus.isEmpty()) {
            System.out.println("no CUDA device: " + Device.cudaUnavailableReason().orElse("none found"));
        }
        return 0;
    }
}
