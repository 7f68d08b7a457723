package io.lora4j.train.metrics;

import java.nio.file.Path;

/** A checkpoint that was written completely. */
public record CheckpointInfo(int step, Path directory) {}
