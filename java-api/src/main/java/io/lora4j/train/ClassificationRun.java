package io.lora4j.train;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;

import java.util.OptionalDouble;

/**
 * The result of a classification run: the training run (metrics, adapter, checkpoints), the
 * trained head, and the accuracy before and after training on the training examples and, with an
 * eval split, on the held-out ones. Closing it closes the adapter it owns.
 */
public final class ClassificationRun implements AutoCloseable {
    private final Model model;
    private final TrainingRun training;
    private final ClassifierHead head;
    private final ClassifierScore before, after, evalBefore, evalAfter;

    ClassificationRun(Model model, TrainingRun training, ClassifierHead head, ClassifierScore before,
                      ClassifierScore after, ClassifierScore evalBefore, ClassifierScore evalAfter) {
        this.model = model;
        this.training = training;
        this.head = head;
        this.before = before;
        this.after = after;
        this.evalBefore = evalBefore;
        this.evalAfter = evalAfter;
    }

    /** Metrics history, steps, output directory, checkpoints and the trained adapter. */
    public TrainingRun training() {
        return training;
    }

    public Adapter adapter() {
        return training.adapter();
    }

    public ClassifierHead head() {
        return head;
    }

    /** Accuracy on the training examples before the first step (the untrained head). */
    public double accuracyBefore() {
        return before.accuracy();
    }

    /** Accuracy on the training examples after the last step. */
    public double accuracyAfter() {
        return after.accuracy();
    }

    /** Held-out accuracy before training (present with an eval split). */
    public OptionalDouble evalAccuracyBefore() {
        return evalBefore == null ? OptionalDouble.empty() : OptionalDouble.of(evalBefore.accuracy());
    }

    /** Held-out accuracy after training (present with an eval split). */
    public OptionalDouble evalAccuracyAfter() {
        return evalAfter == null ? OptionalDouble.empty() : OptionalDouble.of(evalAfter.accuracy());
    }

    /** A classifier over this run's adapter and head; valid while this run is open. */
    public Classifier classifier() {
        return Classifier.of(model, training.adapter(), head);
    }

    @Override
    public void close() {
        training.close();
    }
}
