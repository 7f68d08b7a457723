package io.lora4j.device;

import io.lora4j.CudaUnavailableException;
import io.lora4j.Device;
import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.generate.InferenceContext;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.rl.TinyModel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A user's JVM on a machine without a usable GPU (CI): no LORA4J_CUDA_LIBRARY, so the engine
 * looks only beside itself (nothing there without nvcc; with nvcc, a backend that finds no
 * driver). Run by its own Surefire execution, which removes that variable.
 */
@Tag("no-cuda-backend")
class NoCudaBackendTest {
    @Test
    void everyCudaRequestFailsWithTheReason() {
        assumeTrue(System.getenv("LORA4J_CUDA_LIBRARY") == null, "LORA4J_CUDA_LIBRARY is set: not a user's JVM");
        assumeTrue(Device.cudaDevices().isEmpty(), "this machine has a usable GPU: " + Device.cudaDevices());
        String reason = Device.cudaUnavailableReason().orElseThrow();
        assertTrue(reason.length() > 30, reason);
        String expected = "CUDA device cuda:0 was asked for, but " + reason;

        ModelOptions onGpu = ModelOptions.builder().device(Device.cuda(0)).build();
        CudaUnavailableException load = assertThrows(CudaUnavailableException.class,
                () -> Model.load(TinyModel.path(), onGpu));
        assertEquals(expected, load.getMessage());

        try (Model model = Model.load(TinyModel.path())) {
            CudaUnavailableException ctx = assertThrows(CudaUnavailableException.class,
                    () -> new InferenceContext(model, 16, 1, 1, false, Device.cuda(0)));
            assertEquals(expected, ctx.getMessage());
            Dataset data = Dataset.of("one", List.of(Map.of("text", "the cat sees the dog.")));
            CudaUnavailableException train = assertThrows(CudaUnavailableException.class,
                    () -> model.lora(LoraConfig.builder().rank(2).build()).sft(data).device(Device.cuda(0))
                            .maxSteps(1).progress(false).train());
            assertEquals(expected, train.getMessage());
        }
    }
}
