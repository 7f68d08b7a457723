package io.lora4j.generate;

import java.util.List;

/**
 * The result of one generation.
 *
 * @param text the completion (stop string excluded)
 * @param promptTokens the prompt's token ids
 * @param tokens every generated token, in order
 * @param seed the sampler seed used (reuse it to reproduce the run)
 */
public record Generation(String text, int[] promptTokens, List<GeneratedToken> tokens, FinishReason finishReason,
                         long seed, double promptSeconds, double generationSeconds) {
    public int[] tokenIds() {
        return tokens.stream().mapToInt(GeneratedToken::id).toArray();
    }

    public double promptTokensPerSecond() {
        return promptSeconds > 0 ? promptTokens.length / promptSeconds : 0;
    }

    public double tokensPerSecond() {
        return generationSeconds > 0 ? tokens.size() / generationSeconds : 0;
    }
}
