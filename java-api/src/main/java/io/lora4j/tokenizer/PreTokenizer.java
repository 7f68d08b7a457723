package io.lora4j.tokenizer;

import static io.lora4j.tokenizer.ClassSplitter.Shape.EACH;
import static io.lora4j.tokenizer.ClassSplitter.Shape.RUN;
import static io.lora4j.tokenizer.ClassSplitter.Shape.SPACE_THEN_RUN;
import static io.lora4j.tokenizer.ClassSplitter.Shape.TRIPLE;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * A byte-level BPE pre-tokenizer, chosen by the GGUF key {@code tokenizer.ggml.pre}: the list of
 * split rules llama.cpp applies for that name (src/llama-vocab.cpp), in order, plus the
 * per-name vocabulary options llama.cpp sets with it.
 *
 * @param name         the {@code tokenizer.ggml.pre} value
 * @param rules        the split rules, applied one after another
 * @param cleanSpaces  whether decoding removes the space before , . ? ! and some contractions
 * @param ignoreMerges whether a pre-token that is itself a vocabulary token skips the merges
 * @param addBos       the default for adding BOS when the GGUF does not say
 */
record PreTokenizer(String name, List<SplitRule> rules, boolean cleanSpaces, boolean ignoreMerges, boolean addBos) {

    private static final IntPredicate NUMBER = CodepointFlags::isNumber;
    private static final IntPredicate LETTER = CodepointFlags::isLetter;
    private static final IntPredicate PUNCTUATION = cp -> (CodepointFlags.of(cp) & CodepointFlags.PUNCTUATION) != 0;
    private static final IntPredicate ASCII_DIGIT = cp -> cp >= '0' && cp <= '9';

    private static final SplitRule GPT2 = new Gpt2Splitter();
    private static final SplitRule EACH_NUMBER = new ClassSplitter(EACH, NUMBER);
    private static final SplitRule ASCII_DIGIT_TRIPLES = new ClassSplitter(TRIPLE, ASCII_DIGIT);
    private static final SplitRule EACH_NEWLINE = new ClassSplitter(EACH, cp -> cp == '\r' || cp == '\n');
    /** [一-龥ࠀ-一가-퟿]+ of the DeepSeek pre-tokenizers: U+0800..U+9FA5 and U+AC00..U+D7FF. */
    private static final SplitRule CJK_RUNS = new ClassSplitter(RUN, CodepointSet.ofRanges(0x800, 0x9FA5, 0xAC00, 0xD7FF));

