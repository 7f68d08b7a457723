package io.lora4j.lora.peft;

import io.lora4j.lora.LoraTarget;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face names of the modules a lora4j adapter can adapt and of the tensors PEFT saves for
 * them, e.g. {@code base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight}.
 */
final class PeftNames {
    /** The prefix PEFT's PeftModelForCausalLM puts before the transformers module names. */
    static final String PREFIX = "base_model.model.";

    /** What a saved tensor holds for its module. */
    enum Part {
        LORA_A(".lora_A.weight"),
        LORA_B(".lora_B.weight"),
        /** The full bias of an adapted projection (PEFT wraps the original layer as base_layer). */
        WRAPPED_BIAS(".base_layer.bias"),
        /** The full bias of a projection that has no LoRA pair (bias "all"). */
        BIAS(".bias");

        final String suffix;

        Part(String suffix) {
            this.suffix = suffix;
        }
    }

    /** A parsed tensor name: module (layer, target) and part. */
    record Key(int layer, LoraTarget target, Part part) {}

    private static final Pattern TENSOR = Pattern.compile(
            "base_model\\.model\\.model\\.layers\\.(\\d{1,9})\\.(self_attn|mlp)\\.([a-z_]+)"
                    + "(\\.lora_A\\.weight|\\.lora_B\\.weight|\\.base_layer\\.bias|\\.bias)");

    private PeftNames() {}

    /** e.g. "model.layers.3.self_attn.q_proj" (what PEFT's target_modules and rank_pattern match). */
    static String module(int layer, LoraTarget t) {
        return "model.layers." + layer + (t.isAttention() ? ".self_attn." : ".mlp.") + t.hfName();
    }

    static String tensor(int layer, LoraTarget t, Part part) {
        return PREFIX + module(layer, t) + part.suffix;
    }

    /** Parses a tensor name of an adapter file; anything lora4j cannot hold is an error naming it. */
    static Key parse(String name) {
        Matcher m = TENSOR.matcher(name);
        if (m.matches()) {
            LoraTarget t = target(m.group(3));
            if (t != null && t.isAttention() == m.group(2).equals("self_attn")) {
                Part part = null;
                for (Part p : Part.values()) if (p.suffix.equals(m.group(4))) part = p;
                return new Key(Integer.parseInt(m.group(1)), t, part);
            }
        }
        throw new IllegalArgumentException("tensor '" + name + "': " + unsupportedReason(name));
    }

    private static LoraTarget target(String hfName) {
        for (LoraTarget t : LoraTarget.values()) if (t.hfName().equals(hfName)) return t;
        return null;
    }

    private static String unsupportedReason(String name) {
        if (name.contains("lora_magnitude_vector")) return "DoRA adapters are not supported";
        if (name.contains("lm_head")) return "LoRA on lm_head (the output head) is not supported";
        if (name.contains("embed_tokens") || name.contains("lora_embedding")) {
            return "LoRA on embed_tokens (the embedding) is not supported";
        }
        return "not a LoRA tensor of q/k/v/o/gate/up/down_proj lora4j can import (expected "
                + PREFIX + "model.layers.N.{self_attn|mlp}.<proj>.{lora_A.weight|lora_B.weight|base_layer.bias|bias})";
    }
}
