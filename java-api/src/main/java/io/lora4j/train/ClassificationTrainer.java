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
import io.lora4j.train.data.DataRecord;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.DatasetSplit;
import io.lora4j.train.data.Example;
import io.lora4j.train.data.ExampleEncoder;
import io.lora4j.train.data.RecordShape;
import io.lora4j.train.metrics.EvalMetrics;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.schedule.GradientAccumulation;
import io.lora4j.train.schedule.LrSchedule;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Sequence classification with LoRA (PEFT's SEQ_CLS task, Hugging Face's
 * {@code LlamaForSequenceClassification}): a linear head, no bias, on the final (normed) hidden
 * state of each text's last token, trained together with the adapter on the mean cross-entropy,
 * from {"text","label"} records. The classes are the dataset's labels, sorted ({@link ClassLabels}).
 *
 * <p>Configure fluently, then {@link #train()}. Each step logs loss and accuracy (of its batches;
 * eval loss and accuracy with an eval split) to {@code metrics.csv}. With {@link #outputDir} the
 * run writes {@code adapter.gguf} and {@code classifier.gguf} (the head and its labels, which
 * llama.cpp's adapter format cannot carry), {@code metrics.csv}, {@code loss.png} and
 * {@code checkpoints/step-N/} (each with its head). {@link Classifier} loads the result.
 *
 * <p>Without a context length the rows are as long as the longest text. Packing (on by default)
 * puts several texts in a row, so a step sees more than {@code batchSize} texts; gradient
 * accumulation averages the micro-batches' mean losses, as Hugging Face's Trainer does here.
 */
public final class ClassificationTrainer extends AbstractTrainer<ClassificationTrainer> {
    private final Model model;
    private final LoraConfig lora;
    private final Adapter startAdapter; // continue training this adapter (not owned)
    private final Dataset dataset;
    private final ClassLabels labels;

    ClassificationTrainer(Model model, LoraConfig lora, Adapter startAdapter, Dataset dataset) {
        if (dataset.shape() != RecordShape.CLASSIFICATION) {
            throw new IllegalArgumentException(dataset.name() + " holds " + dataset.shape()
                    + " records; classification needs {\"text\",\"label\"} records");
        }
        this.model = model;
        this.lora = lora;
        this.startAdapter = startAdapter;
        this.dataset = dataset;
        this.labels = ClassLabels.of(dataset);
    }

    /** The classes, from the whole dataset (eval split included). */
    public ClassLabels labels() {
        return labels;
    }

    /** Encoded examples of a split and the class of each. */
    private record Encoded(List<Example> examples, int[] classes) {
        static Encoded of(ExampleEncoder encoder, Dataset set, ClassLabels labels) {
            List<Example> ex = new ArrayList<>(set.size());
            int[] cls = new int[set.size()];
            for (int i = 0; i < set.size(); i++) {
                DataRecord r = set.get(i);
                ex.add(encoder.encodeClassified(r));
                cls[i] = labels.indexOf(r);
            }
            return new Encoded(ex, cls);
        }

        int longest() {
            return examples.stream().mapToInt(Example::length).max().orElse(2);
        }
    }

    /** Runs the training and returns its result (which owns the trained adapter). */
    public ClassificationRun train() {
        TrainingOptions o = options.build();
        DatasetSplit split = o.evalSplit() > 0 ? dataset.split(o.evalSplit(), o.seed()) : null;
        ExampleEncoder encoder = ExampleEncoder.builder(new ModelTextEncoder(model.tokenizer()))
                .maxLength(o.contextLength() > 0 ? o.contextLength() : model.hparams().contextLength())
                .truncate(o.truncate()).build();
        Encoded train = Encoded.of(encoder, split == null ? dataset : split.train(), labels);
        Encoded eval = split == null ? null : Encoded.of(encoder, split.eval(), labels);
        int seqLen = o.contextLength() > 0 ? o.contextLength()
                : Math.max(train.longest(), eval == null ? 2 : eval.longest());
        int pad = Math.max(0, model.tokenizer().eosId());
        Batcher batcher = Batcher.builder(train.examples()).batchSize(o.batchSize()).seqLen(seqLen)
                .packing(o.packing()).seed(o.seed()).padId(pad).build();
        Batcher trainScoring = scoring(train, o, seqLen, pad);
        Batcher evalScoring = eval == null ? null : scoring(eval, o, seqLen, pad);

        GradientAccumulation accum = new GradientAccumulation(o.gradientAccumulation());
        int perEpoch = accum.stepsInEpoch(batcher.batchesInEpoch(0));
        int totalSteps = o.maxSteps() > 0 ? o.maxSteps() : accum.totalSteps(batcher, o.epochs());
        int epochs = o.maxSteps() > 0 ? o.maxSteps() / Math.max(1, perEpoch) + 2 : o.epochs();
        LrSchedule schedule = new LrSchedule(o.scheduler(), o.learningRate(), o.warmup());
        TrainerShape shape = new TrainerShape(o.batchSize(), seqLen, o.threads(), o.checkpointing(), false, 0,
                o.seed(), labels.size(), o.device());

        Checkpoint resume = o.resume() == null ? null : Checkpoint.load(o.resume(), model);
        Adapter adapter;
        if (resume != null) adapter = Adapter.load(model, resume.adapterFile());
        else adapter = startAdapter != null ? startAdapter : Adapter.create(model, lora);
        boolean ownsAdapter = adapter != startAdapter;
        try {
            MemoryPlan plan = NativeTrainer.plan(model, adapter, shape);
            RunOutput out = new RunOutput(o, model, totalSteps, List.of(StepMetrics.LOSS, StepMetrics.ACCURACY,
                    StepMetrics.LR, "grad_norm", StepMetrics.TOKENS_PER_S, StepMetrics.EVAL_LOSS,
                    StepMetrics.EVAL_ACCURACY), resume == null ? 0 : resume.step());
            out.announce("classify (" + labels.size() + " labels " + labels + ")", plan, train.examples().size(),
                    eval == null ? 0 : eval.examples().size(), totalSteps);
            MemoryBudget.check(plan, shape.device());
            try (NativeTrainer trainer = new NativeTrainer(model, adapter, List.<ScaledAdapter>of(), shape); out) {
                int step = 0;
                BatchPosition from = BatchPosition.START;
                if (resume != null) {
                    trainer.head(headFile(resume.directory()).weights());
                    trainer.loadState(resume.optimizerFile());
                    step = resume.step();
                    from = new BatchPosition(resume.epoch(), resume.batchInEpoch());
                }
                ClassifierScore before = ClassifierScore.of(trainer, trainScoring, train.classes());
                ClassifierScore evalBefore = evalScoring == null ? null : ClassifierScore.of(trainer, evalScoring, eval.classes());
                BatchIterator batches = batcher.iterator(epochs, from);
                Checkpoint last = resume;
                ClassifierScore evalAfter = evalBefore;
                long t0 = System.nanoTime();
                while (step < totalSteps && batches.hasNext()) {
                    List<Batch> micro = accum.nextStep(batches);
                    if (micro.isEmpty()) break;
                    double loss = 0;
                    long tokens = 0, right = 0, count = 0;
                    double lr = schedule.lr(step, totalSteps);
                    double gradNorm;
                    try {
                        for (Batch b : micro) {
                            int[] want = ClassifierScore.classesOf(b, train.classes());
                            NativeTrainer.ClassifyResult r = trainer.classifyStep(b, want);
                            loss += r.loss() / micro.size();
                            for (int k = 0; k < want.length; k++) if (ClassifierScore.argmax(r.logits()[k]) == want[k]) right++;
                            count += want.length;
                            tokens += b.realTokens();
                        }
                        gradNorm = trainer.optimizerStep(o.optimizer(), lr, 1.0 / micro.size());
                    } catch (Lora4jException e) {
                        throw out.numericFailure(e, step + 1, last);
                    }
                    step++;
                    long t1 = System.nanoTime();
                    StepMetrics.Builder m = StepMetrics.builder(step, totalSteps).put(StepMetrics.LOSS, loss)
                            .put(StepMetrics.ACCURACY, (double) right / count).put(StepMetrics.LR, lr)
                            .put("grad_norm", gradNorm).put(StepMetrics.TOKENS_PER_S, tokens / ((t1 - t0) / 1e9));
                    t0 = t1;
                    boolean evalNow = evalScoring != null
                            && ((o.evalEvery() > 0 && step % o.evalEvery() == 0) || step == totalSteps);
                    if (evalNow) {
                        evalAfter = ClassifierScore.of(trainer, evalScoring, eval.classes());
                        m.put(StepMetrics.EVAL_LOSS, evalAfter.loss()).put(StepMetrics.EVAL_ACCURACY, evalAfter.accuracy());
                        out.eval(new EvalMetrics(step, evalAfter.loss(), evalAfter.count()));
                        t0 = System.nanoTime();
                    }
                    out.step(m.build(), step == totalSteps || step % o.logEvery() == 0);
                    if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && step < totalSteps) {
                        last = checkpoint(out, step, batches.position(), adapter, trainer);
                        t0 = System.nanoTime();
                    }
                }
                ClassifierHead head = new ClassifierHead(labels, model.hparams().embeddingLength(), trainer.head());
                if (o.outputDir() != null) {
                    last = checkpoint(out, step, batches.position(), adapter, trainer);
                    adapter.save(o.outputDir().resolve("adapter.gguf"));
                    head.save(o.outputDir().resolve(ClassifierHead.FILE_NAME));
                }
                ClassifierScore after = ClassifierScore.of(trainer, trainScoring, train.classes());
                out.end(step);
                TrainingRun run = new TrainingRun(adapter, ownsAdapter, out.history(), step, o.outputDir(), last);
                ownsAdapter = false;
                return new ClassificationRun(model, run, head, before, after, evalBefore, evalAfter);
            }
        } finally {
            if (ownsAdapter) adapter.close();
        }
    }

    /** One pass over examples in order (forward only, for accuracy). */
    private static Batcher scoring(Encoded set, TrainingOptions o, int seqLen, int pad) {
        return Batcher.builder(set.examples()).batchSize(o.batchSize()).seqLen(seqLen).packing(true).shuffle(false)
                .padId(pad).build();
    }

    /** A checkpoint holding the head (and its labels) beside the adapter and optimizer state. */
    private Checkpoint checkpoint(RunOutput out, int step, BatchPosition next, Adapter adapter, NativeTrainer trainer) {
        ClassifierHead head = new ClassifierHead(labels, model.hparams().embeddingLength(), trainer.head());
        return out.checkpoint(step, next, adapter, trainer, dir -> head.save(dir.resolve(ClassifierHead.FILE_NAME)));
    }

    /** The head saved in a checkpoint, which must have this dataset's labels. */
    private ClassifierHead headFile(Path checkpointDir) {
        ClassifierHead h = ClassifierHead.load(checkpointDir.resolve(ClassifierHead.FILE_NAME));
        if (!h.labels().equals(labels)) {
            throw new IllegalArgumentException("checkpoint " + checkpointDir + " classifies " + h.labels()
                    + ", but the data's labels are " + labels);
        }
        return h;
    }
}
