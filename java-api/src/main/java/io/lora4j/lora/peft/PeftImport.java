package io.lora4j.lora.peft;

import io.lora4j.Hparams;
import io.lora4j.Model;
import io.lora4j.gguf.GgufFile;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraPair;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.merge.ModelTensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a Hugging Face PEFT LoRA adapter directory into a lora4j {@link Adapter} for a GGUF base
 * model: HF module names mapped to GGUF tensors, lora_B rows (and biases) of llama's q/k put in
 * GGUF's order, full trained biases turned into deltas from the base model's biases. Anything
 * lora4j cannot represent is an {@link IllegalArgumentException} naming the tensor or key.
 */
public final class PeftImport {
    private PeftImport() {}

    /** One adapted (or bias-trained) projection. */
    private record Slot(int layer, LoraTarget target) {
        static final Comparator<Slot> ORDER = Comparator.comparingInt(Slot::layer).thenComparing(Slot::target);

        String module() {
            return PeftNames.module(layer, target);
        }

        String tensor(PeftNames.Part part) {
            return PeftNames.tensor(layer, target, part);
        }
    }

    /** The adapter in {@code dir}, created for {@code base} (the caller closes it). */
    public static Adapter read(Model base, Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("PEFT adapter directory not found: " + dir);
        PeftConfig config = PeftConfig.read(dir.resolve(PeftConfig.FILE_NAME));
        Path weights = dir.resolve(PeftExport.WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            if (Files.exists(dir.resolve("adapter_model.bin"))) {
                throw new IllegalArgumentException(dir + " holds adapter_model.bin (pickled PyTorch), which lora4j does not read: "
                        + "save the adapter with safe_serialization=True to get " + PeftExport.WEIGHTS_FILE);
            }
            throw new IllegalArgumentException("no " + PeftExport.WEIGHTS_FILE + " in " + dir);
        }
        try (SafetensorsFile st = SafetensorsFile.open(weights); GgufFile file = GgufFile.open(base.path())) {
            return new Reader(base, config, st, file).read();
        }
    }

    private static final class Reader {
        private final Model base;
        private final Hparams hp;
        private final PeftConfig config;
        private final SafetensorsFile st;
        private final GgufFile file;
        private final Map<Slot, Map<PeftNames.Part, SafetensorsTensor>> slots = new TreeMap<>(Slot.ORDER);

        Reader(Model base, PeftConfig config, SafetensorsFile st, GgufFile file) {
            this.base = base;
            this.hp = base.hparams();
            this.config = config;
            this.st = st;
            this.file = file;
        }

        Adapter read() {
            collect();
            LoraConfig loraConfig = loraConfig();
            Adapter adapter = Adapter.create(base, loraConfig);
            try {
                fill(adapter, loraConfig.bias());
                return adapter;
            } catch (RuntimeException e) {
                adapter.close();
                throw e;
            }
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException(st.path() + ": " + what);
        }

        /** Sorts every tensor into its slot; names lora4j cannot hold are errors. */
        private void collect() {
            for (SafetensorsTensor t : st.tensors()) {
                PeftNames.Key key;
                try {
                    key = PeftNames.parse(t.name());
                } catch (IllegalArgumentException e) {
                    throw fail(e.getMessage());
                }
                if (key.layer() >= hp.blockCount()) {
                    throw fail("tensor '" + t.name() + "' is for layer " + key.layer() + ", but the base model has "
                            + hp.blockCount() + " layers");
                }
                PeftNames.Part part = key.part() == PeftNames.Part.WRAPPED_BIAS ? PeftNames.Part.BIAS : key.part();
                Map<PeftNames.Part, SafetensorsTensor> parts =
                        slots.computeIfAbsent(new Slot(key.layer(), key.target()), s -> new EnumMap<>(PeftNames.Part.class));
                SafetensorsTensor before = parts.put(part, t);
                if (before != null) throw fail("tensors '" + before.name() + "' and '" + t.name() + "' both hold the bias of one module");
            }
            for (Map.Entry<Slot, Map<PeftNames.Part, SafetensorsTensor>> e : slots.entrySet()) {
                boolean a = e.getValue().containsKey(PeftNames.Part.LORA_A);
                boolean b = e.getValue().containsKey(PeftNames.Part.LORA_B);
                if (a != b) {
                    throw fail("tensor '" + e.getKey().tensor(a ? PeftNames.Part.LORA_A : PeftNames.Part.LORA_B) + "' has no '"
                            + e.getKey().tensor(a ? PeftNames.Part.LORA_B : PeftNames.Part.LORA_A) + "'");
                }
            }
        }

        private boolean hasLora(Slot s) {
            Map<PeftNames.Part, SafetensorsTensor> parts = slots.get(s);
            return parts != null && parts.containsKey(PeftNames.Part.LORA_A);
        }

