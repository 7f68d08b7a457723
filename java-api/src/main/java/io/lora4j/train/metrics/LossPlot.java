package io.lora4j.train.metrics;

import io.lora4j.engine.AtomicFile;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;
import javax.imageio.ImageIO;

/**
 * A PNG line chart of training curves: one or more panels stacked over a shared x axis, each with
 * its own y axis, ticks, grid and legend (e.g. train and eval loss in one panel; reward and KL in
 * two). Plain Java2D, anti-aliased; works without a display.
 */
public final class LossPlot {

    static {
        // Before any AWT class initialises: no display is needed (or wanted) to draw an image.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Distinguishable on white and in grey print: blue, orange, green, red, purple, brown. */
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b)
    };
    private static final int MARKERS_UP_TO = 60;
    private static final int LEFT = 84;
    private static final int RIGHT = 28;
    private static final int TITLE_H = 44;
    private static final int PANEL_GAP = 46;
    private static final int BOTTOM = 58;

    private record Panel(String yLabel, List<Series> series) {}

    private final String title;
    private final String xLabel;
    private final int width;
    private final int panelHeight;
    private final List<Panel> panels;

    private LossPlot(Builder b) {
        this.title = b.title;
        this.xLabel = b.xLabel;
        this.width = b.width;
        this.panelHeight = b.panelHeight;
        this.panels = List.copyOf(b.panels);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The standard plot of a metrics table over {@code step}: a loss panel ({@code loss} and
     * {@code eval_loss}), a reward panel ({@code reward_mean}) and a KL panel ({@code kl}), each
     * only when its columns hold values.
     */
    public static LossPlot forMetrics(MetricsTable table, String title) {
        Builder b = builder().title(title).xLabel("step");
        List<Series> loss = present(table, StepMetrics.LOSS, "train loss", StepMetrics.EVAL_LOSS, "eval loss");
        if (!loss.isEmpty()) b.panel("loss", loss.toArray(Series[]::new));
        List<Series> reward = present(table, StepMetrics.REWARD_MEAN, "mean reward");
        if (!reward.isEmpty()) b.panel("reward", reward.toArray(Series[]::new));
        List<Series> kl = present(table, StepMetrics.KL, "KL to reference");
        if (!kl.isEmpty()) b.panel("KL", kl.toArray(Series[]::new));
        if (b.panels.isEmpty()) {
            throw new IllegalArgumentException("no loss, eval_loss, reward_mean or kl values to plot in columns "
                    + table.columns());
        }
        return b.build();
    }

    /** {@code column, name} pairs whose columns exist and hold at least one value. */
    private static List<Series> present(MetricsTable table, String... columnsAndNames) {
        List<Series> out = new ArrayList<>();
        for (int i = 0; i < columnsAndNames.length; i += 2) {
            if (!table.columns().contains(columnsAndNames[i])) continue;
            Series s = table.series(MetricsCsvWriter.STEP, columnsAndNames[i]);
            if (s.size() > 0) out.add(new Series(columnsAndNames[i + 1], s.x(), s.y()));
        }
        return out;
    }

    /** Writes the chart as a PNG, atomically (a temporary file renamed over {@code file}). */
    public void write(Path file) {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(render(), "png", png)) {
                throw new IllegalStateException("no PNG writer available");
            }
            AtomicFile.write(file, png.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Draws the chart. */
    public BufferedImage render() {
        int height = TITLE_H + panels.size() * panelHeight + (panels.size() - 1) * PANEL_GAP + BOTTOM;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);

            g.setColor(new Color(0x222222));
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
            centered(g, title, width / 2.0, 28);

            double[] xRange = xRange();
            int firstColour = 0; // every curve of the figure gets its own colour
            for (int p = 0; p < panels.size(); p++) {
                double top = TITLE_H + p * (panelHeight + PANEL_GAP);
                Rectangle2D area = new Rectangle2D.Double(LEFT, top, width - LEFT - RIGHT, panelHeight);
                drawPanel(g, panels.get(p), area, xRange, firstColour);
                firstColour += panels.get(p).series().size();
            }
            g.setColor(new Color(0x222222));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            centered(g, xLabel, LEFT + (width - LEFT - RIGHT) / 2.0, height - 14);
        } finally {
            g.dispose();
        }
        return img;
    }

    private double[] xRange() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Panel p : panels) {
            for (Series s : p.series()) {
                for (double x : s.x()) {
                    if (Double.isFinite(x)) {
                        lo = Math.min(lo, x);
                        hi = Math.max(hi, x);
                    }
                }
            }
        }
        double[] r = widen(lo, hi);
        double pad = (r[1] - r[0]) * 0.015; // markers at the ends stay whole
        return new double[] {r[0] - pad, r[1] + pad, tickStep(r[1] - r[0])};
    }

    /** {lo, hi, tick step}: the data's range with a margin, out to whole ticks; never below 0 for data that is not. */
    private static double[] yRange(Panel p) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : p.series()) {
            for (int i = 0; i < s.size(); i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    lo = Math.min(lo, s.y()[i]);
                    hi = Math.max(hi, s.y()[i]);
                }
            }
        }
        double[] r = widen(lo, hi);
        double pad = (r[1] - r[0]) * 0.03; // keep curves off the frame
        double step = tickStep(r[1] - r[0]);
        double bottom = Math.floor((r[0] - pad) / step) * step;
        if (lo >= 0) bottom = Math.max(0, bottom);
        return new double[] {bottom, Math.ceil((r[1] + pad) / step) * step, step};
    }

    /** A non-empty range around [lo, hi] ([0, 1] when there is no data). */
    private static double[] widen(double lo, double hi) {
        if (lo > hi) return new double[] {0, 1};
        if (lo == hi) {
            double d = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            return new double[] {lo - d, hi + d};
        }
        return new double[] {lo, hi};
    }

    /** A 1, 2 or 5 × 10^k step giving about five ticks over {@code span}. */
    static double tickStep(double span) {
        double raw = span / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double norm = raw / mag;
        return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    }

    private static List<Double> ticks(double lo, double hi, double step) {
        List<Double> ticks = new ArrayList<>();
        for (long k = (long) Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
            ticks.add(k * step);
        }
        return ticks;
    }

    static String tickLabel(double v, double step) {
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (a >= 1e6 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private void drawPanel(Graphics2D g, Panel panel, Rectangle2D area, double[] xr, int firstColour) {
        double[] yr = yRange(panel);
        double x0 = area.getMinX();
        double y0 = area.getMinY();
        double w = area.getWidth();
        double h = area.getHeight();
        DoubleUnaryOperator px = x -> x0 + (x - xr[0]) / (xr[1] - xr[0]) * w;
        DoubleUnaryOperator py = y -> y0 + h - (y - yr[0]) / (yr[1] - yr[0]) * h;

        Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        g.setFont(tickFont);
        FontMetrics fm = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        for (double t : ticks(yr[0], yr[1], yr[2])) {
            double y = py.applyAsDouble(t);
            g.setColor(new Color(0xE6E6E6));
            g.draw(new Line2D.Double(x0, y, x0 + w, y));
            g.setColor(new Color(0x444444));
            g.draw(new Line2D.Double(x0 - 5, y, x0, y));
            String label = tickLabel(t, yr[2]);
            g.drawString(label, (float) (x0 - 8 - fm.stringWidth(label)), (float) (y + fm.getAscent() / 2.0 - 2));
        }
        for (double t : ticks(xr[0], xr[1], xr[2])) {
            double x = px.applyAsDouble(t);
            g.setColor(new Color(0xE6E6E6));
            g.draw(new Line2D.Double(x, y0, x, y0 + h));
            g.setColor(new Color(0x444444));
            g.draw(new Line2D.Double(x, y0 + h, x, y0 + h + 5));
            centered(g, tickLabel(t, xr[2]), x, y0 + h + 8 + fm.getAscent());
        }
        g.setColor(new Color(0x444444));
        g.draw(area);

        // The y label, rotated, left of the tick labels.
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        rotated.setColor(new Color(0x222222));
        rotated.transform(AffineTransform.getRotateInstance(-Math.PI / 2, 20, y0 + h / 2));
        centered(rotated, panel.yLabel(), 20, y0 + h / 2 + 5);
        rotated.dispose();

        Graphics2D clip = (Graphics2D) g.create();
        // A little beyond the frame, so that markers on it are drawn whole.
        clip.clip(new Rectangle2D.Double(x0 - 5, y0 - 5, w + 10, h + 10));
        for (int s = 0; s < panel.series().size(); s++) {
            drawSeries(clip, panel.series().get(s), colour(firstColour + s), px, py);
        }
        clip.dispose();
        drawLegend(g, panel, area, firstColour, px, py);
    }

    private static Color colour(int index) {
        return PALETTE[index % PALETTE.length];
    }

    private static void drawSeries(Graphics2D g, Series s, Color c, DoubleUnaryOperator px,
            DoubleUnaryOperator py) {
        g.setColor(c);
        g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D.Double line = new Path2D.Double();
        boolean pen = false;
        for (int i = 0; i < s.size(); i++) {
            if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
                pen = false;
                continue;
            }
            double x = px.applyAsDouble(s.x()[i]);
            double y = py.applyAsDouble(s.y()[i]);
            if (pen) line.lineTo(x, y); else line.moveTo(x, y);
            pen = true;
        }
        g.draw(line);
        if (s.size() <= MARKERS_UP_TO) {
            for (int i = 0; i < s.size(); i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    double x = px.applyAsDouble(s.x()[i]);
                    double y = py.applyAsDouble(s.y()[i]);
                    g.fill(new Ellipse2D.Double(x - 3.5, y - 3.5, 7, 7));
                }
            }
        }
    }

    private static void drawLegend(Graphics2D g, Panel panel, Rectangle2D area, int firstColour,
            DoubleUnaryOperator px, DoubleUnaryOperator py) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics fm = g.getFontMetrics();
        int textW = 0;
        for (Series s : panel.series()) textW = Math.max(textW, fm.stringWidth(s.name()));
        int rowH = fm.getHeight() + 2;
        double boxW = 12 + 26 + 8 + textW + 12;
        double boxH = 10 + rowH * panel.series().size();
        Rectangle2D box = legendBox(panel, area, boxW, boxH, px, py);
        double bx = box.getX();
        double by = box.getY();
        g.setColor(new Color(255, 255, 255, 225));
        g.fill(new Rectangle2D.Double(bx, by, boxW, boxH));
        g.setColor(new Color(0xBBBBBB));
        g.setStroke(new BasicStroke(1f));
        g.draw(new Rectangle2D.Double(bx, by, boxW, boxH));
        for (int s = 0; s < panel.series().size(); s++) {
            double cy = by + 5 + rowH * s + rowH / 2.0;
            g.setColor(colour(firstColour + s));
            g.setStroke(new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            g.draw(new Line2D.Double(bx + 12, cy, bx + 38, cy));
            if (panel.series().get(s).size() <= MARKERS_UP_TO) {
                g.fill(new Ellipse2D.Double(bx + 25 - 3.5, cy - 3.5, 7, 7));
            }
            g.setColor(new Color(0x222222));
            g.drawString(panel.series().get(s).name(), (float) (bx + 46), (float) (cy + fm.getAscent() / 2.0 - 2));
        }
    }

    /** The corner (top right first) where the legend hides the fewest points of the curves. */
    private static Rectangle2D legendBox(Panel panel, Rectangle2D area, double boxW, double boxH,
            DoubleUnaryOperator px, DoubleUnaryOperator py) {
        double m = 10;
        double left = area.getMinX() + m;
        double right = area.getMaxX() - boxW - m;
        double top = area.getMinY() + m;
        double bottom = area.getMaxY() - boxH - m;
        double[][] corners = {{right, top}, {left, top}, {right, bottom}, {left, bottom}};
        Rectangle2D best = null;
        int bestHidden = Integer.MAX_VALUE;
        for (double[] c : corners) {
            Rectangle2D box = new Rectangle2D.Double(c[0] - 4, c[1] - 4, boxW + 8, boxH + 8);
            int hidden = 0;
            for (Series s : panel.series()) hidden += hiddenPoints(s, box, px, py);
            if (hidden < bestHidden) {
                bestHidden = hidden;
                best = new Rectangle2D.Double(c[0], c[1], boxW, boxH);
            }
        }
        return best;
    }

    /** Points along the drawn curve (sampled every few pixels) that fall inside {@code box}. */
    private static int hiddenPoints(Series s, Rectangle2D box, DoubleUnaryOperator px, DoubleUnaryOperator py) {
        int hidden = 0;
        double lastX = Double.NaN;
        double lastY = Double.NaN;
        for (int i = 0; i < s.size(); i++) {
            if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
                lastX = Double.NaN;
                continue;
            }
            double x = px.applyAsDouble(s.x()[i]);
            double y = py.applyAsDouble(s.y()[i]);
            int samples = Double.isNaN(lastX) ? 1 : Math.max(1, (int) (Math.hypot(x - lastX, y - lastY) / 4));
            for (int k = 1; k <= samples; k++) {
                double t = (double) k / samples;
                double sx = Double.isNaN(lastX) ? x : lastX + (x - lastX) * t;
                double sy = Double.isNaN(lastX) ? y : lastY + (y - lastY) * t;
                if (box.contains(sx, sy)) hidden++;
            }
            lastX = x;
            lastY = y;
        }
        return hidden;
    }

    private static void centered(Graphics2D g, String text, double cx, double baseline) {
        FontMetrics fm = g.getFontMetrics();
        g.drawString(text, (float) (cx - fm.stringWidth(text) / 2.0), (float) baseline);
    }

    public static final class Builder {
        private String title = "Training";
        private String xLabel = "step";
        private int width = 960;
        private int panelHeight = 340;
        private final List<Panel> panels = new ArrayList<>();

        private Builder() {}

        public Builder title(String title) {
            this.title = Objects.requireNonNull(title, "title");
            return this;
        }

        public Builder xLabel(String label) {
            this.xLabel = Objects.requireNonNull(label, "label");
            return this;
        }

        /** Image width and the height of each panel, in pixels (default 960 × 340). */
        public Builder size(int width, int panelHeight) {
            if (width < 300 || panelHeight < 120) {
                throw new IllegalArgumentException("plot too small: " + width + " × " + panelHeight);
            }
            this.width = width;
            this.panelHeight = panelHeight;
            return this;
        }

        /** Adds a panel (below the previous ones) with its y label and curves. */
        public Builder panel(String yLabel, Series... series) {
            if (series.length == 0) throw new IllegalArgumentException("panel '" + yLabel + "' has no series");
            panels.add(new Panel(Objects.requireNonNull(yLabel, "yLabel"), List.of(series)));
            return this;
        }

        public LossPlot build() {
            if (panels.isEmpty()) throw new IllegalArgumentException("a plot needs at least one panel");
            return new LossPlot(this);
        }
    }
}
