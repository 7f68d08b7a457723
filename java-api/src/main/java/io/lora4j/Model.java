package io.lora4j;

import io.lora4j.engine.HandleGuard;
import io.lora4j.engine.Native;
import io.lora4j.chat.ChatMessage;
import io.lora4j.chat.ChatTemplate;
import io.lora4j.generate.Generation;
import io.lora4j.generate.Generator;
import io.lora4j.generate.InferenceContext;
import io.lora4j.generate.Sampling;
import io.lora4j.generate.TokenListener;
import io.lora4j.gguf.GgufReader;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.tokenizer.Tokenizer;
import io.lora4j.train.LoraSession;
import io.lora4j.train.SftTrainer;
import io.lora4j.train.data.Dataset;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_hparams;
import io.lora4j.internal.lora4j_model_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A llama-family model loaded from GGUF and validated in full. Weights stay memory-mapped in
 * their quantized form. A model is immutable after load and safe to share between threads.
 */
public final class Model implements AutoCloseable {
    private final Path path;
    private final MemorySegment handle;
    private final HandleGuard guard;
    private final Hparams hparams;
    private final Map<String, Object> metadata;
    private final List<TensorInfo> tensors;
    private final int threads;
    private final Device device;
    private volatile Tokenizer tokenizer;
    private volatile ChatTemplate chatTemplate;

    private Model(Path path, MemorySegment handle, int threads, Device device) {
        this.path = path;
        this.handle = handle;
        this.guard = new HandleGuard("model " + path);
        this.hparams = readHparams(handle);
        MemorySegment gguf = lora4j_h.lora4j_model_gguf(handle);
        this.metadata = GgufReader.metadata(gguf);
        this.tensors = GgufReader.tensors(gguf);
        this.threads = threads;
        this.device = device;
    }

    public static Model load(Path path) {
        return load(path, ModelOptions.defaults());
    }

