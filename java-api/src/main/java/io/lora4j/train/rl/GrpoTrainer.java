package io.lora4j.train.rl;

import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.generate.Generation;
import io.lora4j.generate.Generator;
import io.lora4j.generate.InferenceContext;
import io.lora4j.generate.Sampling;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.Checkpoint;
import io.lora4j.train.MemoryBudget;
import io.lora4j.train.MemoryPlan;
import io.lora4j.train.ModelTextEncoder;
import io.lora4j.train.NativeTrainer;
import io.lora4j.train.RunOutput;
import io.lora4j.train.TrainerShape;
import io.lora4j.train.TrainingOptions;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.BatchPosition;
import io.lora4j.train.data.DataRecord;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.RecordShape;
import io.lora4j.train.data.Shuffle;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.schedule.LrSchedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Reward-based training: GRPO (group relative policy optimisation) or RLOO (REINFORCE with a
 * leave-one-out baseline), as TRL's trainers do them, on a LoRA adapter.
 *
 * <p>Each round takes {@link #promptsPerStep} prompts, samples {@link #groupSize} completions of
 * each with plain temperature sampling (no top-k/top-p/min-p; a group is decoded together, its
 * prompt computed once), scores them with the {@link #reward rewards}, turns the rewards into
 * advantages within each group, and takes {@link #iterations} optimizer steps on those samples
 * with the clipped surrogate loss of {@link GrpoLoss}.
 * <ul>
 *   <li>GRPO: advantage = (reward − group mean) / (group std + 1e-4) (or without the division,
 *       {@link #scaleRewards}); the loss adds β·KL per token (Schulman's k3 estimator).
 *   <li>RLOO: advantage = reward − mean of the other rewards of the group, after subtracting β
 *       times the completion's summed log-ratio to the reference from its reward (TRL's RLOO).
 * </ul>
 *
 * <p><b>Reference.</b> The KL is taken against the model with the trained adapter switched off:
 * the bare base model, or — when the session started {@code from(adapter)} — the base with that
 * adapter, which stays frozen while a fresh adapter is trained on top. The result
 * ({@code adapter.gguf}, {@link TrainingRun#adapter()}) is then one adapter equal to both.
 *
 * <p><b>Log-probs.</b> The ratio and the KL use log-probs recomputed teacher-forced by the trainer
 * from the model's logits at temperature 1 (the engine does not scale logits by the temperature
 * in training). Sampling at temperature 1, the default, makes them exactly those of the
 * distribution sampled from; at another temperature they are the T = 1 policy's.
 *
 * <p><b>Metrics</b> (one {@code metrics.csv} row per optimizer step): {@code reward_mean} (the
 * weighted sum of the rewards, before RLOO's KL term), {@code reward_std} (mean over groups of
 * the group's standard deviation), {@code reward_<name>} (each reward's mean score), {@code kl}
 * (mean k3 KL per completion token, measured before the step's update: 0 at a fresh adapter's
 * first step), {@code clip_frac}, {@code ratio} (mean p/p_old), {@code completion_len},
 * {@code nll_sampled} (mean −log p of the sampled tokens under the sampling policy: an estimate
 * of its entropy, since the engine returns no full distributions), {@code loss}, {@code lr},
 * {@code grad_norm}, {@code sample_s} (seconds sampling the step's completions; 0 for later
 * iterations on the same samples) and {@code update_s} (seconds scoring, computing log-probs and
 * updating).
 *
 * <p>A step's KL and ratio come from the samples it trains on, before its update. With
 * {@link #iterations} above 1, a resumed run whose checkpoint falls inside a round samples that
 * round again from the restored policy.
 */
public final class GrpoTrainer extends RunSettings<GrpoTrainer> {
    static final String NLL_SAMPLED = "nll_sampled";

    private final Model model;
    private final LoraConfig lora;
    private final Adapter start;
    private final Dataset prompts;
    private final boolean rloo;
    private final List<Reward> rewards = new ArrayList<>();
    private int groupSize = 8;
    private double beta;
    private double epsLow = 0.2, epsHigh = 0.2;
    private int iterations = 1;
    private LossType lossType = LossType.GRPO;
    private boolean scaleRewards = true;
    private double temperature = 1.0;
    private int maxNewTokens = 128;
    private List<String> stop = List.of();
    private int microBatch;

    /** Started by {@code model.lora(cfg).grpo(prompts)} or {@code .rloo(prompts)}. */
    public GrpoTrainer(Model model, LoraConfig lora, Adapter start, Dataset prompts, boolean rloo) {
        RecordShape s = prompts.shape();
        if (s != RecordShape.PROMPT && s != RecordShape.PROMPT_COMPLETION && s != RecordShape.PREFERENCE) {
            throw new IllegalArgumentException(prompts.name() + " holds " + s + " records; RL needs records with a \"prompt\"");
        }
        if (prompts.isEmpty()) throw new IllegalArgumentException(prompts.name() + " has no prompts");
        this.model = model;
        this.lora = lora;
        this.start = start;
        this.prompts = prompts;
        this.rloo = rloo;
        this.beta = rloo ? 0.05 : 0.04;
    }

    /** Adds a reward (weight 1), logged as {@code reward_fnN} for the N-th reward added. */
    public GrpoTrainer reward(RewardFunction f) {
        return reward(Reward.of("fn" + (rewards.size() + 1), 1, f));
    }

    /** Adds a named, weighted reward. */
    public GrpoTrainer reward(String name, double weight, RewardFunction f) {
        return reward(Reward.of(name, weight, f));
    }

    public GrpoTrainer reward(Reward r) {
        for (Reward have : rewards) {
            if (have.name().equals(r.name())) throw new IllegalArgumentException("two rewards are named " + r.name());
        }
        rewards.add(r);
        return this;
    }

    /** Adds a reward computed over all completions of a step at once. */
    public GrpoTrainer batchReward(String name, double weight, BatchRewardFunction f) {
        return reward(Reward.ofBatch(name, weight, f));
    }

    /** Adds a reward computed from completion token ids. */
    public GrpoTrainer tokenReward(String name, double weight, TokenRewardFunction f) {
        return reward(Reward.ofTokens(name, weight, f));
    }

    /** Completions sampled per prompt, G (default 8; RLOO needs at least 2). */
    public GrpoTrainer groupSize(int g) {
        if (g < 1) throw new IllegalArgumentException("group size must be >= 1, got " + g);
        groupSize = g;
        return this;
    }

    /** Prompts per round, P (default 4): a round samples P × G completions. */
    public GrpoTrainer promptsPerStep(int p) { options.batchSize(p); return this; }

    /** KL coefficient (GRPO default 0.04 in the loss; RLOO default 0.05 in the reward); 0 turns the penalty off. */
    public GrpoTrainer beta(double b) {
        if (!(b >= 0) || Double.isInfinite(b)) throw new IllegalArgumentException("beta must be >= 0, got " + b);
        beta = b;
        return this;
    }

    /** Clip the ratio to [1 − ε, 1 + ε] (default 0.2). */
    public GrpoTrainer clip(double eps) { return clip(eps, eps); }

    /** Clip the ratio to [1 − low, 1 + high] (DAPO's asymmetric clipping). */
    public GrpoTrainer clip(double low, double high) {
        if (!(low >= 0 && low < 1) || !(high >= 0) || Double.isInfinite(high)) {
            throw new IllegalArgumentException("clip range must have 0 <= low < 1 and high >= 0, got " + low + ", " + high);
        }
        epsLow = low;
        epsHigh = high;
        return this;
    }

    /** Optimizer steps per round of samples, μ (default 1). */
    public GrpoTrainer iterations(int mu) {
        if (mu < 1) throw new IllegalArgumentException("iterations must be >= 1, got " + mu);
        iterations = mu;
        return this;
    }

    public GrpoTrainer lossType(LossType t) { lossType = t; return this; }

    /** GRPO: divide advantages by the group's standard deviation (default true; Dr. GRPO turns it off). */
    public GrpoTrainer scaleRewards(boolean s) { scaleRewards = s; return this; }

    /** Sampling temperature (default 1; see the class notes on log-probs). */
    public GrpoTrainer temperature(double t) {
        if (!(t > 0) || Double.isInfinite(t)) throw new IllegalArgumentException("temperature must be > 0, got " + t);
        temperature = t;
        return this;
    }

    /** The longest completion, in tokens (default 128). */
    public GrpoTrainer maxNewTokens(int n) {
        if (n < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + n);
        maxNewTokens = n;
        return this;
    }

    /** Stop strings that end a completion (its tokens up to the one completing the string are trained). */
    public GrpoTrainer stop(String... s) { stop = List.of(s); return this; }

    /** Trainer rows per micro-batch (default: the group size). */
    public GrpoTrainer microBatch(int rows) {
        if (rows < 1) throw new IllegalArgumentException("micro-batch must be >= 1 rows, got " + rows);
        microBatch = rows;
        return this;
    }

    private String algorithm() {
        return rloo ? "rloo" : "grpo";
    }

    /** Runs the training and returns its result (which owns the trained adapter). */
    public TrainingRun train() {
        TrainingOptions o = settings();
        if (rewards.isEmpty()) throw new IllegalStateException("add at least one reward function (reward(...))");
        if (rloo && groupSize < 2) throw new IllegalArgumentException("RLOO needs a group size of at least 2");
        if (o.gradientAccumulation() != 1) {
            throw new IllegalArgumentException("RL steps are rounds of prompts (promptsPerStep); gradient accumulation does not apply");
        }
        ModelTextEncoder encoder = new ModelTextEncoder(model.tokenizer());
        List<DataRecord> records = prompts.records();
        int[][] promptIds = new int[records.size()][];
        int longest = 0;
        for (int i = 0; i < promptIds.length; i++) {
            promptIds[i] = encoder.encode(records.get(i).prompt(), true);
            if (promptIds[i].length == 0) throw new IllegalArgumentException(records.get(i).location() + ": the prompt has no tokens");
            longest = Math.max(longest, promptIds[i].length);
        }
        int modelCtx = model.hparams().contextLength();
        int seqLen = o.contextLength() > 0 ? o.contextLength() : Math.min(modelCtx, longest + maxNewTokens);
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i].length >= seqLen) {
                throw new IllegalArgumentException(records.get(i).location() + ": the prompt's " + promptIds[i].length
                        + " tokens leave no room for a completion in " + seqLen + " tokens");
            }
        }
        int perRound = o.batchSize();
        int roundsPerEpoch = (records.size() + perRound - 1) / perRound;
        int totalSteps = o.maxSteps() > 0 ? o.maxSteps() : o.epochs() * roundsPerEpoch * iterations;
        TrainerShape shape = new TrainerShape(microBatch > 0 ? microBatch : groupSize, seqLen, o.threads(),
                o.checkpointing(), false, 0, o.seed(), 0, o.device());
        GrpoLoss.Settings loss = new GrpoLoss.Settings(beta, !rloo, epsLow, epsHigh, lossType, maxNewTokens);
        LrSchedule schedule = new LrSchedule(o.scheduler(), o.learningRate(), o.warmup());
        Checkpoint resume = o.resume() == null ? null : Checkpoint.load(o.resume(), model);
        int pad = Math.max(0, model.tokenizer().eosId());

        List<String> columns = new ArrayList<>(List.of(StepMetrics.REWARD_MEAN, StepMetrics.REWARD_STD));
        for (Reward r : rewards) columns.add("reward_" + r.name());
        columns.addAll(List.of(StepMetrics.KL, StepMetrics.CLIP_FRAC, "ratio", StepMetrics.COMPLETION_LEN, NLL_SAMPLED,
                StepMetrics.LOSS, StepMetrics.LR, "grad_norm", "sample_s", "update_s"));

        try (Policy policy = Policy.open(model, lora, start, resume, algorithm())) {
            MemoryPlan plan = NativeTrainer.plan(model, policy.trainable(), shape);
            int resumed = resume == null ? 0 : resume.step();
            try (RunOutput out = new RunOutput(o, model, totalSteps, columns, resumed,
                    List.of(StepMetrics.REWARD_MEAN, StepMetrics.KL, StepMetrics.COMPLETION_LEN));
                 NativeTrainer trainer = new NativeTrainer(model, policy.trainable(), policy.frozen(), shape);
                 InferenceContext ctx = new InferenceContext(model, seqLen, groupSize, o.threads(), false, o.device())) {
                out.announce(algorithm() + " (reference: " + policy.reference() + ")", plan, records.size(), 0, totalSteps);
                MemoryBudget.check(plan, shape.device());
                out.checkpointExtra().put(Policy.ALGORITHM_KEY, algorithm()).put(Policy.REFERENCE_KEY, policy.reference());
                Generator generator = new Generator(ctx, model.tokenizer());
                if (resume != null) trainer.loadState(resume.optimizerFile());
                Checkpoint last = resume;
                int step = resumed;
                while (step < totalSteps) {
                    int round = step / iterations;
                    long t0 = System.nanoTime();
                    // Every round: a context on a GPU samples from its own copy of the adapters,
                    // taken here (on the CPU this only points the context at them again).
                    ctx.setAdapters(policy.all());
                    List<Completion> samples = sample(generator, records, promptIds, round, o, seqLen);
                    long t1 = System.nanoTime();
                    double sampleSeconds = (t1 - t0) / 1e9;
                    Scores scores;
                    try {
                        scores = score(samples);
                    } catch (Reward.RewardFailure e) {
                        throw out.stopped("reward function failed at step " + (step + 1) + ": " + e.getMessage(), "",
                                e.getCause() != null ? e.getCause() : e, last);
                    }
                    PackedSequences packed = PackedSequences.completions(samples, shape.rows(), seqLen, o.packing(), pad);
                    float[][] ref = packed.logprobs(trainer, false);
                    float[][] old = packed.logprobs(trainer, true);
                    double[] advantages = advantages(scores.total(), old, ref);
                    double nll = 0;
                    long tokens = 0;
                    for (float[] c : old) {
                        for (float v : c) nll -= v;
                        tokens += c.length;
                    }
                    boolean fresh = true;
                    do {
                        float[][] cur = fresh ? old : packed.logprobs(trainer, true);
                        fresh = false;
                        GrpoLoss.Result res = GrpoLoss.compute(advantages, cur, old, ref, loss);
                        double lr = schedule.lr(step, totalSteps);
                        double gradNorm;
                        try {
                            for (int b = 0; b < packed.batches().size(); b++) {
                                trainer.step(packed.batches().get(b), packed.weights(b, res.grad()));
                            }
                            gradNorm = trainer.optimizerStep(o.optimizer(), lr, 1.0);
                        } catch (Lora4jException e) {
                            throw out.numericFailure(e, step + 1, last);
                        }
                        step++;
                        StepMetrics.Builder m = StepMetrics.builder(step, totalSteps)
                                .put(StepMetrics.REWARD_MEAN, Advantages.mean(scores.total(), 0, samples.size()))
                                .put(StepMetrics.REWARD_STD, Advantages.meanGroupStd(scores.total(), groupSize));
                        for (int k = 0; k < rewards.size(); k++) {
                            m.put("reward_" + rewards.get(k).name(), Advantages.mean(scores.each()[k], 0, samples.size()));
                        }
                        m.put(StepMetrics.KL, res.kl()).put(StepMetrics.CLIP_FRAC, res.clipFrac()).put("ratio", res.ratioMean())
                                .put(StepMetrics.COMPLETION_LEN, (double) tokens / samples.size())
                                .put(NLL_SAMPLED, nll / Math.max(1, tokens)).put(StepMetrics.LOSS, res.loss())
                                .put(StepMetrics.LR, lr).put("grad_norm", gradNorm).put("sample_s", sampleSeconds)
                                .put("update_s", (System.nanoTime() - t1) / 1e9);
                        sampleSeconds = 0;
                        out.step(m.build(), step == totalSteps || step % o.logEvery() == 0);
                        if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && step < totalSteps) {
                            last = out.checkpoint(step, position(step, perRound, records.size()), policy.trainable(), trainer);
                        }
                        t1 = System.nanoTime();
                    } while (step % iterations != 0 && step < totalSteps);
                }
                if (o.outputDir() != null) {
                    last = out.checkpoint(step, position(step, perRound, records.size()), policy.trainable(), trainer);
                }
                TrainingRun run = policy.result(model, out.history(), step, o.outputDir(), last);
                out.end(step);
                return run;
            }
        }
    }

    /** Where the data stands after {@code steps} steps: epoch and round within it (for the record). */
    private BatchPosition position(int steps, int perRound, int n) {
        long slot = (long) (steps + iterations - 1) / iterations * perRound;
        return new BatchPosition((int) (slot / n), (int) (slot % n / perRound));
    }

    /** The rewards of every completion: weighted totals and each reward's scores. */
    private record Scores(double[] total, double[][] each) {}

    private Scores score(List<Completion> samples) {
        double[] total = new double[samples.size()];
        double[][] each = new double[rewards.size()][];
        for (int k = 0; k < rewards.size(); k++) {
            Reward r = rewards.get(k);
            try {
                each[k] = r.score(samples);
            } catch (Reward.RewardFailure e) {
                throw new Reward.RewardFailure("'" + r.name() + "': " + e.getMessage(), e.getCause());
            }
            for (int i = 0; i < total.length; i++) total[i] += r.weight() * each[k][i];
        }
        return new Scores(total, each);
    }

    private double[] advantages(double[] rewardTotals, float[][] old, float[][] ref) {
        if (!rloo) return Advantages.group(rewardTotals, groupSize, scaleRewards);
        double[] shaped = rewardTotals.clone();
        for (int i = 0; i < shaped.length; i++) {
            double kl = 0;
            for (int t = 0; t < old[i].length; t++) kl += (double) old[i][t] - ref[i][t];
            shaped[i] -= beta * kl;
        }
        return Advantages.leaveOneOut(shaped, groupSize);
    }

    /** The completions of round {@code round}: for each of its prompts, a group sampled together. */
    private List<Completion> sample(Generator generator, List<DataRecord> records, int[][] promptIds, int round,
                                    TrainingOptions o, int seqLen) {
        int n = records.size(), perRound = o.batchSize();
        List<Completion> out = new ArrayList<>(perRound * groupSize);
        int[] order = null;
        int orderEpoch = -1;
        for (int j = 0; j < perRound; j++) {
            long slot = (long) round * perRound + j;
            int epoch = (int) (slot / n);
            if (epoch != orderEpoch) {
                order = Shuffle.permutation(n, o.seed(), epoch);
                orderEpoch = epoch;
            }
            int idx = order[(int) (slot % n)];
            int[] prompt = promptIds[idx];
            Sampling sampling = Sampling.plain(temperature, Math.min(maxNewTokens, seqLen - prompt.length),
                    samplingSeed(o.seed(), slot)).toBuilder().stop(stop).build();
            for (Generation g : generator.generateGroup(prompt, groupSize, sampling)) {
                out.add(new Completion(records.get(idx), prompt, g.tokenIds(), g.text(), g.finishReason()));
            }
        }
        return out;
    }

    /** A sampler seed for one prompt slot: fixed by (seed, slot), below 2^31 so that seed + i never means "random". */
    static long samplingSeed(long seed, long slot) {
        long z = seed * 0x9E3779B97F4A7C15L + slot + 1;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return ((z ^ (z >>> 31)) >>> 34);
    }
}
