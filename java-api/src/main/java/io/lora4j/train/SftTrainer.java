package io.lora4j.train;

import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.data.Batch;
import io.lora4j.train.data.BatchIterator;
import io.lora4j.train.data.BatchPosition;
import io.lora4j.train.data.Batcher;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.DatasetSplit;
import io.lora4j.train.data.Example;
import io.lora4j.train.data.ExampleEncoder;
import io.lora4j.train.data.RecordShape;
import io.lora4j.train.metrics.EvalMetrics;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.schedule.GradientAccumulation;
import io.lora4j.train.schedule.LrSchedule;

import java.util.List;

/**
 * Supervised fine-tuning (TRL's SFTTrainer): mean cross-entropy over the target tokens — every
 * token of {"text"} records, the completion (plus EOS) of {"prompt","completion"} records, the
 * assistant turns of {"messages"} records rendered with the model's chat template.
 *
 * <p>Configure fluently, then {@link #train()}. With {@link #outputDir} the run writes
 * {@code adapter.gguf} (or {@code model.gguf} for full fine-tuning), {@code metrics.csv},
 * {@code loss.png} and {@code checkpoints/step-N/}.
 */
public final class SftTrainer extends AbstractTrainer<SftTrainer> {
    private final Model model;
    private final LoraConfig lora;          // null: full fine-tuning
    private final Adapter startAdapter;     // continue training this adapter (not owned)
    private final Dataset dataset;
    private int freezeLayers;

    SftTrainer(Model model, LoraConfig lora, Adapter startAdapter, Dataset dataset) {
        if (dataset.shape() == RecordShape.PROMPT || dataset.shape() == RecordShape.PREFERENCE
                || dataset.shape() == RecordShape.CLASSIFICATION) {
            throw new IllegalArgumentException(dataset.name() + " holds " + dataset.shape()
                    + " records; supervised fine-tuning needs text, prompt/completion or messages records");
        }
        this.model = model;
        this.lora = lora;
        this.startAdapter = startAdapter;
        this.dataset = dataset;
    }

    /** Full fine-tuning of the model's f32/f16 weights (no adapter). */
    public static SftTrainer full(Model model, Dataset dataset) {
        return new SftTrainer(model, null, null, dataset);
    }

    /** Full fine-tuning: keep the first n layers (and the embedding) frozen. */
    public SftTrainer freezeLayers(int n) {
        if (lora != null) throw new IllegalStateException("freezeLayers applies to full fine-tuning");
        freezeLayers = n;
        return this;
    }

