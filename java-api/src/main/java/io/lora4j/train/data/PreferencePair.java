package io.lora4j.train.data;

/** A tokenized preference record: the same prompt with its chosen and its rejected completion. */
public record PreferencePair(Example chosen, Example rejected) {}
