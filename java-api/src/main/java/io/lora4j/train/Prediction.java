package io.lora4j.train;

import java.util.Map;

/**
 * A classifier's answer for one text.
 *
 * @param label the most probable label
 * @param probabilities every label's probability (softmax of the logits), in class order
 */
public record Prediction(String label, Map<String, Double> probabilities) {
    public Prediction {
        probabilities = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(probabilities));
    }

    /** The probability of the predicted label. */
    public double probability() {
        return probabilities.get(label);
    }
}
