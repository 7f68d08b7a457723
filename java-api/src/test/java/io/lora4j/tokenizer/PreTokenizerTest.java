package io.lora4j.tokenizer;

import static io.lora4j.tokenizer.RegexSplitter.Form.COLLAPSED;
import static io.lora4j.tokenizer.RegexSplitter.Form.RAW;
import static io.lora4j.tokenizer.RegexSplitter.L;
import static io.lora4j.tokenizer.RegexSplitter.N;
import static io.lora4j.tokenizer.RegexSplitter.P;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pre-tokenizers against llama.cpp's regexes: for every supported {@code tokenizer.ggml.pre}
 * name, the hand-written splitters must cut text exactly like the regex list llama.cpp uses for
 * that name (run here with java.util.regex the way llama.cpp runs std::regex), on the vocab test
 * inputs and on random strings of tricky characters; plus hand-derived splits for readability.
 */
class PreTokenizerTest {

    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?[" + L + "]+| ?[" + N + "]+| ?[^\\s" + L + N
            + "]+|\\s+(?!\\S)";
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String LLAMA3 = CONTRACTIONS + "|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N + "]{1,3}| ?[^\\s"
            + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = CONTRACTIONS + "|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N + "]| ?[^\\s"
            + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String DEEPSEEK_CASED = "\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}"
            + "\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"
            + "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
            + "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
            + "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
            + "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
            + "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
            + "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
            + "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
            + "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
            + "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
            + "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
            + "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
            + "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
            + "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
            + "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}";
    private static final String DEEPSEEK_CJK = "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

    /** llama.cpp's regex list per pre-tokenizer family (src/llama-vocab.cpp). */
    private static final Map<String, List<SplitRule>> ORACLES = Map.of(
            "default", List.of(c("[" + P + "\\$\\+<=>\\^~\\|]+"), c(GPT2), c("[" + N + "]+"), r("[0-9][0-9][0-9]")),
            "gpt-2", List.of(c(GPT2)),
            "starcoder", List.of(c("[" + N + "]"), c(GPT2)),
            "falcon", List.of(c("[" + P + "\\$\\+<=>\\^~\\|`]+"), c(GPT2), r("[0-9][0-9][0-9]")),
            "llama3", List.of(c(LLAMA3)),
            "qwen2", List.of(c(QWEN2)),
            "deepseek-llm", List.of(r("[\\r\\n]"), r("\\s?[" + DEEPSEEK_CASED + "]+"),
                    r("\\s?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}"
                            + "\\x{3000}-\\x{3002}]+"),
                    r("\\s+$"), r(DEEPSEEK_CJK), c("[" + N + "]+")),
            "deepseek-coder", List.of(r("[\\r\\n]"), c("\\s?[" + L + "]+"), c("\\s?[" + P + "]+"), r(DEEPSEEK_CJK),
                    c("[" + N + "]")));

    /** The family (key of {@link #ORACLES}) of every supported name. */
    private static final Map<String, String> FAMILY = Map.ofEntries(
            Map.entry("default", "default"),
            Map.entry("gpt-2", "gpt-2"), Map.entry("phi-2", "gpt-2"), Map.entry("mpt", "gpt-2"),
            Map.entry("olmo", "gpt-2"), Map.entry("exaone4", "gpt-2"),
            Map.entry("starcoder", "starcoder"), Map.entry("refact", "starcoder"), Map.entry("codeshell", "starcoder"),
            Map.entry("exaone", "starcoder"), Map.entry("command-r", "starcoder"), Map.entry("smollm", "starcoder"),
            Map.entry("falcon", "falcon"),
            Map.entry("deepseek-llm", "deepseek-llm"), Map.entry("deepseek-coder", "deepseek-coder"),
            Map.entry("llama3", "llama3"), Map.entry("llama-v3", "llama3"), Map.entry("llama-bpe", "llama3"),
            Map.entry("falcon3", "llama3"), Map.entry("falcon-h1", "llama3"), Map.entry("pixtral", "llama3"),
            Map.entry("dbrx", "llama3"), Map.entry("smaug-bpe", "llama3"),
            Map.entry("qwen2", "qwen2"), Map.entry("deepseek-r1-qwen", "qwen2"), Map.entry("stablelm2", "qwen2"),
            Map.entry("megrez", "qwen2"));

    /** Characters that exercise every class and every regex branch. */
    private static final int[] ALPHABET = {
        'a', 'Z', 'e', 's', 't', 'r', 'v', 'l', 'm', 'd', 'S', 'L', 'E', '0', '5', '9', '\'', ' ', ' ', ' ', '\t', '\n', '\r',
        0x0B, 0x0C, '!', '?', '.', ',', '-', '_', '$', '+', '<', '=', '>', '^', '`', '|', '~', '(', '"', '#', '@', '\\',
        0xA0, 0x3000, 0x2028, 0x85, 0x1680, 0xB5, 0xE9, 0x3A9, 0x2126, 0x212A, 0x1FBE, 0x1F7D, 0x41F, 0x436,
        0x4E00, 0x4E2D, 0x9FA5, 0x9FA6, 0xAC00, 0xD7A3, 0x800, 0x3042, 0x30A2, 0x301, 0x660, 0xB2, 0x216B,
        0xFF01, 0xFF21, 0xFF41, 0xFF10, 0x2018, 0x201D, 0x3001, 0x3002, 0x2014, 0x2026, 0xA9, 0x20AC, 0xAD, 0x1, 0x7F,
        0xE000, 0x378, 0x1F600, 0x1F999, 0x10400, 0x1E900, 0x20000, 0x1D7CE, 0x200D, 0xFE0F};

    /** Hand-picked hard cases, checked for every name against its regexes. */
    private static final List<String> TRICKY = List.of(
            "I'm you're we've they'll he'd it's don't CAN'T O'NEIL' 'twas ''s",
            "1 22 333 4444 55555 666666 7 x1y22z333 3.14159 1,000,000 \u0661\u0662\u0663 \u00B2\u00B3",
            "\u4F60\u597D\uFF0C\u4E16\u754C\uFF01 \uD55C\uAD6D\uC5B4 \u65E5\u672C\u8A9E\u3067\u3059\u3002",
            "\uD83D\uDE00 \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \u2764\uFE0F x\uD83D\uDE80y",
            "a  b   c    d\t\te \u00A0f\u3000g  ", "line1\nline2\r\nline3\n\n\n  \n \tend\n",
            "(a+b)*c=d; x->y || z && !w ... ?! \u2014 \u2026 \u00AB\u00BB \u201Cq\u201D `code` ~tilde~",
            "caf\u00E9 nai\u0308ve \u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC \u041F\u0440\u0438\u0432\u0435\u0442 \u212Aelvin",
            "   leading and trailing   ", "\n", " ", "");

    @ParameterizedTest
    @MethodSource("names")
    void matchesLlamaCppRegexesOnTrickyText(String name) {
        List<SplitRule> oracle = ORACLES.get(FAMILY.get(name));
        PreTokenizer pre = PreTokenizer.forName(name);
        for (String text : TRICKY) {
            assertEquals(split(oracle, text), words(text, pre.split(cps(text))),
                    () -> name + " on " + LlamaCppVectorsTest.describe(text));
        }
    }

    private static RegexSplitter c(String regex) {
        return new RegexSplitter(regex, COLLAPSED);
    }

    private static RegexSplitter r(String regex) {
        return new RegexSplitter(regex, RAW);
    }

    static List<String> names() {
        return List.copyOf(PreTokenizer.knownNames());
    }

    @ParameterizedTest
    @MethodSource("names")
    void matchesLlamaCppRegexesOnVectorInputs(String name) throws Exception {
        List<SplitRule> oracle = ORACLES.get(FAMILY.get(name));
        assertTrue(oracle != null, "no regex oracle for " + name);
        PreTokenizer pre = PreTokenizer.forName(name);
        for (java.nio.file.Path gguf : LlamaCppVectorsTest.vocabFiles()) {
            for (LlamaCppVectorsTest.Vector v : LlamaCppVectorsTest.readVectors(gguf)) {
                assertEquals(split(oracle, v.input()), words(v.input(), pre.split(cps(v.input()))),
                        () -> name + " on " + LlamaCppVectorsTest.describe(v.input()));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void matchesLlamaCppRegexesOnRandomText(String name) {
        List<SplitRule> oracle = ORACLES.get(FAMILY.get(name));
        PreTokenizer pre = PreTokenizer.forName(name);
        Random random = new Random(name.hashCode());
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(24);
            for (int k = 0; k < length; k++) {
                sb.appendCodePoint(ALPHABET[random.nextInt(ALPHABET.length)]);
            }
            String text = sb.toString();
            assertEquals(split(oracle, text), words(text, pre.split(cps(text))),
                    () -> name + " on " + text.codePoints().mapToObj(cp -> String.format("U+%04X", cp)).toList());
        }
    }

    @TestFactory
    Stream<DynamicTest> handDerivedSplits() {
        return Stream.of(
                expect("gpt-2", "I'm 12345 ok\n\n  x", "I", "'m", " 12345", " ok", "\n\n ", " x"),
                expect("gpt-2", "don't  stop!!", "don", "'t", " ", " stop", "!!"),
                expect("starcoder", "x=1234 \u4E2D\u6587", "x", "=", "1", "2", "3", "4", " \u4E2D\u6587"),
                expect("llama-bpe", "I'M 12345 ok\n\n  x", "I", "'M", " ", "123", "45", " ok", "\n\n", " ", " x"),
                expect("llama-bpe", "1 22 333 4444", "1", " ", "22", " ", "333", " ", "444", "4"),
                expect("llama-bpe", "hi \uD83D\uDE00\uD83D\uDE00!\n", "hi", " \uD83D\uDE00\uD83D\uDE00!\n"),
                expect("qwen2", "a 4444 b", "a", " ", "4", "4", "4", "4", " b"),
                expect("qwen2", "\u4F60\u597D\u4E16\u754C, x", "\u4F60\u597D\u4E16\u754C", ",", " x"),
                expect("falcon", "a+=1234;", "a", "+=", "123", "4", ";"),
                expect("default", "x, y 12345", "x", ",", " y", " ", "123", "45"),
                expect("deepseek-llm", "Hello, \u4E16\u754C 12\n  ", "Hello", ",", " ", "\u4E16\u754C", " ", "12", "\n",
                        "  "),
                expect("deepseek-coder", "def f(x):\n\treturn 42", "def", " f", "(", "x", "):", "\n", "\treturn", " ",
                        "4", "2"));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.forName("gpt-5"));
        assertTrue(e.getMessage().contains("'gpt-5'") && e.getMessage().contains("llama-bpe")
                && e.getMessage().contains("qwen2"), e.getMessage());
    }

    private static DynamicTest expect(String name, String text, String... pieces) {
        return DynamicTest.dynamicTest(name + " " + LlamaCppVectorsTest.describe(text), () -> {
            assertEquals(List.of(pieces), words(text, PreTokenizer.forName(name).split(cps(text))));
            assertEquals(List.of(pieces), split(ORACLES.get(FAMILY.get(name)), text), "regex oracle disagrees");
        });
    }

    private static int[] cps(String text) {
        return text.codePoints().toArray();
    }

    private static List<String> split(List<SplitRule> rules, String text) {
        int[] cps = cps(text);
        IntList chunks = new IntList();
        if (cps.length > 0) {
            chunks.add(cps.length);
        }
        for (SplitRule rule : rules) {
            IntList out = new IntList();
            rule.split(cps, chunks, out);
            chunks = out;
        }
        return words(text, chunks);
    }

    private static List<String> words(String text, IntList lengths) {
        int[] cps = cps(text);
        List<String> words = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < lengths.size(); i++) {
            words.add(new String(cps, at, lengths.get(i)));
            at += lengths.get(i);
        }
        assertEquals(cps.length, at, "pieces must cover the text");
        return words;
    }
}
