package io.lora4j.cli;

import io.lora4j.Device;
import picocli.CommandLine.Command;

import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code lora4j devices}: the CUDA devices --device can name, or why there are none. */
@Command(name = "devices", description = "List the CUDA devices (for --device cuda:N), or say why there are none.")
final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("cpu");
        Optional<String> none = Device.cudaUnavailableReason();
        if (none.isPresent()) System.out.println("no CUDA device: " + none.get());
        else Device.cudaDevices().forEach(System.out::println);
        return 0;
    }
}
