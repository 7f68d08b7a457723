package io.lora4j.cli;

import io.lora4j.Device;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --device}, shared by the commands that compute: generate, train, rl, dpo, bench. */
final class DeviceOption {
    @Option(names = "--device", defaultValue = "cpu", converter = DeviceConverter.class,
            description = "cpu (default), cuda or cuda:N (see `lora4j devices`)")
    Device device;

    static final class DeviceConverter implements ITypeConverter<Device> {
        @Override
        public Device convert(String value) {
            try {
                return Device.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
