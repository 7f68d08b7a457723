package io.lora4j.train.rl;

import java.util.Locale;

/**
 * How the per-token policy loss of a step is averaged (TRL's {@code loss_type}).
 */
public enum LossType {
    /** Mean over each completion's tokens, then mean over the completions (the GRPO paper). */
    GRPO,
    /** Sum over all tokens divided by (completions × the maximum completion length): Dr. GRPO. */
    DR_GRPO,
    /**
     * Mean over all completion tokens of the step (BNPO; DAPO's token-level normalisation, here over
     * the step's whole batch, since a step is one batch).
     */
    BNPO;

    /** {@code grpo}, {@code dr_grpo}, {@code bnpo} or {@code dapo} (= bnpo). */
    public static LossType parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "grpo" -> GRPO;
            case "dr_grpo" -> DR_GRPO;
            case "bnpo", "dapo" -> BNPO;
            default -> throw new IllegalArgumentException("unknown loss type '" + s + "'; expected grpo, dr_grpo, bnpo or dapo");
        };
    }
}
