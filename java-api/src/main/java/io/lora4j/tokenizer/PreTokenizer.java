package io.lora4j.tokenizer;

import static io.lora4j.tokenizer.RegexSplitter.Form.COLLAPSED;
import static io.lora4j.tokenizer.RegexSplitter.Form.RAW;
import static io.lora4j.tokenizer.RegexSplitter.L;
import static io.lora4j.tokenizer.RegexSplitter.N;
import static io.lora4j.tokenizer.RegexSplitter.P;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    private static final SplitRule GPT2 = new Gpt2Splitter();
    private static final SplitRule LLAMA3 = new Llama3Splitter();
    private static final SplitRule EACH_DIGIT = new RegexSplitter("[" + N + "]", COLLAPSED);
    private static final SplitRule DIGIT_RUNS = new RegexSplitter("[" + N + "]+", COLLAPSED);
    private static final SplitRule ASCII_DIGIT_TRIPLES = new RegexSplitter("[0-9][0-9][0-9]", RAW);
    private static final SplitRule NEWLINES = new RegexSplitter("[\\r\\n]", RAW);
    private static final SplitRule CJK = new RegexSplitter("[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", RAW);

    private static final List<SplitRule> DEFAULT_RULES = List.of(
            new RegexSplitter("[" + P + "\\$\\+<=>\\^~\\|]+", COLLAPSED), GPT2, DIGIT_RUNS, ASCII_DIGIT_TRIPLES);
    private static final List<SplitRule> GPT2_RULES = List.of(GPT2);
    private static final List<SplitRule> STARCODER_RULES = List.of(EACH_DIGIT, GPT2);
    private static final List<SplitRule> FALCON_RULES = List.of(
            new RegexSplitter("[" + P + "\\$\\+<=>\\^~\\|`]+", COLLAPSED), GPT2, ASCII_DIGIT_TRIPLES);
    private static final List<SplitRule> LLAMA3_RULES = List.of(LLAMA3);
    /** The Qwen2 regex has single digits (\p{N}), so llama.cpp runs it as a regex, not its Llama 3 scanner. */
    private static final List<SplitRule> QWEN2_RULES = List.of(new RegexSplitter(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n" + L + N + "]?[" + L + "]+|["
                    + N + "]| ?[^\\s" + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", COLLAPSED));
    /** DeepSeek LLM: letters are the cased letters (Lu, Ll, Lt) listed as explicit ranges. */
    private static final List<SplitRule> DEEPSEEK_LLM_RULES = List.of(
            NEWLINES,
            new RegexSplitter("\\s?[\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"
                    + "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
                    + "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}"
                    + "\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}"
                    + "\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"
                    + "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
                    + "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}"
                    + "\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"
                    + "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"
                    + "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
                    + "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}"
                    + "\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}"
                    + "\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"
                    + "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
                    + "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
                    + "\\x{1E900}-\\x{1E943}]+", RAW),
            new RegexSplitter("\\s?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}"
                    + "\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+", RAW),
            new RegexSplitter("\\s+\\z", RAW),
            CJK,
            DIGIT_RUNS);
    private static final List<SplitRule> DEEPSEEK_CODER_RULES = List.of(
            NEWLINES,
            new RegexSplitter("\\s?[" + L + "]+", COLLAPSED),
            new RegexSplitter("\\s?[" + P + "]+", COLLAPSED),
            CJK,
            EACH_DIGIT);

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
