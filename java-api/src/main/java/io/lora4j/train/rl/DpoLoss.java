package io.lora4j.train.rl;

/**
 * DPO's loss for preference pairs and its derivative by the log-probabilities of each sequence's
 * tokens (the per-token weights of the engine's training step). The formulas are TRL's.
 *
 * <p>With h = (π_c − ref_c) − (π_r − ref_r), the policy-versus-reference log-ratio margin of the
 * chosen (c) over the rejected (r) completion, summed over its tokens:
 * <ul>
 *   <li>{@link Type#SIGMOID}: l = −(1−s)·log σ(β h) − s·log σ(−β h) (label smoothing s; s = 0 is
 *       plain DPO); ∂l/∂h = −β((1−s)·σ(−β h) − s·σ(β h)); every chosen token gets ∂l/∂h, every
 *       rejected token −∂l/∂h.
 *   <li>{@link Type#IPO}: the same margin from mean (per-token) log-probs, h̄; l = (h̄ − 1/(2β))²;
 *       a chosen token gets 2(h̄ − 1/(2β))/|c|, a rejected one the negative over |r|.
 * </ul>
 * A step's loss is the mean over its pairs. The implicit rewards β(π − ref) give the margin
 * (chosen minus rejected) and the accuracy (share of pairs whose margin is positive).
 */
public final class DpoLoss {
    private DpoLoss() {}

    public enum Type { SIGMOID, IPO }

    /**
     * One pair's log-prob sums (over its completion tokens) and token counts.
     */
    public record Pair(double policyChosen, double policyRejected, double refChosen, double refRejected,
                       int chosenTokens, int rejectedTokens) {}

    /**
     * @param loss mean loss over the pairs
     * @param chosenGrad per pair, ∂loss/∂log p of each chosen token
     * @param rejectedGrad per pair, ∂loss/∂log p of each rejected token
     * @param accuracy the share of pairs whose chosen reward exceeds the rejected one
     * @param margin mean of β·h (TRL's rewards/margins)
     * @param chosenReward mean β(π_c − ref_c)
     * @param rejectedReward mean β(π_r − ref_r)
     */
    public record Result(double loss, double[] chosenGrad, double[] rejectedGrad, double accuracy, double margin,
                         double chosenReward, double rejectedReward) {}

    public static Result compute(java.util.List<Pair> pairs, Type type, double beta, double labelSmoothing) {
        if (!(beta > 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("DPO beta must be > 0, got " + beta);
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 0.5), got " + labelSmoothing);
        }
        int n = pairs.size();
        if (n == 0) throw new IllegalArgumentException("no pairs");
        double[] gc = new double[n], gr = new double[n];
        double loss = 0, acc = 0, margin = 0, rc = 0, rr = 0;
        for (int i = 0; i < n; i++) {
            Pair p = pairs.get(i);
            // IPO works on mean log-probs per token, the sigmoid loss on sums.
            double lc = type == Type.IPO ? Math.max(1, p.chosenTokens()) : 1;
            double lr = type == Type.IPO ? Math.max(1, p.rejectedTokens()) : 1;
            double chosen = beta * (p.policyChosen() - p.refChosen()) / lc;
            double rejected = beta * (p.policyRejected() - p.refRejected()) / lr;
            rc += chosen;
            rr += rejected;
            margin += chosen - rejected;
            if (chosen > rejected) acc++;
            double dh; // ∂l/∂h
            if (type == Type.SIGMOID) {
                double z = chosen - rejected; // β h
                double s = labelSmoothing;
                loss += -(1 - s) * logSigmoid(z) - s * logSigmoid(-z);
                dh = -beta * ((1 - s) * sigmoid(-z) - s * sigmoid(z));
            } else {
                double e = (chosen - rejected) / beta - 1 / (2 * beta);
                loss += e * e;
                dh = 2 * e;
            }
            gc[i] = dh / lc / n;
            gr[i] = -dh / lr / n;
        }
        return new Result(loss / n, gc, gr, acc / n, margin / n, rc / n, rr / n);
    }

    /** log σ(x), stable for large |x|. */
    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
