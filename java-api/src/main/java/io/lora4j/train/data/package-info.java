/**
 * Training data: JSONL records ({@link io.lora4j.train.data.Dataset}), their tokenization with loss
 * masks ({@link io.lora4j.train.data.ExampleEncoder}) and fixed-shape, optionally packed, seeded and
 * resumable batches ({@link io.lora4j.train.data.Batcher}).
 *
 * <p>Typical use: {@code Dataset.jsonl(file).split(0.1, seed)}, then
 * {@code ExampleEncoder.builder(encoder).chatRenderer(chat).maxLength(ctx).build().encodeAll(train)},
 * then {@code Batcher.builder(examples).batchSize(b).seqLen(ctx).packing(true).seed(seed).build()
 * .iterator(epochs, checkpointPosition)}. The tokenizer and chat template come in through the small
 * {@link io.lora4j.train.data.TextEncoder} and {@link io.lora4j.train.data.ChatRenderer} interfaces.
 */
package io.lora4j.train.data;
