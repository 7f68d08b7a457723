package io.lora4j.generate;

/**
 * One generated token: its id, the text it released to the output (may be empty while a
 * multi-byte character or a possible stop string is incomplete), and its log-probability under
 * the model's full softmax before sampling, with the top alternatives when asked for.
 */
public record GeneratedToken(int id, String text, float logprob, int[] topIds, float[] topLogprobs) {}
