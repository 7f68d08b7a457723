package io.lora4j.train;

/** A training run that cannot continue (diverged, a reward function failed, …). */
public class TrainingException extends RuntimeException {
    public TrainingException(String message, Throwable cause) {
        super(message, cause);
    }
}
