package io.lora4j.train;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.data.Batch;
import io.lora4j.train.data.BatchIterator;
import io.lora4j.train.data.Batcher;
import io.lora4j.train.data.DataRecord;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.Example;
import io.lora4j.train.data.ExampleEncoder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained sequence classifier: the base model with its LoRA adapter and classification head.
 * A text is encoded as in training (BOS when the model uses one, no EOS) and classified from the
 * last token's final hidden state. Texts longer than the model's context are an error.
 *
 * <p>{@code adapter.gguf} alone (e.g. in llama.cpp) cannot classify: its format has no place for
 * the head, which lives in {@code classifier.gguf} ({@link ClassifierHead}). One thread at a time.
 */
public final class Classifier implements AutoCloseable {
    private static final int MIN_SEQ = 64;

    private final Model model;
    private final Adapter adapter;
    private final boolean ownsAdapter;
    private final ClassifierHead head;
    private final ExampleEncoder encoder;
    private NativeTrainer trainer; // sized for the longest text so far
    private boolean closed;

    private Classifier(Model model, Adapter adapter, boolean ownsAdapter, ClassifierHead head) {
        if (head.embeddingLength() != model.hparams().embeddingLength()) {
            throw new IllegalArgumentException("the head reads " + head.embeddingLength() + " features, the model has "
                    + model.hparams().embeddingLength());
        }
        this.model = model;
        this.adapter = adapter;
        this.ownsAdapter = ownsAdapter;
        this.head = head;
        this.encoder = ExampleEncoder.builder(new ModelTextEncoder(model.tokenizer()))
                .maxLength(model.hparams().contextLength()).build();
    }

    /** The adapter and head a run wrote: {@code dir/adapter.gguf} and {@code dir/classifier.gguf}. */
    public static Classifier load(Model model, Path dir) {
        return load(model, dir.resolve("adapter.gguf"), dir.resolve(ClassifierHead.FILE_NAME));
    }

    public static Classifier load(Model model, Path adapterFile, Path headFile) {
        ClassifierHead head = ClassifierHead.load(headFile);
        Adapter adapter = Adapter.load(model, adapterFile);
        try {
            return new Classifier(model, adapter, true, head);
        } catch (RuntimeException e) {
            adapter.close();
            throw e;
        }
    }

    /** A classifier over an adapter the caller keeps (and must keep open while this is used). */
    public static Classifier of(Model model, Adapter adapter, ClassifierHead head) {
        return new Classifier(model, adapter, false, head);
    }

    public List<String> labels() {
        return head.labels().names();
    }

    public ClassifierHead head() {
        return head;
    }

    public Prediction predict(String text) {
        return predict(List.of(text)).getFirst();
    }

    /** Predictions for several texts, in order (packed into as few forward passes as fit). */
    public List<Prediction> predict(List<String> texts) {
        ensureOpen();
        List<Example> examples = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) examples.add(encoder.encodeClassified(texts.get(i), "text", i + 1));
        float[][] logits = logits(examples);
        List<Prediction> out = new ArrayList<>(logits.length);
        for (float[] l : logits) {
            double[] p = ClassifierScore.softmax(l);
            Map<String, Double> probs = new LinkedHashMap<>();
            for (int c = 0; c < p.length; c++) probs.put(head.labels().name(c), p[c]);
            out.add(new Prediction(head.labels().name(ClassifierScore.argmax(l)), probs));
        }
        return out;
    }

    /** The fraction of a text/label dataset's records whose predicted label is theirs. */
    public double evaluate(Dataset dataset) {
        ensureOpen();
        List<Example> examples = new ArrayList<>(dataset.size());
        int[] classes = new int[dataset.size()];
        for (int i = 0; i < dataset.size(); i++) {
            DataRecord r = dataset.get(i);
            classes[i] = head.labels().indexOf(r);
            examples.add(encoder.encodeClassified(r));
        }
        float[][] logits = logits(examples);
        long right = 0;
        for (int i = 0; i < classes.length; i++) if (ClassifierScore.argmax(logits[i]) == classes[i]) right++;
        return (double) right / classes.length;
    }

    /** The logits of every example, in order. */
    private float[][] logits(List<Example> examples) {
        if (examples.isEmpty()) return new float[0][];
        int longest = examples.stream().mapToInt(Example::length).max().orElseThrow();
        NativeTrainer t = trainerFor(longest);
        Batcher batcher = Batcher.builder(examples).batchSize(1).seqLen(t.shape().seqLen()).packing(true)
                .shuffle(false).padId(Math.max(0, model.tokenizer().eosId())).build();
        float[][] out = new float[examples.size()][];
        BatchIterator it = batcher.iterator(1);
        while (it.hasNext()) {
            Batch b = it.next();
            float[][] l = t.classify(b);
            int k = 0;
            for (int[] row : b.exampleIds()) for (int e : row) out[e] = l[k++];
        }
        return out;
    }

    /** A forward-only trainer whose rows hold {@code longest} tokens (a power of two, up to the context). */
    private NativeTrainer trainerFor(int longest) {
        if (trainer != null && trainer.shape().seqLen() >= longest) return trainer;
        int seq = Math.max(MIN_SEQ, Integer.highestOneBit(Math.max(1, longest - 1)) << 1);
        seq = Math.max(longest, Math.min(seq, model.hparams().contextLength()));
        NativeTrainer next = new NativeTrainer(model, adapter, List.<ScaledAdapter>of(),
                new TrainerShape(1, seq, model.threads(), false, false, 0, 0, head.labels().size()));
        try {
            next.head(head.weights());
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        if (trainer != null) trainer.close();
        trainer = next;
        return trainer;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("classifier is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (trainer != null) trainer.close();
        if (ownsAdapter) adapter.close();
    }
}
