package io.lora4j.train.data;

/** A dataset divided into disjoint training and evaluation parts (see {@link Dataset#split}). */
public record DatasetSplit(Dataset train, Dataset eval) {}
