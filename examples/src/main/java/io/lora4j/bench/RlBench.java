package io.lora4j.bench;

import io.lora4j.Device;
import io.lora4j.Model;
import io.lora4j.generate.Generation;
import io.lora4j.generate.Generator;
import io.lora4j.generate.InferenceContext;
import io.lora4j.generate.Sampling;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.rl.Rewards;
import io.lora4j.tools.SyntheticModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The cost of RL: sampling groups of completions decoded together (one prompt pass, the prompt's
 * cache copied to every sequence, one batched forward per generated token) against the same
 * completions one at a time, and the wall time of a GRPO step split into sampling and update.
 */
public final class RlBench {
    private static final String[] PROMPTS = {"the cat sees the", "the dog finds a", "my box is", "a red fox is in the"};

    private final Path dir;
    private final int threads;
    private final int reps;
    private final Device device;

    public RlBench(Path dir, int threads, int reps, Device device) {
        this.dir = dir;
        this.threads = threads;
        this.reps = reps;
        this.device = device;
    }

    public void run(Path tinyModel, int group, int newTokens, int steps) throws Exception {
        Files.createDirectories(dir);
        Path f32 = dir.resolve("stories15M-f32.gguf");
        if (!Files.exists(f32)) SyntheticModel.stories15M().seed(1).write(f32);
        System.out.printf("rl: groups of %d completions of up to %d tokens, %s, %d threads, %d reps (min / median / max)%n",
                group, newTokens, device, threads, reps);
        System.out.printf("%-22s %-28s %-28s %8s %12s%n", "model", "batched completions/s", "one at a time", "speedup",
                "tokens/compl");
        List<Path> models = new ArrayList<>();
        if (Files.exists(tinyModel)) models.add(tinyModel);
        models.add(f32);
        for (Path file : models) {
            try (Model model = Model.load(file)) {
                Sampling s = Sampling.plain(1.0, newTokens, 11);
                int[] prompt = model.tokenizer().encode(PROMPTS[0], true, true);
                double[] batched = new double[reps], single = new double[reps];
                long tokens = 0;
                try (InferenceContext ctx = new InferenceContext(model, prompt.length + newTokens, group, threads, false, device)) {
                    Generator g = new Generator(ctx, model.tokenizer());
                    g.generateGroup(prompt, group, s); // warm-up
                    for (int r = 0; r < reps; r++) {
                        long t0 = System.nanoTime();
                        List<Generation> out = g.generateGroup(prompt, group, s);
                        batched[r] = group / ((System.nanoTime() - t0) / 1e9);
                        tokens = out.stream().mapToLong(x -> x.tokens().size()).sum();
                        long t1 = System.nanoTime();
                        for (int i = 0; i < group; i++) {
                            g.generate(prompt, s.toBuilder().seed(s.seed() + i).build(), null);
                        }
                        single[r] = group / ((System.nanoTime() - t1) / 1e9);
                    }
                }
                Stats b = Stats.of(batched), o = Stats.of(single);
                System.out.printf("%-22s %-28s %-28s %7.2fx %12.1f%n", file.getFileName(), b, o, b.median() / o.median(),
                        (double) tokens / group);
            }
        }
        System.out.printf("%nGRPO step: 2 prompts x %d completions of up to %d tokens, LoRA r 8 on all projections, "
                + "mean of %d steps after one warm-up step (seconds)%n", group, newTokens, steps);
        System.out.printf("%-22s %10s %10s %10s%n", "model", "step", "sampling", "update");
        for (Path file : models) {
            try (Model model = Model.load(file)) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (String p : PROMPTS) rows.add(Map.of("prompt", p, "answer", "red"));
                try (TrainingRun run = model.lora(LoraConfig.builder().rank(8).alpha(16).build()).grpo(Dataset.of("bench", rows))
                        .reward(Rewards.contains()).groupSize(group).promptsPerStep(2).maxNewTokens(newTokens)
                        .steps(steps + 1).threads(threads).device(device).progress(false).train()) {
                    List<StepMetrics> h = run.history().subList(1, run.history().size());
                    double sample = h.stream().mapToDouble(m -> m.get("sample_s").orElseThrow()).average().orElseThrow();
                    double update = h.stream().mapToDouble(m -> m.get("update_s").orElseThrow()).average().orElseThrow();
                    System.out.printf("%-22s %10.3f %10.3f %10.3f%n", file.getFileName(), sample + update, sample, update);
                }
            }
        }
    }
}
