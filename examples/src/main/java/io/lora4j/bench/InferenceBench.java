package io.lora4j.bench;

import io.lora4j.Device;
import io.lora4j.Model;
import io.lora4j.ModelQuantizer;
import io.lora4j.QuantizationScheme;
import io.lora4j.generate.InferenceContext;
import io.lora4j.tools.SyntheticModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Prompt processing (pp) and decoding (tg) speed, measured as llama-bench does: pp = tokens/s of
 * one batched forward over a prompt of n tokens; tg = tokens/s decoding n tokens one at a time.
 */
public final class InferenceBench {
    /** llama.cpp's CPU build, 2 threads, on this machine kind, stories15M shape (issue figures). */
    private static final String[][] LLAMA_CPP = {
            {"F32", "4144", "238"}, {"Q8_0", "5377", "678"}, {"Q4_0", "6831", "933"}, {"Q4_K_M", "4451", "690"}};

    private final Path dir;
    private final int threads;
    private final int reps;
    private final Device device;

    public InferenceBench(Path dir, int threads, int reps, Device device) {
        this.dir = dir;
        this.threads = threads;
        this.reps = reps;
        this.device = device;
    }

    public void run(int pp, int tg) throws Exception {
        Files.createDirectories(dir);
        Path f32 = dir.resolve("stories15M-f32.gguf");
        if (!Files.exists(f32)) SyntheticModel.stories15M().seed(1).write(f32);
        System.out.printf("inference: stories15M shape (dim 288, 6 layers, 6 heads, ffn 768, vocab 32000, untied), "
                + "%s, %d threads, %d reps (min / median / max tokens/s)%n", device, threads, reps);
        System.out.printf("%-10s %-28s %-28s %10s %10s%n", "type", "pp" + pp, "tg" + tg, "llama.cpp pp", "tg");
        for (String[] ref : LLAMA_CPP) {
            Path file = quantized(f32, ref[0]);
            Row row = measure(file, pp, tg);
            System.out.printf("%-10s %-28s %-28s %10s %10s%n", ref[0], row.pp, row.tg, ref[1], ref[2]);
        }
        Path dim256 = dir.resolve("dim256-f32.gguf");
        if (!Files.exists(dim256)) {
            SyntheticModel.stories15M().embeddingLength(256).heads(4, 4).feedForwardLength(768).seed(2).write(dim256);
        }
        System.out.println("dim-256 model (rows a multiple of 256, so truly K-quant):");
        for (String type : new String[] {"Q4_K", "Q6_K"}) {
            Row row = measure(quantized(dim256, type), pp, tg);
            System.out.printf("%-10s %-28s %-28s%n", type, row.pp, row.tg);
        }
    }

    private Path quantized(Path f32, String type) {
        if (type.equals("F32")) return f32;
        Path out = dir.resolve(f32.getFileName().toString().replace("f32", type.toLowerCase()));
        if (!Files.exists(out)) ModelQuantizer.quantize(f32, out, QuantizationScheme.parse(type), threads);
        return out;
    }

    private record Row(Stats pp, Stats tg) {}

    private Row measure(Path file, int pp, int tg) {
        try (Model model = Model.load(file);
             InferenceContext ctx = new InferenceContext(model, pp + tg + 1, 1, threads, false, device)) {
            int vocab = model.hparams().vocabSize();
            SplittableRandom rng = new SplittableRandom(3);
            int[] prompt = rng.ints(pp, 3, vocab).toArray();
            // Warm-up: touch every weight page and the caches once.
            ctx.decode(0, prompt);
            double[] ppRates = new double[reps];
            double[] tgRates = new double[reps];
            for (int r = 0; r < reps; r++) {
                ctx.clear(0);
                long t0 = System.nanoTime();
                ctx.decode(0, prompt);
                ppRates[r] = pp / ((System.nanoTime() - t0) / 1e9);
                ctx.clear(0);
                int[] one = {1};
                long t1 = System.nanoTime();
                for (int i = 0; i < tg; i++) {
                    one[0] = 3 + rng.nextInt(vocab - 3);
                    ctx.decode(0, one);
                }
                tgRates[r] = tg / ((System.nanoTime() - t1) / 1e9);
            }
            return new Row(Stats.of(ppRates), Stats.of(tgRates));
        }
    }
}
