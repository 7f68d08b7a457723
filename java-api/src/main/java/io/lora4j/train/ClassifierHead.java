package io.lora4j.train;

import io.lora4j.Model;
import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import io.lora4j.gguf.GgufFile;
import io.lora4j.gguf.GgufWriter;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.peft.PeftExport;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A trained classification head: {@code weights} row-major {@code [class][embeddingLength]}
 * (logits = W · output_norm(last hidden state), no bias) and the labels of its classes.
 *
 * <p>Saved as its own small GGUF file ({@code classifier.gguf}): tensor {@value #TENSOR} of ggml
 * shape {@code [embeddingLength, classes]} (f32) and the class names in {@value #LABELS_KEY}. The
 * llama.cpp LoRA adapter format has no place for a head, so the adapter file alone cannot
 * classify; PEFT's format can ({@link #exportPeft}).
 */
public record ClassifierHead(ClassLabels labels, int embeddingLength, float[] weights) {
    public static final String TENSOR = "cls.weight";
    public static final String LABELS_KEY = "classifier.labels";
    public static final String FILE_NAME = "classifier.gguf";
    private static final String TYPE = "lora4j.classifier";

    public ClassifierHead {
        Objects.requireNonNull(labels, "labels");
        if (embeddingLength < 1 || weights.length != (long) labels.size() * embeddingLength) {
            throw new IllegalArgumentException("a head of " + labels.size() + " classes over " + embeddingLength
                    + " features needs " + (long) labels.size() * embeddingLength + " weights, got " + weights.length);
        }
        weights = weights.clone();
    }

    @Override
    public float[] weights() {
        return weights.clone();
    }

    /** Writes the head atomically. */
    public void save(Path file) {
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.type", TYPE).putStrings(LABELS_KEY, labels.names())
                    .addTensor(TENSOR, new long[] {embeddingLength, labels.size()}, weights).write(file);
        }
    }

    /**
     * Writes {@code adapter} and this head as a PEFT sequence-classification adapter directory
     * ({@link PeftExport#writeSequenceClassifier}: the head as HF's {@code score} in
     * {@code modules_to_save}).
     */
    public void exportPeft(Model base, Adapter adapter, Path dir) {
        PeftExport.writeSequenceClassifier(base, adapter, labels.names(), weights, dir);
    }

    /** Reads a head written by {@link #save}; anything else is an error naming the file. */
    public static ClassifierHead load(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            if (!TYPE.equals(g.metadata().get("general.type"))) {
                throw new IllegalArgumentException(file + " is not a lora4j classifier head (general.type is "
                        + g.metadata().get("general.type") + ")");
            }
            if (!(g.metadata().get(LABELS_KEY) instanceof List<?> names) || names.isEmpty()) {
                throw new IllegalArgumentException(file + ": no string array '" + LABELS_KEY + "'");
            }
            TensorInfo t = g.tensor(TENSOR).orElseThrow(() ->
                    new IllegalArgumentException(file + ": no tensor '" + TENSOR + "'"));
            long[] shape = t.shape();
            if (t.type() != TensorType.F32 || shape.length != 2 || shape[1] != names.size() || shape[0] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(file + ": tensor '" + TENSOR + "' is " + t + ", expected F32 [n_embd, "
                        + names.size() + "]");
            }
            float[] w = g.tensorData(TENSOR).toArray(ValueLayout.JAVA_FLOAT);
            return new ClassifierHead(new ClassLabels(names.stream().map(String.class::cast).toList()), (int) shape[0], w);
        }
    }
}
