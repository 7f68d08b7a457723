package io.lora4j.train.metrics;

import java.io.Console;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Shows a run's progress. On a terminal, one line redrawn in place:
 * {@code step 42/300 [====>      ] 14% | loss 2.341 | lr 2.50e-04 | 1234 tok/s | ETA 4m12s};
 * elsewhere (output redirected to a file or a pipe) the same text as a plain line every
 * {@code every} steps, on the first step and on the last. Evaluations and checkpoints are printed
 * as lines of their own. The ETA extrapolates the pace of the steps this process has run.
 */
public final class ProgressBar implements TrainingListener {

    private static final int BAR_WIDTH = 20;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean interactive;
    private final int every;
    private final List<String> shown;
    private final LongSupplier clock;
    private final long startNanos;
    private int firstStep = -1;
    private long lastDrawNanos = Long.MIN_VALUE;
    private String drawn = "";

    private ProgressBar(Builder b) {
        this.out = b.out;
        this.interactive = b.interactive;
        this.every = b.every;
        this.shown = List.copyOf(b.shown);
        this.clock = b.clock;
        this.startNanos = clock.getAsLong();
    }

    /** A bar on standard output, redrawn in place when that is a terminal. */
    public static ProgressBar create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether standard output is a terminal (JDK 22+ returns a console even when it is not one). */
    public static boolean onTerminal() {
        Console console = System.console();
        return console != null && console.isTerminal();
    }

    @Override
    public void onStep(StepMetrics m) {
        long now = clock.getAsLong();
        if (firstStep < 0) firstStep = m.step();
        boolean last = m.step() == m.totalSteps();
        if (interactive) {
            if (last || m.step() == firstStep || now - lastDrawNanos >= REDRAW_NANOS) {
                redraw(line(m, now));
                lastDrawNanos = now;
            }
        } else if (last || m.step() == firstStep || m.step() % every == 0) {
            out.println(line(m, now));
            out.flush();
        }
    }

    @Override
    public void onEval(EvalMetrics m) {
        message(String.format(Locale.ROOT, "eval at step %d: loss %.4f, perplexity %.3f (%d tokens)",
                m.step(), m.loss(), m.perplexity(), m.tokens()));
    }

    @Override
    public void onCheckpoint(CheckpointInfo c) {
        message("checkpoint at step " + c.step() + ": " + c.directory());
    }

    @Override
    public void onEnd(TrainingSummary s) {
        if (interactive && !drawn.isEmpty()) {
            out.println();
            drawn = "";
        }
        out.flush();
    }

    /** A line of its own; on a terminal above the bar, which is then redrawn. */
    private void message(String text) {
        if (interactive && !drawn.isEmpty()) {
            String bar = drawn;
            redraw(text);
            out.println();
            drawn = "";
            redraw(bar);
        } else {
            out.println(text);
            out.flush();
        }
    }

    private void redraw(String line) {
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < drawn.length(); i++) sb.append(' ');
        out.print(sb);
        out.flush();
        drawn = line;
    }

    /** The status text of step {@code m} at time {@code now}. */
    String line(StepMetrics m, long now) {
        StringBuilder sb = new StringBuilder();
        int width = String.valueOf(m.totalSteps()).length();
        sb.append(String.format(Locale.ROOT, "step %" + width + "d/%d [", m.step(), m.totalSteps()));
        double frac = (double) m.step() / m.totalSteps();
        int filled = (int) Math.floor(frac * BAR_WIDTH);
        for (int i = 0; i < BAR_WIDTH; i++) sb.append(i < filled ? '=' : i == filled ? '>' : ' ');
        sb.append(String.format(Locale.ROOT, "] %3d%%", (int) Math.floor(frac * 100)));
        for (String name : shown) {
            m.get(name).ifPresent(v -> sb.append(" | ").append(formatMetric(name, v)));
        }
        int doneHere = m.step() - firstStep + 1;
        double secondsPerStep = (now - startNanos) / 1e9 / doneHere;
        if (m.step() < m.totalSteps()) {
            sb.append(" | ETA ").append(duration(secondsPerStep * (m.totalSteps() - m.step())));
        } else {
            sb.append(" | ").append(duration((now - startNanos) / 1e9));
        }
        return sb.toString();
    }

    static String formatMetric(String name, double v) {
        if (name.equals(StepMetrics.TOKENS_PER_S)) return String.format(Locale.ROOT, "%.0f tok/s", v);
        if (name.equals(StepMetrics.LR)) return String.format(Locale.ROOT, "lr %.2e", v);
        return name + " " + String.format(Locale.ROOT, "%.4g", v);
    }

    /** {@code 12s}, {@code 4m12s}, {@code 2h05m}. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return "?";
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }

    public static final class Builder {
        private PrintStream out = System.out;
        private boolean interactive = onTerminal();
        private int every = 10;
        private List<String> shown = List.of(StepMetrics.LOSS, StepMetrics.LR, StepMetrics.TOKENS_PER_S);
        private LongSupplier clock = System::nanoTime;

        private Builder() {}

        /** Where to print (default standard output). */
        public Builder out(PrintStream out) {
            this.out = Objects.requireNonNull(out, "out");
            return this;
        }

        /** Redraw one line in place (default: when standard output is a terminal). */
        public Builder interactive(boolean interactive) {
            this.interactive = interactive;
            return this;
        }

        /** Without a terminal, print every this many steps (default 10). */
        public Builder every(int steps) {
            if (steps < 1) throw new IllegalArgumentException("every must be >= 1, got " + steps);
            this.every = steps;
            return this;
        }

        /** The metrics to show, in order (default loss, lr, tokens_per_s; e.g. reward_mean, kl for RL). */
        public Builder show(String... metrics) {
            this.shown = List.of(metrics);
            return this;
        }

        /** The time source, in nanoseconds (default {@link System#nanoTime}). */
        public Builder clock(LongSupplier nanos) {
            this.clock = Objects.requireNonNull(nanos, "nanos");
            return this;
        }

        public ProgressBar build() {
            return new ProgressBar(this);
        }
    }
}
