package io.lora4j.train.rl;

import io.lora4j.Lora4jException;
import io.lora4j.Model;
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
import io.lora4j.train.data.Example;
import io.lora4j.train.data.ExampleEncoder;
import io.lora4j.train.data.PreferencePair;
import io.lora4j.train.data.RecordShape;
import io.lora4j.train.data.Shuffle;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.schedule.LrSchedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Direct preference optimisation (TRL's DPOTrainer) on {@code {"prompt","chosen","rejected"}}
 * records: each sequence is prompt + completion + EOS, only the completion and EOS scored, and
 * the loss of {@link DpoLoss} (sigmoid with optional label smoothing, or IPO) on the policy's
 * log-ratio margin over the reference.
 *
 * <p><b>Reference.</b> The model with the trained adapter switched off: the bare base model, or —
 * when the session started {@code from(adapter)} — the base with that adapter, frozen, while a
 * fresh adapter is trained on top; the result is then one adapter equal to both. Reference
 * log-probs are computed once per pair (the reference never changes) and reused every epoch. At a
 * fresh adapter's first step policy and reference agree, so the sigmoid loss is ln 2.
 *
 * <p>A step takes {@code batchSize × gradientAccumulation} pairs (micro-batches of
 * {@code 2 × batchSize} rows; several sequences share a row with packing). Metrics: {@code loss},
 * {@code accuracy} (share of pairs with chosen reward above rejected), {@code margin} (mean of
 * β·margin), {@code chosen_reward}, {@code rejected_reward}, {@code lr}, {@code grad_norm},
 * {@code tokens_per_s}.
 */
public final class DpoTrainer extends RunSettings<DpoTrainer> {
    private final Model model;
    private final LoraConfig lora;
    private final Adapter start;
    private final Dataset pairs;
    private double beta = 0.1;
    private double labelSmoothing;
    private DpoLoss.Type type = DpoLoss.Type.SIGMOID;

    /** Started by {@code model.lora(cfg).dpo(pairs)}. */
    public DpoTrainer(Model model, LoraConfig lora, Adapter start, Dataset pairs) {
        if (pairs.shape() != RecordShape.PREFERENCE) {
            throw new IllegalArgumentException(pairs.name() + " holds " + pairs.shape()
                    + " records; DPO needs {\"prompt\",\"chosen\",\"rejected\"} records");
        }
        this.model = model;
        this.lora = lora;
        this.start = start;
        this.pairs = pairs;
    }

    /** How far the policy may move from the reference (default 0.1). */
    public DpoTrainer beta(double b) {
        if (!(b > 0) || Double.isInfinite(b)) throw new IllegalArgumentException("DPO beta must be > 0, got " + b);
        beta = b;
        return this;
    }

    /** Probability that a label is flipped (cDPO), in [0, 0.5); default 0. */
    public DpoTrainer labelSmoothing(double s) {
        if (!(s >= 0 && s < 0.5)) throw new IllegalArgumentException("label smoothing must be in [0, 0.5), got " + s);
        labelSmoothing = s;
        return this;
    }

    /** The IPO loss instead of the sigmoid. */
    public DpoTrainer ipo() { type = DpoLoss.Type.IPO; return this; }

    public DpoTrainer lossType(DpoLoss.Type t) { type = t; return this; }

    /** Runs the training and returns its result (which owns the trained adapter). */
    public TrainingRun train() {
        TrainingOptions o = settings();
        int modelCtx = model.hparams().contextLength();
        ExampleEncoder encoder = ExampleEncoder.builder(new ModelTextEncoder(model.tokenizer()))
                .maxLength(o.contextLength() > 0 ? o.contextLength() : modelCtx).truncate(o.truncate()).build();
        List<DataRecord> records = pairs.records();
        List<PreferencePair> encoded = new ArrayList<>(records.size());
        int longest = 0;
        for (DataRecord r : records) {
            PreferencePair p = encoder.encodePair(r);
            encoded.add(p);
            longest = Math.max(longest, Math.max(p.chosen().length(), p.rejected().length()));
        }
        int seqLen = o.contextLength() > 0 ? o.contextLength() : Math.max(2, longest);
        int n = records.size();
        int perStep = o.batchSize() * o.gradientAccumulation();
        long limit = o.maxSteps() > 0 ? Long.MAX_VALUE : (long) o.epochs() * n;
        int totalSteps = o.maxSteps() > 0 ? o.maxSteps() : (int) ((limit + perStep - 1) / perStep);
        TrainerShape shape = new TrainerShape(2 * o.batchSize(), seqLen, o.threads(), o.checkpointing(), false, 0, o.seed(), 0,
                o.device());
        LrSchedule schedule = new LrSchedule(o.scheduler(), o.learningRate(), o.warmup());
        Checkpoint resume = o.resume() == null ? null : Checkpoint.load(o.resume(), model);
        int pad = Math.max(0, model.tokenizer().eosId());
        double[][] refSums = new double[n][]; // {chosen, rejected}, computed on first use
        List<String> columns = List.of(StepMetrics.LOSS, "accuracy", "margin", "chosen_reward", "rejected_reward",
                StepMetrics.LR, "grad_norm", StepMetrics.TOKENS_PER_S);

        try (Policy policy = Policy.open(model, lora, start, resume, "dpo")) {
            MemoryPlan plan = NativeTrainer.plan(model, policy.trainable(), shape);
            int resumed = resume == null ? 0 : resume.step();
            try (RunOutput out = new RunOutput(o, model, totalSteps, columns, resumed,
                    List.of(StepMetrics.LOSS, "accuracy", "margin"));
                 NativeTrainer trainer = new NativeTrainer(model, policy.trainable(), policy.frozen(), shape)) {
                out.announce("dpo (reference: " + policy.reference() + ")", plan, n, 0, totalSteps);
                MemoryBudget.check(plan, shape.device());
                out.checkpointExtra().put(Policy.ALGORITHM_KEY, "dpo").put(Policy.REFERENCE_KEY, policy.reference());
                if (resume != null) trainer.loadState(resume.optimizerFile());
                Checkpoint last = resume;
                int step = resumed;
                int[] order = null;
                int orderEpoch = -1;
                while (step < totalSteps) {
                    long t0 = System.nanoTime();
                    List<Integer> idx = new ArrayList<>();
                    for (long slot = (long) step * perStep; slot < Math.min((long) (step + 1) * perStep, limit); slot++) {
                        int epoch = (int) (slot / n);
                        if (epoch != orderEpoch) {
                            order = Shuffle.permutation(n, o.seed(), epoch);
                            orderEpoch = epoch;
                        }
                        idx.add(order[(int) (slot % n)]);
                    }
                    List<int[]> seqs = new ArrayList<>();
                    int[] starts = new int[2 * idx.size()];
                    for (int k = 0; k < idx.size(); k++) {
                        PreferencePair p = encoded.get(idx.get(k));
                        seqs.add(p.chosen().tokens());
                        seqs.add(p.rejected().tokens());
                        starts[2 * k] = firstTarget(p.chosen());
                        starts[2 * k + 1] = firstTarget(p.rejected());
                    }
                    PackedSequences packed = new PackedSequences(seqs, starts, shape.rows(), seqLen, o.packing(), pad);
                    boolean missing = idx.stream().anyMatch(i -> refSums[i] == null);
                    if (missing) {
                        float[][] ref = packed.logprobs(trainer, false);
                        for (int k = 0; k < idx.size(); k++) refSums[idx.get(k)] = new double[] {sum(ref[2 * k]), sum(ref[2 * k + 1])};
                    }
                    float[][] pol = packed.logprobs(trainer, true);
                    List<DpoLoss.Pair> batch = new ArrayList<>(idx.size());
                    long tokens = 0;
                    for (int k = 0; k < idx.size(); k++) {
                        double[] ref = refSums[idx.get(k)];
                        batch.add(new DpoLoss.Pair(sum(pol[2 * k]), sum(pol[2 * k + 1]), ref[0], ref[1],
                                pol[2 * k].length, pol[2 * k + 1].length));
                        tokens += seqs.get(2 * k).length + seqs.get(2 * k + 1).length;
                    }
                    DpoLoss.Result res = DpoLoss.compute(batch, type, beta, labelSmoothing);
                    double[][] grad = new double[seqs.size()][];
                    for (int k = 0; k < idx.size(); k++) {
                        grad[2 * k] = filled(pol[2 * k].length, res.chosenGrad()[k]);
                        grad[2 * k + 1] = filled(pol[2 * k + 1].length, res.rejectedGrad()[k]);
                    }
                    double lr = schedule.lr(step, totalSteps);
                    double gradNorm;
                    try {
                        for (int b = 0; b < packed.batches().size(); b++) {
                            trainer.step(packed.batches().get(b), packed.weights(b, grad));
                        }
                        gradNorm = trainer.optimizerStep(o.optimizer(), lr, 1.0);
                    } catch (Lora4jException e) {
                        throw out.numericFailure(e, step + 1, last);
                    }
                    step++;
                    StepMetrics m = StepMetrics.builder(step, totalSteps).put(StepMetrics.LOSS, res.loss())
                            .put("accuracy", res.accuracy()).put("margin", res.margin())
                            .put("chosen_reward", res.chosenReward()).put("rejected_reward", res.rejectedReward())
                            .put(StepMetrics.LR, lr).put("grad_norm", gradNorm)
                            .put(StepMetrics.TOKENS_PER_S, tokens / ((System.nanoTime() - t0) / 1e9)).build();
                    out.step(m, step == totalSteps || step % o.logEvery() == 0);
                    if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && step < totalSteps) {
                        last = out.checkpoint(step, position(step, perStep, n), policy.trainable(), trainer);
                    }
                }
                if (o.outputDir() != null) last = out.checkpoint(step, position(step, perStep, n), policy.trainable(), trainer);
                TrainingRun run = policy.result(model, out.history(), step, o.outputDir(), last);
                out.end(step);
                return run;
            }
        }
    }

    private static BatchPosition position(int step, int perStep, int n) {
        long slot = (long) step * perStep;
        return new BatchPosition((int) (slot / n), (int) (slot % n / perStep));
    }

    private static int firstTarget(Example e) {
        for (int i = 0; i < e.length(); i++) if (e.lossMask()[i]) return i;
        return e.length();
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return s;
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
    }
}
