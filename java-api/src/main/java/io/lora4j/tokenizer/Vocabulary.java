package io.lora4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A tokenizer vocabulary read from the {@code tokenizer.ggml.*} keys of GGUF metadata, with the
 * defaults llama.cpp applies when keys are absent (src/llama-vocab.cpp, llama_vocab::impl::load).
 *
 * <p>Supported models: {@code llama} (SentencePiece-style BPE over scores with byte fallback) and
 * {@code gpt2} (byte-level BPE with merges and a named pre-tokenizer). Token ids that a vocabulary
 * does not define are reported as {@link #NO_TOKEN}.
 */
public final class Vocabulary {

    /** Returned by the special-token accessors when the vocabulary has no such token. */
    public static final int NO_TOKEN = -1;

    /** The tokenization algorithm. */
    public enum Model {
        /** {@code tokenizer.ggml.model = "llama"}: SentencePiece-style, merges chosen by token score. */
        SPM,
        /** {@code tokenizer.ggml.model = "gpt2"}: byte-level BPE, merges chosen by merge rank. */
        BPE
    }

    // llama_token_attr bits, assigned from tokenizer.ggml.token_type.
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 1 << 1;
    static final int ATTR_NORMAL = 1 << 2;
    static final int ATTR_CONTROL = 1 << 3;
    static final int ATTR_USER_DEFINED = 1 << 4;
    static final int ATTR_BYTE = 1 << 5;

    private static final String KEY_MODEL = "tokenizer.ggml.model";
    private static final String KEY_PRE = "tokenizer.ggml.pre";
    private static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    private static final String KEY_SCORES = "tokenizer.ggml.scores";
    private static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    private static final String KEY_MERGES = "tokenizer.ggml.merges";
    private static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    private static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";
    private static final String KEY_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    /** Texts that mark end-of-generation tokens (llama.cpp's list), besides EOS, EOT, EOM and some FIM ids. */
    private static final List<String> EOG_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[");

    /**
     * Special token roles: the GGUF keys that set them (later keys override earlier ones) and the
     * token texts llama.cpp falls back to when no key sets them.
     */
    private enum Role {
        BOS(List.of("tokenizer.ggml.bos_token_id"), List.of()),
        EOS(List.of("tokenizer.ggml.eos_token_id"), List.of()),
        EOT(List.of("tokenizer.ggml.eot_token_id"), List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<end_of_utterance>")),
        EOM(List.of("tokenizer.ggml.eom_token_id"), List.of("<|eom_id|>")),
        UNK(List.of("tokenizer.ggml.unknown_token_id"), List.of()),
        PAD(List.of("tokenizer.ggml.padding_token_id"), List.of()),
        FIM_PRE(List.of("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"), List.of(
                "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>",
                "\u2581<PRE>", "<|code_prefix|>", "<|prefix|>")),
        FIM_SUF(List.of("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"), List.of(
                "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>",
                "\u2581<SUF>", "<|code_suffix|>", "<|suffix|>")),
        FIM_MID(List.of("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"), List.of(
                "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>",
                "\u2581<MID>", "<|code_middle|>", "<|middle|>")),
        FIM_PAD(List.of("tokenizer.ggml.fim_pad_token_id"), List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>",
                "<PAD>", "[PAD]")),
        FIM_REP(List.of("tokenizer.ggml.fim_rep_token_id"), List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                "<REPO>", "<reponame>")),
        FIM_SEP(List.of("tokenizer.ggml.fim_sep_token_id"), List.of("<|file_sep|>"));

        final List<String> keys;
        final List<String> texts;

        Role(List<String> keys, List<String> texts) {
            this.keys = keys;
            this.texts = texts;
        }
    }

    private final Model model;
    private final PreTokenizer preTokenizer;
    private final String[] tokens;
    private final float[] scores;
    private final int[] attrs;
    private final StringIndex tokenIndex;
    private final StringIndex mergeIndex;
    private final int[] roleIds;
    private final BitSet eog;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final int[] byteTokens;
    private final int[] specialTokensLongestFirst;

    private Vocabulary(MetadataReader meta) {
        String modelName = meta.requireString(KEY_MODEL);
        model = switch (modelName) {
            case "llama" -> Model.SPM;
            case "gpt2" -> Model.BPE;
            default -> throw new IllegalArgumentException("unsupported tokenizer model (" + KEY_MODEL + ") '"
                    + modelName + "'; supported: llama, gpt2");
        };

        tokens = readTokens(meta);
        int n = tokens.length;
        scores = readScores(meta, n);
        attrs = readAttrs(meta, n);
        tokenIndex = new StringIndex(tokens);

        boolean defaultAddBos;
        if (model == Model.BPE) {
            String pre = meta.string(KEY_PRE);
            // llama.cpp warns and uses 'default' when the key is missing; an unknown name is an error.
            preTokenizer = PreTokenizer.forName(pre == null || pre.isEmpty() ? "default" : pre);
            List<String> merges = meta.stringList(KEY_MERGES);
            if (merges == null) {
                throw new IllegalArgumentException("missing GGUF key " + KEY_MERGES + " (required for gpt2 tokenizers)");
            }
            mergeIndex = new StringIndex(merges.toArray(new String[0]));
            defaultAddBos = preTokenizer.addBos();
        } else {
            preTokenizer = null;
            mergeIndex = null;
            defaultAddBos = true;
        }
        // SPM prefixes a space to the text (and decoding strips it); the key may say otherwise.
        // For BPE the key only makes decoding strip the first leading space, as in llama.cpp.
        Boolean prefix = meta.bool(KEY_ADD_SPACE_PREFIX);
        addSpacePrefix = prefix != null ? prefix : model == Model.SPM;

        roleIds = readRoleIds(meta, n);
        Boolean bos = meta.bool(KEY_ADD_BOS);
        Boolean eos = meta.bool(KEY_ADD_EOS);
        addBos = bos != null ? bos : defaultAddBos;
        addEos = eos != null && eos;
        if (addBos && roleIds[Role.BOS.ordinal()] == NO_TOKEN) {
            throw new IllegalArgumentException(KEY_ADD_BOS + " is true, but tokenizer.ggml.bos_token_id is not set");
        }
        if (addEos && roleIds[Role.EOS.ordinal()] == NO_TOKEN) {
            throw new IllegalArgumentException(KEY_ADD_EOS + " is true, but tokenizer.ggml.eos_token_id is not set");
        }

        detectRolesByText();
        eog = collectEndOfGeneration();
        byteTokens = findByteTokens();
        specialTokensLongestFirst = orderSpecialTokens();
    }

    /**
     * Builds a vocabulary from GGUF metadata (the types delivered by the GGUF reader: integers as
     * Long, floats as Double, arrays as List&lt;String&gt;, long[], double[], boolean[]).
     *
     * @throws IllegalArgumentException if required keys are missing or malformed, the tokenizer
     *                                  model or pre-tokenizer is not supported, or tokens repeat
     */
    public static Vocabulary fromMetadata(Map<String, Object> metadata) {
        return new Vocabulary(new MetadataReader(metadata));
    }

    private static String[] readTokens(MetadataReader meta) {
        List<String> list = meta.stringList(KEY_TOKENS);
        if (list == null) {
            throw new IllegalArgumentException("missing GGUF key " + KEY_TOKENS);
        }
        if (list.isEmpty()) {
            throw new IllegalArgumentException("GGUF key " + KEY_TOKENS + " is empty");
        }
        String[] tokens = list.toArray(new String[0]);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].isEmpty()) {
                tokens[i] = "[EMPTY_" + i + "]"; // llama.cpp's stand-in for empty token texts
            }
        }
        StringIndex seen = new StringIndex(tokens);
        for (int i = 0; i < tokens.length; i++) {
            int first = seen.get(tokens[i]);
            if (first != i) {
                throw new IllegalArgumentException("duplicate token in vocabulary: '" + tokens[i] + "' has ids "
                        + first + " and " + i);
            }
        }
        return tokens;
    }

    private static float[] readScores(MetadataReader meta, int n) {
        float[] scores = meta.numberArray(KEY_SCORES);
        if (scores == null) {
            return new float[n];
        }
        if (scores.length < n) {
            throw new IllegalArgumentException(KEY_SCORES + " has " + scores.length + " entries for " + n + " tokens");
        }
        return scores;
    }

    private static int[] readAttrs(MetadataReader meta, int n) {
        int[] attrs = new int[n];
        long[] types = meta.integerArray(KEY_TOKEN_TYPE);
        if (types == null) {
            Arrays.fill(attrs, ATTR_NORMAL);
            return attrs;
        }
        if (types.length < n) {
            throw new IllegalArgumentException(KEY_TOKEN_TYPE + " has " + types.length + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            attrs[i] = switch ((int) types[i]) {
                case 1 -> ATTR_NORMAL;
                case 2 -> ATTR_UNKNOWN;
                case 3 -> ATTR_CONTROL;
                case 4 -> ATTR_USER_DEFINED;
                case 5 -> ATTR_UNUSED;
                case 6 -> ATTR_BYTE;
                default -> 0; // undefined
            };
        }
        return attrs;
    }

    /** Defaults per model, disabled when outside the vocabulary; keys override with in-range ids only. */
    private int[] readRoleIds(MetadataReader meta, int n) {
        int[] ids = new int[Role.values().length];
        Arrays.fill(ids, NO_TOKEN);
        if (model == Model.SPM) {
            ids[Role.BOS.ordinal()] = 1;
            ids[Role.EOS.ordinal()] = 2;
            ids[Role.UNK.ordinal()] = 0;
        } else {
            ids[Role.BOS.ordinal()] = 11;
            ids[Role.EOS.ordinal()] = 11;
        }
        for (Role role : Role.values()) {
            if (ids[role.ordinal()] >= n) {
                ids[role.ordinal()] = NO_TOKEN;
            }
            for (String key : role.keys) {
                Long value = meta.integer(key);
                if (value != null && value >= 0 && value < n) {
                    ids[role.ordinal()] = value.intValue();
                }
            }
        }
        return ids;
    }

    /** Roles without a key take the lowest-id token with a known text, which then counts as control. */
    private void detectRolesByText() {
        for (Role role : Role.values()) {
            if (ids(role) != NO_TOKEN || role.texts.isEmpty()) {
                continue;
            }
            int found = Integer.MAX_VALUE;
            for (String text : role.texts) {
                int id = tokenIndex.get(text);
                if (id != StringIndex.ABSENT) {
                    found = Math.min(found, id);
                }
            }
            if (found != Integer.MAX_VALUE) {
                roleIds[role.ordinal()] = found;
                attrs[found] |= ATTR_CONTROL;
            }
        }
    }

    private BitSet collectEndOfGeneration() {
        BitSet set = new BitSet(tokens.length);
        for (Role role : new Role[] {Role.FIM_PAD, Role.FIM_REP, Role.FIM_SEP, Role.EOS, Role.EOT, Role.EOM}) {
            if (ids(role) != NO_TOKEN) {
                set.set(ids(role));
            }
        }
        for (String text : EOG_TEXTS) {
            int id = tokenIndex.get(text);
            if (id != StringIndex.ABSENT) {
                set.set(id);
                attrs[id] |= ATTR_CONTROL;
            }
        }
        return set;
    }

    /** Token per byte value for byte fallback: &lt;0xXX&gt; tokens (SPM) or the GPT-2 byte characters (BPE). */
    private int[] findByteTokens() {
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            if (model == Model.SPM) {
                int id = tokenIndex.get(String.format(Locale.ROOT, "<0x%02X>", b));
                if (id == StringIndex.ABSENT && b < 0x80) {
                    id = tokenIndex.get(String.valueOf((char) b));
                }
                ids[b] = id;
            } else {
                ids[b] = tokenIndex.get(String.valueOf(ByteEncoding.encode(b)));
            }
        }
        return ids;
    }

    /** Control, user-defined and unknown tokens, longest UTF-8 text first (ties by id), for partitioning. */
    private int[] orderSpecialTokens() {
        List<Integer> special = new ArrayList<>();
        int[] byteLength = new int[tokens.length];
        for (int id = 0; id < tokens.length; id++) {
            if ((attrs[id] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0) {
                special.add(id);
                byteLength[id] = tokens[id].getBytes(StandardCharsets.UTF_8).length;
            }
        }
        special.sort(Comparator.<Integer>comparingInt(id -> -byteLength[id]).thenComparingInt(id -> id));
        return special.stream().mapToInt(Integer::intValue).toArray();
    }

    private int ids(Role role) {
        return roleIds[role.ordinal()];
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " out of range [0, " + tokens.length + ")");
        }
    }

    public Model model() {
        return model;
    }

    /** The {@code tokenizer.ggml.pre} pre-tokenizer in use (byte-level BPE only), or null for SPM. */
    public String preTokenizerName() {
        return preTokenizer == null ? null : preTokenizer.name();
    }

    public int size() {
        return tokens.length;
    }

    /** The token's text as stored in the vocabulary (e.g. "▁the" or "Ġthe"), not its decoded form. */
    public String tokenText(int id) {
        checkId(id);
        return tokens[id];
    }

    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** The id of the token whose vocabulary text is exactly {@code text}, or {@link #NO_TOKEN}. */
    public int tokenId(String text) {
        int id = tokenIndex.get(text);
        return id == StringIndex.ABSENT ? NO_TOKEN : id;
    }

    public boolean isControl(int id) {
        checkId(id);
        return (attrs[id] & ATTR_CONTROL) != 0;
    }

    public boolean isUserDefined(int id) {
        checkId(id);
        return (attrs[id] & ATTR_USER_DEFINED) != 0;
    }

    public boolean isByte(int id) {
        checkId(id);
        return (attrs[id] & ATTR_BYTE) != 0;
    }

    public boolean isUnknown(int id) {
        checkId(id);
        return (attrs[id] & ATTR_UNKNOWN) != 0;
    }

    /** Whether generation should stop at this token (EOS, EOT, EOM and the end-of-turn tokens llama.cpp knows). */
    public boolean isEndOfGeneration(int id) {
        checkId(id);
        return eog.get(id);
    }

    public int bosId() {
        return ids(Role.BOS);
    }

    public int eosId() {
        return ids(Role.EOS);
    }

    /** End-of-turn token (e.g. &lt;|eot_id|&gt;, &lt;|im_end|&gt;), or {@link #NO_TOKEN}. */
    public int eotId() {
        return ids(Role.EOT);
    }

    public int unknownId() {
        return ids(Role.UNK);
    }

    public int paddingId() {
        return ids(Role.PAD);
    }

    /** Whether encoding with special tokens prepends BOS. */
    public boolean addBos() {
        return addBos;
    }

    /** Whether encoding with special tokens appends EOS. */
    public boolean addEos() {
        return addEos;
    }

    // --- package-private views for the encoders and the decoder ---

    PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    String[] tokens() {
        return tokens;
    }

    int attrs(int id) {
        return attrs[id];
    }

    StringIndex tokenIndex() {
        return tokenIndex;
    }

    StringIndex mergeIndex() {
        return mergeIndex;
    }

    boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    boolean cleanSpaces() {
        return preTokenizer != null && preTokenizer.cleanSpaces();
    }

    boolean ignoreMerges() {
        return preTokenizer != null && preTokenizer.ignoreMerges();
    }

    /** The byte-fallback token for a byte value, or {@link StringIndex#ABSENT}. */
    int byteToken(int b) {
        return byteTokens[b & 0xFF];
    }

    int[] specialTokensLongestFirst() {
        return specialTokensLongestFirst;
    }
}
