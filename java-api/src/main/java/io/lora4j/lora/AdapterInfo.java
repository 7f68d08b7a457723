package io.lora4j.lora;

/** What an adapter holds; {@code scale} is the factor applied to B·A·x. */
public record AdapterInfo(int rank, double alpha, boolean rslora, double dropout, double scale, long pairs, long parameters,
                          int trainedBiases) {}