    /** Runs the training and returns its result (which owns the trained adapter). */
    public TrainingRun train() {
        TrainingOptions o = options.build();
        DatasetSplit split = o.evalSplit() > 0 ? dataset.split(o.evalSplit(), o.seed()) : null;
        Dataset trainSet = split == null ? dataset : split.train();
        int seqLen = o.contextLength() > 0 ? o.contextLength() : Math.min(model.hparams().contextLength(), 512);
        ExampleEncoder encoder = ExampleEncoder.builder(new ModelTextEncoder(model.tokenizer()))
                .chatRenderer(msgs -> model.chatTemplate().renderWithSpans(msgs, false))
                .maxLength(seqLen).truncate(o.truncate()).build();
        List<Example> trainExamples = encoder.encodeAll(trainSet);
        List<Example> evalExamples = split == null ? List.of() : encoder.encodeAll(split.eval());
        int pad = Math.max(0, model.tokenizer().eosId());
        Batcher batcher = Batcher.builder(trainExamples).batchSize(o.batchSize()).seqLen(seqLen)
                .packing(o.packing()).seed(o.seed()).padId(pad).build();
        Batcher evalBatcher = evalExamples.isEmpty() ? null : Batcher.builder(evalExamples).batchSize(o.batchSize())
                .seqLen(seqLen).packing(o.packing()).shuffle(false).padId(pad).build();

        GradientAccumulation accum = new GradientAccumulation(o.gradientAccumulation());
        int perEpoch = accum.stepsInEpoch(batcher.batchesInEpoch(0));
        int totalSteps = o.maxSteps() > 0 ? o.maxSteps() : accum.totalSteps(batcher, o.epochs());
        int epochs = o.maxSteps() > 0 ? o.maxSteps() / Math.max(1, perEpoch) + 2 : o.epochs();
        LrSchedule schedule = new LrSchedule(o.scheduler(), o.learningRate(), o.warmup());
        TrainerShape shape = new TrainerShape(o.batchSize(), seqLen, o.threads(), o.checkpointing(), lora == null,
                freezeLayers, o.seed(), 0, o.device());

        Checkpoint resume = o.resume() == null ? null : Checkpoint.load(o.resume(), model);
        Adapter adapter = null;
        boolean ownsAdapter = false;
        if (lora != null) {
            if (resume != null) adapter = Adapter.load(model, resume.adapterFile());
            else adapter = startAdapter != null ? startAdapter : Adapter.create(model, lora);
            ownsAdapter = adapter != startAdapter;
        }
        try {
            MemoryPlan plan = NativeTrainer.plan(model, adapter, shape);
            RunOutput out = new RunOutput(o, model, totalSteps, List.of(StepMetrics.LOSS, StepMetrics.LR, "grad_norm",
                    StepMetrics.TOKENS_PER_S, StepMetrics.EVAL_LOSS, "eval_ppl"), resume == null ? 0 : resume.step());
            out.announce("sft", plan, trainExamples.size(), evalExamples.size(), totalSteps);
            MemoryBudget.check(plan, shape.device());
            try (NativeTrainer trainer = new NativeTrainer(model, adapter, List.<ScaledAdapter>of(), shape); out) {
                int step = 0;
                BatchPosition from = BatchPosition.START;
                if (resume != null) {
                    trainer.loadState(resume.optimizerFile());
                    step = resume.step();
                    from = new BatchPosition(resume.epoch(), resume.batchInEpoch());
                }
                BatchIterator batches = batcher.iterator(epochs, from);
                Checkpoint last = resume;
                long t0 = System.nanoTime();
                while (step < totalSteps && batches.hasNext()) {
                    List<Batch> micro = accum.nextStep(batches);
                    if (micro.isEmpty()) break;
                    long n = GradientAccumulation.targetTokens(micro);
                    double objective = 0;
                    long tokens = 0;
                    double lr = schedule.lr(step, totalSteps);
                    double gradNorm;
                    try {
                        for (Batch b : micro) {
                            objective += trainer.step(b, weights(b, -1.0 / n)).objective();
                            tokens += b.realTokens();
                        }
                        gradNorm = trainer.optimizerStep(o.optimizer(), lr, 1.0);
                    } catch (Lora4jException e) {
                        throw out.numericFailure(e, step + 1, last);
                    }
                    step++;
                    long t1 = System.nanoTime();
                    StepMetrics.Builder m = StepMetrics.builder(step, totalSteps).put(StepMetrics.LOSS, objective)
                            .put(StepMetrics.LR, lr).put("grad_norm", gradNorm)
                            .put(StepMetrics.TOKENS_PER_S, tokens / ((t1 - t0) / 1e9));
                    t0 = t1;
                    boolean evalNow = evalBatcher != null
                            && ((o.evalEvery() > 0 && step % o.evalEvery() == 0) || step == totalSteps);
                    if (evalNow) {
                        EvalMetrics e = evaluate(trainer, evalBatcher, step);
                        m.put(StepMetrics.EVAL_LOSS, e.loss()).put("eval_ppl", e.perplexity());
                        out.eval(e);
                        t0 = System.nanoTime();
                    }
                    out.step(m.build(), step == totalSteps || step % o.logEvery() == 0);
                    if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && step < totalSteps) {
                        BatchPosition at = batches.position();
                        last = out.checkpoint(step, at, adapter, trainer);
                        t0 = System.nanoTime();
                    }
                }
                if (o.outputDir() != null) {
                    last = out.checkpoint(step, batches.position(), adapter, trainer);
                    if (adapter != null) adapter.save(o.outputDir().resolve("adapter.gguf"));
                    else trainer.saveModel(o.outputDir().resolve("model.gguf"));
                }
                out.end(step);
                TrainingRun run = new TrainingRun(adapter, ownsAdapter, out.history(), step, o.outputDir(), last);
                ownsAdapter = false;
                return run;
            }
        } finally {
            if (ownsAdapter) adapter.close();
        }
    }

    /** w[r][i] = value where the batch trains token i, else 0. */
    static float[][] weights(Batch b, double value) {
        float[][] w = new float[b.rows()][b.seqLen()];
        for (int r = 0; r < b.rows(); r++) {
            for (int i = 0; i < b.seqLen(); i++) if (b.mask()[r][i]) w[r][i] = (float) value;
        }
        return w;
    }

    /** Mean negative log-likelihood of the eval examples' target tokens, adapter on. */
    static EvalMetrics evaluate(NativeTrainer trainer, Batcher evalBatcher, int step) {
        double nll = 0;
        long count = 0;
        BatchIterator it = evalBatcher.iterator(1);
        while (it.hasNext()) {
            Batch b = it.next();
            float[][] lp = trainer.logprobs(b, true);
            for (int r = 0; r < b.rows(); r++) {
                for (int i = 0; i < b.seqLen(); i++) {
                    if (b.mask()[r][i]) {
                        nll -= lp[r][i];
                        count++;
                    }
                }
            }
        }
        return new EvalMetrics(step, nll / Math.max(1, count), count);
    }
}
