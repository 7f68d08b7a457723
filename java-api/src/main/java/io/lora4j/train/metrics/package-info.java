/**
 * Watching a run: {@link io.lora4j.train.metrics.TrainingListener} for applications,
 * {@link io.lora4j.train.metrics.ProgressBar} for terminals and logs,
 * {@link io.lora4j.train.metrics.MetricsCsvWriter} for {@code metrics.csv} (continued on resume) and
 * {@link io.lora4j.train.metrics.LossPlot} for the PNG of the curves.
 */
package io.lora4j.train.metrics;
