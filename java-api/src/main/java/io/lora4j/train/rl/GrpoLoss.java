package io.lora4j.train.rl;

/**
 * The clipped policy-gradient loss of GRPO (and RLOO), and its derivative by each completion
 * token's log-probability, which is what the engine's training step takes as per-token weights.
 *
 * <p>Per token t of completion i, with r = exp(log p − log p_old) and d = log p_ref − log p:
 * <pre>
 *   l = −min(r·A_i, clip(r, 1−ε_low, 1+ε_high)·A_i) + β·(e^d − d − 1)
 *   ∂l/∂log p = −A_i·r·[the unclipped term is the minimum] + β·(1 − e^d)
 * </pre>
 * The clipped term has no gradient when it is the smaller one, which happens exactly when
 * r &lt; 1−ε_low with A &lt; 0 or r &gt; 1+ε_high with A &gt; 0 (a "clipped" token). The KL term
 * (Schulman's k3 estimator) is included only when {@code klInLoss}; RLOO puts its KL in the reward.
 * The per-token losses are averaged as {@link LossType} says.
 */
public final class GrpoLoss {
    private GrpoLoss() {}

    /**
     * @param loss the step's loss
     * @param grad ∂loss/∂log p for every completion token, [completion][token]
     * @param kl mean k3 KL to the reference over all completion tokens (NaN without reference log-probs)
     * @param clipFrac the fraction of completion tokens whose ratio was clipped
     * @param ratioMean the mean ratio p/p_old over completion tokens
     */
    public record Result(double loss, double[][] grad, double kl, double clipFrac, double ratioMean) {}

    /** Settings of the loss. */
    public record Settings(double beta, boolean klInLoss, double epsLow, double epsHigh, LossType type,
                           int maxCompletionLength) {
        public Settings {
            if (!(beta >= 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("beta must be >= 0, got " + beta);
            if (!(epsLow >= 0 && epsLow < 1)) throw new IllegalArgumentException("clip epsilon must be in [0, 1), got " + epsLow);
            if (!(epsHigh >= 0) || Double.isInfinite(epsHigh)) {
                throw new IllegalArgumentException("upper clip epsilon must be >= 0, got " + epsHigh);
            }
            if (maxCompletionLength < 1) throw new IllegalArgumentException("max completion length must be >= 1");
        }
    }

    /**
     * @param adv the advantage of each completion
     * @param logp current log-probs of each completion's tokens
     * @param oldLogp log-probs under the policy that sampled them
     * @param refLogp reference log-probs (null when there is no KL term: beta 0 and no KL metric)
     */
    public static Result compute(double[] adv, float[][] logp, float[][] oldLogp, float[][] refLogp, Settings s) {
        int n = adv.length;
        if (logp.length != n || oldLogp.length != n || (refLogp != null && refLogp.length != n)) {
            throw new IllegalArgumentException("advantages and log-prob arrays differ in length");
        }
        if (s.klInLoss() && s.beta() > 0 && refLogp == null) {
            throw new IllegalArgumentException("a KL term needs reference log-probs");
        }
        long tokens = 0;
        for (float[] c : logp) tokens += c.length;
        double[][] grad = new double[n][];
        double loss = 0, kl = 0, ratio = 0;
        long clipped = 0;
        for (int i = 0; i < n; i++) {
            int len = logp[i].length;
            if (oldLogp[i].length != len || (refLogp != null && refLogp[i].length != len)) {
                throw new IllegalArgumentException("completion " + i + ": log-prob arrays differ in length");
            }
            double norm = switch (s.type()) {
                case GRPO -> (double) n * Math.max(1, len);
                case DR_GRPO -> (double) n * s.maxCompletionLength();
                case BNPO -> Math.max(1, tokens);
            };
            grad[i] = new double[len];
            double a = adv[i];
            for (int t = 0; t < len; t++) {
                double r = Math.exp((double) logp[i][t] - oldLogp[i][t]);
                boolean clip = (r < 1 - s.epsLow() && a < 0) || (r > 1 + s.epsHigh() && a > 0);
                double rc = Math.min(Math.max(r, 1 - s.epsLow()), 1 + s.epsHigh());
                double l = -Math.min(r * a, rc * a);
                double g = clip ? 0 : -a * r;
                if (refLogp != null) {
                    double d = (double) refLogp[i][t] - logp[i][t];
                    double k3 = Math.exp(d) - d - 1;
                    kl += k3;
                    if (s.klInLoss()) {
                        l += s.beta() * k3;
                        g += s.beta() * (1 - Math.exp(d));
                    }
                }
                loss += l / norm;
                grad[i][t] = g / norm;
                ratio += r;
                if (clip) clipped++;
            }
        }
        double per = Math.max(1, tokens);
        return new Result(loss, grad, refLogp == null ? Double.NaN : kl / per, clipped / per, ratio / per);
    }
}