    public static Model load(Path path, ModelOptions options) {
        if (!Files.isRegularFile(path)) {
            throw new Lora4jException(lora4j_h.LORA4J_ERR_IO(), "model file not found: " + path);
        }
        options.device().requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = lora4j_h.lora4j_model_default_params(arena);
            lora4j_model_params.n_threads(params, options.threads());
            lora4j_model_params.quantize_type(params, options.quantizeTo().map(TensorType::id).orElse(-1));
            lora4j_model_params.vocab_only(params, options.vocabOnly() ? 1 : 0);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(lora4j_h.lora4j_model_load(Native.cString(arena, path.toString()), params, out),
                    "loading model");
            MemorySegment handle = out.get(ValueLayout.ADDRESS, 0);
            try {
                return new Model(path, handle, options.threads(), options.device());
            } catch (RuntimeException e) {
                lora4j_h.lora4j_model_free(handle);
                throw e;
            }
        }
    }

    private static Hparams readHparams(MemorySegment model) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = lora4j_hparams.allocate(arena);
            Native.check(lora4j_h.lora4j_model_hparams(model, h), "reading hyper-parameters");
            return new Hparams(
                    Architecture.fromCode(lora4j_hparams.arch(h)),
                    lora4j_hparams.vocab_only(h) != 0,
                    lora4j_hparams.n_vocab(h),
                    lora4j_hparams.n_ctx_train(h),
                    lora4j_hparams.n_embd(h),
                    lora4j_hparams.n_layer(h),
                    lora4j_hparams.n_head(h),
                    lora4j_hparams.n_head_kv(h),
                    lora4j_hparams.n_ff(h),
                    lora4j_hparams.head_dim(h),
                    lora4j_hparams.n_rot(h),
                    lora4j_hparams.rope_type(h) == lora4j_h.LORA4J_ROPE_NEOX() ? Hparams.RopeStyle.NEOX
                            : Hparams.RopeStyle.NORM,
                    lora4j_hparams.rope_freq_base(h),
                    lora4j_hparams.rms_eps(h),
                    Hparams.RopeScaling.values()[lora4j_hparams.rope_scaling(h)],
                    lora4j_hparams.rope_scale_factor(h),
                    lora4j_hparams.tied_output(h) != 0,
                    lora4j_hparams.has_qkv_bias(h) != 0);
        }
    }

    public Path path() {
        return path;
    }

    public Hparams hparams() {
        return guard.call(() -> hparams);
    }

    public Architecture architecture() {
        return hparams().architecture();
    }

    /** GGUF metadata in file order (see {@link GgufReader} for the value types). */
    public Map<String, Object> metadata() {
        return guard.call(() -> metadata);
    }

    public List<TensorInfo> tensors() {
        return guard.call(() -> tensors);
    }

    /** How many tensors of each type the file holds. */
    public Map<TensorType, Integer> tensorTypeCounts() {
        Map<TensorType, Integer> counts = new EnumMap<>(TensorType.class);
        for (TensorInfo t : tensors()) counts.merge(t.type(), 1, Integer::sum);
        return counts;
    }

    /** Total bytes of tensor data. */
    public long tensorBytes() {
        return tensors().stream().mapToLong(TensorInfo::byteSize).sum();
    }

    /** The tokenizer kind from {@code tokenizer.ggml.model} ("llama" = SentencePiece, "gpt2" = BPE). */
    public String tokenizerKind() {
        return String.valueOf(metadata().getOrDefault("tokenizer.ggml.model", "none"));
    }

    /** The tokenizer described by the file's {@code tokenizer.ggml.*} metadata (built on first use). */
    public Tokenizer tokenizer() {
        Tokenizer t = tokenizer;
        if (t == null) {
            synchronized (this) {
                t = tokenizer;
                if (t == null) tokenizer = t = Tokenizer.fromMetadata(metadata());
            }
        }
        return t;
    }

    /**
     * The chat template from {@code tokenizer.chat_template}; a model without one is a
     * {@link io.lora4j.chat.ChatTemplateException} (use {@link #chat(ChatTemplate, List, Sampling)}
     * with a template of your own).
     */
    public ChatTemplate chatTemplate() {
        ChatTemplate t = chatTemplate;
        if (t == null) {
            Tokenizer tok = tokenizer();
            String bos = tok.bosId() >= 0 ? tok.tokenText(tok.bosId()) : "";
            String eos = tok.eosId() >= 0 ? tok.tokenText(tok.eosId()) : "";
            chatTemplate = t = ChatTemplate.fromMetadata(metadata(), bos, eos);
        }
        return t;
    }

    /** Answers a conversation with the model's own chat template. */
    public Generation chat(List<ChatMessage> messages, Sampling sampling) {
        return chat(chatTemplate(), messages, sampling);
    }

    /** Answers a conversation rendered with {@code template} (with the generation prompt). */
    public Generation chat(ChatTemplate template, List<ChatMessage> messages, Sampling sampling) {
        return generate(encodeChat(template.render(messages, true)), sampling, null);
    }

    /**
     * Tokens of a rendered chat: special-token texts are parsed, and BOS is added only when the
     * template did not write it already.
     */
    public int[] encodeChat(String rendered) {
        Tokenizer tok = tokenizer();
        boolean templateWroteBos = tok.bosId() >= 0 && rendered.startsWith(tok.tokenText(tok.bosId()));
        return tok.encode(rendered, !templateWroteBos, true);
    }

    /** Starts LoRA training: {@code model.lora(config).sft(dataset).epochs(3).train()}. */
    public LoraSession lora(LoraConfig config) {
        return new LoraSession(this, config);
    }

    /** Starts full fine-tuning of this model's f32/f16 weights. */
    public SftTrainer fullFineTune(Dataset dataset) {
        return SftTrainer.full(this, dataset);
    }

    /** Threads for this model's contexts (0 = all cores), from the load options. */
    public int threads() {
        return threads;
    }

    /** Where this model's own generation runs, from the load options. */
    public Device device() {
        return device;
    }

    /** Generates a completion of {@code prompt} (BOS added as the vocabulary asks). */
    public Generation generate(String prompt, Sampling sampling) {
        return generate(prompt, sampling, null);
    }

    /** Generates a completion, streaming each token to {@code listener}. */
    public Generation generate(String prompt, Sampling sampling, TokenListener listener) {
        int[] ids = tokenizer().encode(prompt, true, true);
        return generate(ids, sampling, listener);
    }

    /** Generates a completion of a tokenized prompt. */
    public Generation generate(int[] prompt, Sampling sampling, TokenListener listener) {
        return generate(prompt, sampling, listener, List.of());
    }

    /** Generates a completion of a tokenized prompt with LoRA adapters applied. */
    public Generation generate(int[] prompt, Sampling sampling, TokenListener listener, List<ScaledAdapter> adapters) {
        int n = contextFor(prompt.length, sampling.maxTokens());
        try (InferenceContext ctx = new InferenceContext(this, n, 1, threads, false, device)) {
            if (!adapters.isEmpty()) ctx.setAdapters(adapters);
            return new Generator(ctx, tokenizer()).generate(prompt, sampling, listener);
        }
    }

    /** Context positions for a prompt plus completion, capped at the training context. */
    private int contextFor(int promptTokens, int maxTokens) {
        int train = hparams().contextLength();
        long want = (long) promptTokens + maxTokens;
        if (promptTokens >= train) {
            throw new IllegalArgumentException("prompt of " + promptTokens + " tokens does not fit the model's context of "
                    + train + " tokens");
        }
        return (int) Math.min(train, Math.max(want, promptTokens + 1L));
    }

    /** Sorted copy of the metadata keys that are not large arrays, for display. */
    public Map<String, Object> scalarMetadata() {
        Map<String, Object> out = new TreeMap<>();
        metadata().forEach((k, v) -> {
            if (!(v instanceof List<?>) && !v.getClass().isArray()) out.put(k, v);
        });
        return out;
    }

    /** The native handle, for the wrappers in this library that pass it to the engine. */
    public <T> T withHandle(Function<MemorySegment, T> body) {
        return guard.call(() -> body.apply(handle));
    }

    /**
     * Marks the model as in use by an object holding native pointers into it (an inference or
     * training context); {@link #close} refuses while any is registered. Run the returned action
     * when that object is closed.
     */
    public Runnable pin(String user) {
        return guard.addDependent(user);
    }

    @Override
    public void close() {
        guard.close(() -> lora4j_h.lora4j_model_free(handle));
    }
}
