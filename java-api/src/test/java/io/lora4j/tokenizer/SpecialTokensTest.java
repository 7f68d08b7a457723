package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** BOS/EOS insertion and special-token recognition (llama.cpp's tokenizer_st_partition). */
class SpecialTokensTest {

    private static final Tokenizer SPM = TokenDecoderTest.load("llama-spm");
    private static final Tokenizer GPT2 = TokenDecoderTest.load("gpt-2");
    private static final int HELLO = 15043; // "▁Hello" in the llama SPM vocabulary
    private static final int WORLD = 3186;  // "▁world"

    @Test
    void addSpecialFollowsTheVocabulary() {
        assertArrayEquals(new int[] {1, HELLO}, SPM.encode("Hello", true, false));
        assertArrayEquals(new int[] {HELLO}, SPM.encode("Hello", false, false));
        assertArrayEquals(new int[] {15496}, GPT2.encode("Hello", true, false)); // GPT-2 adds no BOS
        Tokenizer deepseek = TokenDecoderTest.load("deepseek-llm");
        assertEquals(100000, deepseek.encode("Hello", true, false)[0]);
        assertArrayEquals(new int[] {1}, SPM.encode("", true, false));
        assertArrayEquals(new int[0], SPM.encode("", false, false));
    }

    @Test
    void controlTokensOnlyWhenParsingSpecial() {
        assertArrayEquals(new int[] {1, HELLO}, SPM.encode("<s>Hello", false, true));
        assertArrayEquals(new int[] {HELLO, 2, WORLD}, SPM.encode("Hello</s>world", false, true));
        assertArrayEquals(new int[] {0}, SPM.encode("<unk>", false, true));
        int[] plain = SPM.encode("<s>Hello", false, false);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == 1), Arrays.toString(plain));
        assertEquals("<s>Hello", SPM.decode(plain));

        assertArrayEquals(new int[] {50256}, GPT2.encode("<|endoftext|>", false, true));
        int[] text = GPT2.encode("<|endoftext|>", false, false);
        assertTrue(text.length > 1 && Arrays.stream(text).noneMatch(id -> id == 50256), Arrays.toString(text));
    }

    @Test
    void userDefinedTokensAreAlwaysSplitOut() {
        Tokenizer deepseek = TokenDecoderTest.load("deepseek-llm");
        int oSlash = deepseek.vocabulary().tokenId("\u00F8"); // a user-defined token in this vocabulary
        assertTrue(deepseek.vocabulary().isUserDefined(oSlash));
        int[] ids = deepseek.encode("s\u00F8n", false, false);
        assertTrue(Arrays.stream(ids).anyMatch(id -> id == oSlash), Arrays.toString(ids));
        assertEquals("s\u00F8n", deepseek.decode(ids));
    }

    @Test
    void longestSpecialTokenGoesFirstAndSplitsEverywhereBeforeTheNext() {
        Tokenizer t = withControlTokens("<a>", "<b>", "<a><b>", "abc", "xab");
        Vocabulary v = t.vocabulary();
        assertArrayEquals(new int[] {v.tokenId("<a><b>"), v.tokenId("<a>")}, t.encode("<a><b><a>", false, true));
        // "abc" and "xab" are equally long; "abc" has the lower id, so it is split out first and "xab" no longer fits.
        int[] ids = t.encode("xabc", false, true);
        assertEquals(v.tokenId("abc"), ids[ids.length - 1]);
        assertFalse(Arrays.stream(ids).anyMatch(id -> id == v.tokenId("xab")), Arrays.toString(ids));
    }

    @Test
    void spaceIsPrefixedAfterEverySpecialToken() {
        Tokenizer t = withControlTokens("<sep>");
        Vocabulary v = t.vocabulary();
        int[] ids = t.encode("a<sep>a", false, true);
        int a = v.tokenId("\u2581a");
        assertArrayEquals(new int[] {a, v.tokenId("<sep>"), a}, ids);
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        assertArrayEquals(SPM.encode("a\uFFFDb", false, false), SPM.encode("a\uD800b", false, false));
        assertArrayEquals(SPM.encode("\uFFFD", false, false), SPM.encode("\uDC00", false, false));
    }

    /** The small SPM vocabulary of {@link VocabularyTest} plus the given control tokens. */
    private static Tokenizer withControlTokens(String... control) {
        Map<String, Object> m = VocabularyTest.spm("\u2581a", "a", "x", "\u2581x", "b", "c");
        @SuppressWarnings("unchecked")
        List<String> tokens = new ArrayList<>((List<String>) m.get("tokenizer.ggml.tokens"));
        long[] types = (long[]) m.get("tokenizer.ggml.token_type");
        double[] scores = (double[]) m.get("tokenizer.ggml.scores");
        int n = tokens.size();
        tokens.addAll(List.of(control));
        long[] moreTypes = Arrays.copyOf(types, tokens.size());
        Arrays.fill(moreTypes, n, tokens.size(), 3L);
        m.put("tokenizer.ggml.tokens", tokens);
        m.put("tokenizer.ggml.token_type", moreTypes);
        m.put("tokenizer.ggml.scores", Arrays.copyOf(scores, tokens.size()));
        return Tokenizer.fromMetadata(m);
    }
}
