package io.lora4j.train.data;

import io.lora4j.chat.RenderedChat;

import io.lora4j.chat.ChatMessage;

import io.lora4j.chat.AssistantSpan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Tokenizes records into {@link Example}s with loss masks.
 *
 * <ul>
 *   <li>{@code text}: the whole text is trained; EOS is appended (as TRL does for language-modelling
 *       data) unless disabled with {@link Builder#eosAfterText(boolean)}.
 *   <li>{@code prompt}/{@code completion}: plain concatenation, no template. The prompt and the
 *       completion are tokenized separately and the token lists concatenated (TRL's approach), so
 *       the mask boundary always falls between tokens and the prompt's tokens are exactly those a
 *       generation request for that prompt would see; only the completion and the EOS appended to it
 *       (so the model learns to stop) are trained.
 *   <li>{@code messages}: rendered with the {@link ChatRenderer}; the text is cut at the assistant
 *       spans and each piece tokenized separately, and only the tokens of assistant spans are trained:
 *       each assistant turn's content and the end-of-turn marker the renderer includes in the span
 *       (as TRL's {@code assistant_only_loss}, whose template {@code generation} blocks cover the
 *       content and the end-of-turn token). Role headers and the other turns are not trained. A BOS
 *       the template writes itself is not doubled by the encoder's.
 *   <li>{@code text}/{@code label} ({@link #encodeClassified}): the text alone (BOS when the model
 *       uses one, no EOS, as a Hugging Face tokenizer encodes it for sequence classification); the
 *       mask marks only the last token, the one whose hidden state is classified.
 * </ul>
 *
 * Sequences longer than {@code maxLength} are an error naming the record, or are cut to
 * {@code maxLength} tokens (keeping the start) with {@link Builder#truncate(boolean)}. A record that
 * leaves no token to train is always an error.
 */
public final class ExampleEncoder {

    private final TextEncoder encoder;
    private final ChatRenderer chat;
    private final int maxLength;
    private final boolean truncate;
    private final boolean eosAfterText;

    private ExampleEncoder(Builder b) {
        this.encoder = b.encoder;
        this.chat = b.chat;
        this.maxLength = b.maxLength;
        this.truncate = b.truncate;
        this.eosAfterText = b.eosAfterText;
    }

    public static Builder builder(TextEncoder encoder) {
        return new Builder(encoder);
    }

    /** Every record of {@code dataset}, in order. */
    public List<Example> encodeAll(Dataset dataset) {
        List<Example> out = new ArrayList<>(dataset.size());
        for (DataRecord r : dataset) out.add(encode(r));
        return out;
    }

    /** One training example from a text, prompt/completion or messages record. */
    public Example encode(DataRecord record) {
        return switch (record.shape()) {
            case TEXT -> encodeText(record);
            case PROMPT_COMPLETION -> encodeCompletion(record, record.prompt(), record.completion());
            case MESSAGES -> encodeMessages(record);
            case PROMPT, PREFERENCE -> throw new DatasetFormatException(record.source(), record.line(),
                    "a " + record.shape() + " record has no single target to train on; SFT needs text, "
                            + "prompt/completion or messages records");
            case CLASSIFICATION -> throw new DatasetFormatException(record.source(), record.line(),
                    "a text/label record is for classification (encodeClassified); SFT needs text, "
                            + "prompt/completion or messages records");
        };
    }

    /**
     * The text of a text/label record for classification, its last token marked. A text must
     * encode to at least two tokens, BOS included (a single token happens only with models that
     * use no BOS): the first token of an example can carry no mark.
     */
    public Example encodeClassified(DataRecord record) {
        if (record.shape() != RecordShape.CLASSIFICATION) {
            throw new DatasetFormatException(record.source(), record.line(),
                    "expected a text/label record, got " + record.shape());
        }
        return encodeClassified(record.text(), record.source(), record.line());
    }

    /** A text to classify, encoded as {@link #encodeClassified(DataRecord)} does; errors name it {@code source:line}. */
    public Example encodeClassified(String text, String source, int line) {
        Pieces p = new Pieces(source, line);
        p.add(text, true);
        if (p.n < 2) {
            throw new DatasetFormatException(source, line, "the text encodes to " + p.n + " token(s), BOS included; "
                    + "classification needs at least two");
        }
        Example e = p.finish();
        boolean[] last = new boolean[e.length()];
        last[last.length - 1] = true;
        return new Example(e.tokens(), last, e.source());
    }

    /** The chosen and rejected sequences of a preference record, each prompt + completion + EOS. */
    public PreferencePair encodePair(DataRecord record) {
        if (record.shape() != RecordShape.PREFERENCE) {
            throw new DatasetFormatException(record.source(), record.line(),
                    "expected a preference record, got " + record.shape());
        }
        return new PreferencePair(encodeCompletion(record, record.prompt(), record.chosen()),
                encodeCompletion(record, record.prompt(), record.rejected()));
    }

    private Example encodeText(DataRecord record) {
        Pieces p = new Pieces(record.source(), record.line());
        p.add(record.text(), true);
        if (eosAfterText) p.addEos();
        return p.finish();
    }

    private Example encodeCompletion(DataRecord record, String prompt, String completion) {
        Pieces p = new Pieces(record.source(), record.line());
        p.add(prompt, false);
        p.add(completion, true);
        p.addEos();
        return p.finish();
    }

    private Example encodeMessages(DataRecord record) {
        if (chat == null) {
            throw new IllegalStateException(record.location() + ": messages records need a chat renderer "
                    + "(ExampleEncoder.builder(...).chatRenderer(...))");
        }
        List<ChatMessage> messages = record.messages();
        if (messages.stream().noneMatch(m -> m.role().equals("assistant"))) {
            throw new DatasetFormatException(record.source(), record.line(),
                    "no assistant message, so nothing to train on");
        }
        RenderedChat rendered;
        try {
            rendered = chat.render(messages);
        } catch (RuntimeException e) {
            throw new DatasetFormatException(record.source(), record.line(),
                    "chat template failed: " + e.getMessage());
        }
        if (rendered.assistantSpans().isEmpty()) {
            throw new DatasetFormatException(record.source(), record.line(),
                    "the chat template rendered no assistant span, so nothing to train on");
        }
        String text = rendered.text();
        Pieces p = new Pieces(record.source(), record.line());
        int at = 0;
        for (AssistantSpan s : rendered.assistantSpans()) {
            p.add(text.substring(at, s.start()), false);
            p.add(text.substring(s.start(), s.end()), true);
            at = s.end();
        }
        p.add(text.substring(at), false);
        return p.finish();
    }

    /** Accumulates the tokens and mask of one record, piece by piece. */
    private final class Pieces {
        private final String source;
        private final int line;
        private int[] tokens = new int[64];
        private boolean[] mask = new boolean[64];
        private int n;
        private boolean started;

        Pieces(String source, int line) {
            this.source = source;
            this.line = line;
        }

        /** Encodes {@code text}; the sequence's first piece is encoded even when empty, for its BOS. */
        void add(String text, boolean trained) {
            boolean first = !started;
            if (text.isEmpty() && !first) return;
            started = true;
            int[] ids = encoder.encode(text, first);
            int from = 0;
            // A template that writes the BOS text itself would otherwise get a second one.
            if (first && ids.length >= 2 && ids[0] == encoder.bosId() && ids[1] == ids[0]) from = 1;
            for (int i = from; i < ids.length; i++) append(ids[i], trained);
        }

        void addEos() {
            if (n == 0 || tokens[n - 1] != encoder.eosId()) append(encoder.eosId(), true);
        }

        private void append(int id, boolean trained) {
            if (id < 0) {
                throw new IllegalStateException(source + ":" + line + ": the tokenizer returned token id " + id);
            }
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, 2 * n);
                mask = Arrays.copyOf(mask, 2 * n);
            }
            tokens[n] = id;
            mask[n] = trained;
            n++;
        }

        Example finish() {
            if (n == 0) {
                throw new DatasetFormatException(source, line, "the record encodes to no tokens");
            }
            int length = n;
            if (maxLength > 0 && n > maxLength) {
                if (!truncate) {
                    throw new DatasetFormatException(source, line, n
                            + " tokens, longer than the maximum of " + maxLength
                            + " (shorten the record, raise the context or enable truncation)");
                }
                length = maxLength;
            }
            int[] t = Arrays.copyOf(tokens, length);
            boolean[] m = Arrays.copyOf(mask, length);
            m[0] = false; // nothing precedes the first token, so it cannot be predicted
            boolean any = false;
            for (boolean b : m) any |= b;
            if (!any) {
                throw new DatasetFormatException(source, line, length < n
                        ? "no token left to train on after truncation to " + maxLength + " tokens (the prompt fills it)"
                        : "no token to train on");
            }
            return new Example(t, m, source + ":" + line);
        }
    }

    public static final class Builder {
        private final TextEncoder encoder;
        private ChatRenderer chat;
        private int maxLength;
        private boolean truncate;
        private boolean eosAfterText = true;

        private Builder(TextEncoder encoder) {
            this.encoder = Objects.requireNonNull(encoder, "encoder");
        }

        /** Needed for {@code messages} records. */
        public Builder chatRenderer(ChatRenderer renderer) {
            this.chat = Objects.requireNonNull(renderer, "renderer");
            return this;
        }

        /** The longest sequence allowed (usually the training context); 0, the default, means no limit. */
        public Builder maxLength(int tokens) {
            if (tokens < 0) throw new IllegalArgumentException("maxLength must be >= 0, got " + tokens);
            this.maxLength = tokens;
            return this;
        }

        /** Cut longer sequences to {@code maxLength} tokens instead of failing (default false). */
        public Builder truncate(boolean truncate) {
            this.truncate = truncate;
            return this;
        }

        /** Append EOS to {@code text} records (default true). */
        public Builder eosAfterText(boolean eos) {
            this.eosAfterText = eos;
            return this;
        }

        public ExampleEncoder build() {
            return new ExampleEncoder(this);
        }
    }
}
