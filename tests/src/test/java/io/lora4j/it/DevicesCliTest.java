package io.lora4j.it;

import io.lora4j.Device;
import io.lora4j.GpuInfo;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code devices} and {@code --device}. Surefire points LORA4J_CUDA_LIBRARY at the backend's CPU
 * emulation when it was built, so cuda:0 is either that (or a GPU) or unavailable with a reason.
 */
class DevicesCliTest {
    @TempDir
    static Path dir;
    static String model;

    @BeforeAll
    static void makeModel() {
        Path file = dir.resolve("d.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(128)
                .vocabSize(400).contextLength(64).weightScale(0.3f).seed(4).write(file);
        model = file.toString();
    }

    @Test
    void devicesListsTheCpuThenTheGpusOrWhyThereAreNone() {
        CliRunner r = CliRunner.run("devices");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("cpu", lines.getFirst());
        List<GpuInfo> gpus = Device.cudaDevices();
        if (gpus.isEmpty()) {
            assertEquals(List.of("cpu", "no CUDA device: " + Device.cudaUnavailableReason().orElseThrow()), lines);
        } else {
            assertEquals(gpus.size() + 1, lines.size(), r.out());
            for (GpuInfo g : gpus) assertTrue(lines.get(g.index() + 1).startsWith("cuda:" + g.index() + " "), r.out());
        }
    }

    @Test
    void aMalformedDeviceIsAUsageError() {
        CliRunner r = CliRunner.run("generate", "-m", model, "-p", "Once", "--device", "gpu0");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("cpu, cuda or cuda:N"), r.err());
    }

    /** Token parity with the CPU is CudaParityTest's job; here, the flag reaches the model. */
    @Test
    void generateOnCudaRunsThereOrSaysWhyItCannot() {
        CliRunner gpu = CliRunner.run("generate", "-m", model, "-p", "Once", "-n", "8", "--temp", "0", "--device", "cuda");
        if (Device.cudaDevices().isEmpty()) {
            assertEquals(1, gpu.exitCode());
            assertEquals("error: CUDA device cuda:0 was asked for, but " + Device.cudaUnavailableReason().orElseThrow(),
                    gpu.err().strip());
        } else {
            assertEquals(0, gpu.exitCode(), gpu.err());
            assertTrue(gpu.out().startsWith("Once") && gpu.out().strip().length() > 4, gpu.out());
        }
    }

    @Test
    void trainRlAndDpoRefuseADeviceThatIsNotThereBeforeAnyWork() throws Exception {
        Path text = Files.writeString(dir.resolve("text.jsonl"), "{\"text\": \"Once upon a time\"}\n");
        Path prompts = Files.writeString(dir.resolve("prompts.jsonl"), "{\"prompt\": \"Once\", \"answer\": \"a\"}\n");
        Path pairs = Files.writeString(dir.resolve("pairs.jsonl"),
                "{\"prompt\": \"Once\", \"chosen\": \" upon\", \"rejected\": \" a\"}\n");
        String out = dir.resolve("out").toString();
        List<List<String>> commands = List.of(
                List.of("train", "-m", model, "--data", text.toString(), "-o", out),
                List.of("rl", "-m", model, "--prompts", prompts.toString(), "--reward", "exact", "-o", out),
                List.of("dpo", "-m", model, "--data", pairs.toString(), "-o", out));
        for (List<String> c : commands) {
            List<String> args = new ArrayList<>(c);
            args.addAll(List.of("--max-steps", "1", "--device", "cuda:99"));
            CliRunner r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(1, r.exitCode(), c.getFirst() + ": " + r.err());
            assertTrue(r.err().startsWith("error: CUDA device cuda:99 was asked for, but "), c.getFirst() + ": " + r.err());
        }
        CliRunner bench = CliRunner.run("bench", "--device", "tpu");
        assertEquals(2, bench.exitCode());
        assertTrue(bench.err().contains("cpu, cuda or cuda:N"), bench.err());
    }
}
