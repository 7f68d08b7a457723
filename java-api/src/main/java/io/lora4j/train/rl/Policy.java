package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.Checkpoint;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.metrics.StepMetrics;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The adapters of an RL or DPO run. The reference is the model with the trainable adapter
 * switched off: the bare base model, or the base with the frozen starting adapter when the run
 * starts from one. The policy is the reference plus the trainable adapter, which starts at zero
 * (B = 0), so policy and reference agree exactly at the first step. The base weights exist once.
 */
final class Policy implements AutoCloseable {
    static final String REFERENCE_KEY = "reference";
    static final String ALGORITHM_KEY = "algorithm";

    private final Adapter start;     // frozen, the caller's (may be null)
    private final Adapter trainable; // owned
    private boolean handedOver;

    private Policy(Adapter start, Adapter trainable) {
        this.start = start;
        this.trainable = trainable;
    }

    /** A fresh trainable adapter, or the one of {@code resume}, on top of {@code start} (may be null). */
    static Policy open(Model model, LoraConfig config, Adapter start, Checkpoint resume, String algorithm) {
        if (start != null) {
            AdapterStack.requireNoBiases(start, "the starting adapter");
            if (config.bias() != LoraConfig.Bias.NONE) {
                throw new IllegalArgumentException("training on top of a starting adapter needs LoRA bias none");
            }
        }
        if (resume != null) {
            String alg = resume.state().path(ALGORITHM_KEY).asText("sft");
            if (!alg.equals(algorithm)) {
                throw new IllegalArgumentException("checkpoint " + resume.directory() + " is from a " + alg
                        + " run, not " + algorithm);
            }
            String ref = resume.state().path(REFERENCE_KEY).asText();
            if (!ref.equals(describe(start))) {
                throw new IllegalArgumentException("checkpoint " + resume.directory() + " was trained against the "
                        + ref + "; resume it with the same reference (" + (start == null ? "no" : "a")
                        + " starting adapter was given now)");
            }
            return new Policy(start, Adapter.load(model, resume.adapterFile()));
        }
        return new Policy(start, Adapter.create(model, config));
    }

    /** What the reference is, in words (stored in checkpoints). */
    static String describe(Adapter start) {
        return start == null ? "base model (adapter off)" : "base model with the frozen starting adapter";
    }

    String reference() {
        return describe(start);
    }

    Adapter trainable() {
        return trainable;
    }

    /** The frozen adapters: applied to policy and reference alike. */
    List<ScaledAdapter> frozen() {
        return start == null ? List.of() : List.of(ScaledAdapter.of(start));
    }

    /** Every adapter the policy applies. */
    List<ScaledAdapter> all() {
        List<ScaledAdapter> out = new ArrayList<>(frozen());
        out.add(ScaledAdapter.of(trainable));
        return out;
    }

    /**
     * The run's result: the trained adapter, or (from a starting adapter) one adapter equal to the
     * starting adapter plus the trained one. Written to {@code outDir/adapter.gguf} when given.
     */
    TrainingRun result(Model model, List<StepMetrics> history, int steps, Path outDir, Checkpoint last) {
        Adapter result = start == null ? trainable : AdapterStack.merge(model, start, trainable);
        try {
            if (outDir != null) result.save(outDir.resolve("adapter.gguf"));
        } catch (RuntimeException e) {
            if (result != trainable) result.close();
            throw e;
        }
        if (result == trainable) handedOver = true;
        return new TrainingRun(result, true, history, steps, outDir, last);
    }

    @Override
    public void close() {
        if (!handedOver) trainable.close();
    }
}
