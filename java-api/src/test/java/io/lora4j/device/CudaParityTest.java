package io.lora4j.device;

import io.lora4j.CudaUnavailableException;
import io.lora4j.Device;
import io.lora4j.GpuInfo;
import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.TensorType;
import io.lora4j.generate.Generation;
import io.lora4j.generate.Sampling;
import io.lora4j.internal.lora4j_h;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.rl.TinyModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The same work on the CPU and on CUDA device 0, on the bundled tiny model (F32, and re-encoded
 * to Q8_0 and Q4_0 at load). Without a GPU the tests use the backend's CPU emulation (Surefire
 * sets LORA4J_CUDA_LIBRARY to it); with neither they are skipped, saying why.
 *
 * <p>Tolerances: the GPU computes activations in bf16 (8-bit mantissa, ~0.4% per rounding) where
 * the CPU uses f32, so a mean cross-entropy after 4 layers agrees to about 1% and the gradient
 * norm to a few %; we allow 2% on the loss and 5% on the norm. Greedy decoding must match token
 * for token: the tiny model's top-2 logit gaps are far wider than that error.
 */
@Tag("cuda")
class CudaParityTest {
    static final Device GPU = Device.cuda(0);
    static final double LOSS_TOLERANCE = 0.02;
    static final double GRAD_NORM_TOLERANCE = 0.05;

    @BeforeAll
    static void needsACudaDevice() {
        List<GpuInfo> gpus = Device.cudaDevices();
        assumeFalse(gpus.isEmpty(), () -> "skipped: no CUDA device (" + Device.cudaUnavailableReason().orElse("") + ")");
        System.out.println("CUDA parity on " + gpus.getFirst());
    }

    enum Weights {
        F32(null), Q8_0(TensorType.Q8_0), Q4_0(TensorType.Q4_0);

        final TensorType type;

        Weights(TensorType type) {
            this.type = type;
        }

        ModelOptions options(Device device) {
            ModelOptions.Builder b = ModelOptions.builder().device(device);
            if (type != null) b.quantizeTo(type);
            return b.build();
        }
    }

    static Dataset sentences() {
        String[] animals = {"cat", "dog", "fox", "bird"};
        String[] things = {"red box", "blue cup", "big hat"};
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String a : animals) {
            for (String t : things) rows.add(Map.of("text", "the " + a + " sees the " + t + "."));
        }
        return Dataset.of("sentences", rows);
    }

    /** Three LoRA SFT steps (r 4 on every projection, 2 rows of 32 tokens). */
    static List<StepMetrics> sft(Model model, Device device) {
        LoraConfig lora = LoraConfig.builder().rank(4).alpha(8).seed(7).build();
        try (TrainingRun run = model.lora(lora).sft(sentences()).device(device).batchSize(2).contextLength(32)
                .maxSteps(3).learningRate(5e-3).constant().seed(3).threads(2).progress(false).train()) {
            return run.history();
        }
    }

    @ParameterizedTest
    @EnumSource(Weights.class)
    void loraStepsGiveTheCpuLossesAndGradientNorms(Weights w) {
        List<StepMetrics> cpu, gpu;
        try (Model model = Model.load(TinyModel.path(), w.options(Device.cpu()))) {
            cpu = sft(model, Device.cpu());
            gpu = sft(model, GPU);
        }
        assertEquals(cpu.size(), gpu.size());
        for (int i = 0; i < cpu.size(); i++) {
            double lc = cpu.get(i).get(StepMetrics.LOSS).orElseThrow(), lg = gpu.get(i).get(StepMetrics.LOSS).orElseThrow();
            double gc = cpu.get(i).get("grad_norm").orElseThrow(), gg = gpu.get(i).get("grad_norm").orElseThrow();
            System.out.printf("%s step %d: loss cpu %.5f gpu %.5f; grad norm cpu %.5f gpu %.5f%n", w, i + 1, lc, lg, gc, gg);
            assertEquals(lc, lg, LOSS_TOLERANCE * Math.abs(lc), w + " loss at step " + (i + 1));
            assertEquals(gc, gg, GRAD_NORM_TOLERANCE * Math.abs(gc), w + " gradient norm at step " + (i + 1));
        }
    }

    @ParameterizedTest
    @EnumSource(Weights.class)
    void greedyGenerationMatchesTheCpu(Weights w) {
        int[] cpu, gpu;
        try (Model model = Model.load(TinyModel.path(), w.options(Device.cpu()))) {
            cpu = model.generate("the cat sees the", Sampling.greedy(20)).tokenIds();
        }
        try (Model model = Model.load(TinyModel.path(), w.options(GPU))) {
            Generation g = model.generate("the cat sees the", Sampling.greedy(20));
            gpu = g.tokenIds();
            System.out.printf("%s greedy on %s: \"%s\"%n", w, GPU, g.text());
        }
        assertTrue(cpu.length > 0);
        assertArrayEquals(cpu, gpu, () -> w + ": cpu " + Arrays.toString(cpu) + ", gpu " + Arrays.toString(gpu));
    }

    @Test
    void fullFineTuningAndClassificationAreRefusedOnTheGpuWithTheEnginesReason() {
        try (Model model = Model.load(TinyModel.path())) {
            Lora4jException full = assertThrows(Lora4jException.class, () -> model.fullFineTune(sentences()).device(GPU)
                    .batchSize(1).contextLength(16).maxSteps(1).progress(false).train());
            assertEquals(lora4j_h.LORA4J_ERR_UNSUPPORTED(), full.status(), full.getMessage());
            System.out.println("full fine-tuning on " + GPU + ": " + full.getMessage());

            List<Map<String, Object>> rows = List.of(Map.of("text", "the cat", "label", "animal"),
                    Map.of("text", "the red box", "label", "thing"));
            Lora4jException classify = assertThrows(Lora4jException.class, () -> model.lora(LoraConfig.builder().rank(2)
                    .build()).classifier(Dataset.of("labels", rows)).device(GPU).batchSize(1).maxSteps(1)
                    .progress(false).train());
            assertEquals(lora4j_h.LORA4J_ERR_UNSUPPORTED(), classify.status(), classify.getMessage());
            System.out.println("classification on " + GPU + ": " + classify.getMessage());
        }
    }

    @Test
    void anIndexPastTheLastDeviceNamesTheDevicesThereAre() {
        int n = Device.cudaDevices().size();
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> Device.cuda(n).requireAvailable());
        assertEquals(lora4j_h.LORA4J_ERR_INVALID_ARGUMENT(), e.status());
        assertTrue(e.getMessage().contains(Device.cudaDevices().getFirst().name()), e.getMessage());
    }
}
