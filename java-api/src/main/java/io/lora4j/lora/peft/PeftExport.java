package io.lora4j.lora.peft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lora4j.Hparams;
import io.lora4j.Model;
import io.lora4j.gguf.GgufFile;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.AdapterInfo;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraPair;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.merge.ModelTensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes an adapter as a Hugging Face PEFT adapter directory ({@code adapter_model.safetensors}
 * and {@code adapter_config.json}) that PEFT loads onto the HF version of the base model: HF
 * module names, lora_B rows (and biases) of llama's q/k put back in HF's order, trained biases as
 * the full bias PEFT keeps in {@code …q_proj.base_layer.bias}.
 */
public final class PeftExport {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** The key of a sequence classifier's head: HF's score layer, saved by PEFT as a module to save. */
    public static final String SCORE_TENSOR = "base_model.model.score.weight";

    private PeftExport() {}

    /** Writes both files into {@code dir} (created if needed), each atomically. */
    public static void write(Model base, Adapter adapter, Path dir) {
        write(base, adapter, dir, null, null);
    }

    /**
     * Writes a sequence classifier: the adapter as {@link #write}, task_type SEQ_CLS, and the head
     * {@code score} ({@code [labels][n_embd]}, row-major) as {@value #SCORE_TENSOR}, which PEFT
     * loads onto {@code AutoModelForSequenceClassification} created with
     * {@code num_labels = labels.size()}. The label names, in class order, are in the safetensors
     * metadata {@code "labels"} (a JSON array), for the model's {@code id2label}.
     */
    public static void writeSequenceClassifier(Model base, Adapter adapter, List<String> labels, float[] score, Path dir) {
        long embd = base.hparams().embeddingLength();
        if (labels.size() < 2 || score.length != labels.size() * embd) {
            throw new IllegalArgumentException("a head of " + labels.size() + " labels over " + embd + " features needs "
                    + labels.size() * embd + " weights, got " + score.length);
        }
        write(base, adapter, dir, labels, score);
    }

    private static void write(Model base, Adapter adapter, Path dir, List<String> labels, float[] score) {
        Hparams hp = base.hparams();
        List<LoraPair> pairs = adapter.pairs();
        PeftConfig config = config(base, adapter.info(), pairs);
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        try (GgufFile file = GgufFile.open(base.path())) {
            for (LoraPair p : pairs) {
                ModelTensors.require(file, p.baseName(), p.nIn(), p.nOut());
                int heads = QkPermutation.heads(hp, p.target());
                if (p.rank() > 0) {
                    out.add(PeftNames.tensor(p.layer(), p.target(), PeftNames.Part.LORA_A), SafetensorsDtype.F32,
                            new long[] {p.rank(), p.nIn()}, p.a());
                    MemorySegment b = heads == 0 ? p.b()
                            : MemorySegment.ofArray(QkPermutation.ggufToHf(p.bValues(), heads, (int) p.rank()));
                    out.add(PeftNames.tensor(p.layer(), p.target(), PeftNames.Part.LORA_B), SafetensorsDtype.F32,
                            new long[] {p.nOut(), p.rank()}, b);
                }
                if (p.hasBias()) {
                    float[] bias = ModelTensors.floats(file, ModelTensors.require(file, ModelTensors.biasName(p), p.nOut()));
                    for (int i = 0; i < bias.length; i++) bias[i] += p.biasDelta().getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    if (heads > 0) bias = QkPermutation.ggufToHf(bias, heads, 1);
                    PeftNames.Part part = p.rank() > 0 ? PeftNames.Part.WRAPPED_BIAS : PeftNames.Part.BIAS;
                    out.add(PeftNames.tensor(p.layer(), p.target(), part), SafetensorsDtype.F32, new long[] {p.nOut()}, bias);
                }
            }
            if (score != null) {
                out.add(SCORE_TENSOR, SafetensorsDtype.F32, new long[] {labels.size(), hp.embeddingLength()}, score);
                out.metadata("labels", labelsJson(labels));
            }
            out.write(dir.resolve(WEIGHTS_FILE));
        }
        config.write(dir.resolve(PeftConfig.FILE_NAME), score != null);
    }

    private static String labelsJson(List<String> labels) {
        try {
            return new ObjectMapper().writeValueAsString(labels);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The PEFT config describing these pairs: the same projections on every adapted layer become
     * target_modules (+ layers_to_transform), any other coverage a list of full module names;
     * pairs whose rank differs from the largest go to rank_pattern.
     */
    static PeftConfig config(Model base, AdapterInfo info, List<LoraPair> pairs) {
        TreeSet<Integer> layers = new TreeSet<>();
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        List<LoraPair> lora = new ArrayList<>();
        boolean biasOnly = false, anyBias = false;
        for (LoraPair p : pairs) {
            anyBias |= p.hasBias();
            if (p.rank() == 0) {
                biasOnly |= p.hasBias();
                continue;
            }
            lora.add(p);
            layers.add(p.layer());
            targets.add(p.target());
        }
        if (lora.isEmpty()) throw new IllegalArgumentException("the adapter has no LoRA pairs to export");
        PeftConfig.Modules modules;
        List<Integer> layersToTransform = null;
        if (lora.size() == layers.size() * targets.size()) {
            modules = PeftConfig.Modules.names(targets.stream().map(LoraTarget::hfName).toList());
            if (layers.size() < base.hparams().blockCount()) layersToTransform = List.copyOf(layers);
        } else {
            modules = PeftConfig.Modules.names(lora.stream().map(p -> PeftNames.module(p.layer(), p.target())).toList());
        }
        int r = info.rank();
        // A llama.cpp file without adapter.lora.alpha applies B·A unscaled: alpha = rank does that in PEFT.
        boolean unscaled = info.alpha() == 0;
        Map<String, Integer> rankPattern = new TreeMap<>();
        Map<String, Double> alphaPattern = new TreeMap<>();
        for (LoraPair p : lora) {
            if (p.rank() == r) continue;
            String module = PeftNames.module(p.layer(), p.target());
            rankPattern.put(module, (int) p.rank());
            if (unscaled) alphaPattern.put(module, (double) p.rank());
        }
        LoraConfig.Bias bias = biasOnly ? LoraConfig.Bias.ALL : anyBias ? LoraConfig.Bias.LORA_ONLY : LoraConfig.Bias.NONE;
        Object name = base.metadata().get("general.name");
        return new PeftConfig(r, unscaled ? r : info.alpha(), info.dropout(), info.rslora(), bias, modules, null, layersToTransform,
                rankPattern, alphaPattern, name instanceof String s ? s : "");
    }
}
