/**
 * Learning-rate schedules with Hugging Face's semantics ({@link io.lora4j.train.schedule.LrSchedule})
 * and the grouping of micro-batches into optimizer steps ({@link io.lora4j.train.schedule.GradientAccumulation}).
 */
package io.lora4j.train.schedule;
