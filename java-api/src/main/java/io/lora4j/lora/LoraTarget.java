package io.lora4j.lora;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The projections a LoRA pair can adapt, with their GGUF and Hugging Face names. */
public enum LoraTarget {
    ATTN_Q("attn_q", "q_proj", "q", 1),
    ATTN_K("attn_k", "k_proj", "k", 2),
    ATTN_V("attn_v", "v_proj", "v", 4),
    ATTN_OUTPUT("attn_output", "o_proj", "o", 8),
    FFN_GATE("ffn_gate", "gate_proj", "gate", 16),
    FFN_UP("ffn_up", "up_proj", "up", 32),
    FFN_DOWN("ffn_down", "down_proj", "down", 64);

    private final String ggufName;
    private final String hfName;
    private final String shortName;
    private final int bit;

    LoraTarget(String ggufName, String hfName, String shortName, int bit) {
        this.ggufName = ggufName;
        this.hfName = hfName;
        this.shortName = shortName;
        this.bit = bit;
    }

    /** e.g. "attn_q" (blk.N.attn_q.weight). */
    public String ggufName() {
        return ggufName;
    }

    /** e.g. "q_proj" (model.layers.N.self_attn.q_proj). */
    public String hfName() {
        return hfName;
    }

    /** The engine's bit for this target. */
    public int bit() {
        return bit;
    }

    /** Whether Hugging Face nests this module under self_attn (else mlp). */
    public boolean isAttention() {
        return ordinal() <= ATTN_OUTPUT.ordinal();
    }

    /** Accepts "q", "attn_q", "q_proj" (any case), and "all" / "all-linear" for every target. */
    public static Set<LoraTarget> parse(String names) {
        EnumSet<LoraTarget> out = EnumSet.noneOf(LoraTarget.class);
        for (String raw : names.split(",")) {
            String n = raw.trim().toLowerCase(Locale.ROOT);
            if (n.isEmpty()) continue;
            if (n.equals("all") || n.equals("all-linear")) {
                out.addAll(EnumSet.allOf(LoraTarget.class));
                continue;
            }
            out.add(one(n));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no LoRA targets in '" + names + "'");
        return out;
    }

    private static LoraTarget one(String n) {
        for (LoraTarget t : values()) {
            if (n.equals(t.ggufName) || n.equals(t.hfName) || n.equals(t.shortName)) return t;
        }
        throw new IllegalArgumentException("unknown LoRA target '" + n + "'; known: q,k,v,o,gate,up,down "
                + "(or attn_q…ffn_down, q_proj…down_proj, all)");
    }

    static LoraTarget fromBit(int bit) {
        for (LoraTarget t : values()) if (t.bit == bit) return t;
        throw new IllegalArgumentException("unknown target bit " + bit);
    }
}
