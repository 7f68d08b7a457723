package io.lora4j.train;

import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_memory_plan;
import io.lora4j.internal.lora4j_optim_params;
import io.lora4j.internal.lora4j_train_params;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.data.Batch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's trainer: forward and backward of L = sum_i w_i log p(token_i | its prefix) for
 * per-token weights w chosen in Java, gradient accumulation, clipping and the optimizer update.
 * Every objective (SFT, DPO, GRPO, custom) is a choice of weights. A trainer whose shape has
 * {@code labels > 0} is a sequence classifier instead ({@link #classifyStep}, {@link #classify}):
 * each segment of a batch is one example, classified from its last token by a head trained with
 * the adapter. One thread at a time.
 */
public final class NativeTrainer implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment handle;
    private final TrainerShape shape;
    private final List<Runnable> pins = new ArrayList<>();
    private final MemorySegment tokens, pos, seg, weights, logprobs, objective, norm, labels, logits;
    private boolean closed;

    /**
     * @param trainable the adapter to train (null with {@code shape.full()})
     * @param frozen adapters applied but never updated (a starting point, or an RL reference)
     */
    public NativeTrainer(Model model, Adapter trainable, List<ScaledAdapter> frozen, TrainerShape shape) {
        this.shape = shape;
        if ((trainable == null) != shape.full()) {
            throw new IllegalArgumentException(shape.full() ? "full fine-tuning trains no adapter"
                    : "LoRA training needs an adapter");
        }
        shape.device().requireAvailable();
        try {
            pins.add(model.pin("trainer"));
            if (trainable != null) pins.add(trainable.pin("trainer"));
            for (ScaledAdapter f : frozen) pins.add(f.adapter().pin("trainer"));
            MemorySegment params = params(arena, shape);
            int nf = frozen.size();
            MemorySegment frozenHandles = arena.allocate(ValueLayout.ADDRESS, Math.max(1, nf));
            MemorySegment frozenScales = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, nf));
            for (int i = 0; i < nf; i++) {
                frozenHandles.setAtIndex(ValueLayout.ADDRESS, i, frozen.get(i).adapter().withHandle(h -> h));
                frozenScales.setAtIndex(ValueLayout.JAVA_FLOAT, i, frozen.get(i).scale());
            }
            MemorySegment trainableHandle = trainable == null ? MemorySegment.NULL : trainable.withHandle(h -> h);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            model.withHandle(m -> {
                Native.check(lora4j_h.lora4j_trainer_new(m, trainableHandle, frozenHandles, frozenScales, nf, params, out),
                        "creating trainer");
                return null;
            });
            handle = out.get(ValueLayout.ADDRESS, 0);
        } catch (RuntimeException e) {
            pins.forEach(Runnable::run);
            arena.close();
            throw e;
        }
        long n = (long) shape.rows() * shape.seqLen();
        tokens = arena.allocate(ValueLayout.JAVA_INT, n);
        pos = arena.allocate(ValueLayout.JAVA_INT, n);
        seg = arena.allocate(ValueLayout.JAVA_INT, n);
        weights = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        logprobs = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        objective = arena.allocate(ValueLayout.JAVA_DOUBLE);
        norm = arena.allocate(ValueLayout.JAVA_DOUBLE);
        labels = arena.allocate(ValueLayout.JAVA_INT, n);
        logits = arena.allocate(ValueLayout.JAVA_FLOAT, n * Math.max(1, shape.labels()));
    }

    private static MemorySegment params(Arena arena, TrainerShape shape) {
        MemorySegment p = lora4j_h.lora4j_train_default_params(arena);
        lora4j_train_params.n_rows(p, shape.rows());
        lora4j_train_params.n_seq(p, shape.seqLen());
        lora4j_train_params.n_threads(p, shape.threads());
        lora4j_train_params.checkpointing(p, shape.checkpointing() ? 1 : 0);
        lora4j_train_params.full(p, shape.full() ? 1 : 0);
        lora4j_train_params.freeze_layers(p, shape.freezeLayers());
        lora4j_train_params.seed(p, shape.seed());
        lora4j_train_params.n_labels(p, shape.labels());
        lora4j_train_params.device(p, shape.device().ordinal());
        return p;
    }

    /** The memory a trainer of this shape would need, computed without allocating it. */
    public static MemoryPlan plan(Model model, Adapter trainable, TrainerShape shape) {
        shape.device().requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = params(arena, shape);
            MemorySegment out = lora4j_memory_plan.allocate(arena);
            MemorySegment a = trainable == null ? MemorySegment.NULL : trainable.withHandle(h -> h);
            model.withHandle(m -> {
                Native.check(lora4j_h.lora4j_trainer_plan(m, a, params, out), "planning training memory");
                return null;
            });
            return new MemoryPlan(lora4j_memory_plan.weights(out), lora4j_memory_plan.trainable(out),
                    lora4j_memory_plan.optimizer(out), lora4j_memory_plan.activations(out),
                    lora4j_memory_plan.total(out));
        }
    }

    public TrainerShape shape() {
        return shape;
    }

    /**
     * Forward and backward of one micro-batch with per-token weights {@code w[row][i]} (the
     * derivative of the objective by log p of token i); gradients accumulate. Returns the
     * objective and every token's log p ({@code [row][i]}, 0 where nothing is predicted).
     */
    public StepResult step(Batch batch, float[][] w) {
        ensureOpen();
        load(batch);
        int rows = batch.rows(), seq = batch.seqLen();
        for (int r = 0; r < rows; r++) MemorySegment.copy(w[r], 0, weights, ValueLayout.JAVA_FLOAT, (long) r * seq * Float.BYTES, seq);
        Native.check(lora4j_h.lora4j_trainer_step(handle, tokens, pos, seg, weights, logprobs, objective),
                "training step");
        return new StepResult(objective.get(ValueLayout.JAVA_DOUBLE, 0), readLogprobs(rows, seq));
    }

    /** Forward only: log p of every token with the trainable adapter on (policy) or off (reference). */
    public float[][] logprobs(Batch batch, boolean useTrainable) {
        ensureOpen();
        load(batch);
        Native.check(lora4j_h.lora4j_trainer_logprobs(handle, tokens, pos, seg, useTrainable ? 1 : 0, logprobs),
                "computing log-probs");
        return readLogprobs(batch.rows(), batch.seqLen());
    }

    /**
     * Forward and backward of a classifier's mean cross-entropy over the batch's segments (row by
     * row, in order), {@code classes[k]} the class of segment k; gradients accumulate. Returns the
     * loss and the logits {@code [segment][class]}.
     */
    public ClassifyResult classifyStep(Batch batch, int[] classes) {
        ensureOpen();
        int m = segments(batch);
        if (classes.length != m) {
            throw new IllegalArgumentException("the batch holds " + m + " segments but " + classes.length + " labels were given");
        }
        load(batch);
        MemorySegment.copy(classes, 0, labels, ValueLayout.JAVA_INT, 0, m);
        Native.check(lora4j_h.lora4j_trainer_classify_step(handle, tokens, pos, seg, labels, m, logits, objective),
                "classification step");
        return new ClassifyResult(objective.get(ValueLayout.JAVA_DOUBLE, 0), readLogits(m));
    }

    /** Forward only: a classifier's logits {@code [segment][class]} for the batch's segments. */
    public float[][] classify(Batch batch) {
        ensureOpen();
        int m = segments(batch);
        load(batch);
        Native.check(lora4j_h.lora4j_trainer_classify(handle, tokens, pos, seg, m, logits), "classifying");
        return readLogits(m);
    }

    /** A classifier's head weights, row-major {@code [class][n_embd]} (a copy). */
    public float[] head() {
        return headSegment().toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Replaces a classifier's head weights ({@code [class][n_embd]}), e.g. to continue from a saved head. */
    public void head(float[] values) {
        MemorySegment h = headSegment();
        if (values.length * (long) Float.BYTES != h.byteSize()) {
            throw new IllegalArgumentException("the head holds " + h.byteSize() / Float.BYTES + " values, got "
                    + values.length);
        }
        MemorySegment.copy(values, 0, h, ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    private MemorySegment headSegment() {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ptr = a.allocate(ValueLayout.ADDRESS);
            MemorySegment n = a.allocate(ValueLayout.JAVA_LONG);
            Native.check(lora4j_h.lora4j_trainer_head(handle, ptr, n), "reading the classification head");
            return ptr.get(ValueLayout.ADDRESS, 0).reinterpret(n.get(ValueLayout.JAVA_LONG, 0) * Float.BYTES);
        }
    }

    /** How many segments (runs of one segment id within a row) the batch holds. */
    static int segments(Batch b) {
        int m = 0;
        for (int[] row : b.segmentIds()) {
            for (int i = 0; i < row.length; i++) {
                if (row[i] != Batch.PAD_SEGMENT && (i + 1 == row.length || row[i + 1] != row[i])) m++;
            }
        }
        return m;
    }

    private float[][] readLogits(int m) {
        int c = shape.labels();
        float[][] out = new float[m][c];
        for (int k = 0; k < m; k++) MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, (long) k * c * Float.BYTES, out[k], 0, c);
        return out;
    }

    private void load(Batch b) {
        if (b.rows() != shape.rows() || b.seqLen() != shape.seqLen()) {
            throw new IllegalArgumentException("batch is " + b.rows() + " x " + b.seqLen() + ", the trainer expects "
                    + shape.rows() + " x " + shape.seqLen());
        }
        int seq = b.seqLen();
        for (int r = 0; r < b.rows(); r++) {
            long at = (long) r * seq;
            MemorySegment.copy(b.tokens()[r], 0, tokens, ValueLayout.JAVA_INT, at * Integer.BYTES, seq);
            MemorySegment.copy(b.positions()[r], 0, pos, ValueLayout.JAVA_INT, at * Integer.BYTES, seq);
            MemorySegment.copy(b.segmentIds()[r], 0, seg, ValueLayout.JAVA_INT, at * Integer.BYTES, seq);
        }
    }

    private float[][] readLogprobs(int rows, int seq) {
        float[][] out = new float[rows][seq];
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(logprobs, ValueLayout.JAVA_FLOAT, (long) r * seq * Float.BYTES, out[r], 0, seq);
        }
        return out;
    }

    public void zeroGrad() {
        ensureOpen();
        Native.check(lora4j_h.lora4j_trainer_zero_grad(handle), "zeroing gradients");
    }

    public double gradNorm() {
        ensureOpen();
        Native.check(lora4j_h.lora4j_trainer_grad_norm(handle, norm), "computing the gradient norm");
        return norm.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    /**
     * Clips and applies the accumulated gradients (times {@code gradScale}) with learning rate
     * {@code lr}, then zeroes them; returns the gradient norm before clipping.
     */
    public double optimizerStep(OptimizerConfig o, double lr, double gradScale) {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = lora4j_h.lora4j_optim_default_params(a);
            lora4j_optim_params.kind(p, o.kind().ordinal());
            lora4j_optim_params.lr(p, (float) lr);
            lora4j_optim_params.beta1(p, (float) o.beta1());
            lora4j_optim_params.beta2(p, (float) o.beta2());
            lora4j_optim_params.eps(p, (float) o.eps());
            lora4j_optim_params.momentum(p, (float) o.momentum());
            lora4j_optim_params.weight_decay(p, (float) o.weightDecay());
            lora4j_optim_params.max_grad_norm(p, (float) o.maxGradNorm());
            lora4j_optim_params.grad_scale(p, (float) gradScale);
            Native.check(lora4j_h.lora4j_trainer_optimizer_step(handle, p, norm), "optimizer step");
        }
        return norm.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    /** Optimizer steps taken (restored by {@link #loadState}). */
    public long steps() {
        ensureOpen();
        return lora4j_h.lora4j_trainer_steps(handle);
    }

    public void saveState(Path path) {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            Native.check(lora4j_h.lora4j_trainer_save_state(handle, Native.cString(a, path.toString())),
                    "saving optimizer state to " + path);
        }
    }

    public void loadState(Path path) {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            Native.check(lora4j_h.lora4j_trainer_load_state(handle, Native.cString(a, path.toString())),
                    "loading optimizer state from " + path);
        }
    }

    /** Full fine-tuning: writes the model with its trained weights (atomically). */
    public void saveModel(Path path) {
        ensureOpen();
        if (!shape.full()) throw new IllegalStateException("only full fine-tuning changes the model's weights");
        try (Arena a = Arena.ofConfined()) {
            Native.check(lora4j_h.lora4j_trainer_save_model(handle, Native.cString(a, path.toString())),
                    "saving model to " + path);
        }
    }

    /** The objective of a step and every token's log-probability. */
    public record StepResult(double objective, float[][] logprobs) {}

    /** The mean cross-entropy of a classification step and the logits of its segments. */
    public record ClassifyResult(double loss, float[][] logits) {}

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("trainer is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        lora4j_h.lora4j_trainer_free(handle);
        arena.close();
        pins.forEach(Runnable::run);
    }

    /** True when the engine refused a step because the loss or gradients were not finite. */
    public static boolean isNumericError(Lora4jException e) {
        return e.status() == lora4j_h.LORA4J_ERR_NUMERIC();
    }
}
