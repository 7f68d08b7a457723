package io.lora4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossPlotTest {

    /** Plots land in target/ so they can be looked at after the test run. */
    private static final Path OUT = Path.of("target", "train-plots");

    @TempDir
    Path dir;

    /** A metrics.csv of a 300-step run: noisy decaying loss, eval every 50 steps. */
    private Path sftMetrics() {
        Path file = dir.resolve("metrics.csv");
        java.util.Random noise = new java.util.Random(1);
        try (MetricsCsvWriter w = MetricsCsvWriter.create(file, List.of("step", "loss", "lr", "tokens_per_s", "eval_loss"))) {
            for (int s = 1; s <= 300; s++) {
                StepMetrics.Builder m = StepMetrics.builder(s, 300)
                        .put("loss", 0.6 + 2.4 * Math.exp(-s / 60.0) + 0.08 * noise.nextGaussian())
                        .put("lr", 2e-4).put("tokens_per_s", 1200);
                if (s % 50 == 0) m.put("eval_loss", 0.7 + 2.4 * Math.exp(-s / 70.0));
                w.onStep(m.build());
            }
        }
        return file;
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) n++;
        }
        return n;
    }

    @Test
    void lossPlotIsWrittenWithBothCurves() throws IOException {
        Path png = OUT.resolve("sft-loss.png");
        LossPlot.forMetrics(MetricsTable.read(sftMetrics()), "SFT: loss").write(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(960, img.getWidth());
        assertEquals(44 + 340 + 58, img.getHeight());
        assertTrue(countColour(img, 0x1f77b4) > 500, "train loss drawn in blue");
        assertTrue(countColour(img, 0xff7f0e) > 100, "eval loss drawn in orange");
        assertTrue(countColour(img, 0x222222) > 200, "text drawn");
        assertEquals(0xFFFFFF, img.getRGB(2, 2) & 0xFFFFFF, "white background");
        try (var files = Files.list(OUT)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void rewardAndKlGetPanelsOfTheirOwn() throws IOException {
        Path file = dir.resolve("rl.csv");
        try (MetricsCsvWriter w = MetricsCsvWriter.create(file,
                List.of("step", "reward_mean", "reward_std", "kl", "clip_frac", "completion_len"))) {
            for (int s = 1; s <= 40; s++) {
                w.write(Map.of("step", s, "reward_mean", 0.2 + 0.6 * (1 - Math.exp(-s / 12.0)),
                        "kl", s == 1 ? 0.0 : 0.002 * Math.sqrt(s)));
            }
        }
        Path png = OUT.resolve("rl-reward-kl.png");
        LossPlot.forMetrics(MetricsTable.read(file), "GRPO: reward and KL").write(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(44 + 2 * 340 + 46 + 58, img.getHeight());
        assertTrue(countColour(img, 0x1f77b4) > 300, "reward drawn in blue");
        assertTrue(countColour(img, 0xff7f0e) > 300, "KL drawn in orange");
        assertEquals(0, countColour(img, 0x2ca02c), "no third curve");
    }

    @Test
    void gapsAndDegenerateDataDoNotBreakThePlot() {
        double[] x = {1, 2, 3, 4};
        double[] y = {1.0, Double.NaN, Double.POSITIVE_INFINITY, 1.0};
        BufferedImage img = LossPlot.builder().panel("loss", new Series("flat", x, y)).build().render();
        assertTrue(countColour(img, 0x1f77b4) > 0);
        BufferedImage single = LossPlot.builder().panel("loss", new Series("one", new double[] {5}, new double[] {2}))
                .build().render();
        assertTrue(countColour(single, 0x1f77b4) > 0, "a single point shows as a marker");
        assertThrows(IllegalArgumentException.class, () -> LossPlot.builder().build());
        assertThrows(IllegalArgumentException.class, () -> LossPlot.forMetrics(
                new MetricsTable(List.of("step", "lr"), List.of(List.of("1", "0.1"))), "t"));
    }

    @Test
    void ticksAreRoundNumbers() {
        assertEquals(50, LossPlot.tickStep(300), 1e-12);
        assertEquals(0.5, LossPlot.tickStep(2.4), 1e-12);
        assertEquals(0.002, LossPlot.tickStep(0.01), 1e-15);
        assertEquals("2.5", LossPlot.tickLabel(2.5, 0.5));
        assertEquals("2.0", LossPlot.tickLabel(2.0, 0.5));
        assertEquals("0.004", LossPlot.tickLabel(0.004, 0.002));
        assertEquals("150", LossPlot.tickLabel(150, 50));
        assertEquals("1.0e-04", LossPlot.tickLabel(1e-4, 1e-5));
    }
}
