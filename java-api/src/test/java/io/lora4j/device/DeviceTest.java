package io.lora4j.device;

import io.lora4j.CudaUnavailableException;
import io.lora4j.Device;
import io.lora4j.GpuInfo;
import io.lora4j.ModelOptions;
import io.lora4j.train.TrainerShape;
import io.lora4j.train.TrainingOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceTest {
    @Test
    void parsesCpuCudaAndCudaN() {
        assertEquals(Device.cpu(), Device.parse("cpu"));
        assertEquals(Device.cpu(), Device.parse(" CPU "));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(0), Device.parse("cuda:0"));
        assertEquals(Device.cuda(3), Device.parse("CUDA:3"));
        assertEquals(new Device.Cuda(1), Device.parse("cuda:1"));
    }

    @Test
    void printsAsItParses() {
        assertEquals("cpu", Device.cpu().toString());
        assertEquals("cuda:2", Device.cuda(2).toString());
        for (Device d : List.of(Device.cpu(), Device.cuda(0), Device.cuda(7))) assertEquals(d, Device.parse(d.toString()));
    }

    @Test
    void ordinalIsTheEnginesDeviceNumber() {
        assertEquals(-1, Device.cpu().ordinal());
        assertEquals(4, Device.cuda(4).ordinal());
        assertFalse(Device.cpu().isCuda());
        assertTrue(Device.cuda(0).isCuda());
    }

    @Test
    void rejectsMalformedDevicesAndNegativeIndices() {
        for (String bad : new String[] {"", "gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1:2", "cuda 1", "cuda:99999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
        assertTrue(e.getMessage().contains(">= 0"), e.getMessage());
    }

    @Test
    void theCpuIsAlwaysAvailableAndTheDefaultEverywhere() {
        Device.cpu().requireAvailable();
        assertEquals(Device.cpu(), ModelOptions.defaults().device());
        assertEquals(Device.cpu(), TrainingOptions.builder().build().device());
        assertEquals(Device.cpu(), new TrainerShape(1, 8, 1, false, false, 0, 1).device());
        assertEquals(Device.cuda(1), TrainingOptions.builder().device(Device.cuda(1)).build().device());
        assertThrows(NullPointerException.class, () -> TrainingOptions.builder().device(null).build());
    }

    @Test
    void gpuInfoDescribesTheDevice() {
        GpuInfo g = new GpuInfo(1, "NVIDIA H200", 150_000_000_000L, 148_000_000_000L, 9, 0, 132, false);
        assertEquals("9.0", g.computeCapability());
        assertEquals(Device.cuda(1), g.device());
        assertEquals("cuda:1 NVIDIA H200 (compute 9.0, 132 SMs, 139.7 GiB, 137.8 GiB free)", g.toString());
        assertTrue(new GpuInfo(0, "emu", 1L << 30, 1L << 30, 8, 0, 1, true).toString().endsWith("[CPU emulation]"));
    }

    /** Holds on any machine: either devices are listed, or a reason says why not and asking fails with it. */
    @Test
    void eitherDevicesOrAReasonAndAskingFailsWithIt() {
        List<GpuInfo> gpus = Device.cudaDevices();
        Optional<String> reason = Device.cudaUnavailableReason();
        assertEquals(gpus.isEmpty(), reason.isPresent(), "devices " + gpus + ", reason " + reason);
        for (int i = 0; i < gpus.size(); i++) {
            assertEquals(i, gpus.get(i).index());
            assertTrue(gpus.get(i).totalMemory() > 0, gpus.get(i).toString());
            gpus.get(i).device().requireAvailable();
        }
        if (gpus.isEmpty()) {
            assertFalse(reason.orElseThrow().isBlank());
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> Device.cuda(0).requireAvailable());
            assertTrue(e.getMessage().startsWith("CUDA device cuda:0 was asked for, but "), e.getMessage());
            assertTrue(e.getMessage().endsWith(reason.orElseThrow()), e.getMessage() + " / " + reason.orElseThrow());
        }
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> Device.cuda(gpus.size()).requireAvailable());
        assertTrue(e.getMessage().contains("cuda:" + gpus.size()), e.getMessage());
    }
}