    /** [\p{P}\$\+<=>\^~\|]+, the GPT-2 regex, \p{N}+, [0-9][0-9][0-9]. */
    private static final List<SplitRule> DEFAULT_RULES = List.of(
            new ClassSplitter(RUN, PUNCTUATION.or(cp -> "$+<=>^~|".indexOf(cp) >= 0)), GPT2,
            new ClassSplitter(RUN, NUMBER), ASCII_DIGIT_TRIPLES);
    private static final List<SplitRule> GPT2_RULES = List.of(GPT2);
    private static final List<SplitRule> STARCODER_RULES = List.of(EACH_NUMBER, GPT2);
    private static final List<SplitRule> FALCON_RULES = List.of(
            new ClassSplitter(RUN, PUNCTUATION.or(cp -> "$+<=>^~|`".indexOf(cp) >= 0)), GPT2, ASCII_DIGIT_TRIPLES);
    private static final List<SplitRule> LLAMA3_RULES = List.of(new Llama3Splitter(3));
    private static final List<SplitRule> QWEN2_RULES = List.of(new Llama3Splitter(1));
    /**
     * DeepSeek LLM: newlines alone; \s?[cased letters]+ (Lu, Ll, Lt listed as ranges);
     * \s?[ASCII and fullwidth punctuation and symbols, quotes, CJK punctuation]+; trailing
     * whitespace; CJK runs; \p{N}+.
     */
    private static final List<SplitRule> DEEPSEEK_LLM_RULES = List.of(
            EACH_NEWLINE,
            new ClassSplitter(SPACE_THEN_RUN, CodepointSet.ofRanges(
                    0x41, 0x5A, 0x61, 0x7A, 0xB5, 0xB5, 0xC0, 0xD6, 0xD8, 0xF6, 0xF8, 0x1BA, 0x1BC, 0x1BF,
                    0x1C4, 0x293, 0x295, 0x2AF, 0x370, 0x373, 0x376, 0x377, 0x37B, 0x37D, 0x37F, 0x37F,
                    0x386, 0x386, 0x388, 0x38A, 0x38C, 0x38C, 0x38E, 0x3A1, 0x3A3, 0x3F5, 0x3F7, 0x481,
                    0x48A, 0x52F, 0x531, 0x556, 0x10A0, 0x10C5, 0x13A0, 0x13F5, 0x13F8, 0x13FD,
                    0x1C90, 0x1CBA, 0x1CBD, 0x1CBF, 0x1D00, 0x1D2B, 0x1D6B, 0x1D77, 0x1D79, 0x1D9A,
                    0x1E00, 0x1F15, 0x1F18, 0x1F1D, 0x1F20, 0x1F45, 0x1F48, 0x1F4D, 0x1F50, 0x1F57,
                    0x1F59, 0x1F59, 0x1F5B, 0x1F5B, 0x1F5D, 0x1F5D, 0x1F5F, 0x1F7D, 0x1F80, 0x1FB4,
                    0x1FB6, 0x1FBC, 0x1FBE, 0x1FBE, 0x1FC2, 0x1FC4, 0x1FC6, 0x1FCC, 0x1FD0, 0x1FD3,
                    0x1FD6, 0x1FDB, 0x1FE0, 0x1FEC, 0x1FF2, 0x1FF4, 0x1FF6, 0x1FFC, 0x2102, 0x2102,
                    0x2107, 0x2107, 0x210A, 0x2113, 0x2115, 0x2115, 0x2119, 0x211D, 0x2124, 0x2124,
                    0x2126, 0x2126, 0x2128, 0x2128, 0x212A, 0x212D, 0x212F, 0x2134, 0x2139, 0x2139,
                    0x213C, 0x213F, 0x2145, 0x2149, 0x214E, 0x214E, 0x2183, 0x2184, 0x2C00, 0x2C7B,
                    0x2C7E, 0x2CE4, 0x2CEB, 0x2CEE, 0x2CF2, 0x2CF3, 0xA640, 0xA66D, 0xA680, 0xA69B,
                    0xA722, 0xA76F, 0xA771, 0xA787, 0xA78B, 0xA78E, 0xAB70, 0xABBF, 0xFB00, 0xFB06,
                    0xFB13, 0xFB17, 0xFF21, 0xFF3A, 0xFF41, 0xFF5A, 0x10400, 0x1044F, 0x104B0, 0x104D3,
                    0x104D8, 0x104FB, 0x10C80, 0x10CB2, 0x10CC0, 0x10CF2, 0x118A0, 0x118DF,
                    0x1E900, 0x1E943)),
            new ClassSplitter(SPACE_THEN_RUN, CodepointSet.ofRanges(
                    0x21, 0x2F, 0x3A, 0x7E, 0x2018, 0x201F, 0x3000, 0x3002, 0xFF01, 0xFF0F, 0xFF1A, 0xFF5E)),
            ClassSplitter.trailingSpace(),
            CJK_RUNS,
            new ClassSplitter(RUN, NUMBER));
    /** DeepSeek Coder: newlines alone; \s?\p{L}+; \s?\p{P}+; CJK runs; single \p{N}. */
    private static final List<SplitRule> DEEPSEEK_CODER_RULES = List.of(
            EACH_NEWLINE,
            new ClassSplitter(SPACE_THEN_RUN, LETTER),
            new ClassSplitter(SPACE_THEN_RUN, PUNCTUATION),
            CJK_RUNS,
            EACH_NUMBER);

    private static final Map<String, PreTokenizer> BY_NAME = new LinkedHashMap<>();

    static {
        define(DEFAULT_RULES, true, false, false, "default");
        define(GPT2_RULES, true, false, false, "gpt-2", "phi-2", "mpt", "olmo", "exaone4");
        define(STARCODER_RULES, true, false, false, "starcoder", "refact", "codeshell", "exaone");
        define(STARCODER_RULES, false, false, false, "command-r", "smollm");
        define(FALCON_RULES, true, false, false, "falcon");
        define(DEEPSEEK_LLM_RULES, false, false, false, "deepseek-llm");
        define(DEEPSEEK_CODER_RULES, false, false, false, "deepseek-coder");
        define(LLAMA3_RULES, true, true, true, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral");
        define(LLAMA3_RULES, true, false, false, "dbrx", "smaug-bpe");
        define(QWEN2_RULES, false, false, false, "qwen2", "deepseek-r1-qwen");
        define(QWEN2_RULES, true, false, false, "stablelm2", "megrez");
    }

    PreTokenizer {
        rules = List.copyOf(rules);
    }

    private static void define(List<SplitRule> rules, boolean cleanSpaces, boolean ignoreMerges, boolean addBos,
                               String... names) {
        for (String name : names) {
            BY_NAME.put(name, new PreTokenizer(name, rules, cleanSpaces, ignoreMerges, addBos));
        }
    }

    /** The pre-tokenizer llama.cpp uses for a {@code tokenizer.ggml.pre} name. */
    static PreTokenizer forName(String name) {
        PreTokenizer pre = BY_NAME.get(name);
        if (pre == null) {
            throw new IllegalArgumentException("unknown pre-tokenizer type (tokenizer.ggml.pre) '" + name
                    + "'; known: " + String.join(", ", BY_NAME.keySet()));
        }
        return pre;
    }

    static Set<String> knownNames() {
        return Collections.unmodifiableSet(BY_NAME.keySet());
    }

    /** Splits a text (as code points) into pre-tokens; returns their lengths in code points, in order. */
    IntList split(int[] cps) {
        IntList chunks = new IntList();
        if (cps.length > 0) {
            chunks.add(cps.length);
        }
        for (SplitRule rule : rules) {
            IntList refined = new IntList(chunks.size() * 2);
            rule.split(cps, chunks, refined);
            chunks = refined;
        }
        return chunks;
    }
}
