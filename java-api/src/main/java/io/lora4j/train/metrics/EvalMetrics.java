package io.lora4j.train.metrics;

/**
 * An evaluation on held-out data.
 *
 * @param step the optimizer step after which it ran
 * @param loss the mean loss over all evaluated target tokens
 * @param tokens how many target tokens were evaluated
 */
public record EvalMetrics(int step, double loss, long tokens) {

    /** {@code exp(loss)}. */
    public double perplexity() {
        return Math.exp(loss);
    }
}
