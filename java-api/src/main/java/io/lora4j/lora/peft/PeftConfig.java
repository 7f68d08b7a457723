package io.lora4j.lora.peft;

import io.lora4j.engine.AtomicFile;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.lora4j.lora.LoraConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The parts of PEFT's {@code adapter_config.json} (a LoraConfig) that a lora4j adapter has or
 * needs. Reading rejects, with the key named, options lora4j cannot reproduce (DoRA,
 * fan_in_fan_out, modules_to_save, alpha_pattern, …); writing emits PEFT's usual keys.
 *
 * @param excludeModules null when absent
 * @param layersToTransform null: every layer
 * @param rankPattern module pattern to rank (PEFT's rank_pattern)
 * @param alphaPattern module pattern to alpha (PEFT's alpha_pattern)
 */
public record PeftConfig(int r, double loraAlpha, double loraDropout, boolean useRslora, LoraConfig.Bias bias,
                         Modules targetModules, Modules excludeModules, List<Integer> layersToTransform,
                         Map<String, Integer> rankPattern, Map<String, Double> alphaPattern,
                         String baseModelNameOrPath) {

    public static final String FILE_NAME = "adapter_config.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** Two-space indents and "key": value, close to what PEFT's json.dumps(indent=2) writes. */
    private static final DefaultPrettyPrinter PRETTY = new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"));

    /**
     * PEFT's target_modules / exclude_modules: a list of names, each matching a module whose
     * name is it or ends with "." + it, or one regular expression matched against the whole
     * module name ("all-linear" selects every projection lora4j adapts).
     */
    public record Modules(List<String> names, String regex) {
        public Modules {
            if ((names == null) == (regex == null)) throw new IllegalArgumentException("give names or a regex");
            if (names != null) names = List.copyOf(names);
        }

        public static Modules names(List<String> names) {
            return new Modules(names, null);
        }

        public static Modules regex(String regex) {
            return new Modules(null, regex);
        }

        /** Whether PEFT would pick module {@code name} (e.g. "model.layers.3.self_attn.q_proj"). */
        public boolean selects(String name) {
            if (names != null) return names.stream().anyMatch(n -> name.equals(n) || name.endsWith("." + n));
            if (regex.equals("all-linear")) return true;
            return Pattern.matches(regex, name);
        }

        JsonNode toJson() {
            if (regex != null) return JSON.getNodeFactory().textNode(regex);
            ArrayNode a = JSON.createArrayNode();
            names.forEach(a::add);
            return a;
        }
    }

    public PeftConfig {
        if (r < 1) throw new IllegalArgumentException("r must be >= 1, got " + r);
        if (!(loraAlpha > 0) || Double.isInfinite(loraAlpha)) throw new IllegalArgumentException("lora_alpha must be > 0, got " + loraAlpha);
        if (!(loraDropout >= 0 && loraDropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        if (layersToTransform != null) layersToTransform = List.copyOf(layersToTransform);
        rankPattern = Map.copyOf(rankPattern);
        alphaPattern = Map.copyOf(alphaPattern);
    }

    /** Whether PEFT would adapt module {@code name} of layer {@code layer}. */
    public boolean selects(String name, int layer) {
        if (!targetModules.selects(name)) return false;
        if (excludeModules != null && excludeModules.selects(name)) return false;
        return layersToTransform == null || layersToTransform.contains(layer);
    }

    /** Reads and validates {@code file}; errors name the file and key. */
    public static PeftConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no " + file.getFileName() + " at " + file);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static PeftConfig parse(JsonNode root) {
        String type = text(root, "peft_type", null);
        if (!"LORA".equals(type)) throw new IllegalArgumentException("peft_type is " + type + "; only LORA adapters can be imported");
        String task = text(root, "task_type", "CAUSAL_LM");
        if (!task.equals("CAUSAL_LM")) throw new IllegalArgumentException("task_type " + task + " is not supported (CAUSAL_LM)");
        rejectIf(root, "use_dora", "DoRA adapters are not supported");
        rejectIf(root, "fan_in_fan_out", "fan_in_fan_out weights (Conv1D layers) do not occur in llama/qwen2 models");
        rejectIf(root, "lora_bias", "LoRA biases on lora_B are not supported");
        rejectNonEmpty(root, "modules_to_save", "fully trained extra modules are not supported");
        rejectNonEmpty(root, "layer_replication", "layer replication is not supported");
        rejectNonEmpty(root, "trainable_token_indices", "trainable tokens are not supported");
        rejectNonEmpty(root, "alpha_pattern", "per-module alphas are not supported");
        // PEFT's defaults for a LoraConfig that leaves a key out.
        int r = integer(root, "r", 8);
        double alpha = number(root, "lora_alpha", 8);
        double dropout = number(root, "lora_dropout", 0);
        boolean rslora = bool(root, "use_rslora");
        String bias = text(root, "bias", "none");
        LoraConfig.Bias b = switch (bias) {
            case "none" -> LoraConfig.Bias.NONE;
            case "lora_only" -> LoraConfig.Bias.LORA_ONLY;
            case "all" -> LoraConfig.Bias.ALL;
            default -> throw new IllegalArgumentException("bias '" + bias + "' is not none, lora_only or all");
        };
        // PEFT's default targets for llama and qwen2 when target_modules is null.
        Modules targets = modules(root, "target_modules");
        if (targets == null) targets = Modules.names(List.of("q_proj", "v_proj"));
        Modules exclude = modules(root, "exclude_modules");
        List<Integer> layers = layers(root.get("layers_to_transform"));
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        JsonNode rp = root.get("rank_pattern");
        if (rp != null && !rp.isNull()) {
            if (!rp.isObject()) throw new IllegalArgumentException("rank_pattern is not an object");
            for (Map.Entry<String, JsonNode> e : rp.properties()) {
                if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
                    throw new IllegalArgumentException("rank_pattern['" + e.getKey() + "'] is not an integer");
                }
                rankPattern.put(e.getKey(), e.getValue().intValue());
            }
        }
        return new PeftConfig(r, alpha, dropout, rslora, b, targets, exclude, layers, rankPattern, Map.of(),
                text(root, "base_model_name_or_path", ""));
    }

    private static String text(JsonNode root, String key, String dflt) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isTextual()) throw new IllegalArgumentException(key + " is not a string: " + v);
        return v.textValue();
    }

    private static int integer(JsonNode root, String key, int dflt) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(key + " is not an integer: " + v);
        return v.intValue();
    }

    private static double number(JsonNode root, String key, double dflt) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new IllegalArgumentException(key + " is not a number: " + v);
        return v.doubleValue();
    }

    private static boolean bool(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw new IllegalArgumentException(key + " is not true or false: " + v);
        return v.booleanValue();
    }

    private static void rejectIf(JsonNode root, String key, String why) {
        if (bool(root, key)) throw new IllegalArgumentException(key + " is true: " + why);
    }

    private static void rejectNonEmpty(JsonNode root, String key, String why) {
        JsonNode v = root.get(key);
        if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty())) {
            throw new IllegalArgumentException(key + " is " + v + ": " + why);
        }
    }

    private static Modules modules(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) {
            String regex = v.textValue();
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(key + " '" + regex + "' is not a regular expression lora4j understands: "
                        + e.getDescription());
            }
            return Modules.regex(regex);
        }
        if (!v.isArray()) throw new IllegalArgumentException(key + " is not a string or a list of strings: " + v);
        List<String> names = new ArrayList<>();
        for (JsonNode n : v) {
            if (!n.isTextual()) throw new IllegalArgumentException(key + " holds " + n + ", not a string");
            names.add(n.textValue());
        }
        return Modules.names(names);
    }

    private static List<Integer> layers(JsonNode v) {
        if (v == null || v.isNull()) return null;
        List<Integer> out = new ArrayList<>();
        for (JsonNode n : v.isArray() ? v : JSON.createArrayNode().add(v)) {
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
                throw new IllegalArgumentException("layers_to_transform holds " + n + ", not a layer index");
            }
            out.add(n.intValue());
        }
        return out;
    }

    /** Writes the config atomically, with PEFT's keys sorted as PEFT writes them. */
    public void write(Path file) {
        write(file, false);
    }

    /**
     * As {@link #write(Path)}; with {@code sequenceClassification} the config of a SEQ_CLS adapter
     * whose classification head PEFT keeps in {@code modules_to_save} as a copy of HF's "score".
     */
    public void write(Path file, boolean sequenceClassification) {
        Map<String, Object> m = new TreeMap<>();
        Map<String, Object> alphas = new TreeMap<>();
        alphaPattern.forEach((k, v) -> alphas.put(k, jsonNumber(v)));
        m.put("alpha_pattern", alphas);
        m.put("auto_mapping", null);
        m.put("base_model_name_or_path", baseModelNameOrPath);
        m.put("bias", bias.name().toLowerCase(Locale.ROOT));
        m.put("exclude_modules", excludeModules == null ? null : excludeModules.toJson());
        m.put("fan_in_fan_out", false);
        m.put("inference_mode", true);
        m.put("init_lora_weights", true);
        m.put("layer_replication", null);
        m.put("layers_pattern", null);
        m.put("layers_to_transform", layersToTransform);
        m.put("loftq_config", Map.of());
        m.put("lora_alpha", jsonNumber(loraAlpha));
        m.put("lora_dropout", loraDropout);
        m.put("megatron_config", null);
        m.put("megatron_core", "megatron.core");
        m.put("modules_to_save", sequenceClassification ? List.of("score") : null);
        m.put("peft_type", "LORA");
        m.put("r", r);
        m.put("rank_pattern", new TreeMap<>(rankPattern));
        m.put("revision", null);
        m.put("target_modules", targetModules.toJson());
        m.put("task_type", sequenceClassification ? "SEQ_CLS" : "CAUSAL_LM");
        m.put("use_dora", false);
        m.put("use_rslora", useRslora);
        byte[] bytes;
        try {
            bytes = JSON.writer(PRETTY).writeValueAsBytes(m);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFile.write(file, out -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) out.write(buf);
        });
    }

    /** 16.0 is written as 16, as PEFT users write it. */
    private static Object jsonNumber(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) (long) v : (Object) v;
    }
}