        /** The lora4j config the file implies, after checking it against adapter_config.json. */
        private LoraConfig loraConfig() {
            EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
            int begin = Integer.MAX_VALUE, end = 0;
            for (int l = 0; l < hp.blockCount(); l++) {
                for (LoraTarget t : LoraTarget.values()) {
                    Slot s = new Slot(l, t);
                    boolean selected = config.selects(s.module(), l);
                    if (selected && !hasLora(s)) {
                        throw fail("missing tensor '" + s.tensor(PeftNames.Part.LORA_A) + "': adapter_config.json selects module "
                                + s.module());
                    }
                    if (!selected && hasLora(s)) {
                        throw fail("tensor '" + s.tensor(PeftNames.Part.LORA_A) + "' adapts " + s.module()
                                + ", which adapter_config.json's target_modules / layers_to_transform do not select");
                    }
                    if (selected) {
                        targets.add(t);
                        begin = Math.min(begin, l);
                        end = l + 1;
                    }
                }
            }
            if (targets.isEmpty()) throw fail("holds no LoRA pairs");
            int rank = -1;
            Slot rankSlot = null;
            for (int l = begin; l < end; l++) {
                for (LoraTarget t : targets) {
                    Slot s = new Slot(l, t);
                    if (!hasLora(s)) {
                        throw fail("missing tensor '" + s.tensor(PeftNames.Part.LORA_A) + "': lora4j adapters put the same "
                                + "projections on every layer of a contiguous range (here " + targets + " on layers "
                                + begin + ".." + (end - 1) + ")");
                    }
                    SafetensorsTensor a = slots.get(s).get(PeftNames.Part.LORA_A);
                    if (a.shape().length != 2) throw fail("tensor '" + a.name() + "' has shape " + Arrays.toString(a.shape()) + ", not (r, in)");
                    int r = (int) Math.min(Integer.MAX_VALUE, a.shape()[0]);
                    if (rank < 0) {
                        rank = r;
                        rankSlot = s;
                    } else if (r != rank) {
                        throw fail("tensor '" + a.name() + "' has rank " + r + " but '" + rankSlot.tensor(PeftNames.Part.LORA_A)
                                + "' has rank " + rank + ": per-module ranks are not supported");
                    }
                }
            }
            if (config.rankPattern().isEmpty() && rank != config.r()) {
                throw fail("tensor '" + rankSlot.tensor(PeftNames.Part.LORA_A) + "' has rank " + rank
                        + " but adapter_config.json has r = " + config.r());
            }
            return LoraConfig.builder().rank(rank).alpha(config.loraAlpha()).dropout(config.loraDropout())
                    .rslora(config.useRslora()).targets(targets).layers(begin, end).bias(biasMode()).build();
        }

        /** No bias tensors: nothing to train there; else the config's mode, which must not be none. */
        private LoraConfig.Bias biasMode() {
            for (Map.Entry<Slot, Map<PeftNames.Part, SafetensorsTensor>> e : slots.entrySet()) {
                SafetensorsTensor bias = e.getValue().get(PeftNames.Part.BIAS);
                if (bias == null) continue;
                if (config.bias() == LoraConfig.Bias.NONE) {
                    throw fail("tensor '" + bias.name() + "' is a trained bias but adapter_config.json has bias \"none\"");
                }
                return config.bias();
            }
            return LoraConfig.Bias.NONE;
        }

        private void fill(Adapter adapter, LoraConfig.Bias mode) {
            Set<Slot> biasesUsed = new HashSet<>();
            for (LoraPair p : adapter.pairs()) {
                Slot s = new Slot(p.layer(), p.target());
                Map<PeftNames.Part, SafetensorsTensor> parts = slots.getOrDefault(s, Map.of());
                int heads = QkPermutation.heads(hp, p.target());
                if (p.rank() > 0) {
                    copy(values(parts.get(PeftNames.Part.LORA_A), p, p.rank(), p.nIn()), p.a());
                    float[] b = values(parts.get(PeftNames.Part.LORA_B), p, p.nOut(), p.rank());
                    copy(heads == 0 ? b : QkPermutation.hfToGguf(b, heads, (int) p.rank()), p.b());
                }
                if (p.hasBias()) {
                    SafetensorsTensor t = parts.get(PeftNames.Part.BIAS);
                    if (t == null) {
                        throw fail("missing tensor '" + s.tensor(p.rank() > 0 ? PeftNames.Part.WRAPPED_BIAS : PeftNames.Part.BIAS)
                                + "': with bias \"" + mode.name().toLowerCase(Locale.ROOT) + "\" lora4j trains the bias of "
                                + p.baseName());
                    }
                    float[] full = values(t, p, p.nOut());
                    if (heads > 0) full = QkPermutation.hfToGguf(full, heads, 1);
                    float[] baseBias = ModelTensors.floats(file, ModelTensors.require(file, ModelTensors.biasName(p), p.nOut()));
                    for (int i = 0; i < full.length; i++) full[i] -= baseBias[i];
                    copy(full, p.biasDelta());
                    biasesUsed.add(s);
                }
            }
            for (Map.Entry<Slot, Map<PeftNames.Part, SafetensorsTensor>> e : slots.entrySet()) {
                SafetensorsTensor t = e.getValue().get(PeftNames.Part.BIAS);
                if (t != null && !biasesUsed.contains(e.getKey())) {
                    throw fail("tensor '" + t.name() + "': the base model has no bias there, or bias \""
                            + mode.name().toLowerCase(Locale.ROOT) + "\" does not train it");
                }
            }
        }

        /** The values of {@code t}, which must have torch shape {@code shape}, for pair {@code p}. */
        private float[] values(SafetensorsTensor t, LoraPair p, long... shape) {
            if (!Arrays.equals(t.shape(), shape)) {
                throw fail("tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape()) + ", expected "
                        + Arrays.toString(shape) + " for " + p.baseName() + " (in " + p.nIn() + ", out " + p.nOut() + ")");
            }
            return st.floats(t);
        }

        private static void copy(float[] values, MemorySegment dst) {
            MemorySegment.copy(values, 0, dst, ValueLayout.JAVA_FLOAT, 0, values.length);
        }
    }
}
