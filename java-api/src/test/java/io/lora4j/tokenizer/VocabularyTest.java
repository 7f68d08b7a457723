package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading tokenizer.ggml.* metadata: llama.cpp's defaults, special tokens and clear errors. */
class VocabularyTest {

    /** A small SentencePiece vocabulary: 3 specials, 256 byte tokens, then words with scores. */
    static Map<String, Object> spm(String... words) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Long> types = new ArrayList<>(List.of(2L, 3L, 3L));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6L);
        }
        for (String w : words) {
            tokens.add(w);
            types.add(1L);
        }
        double[] scores = new double[tokens.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = -i; // earlier words score higher
        }
        Map<String, Object> m = new HashMap<>();
        m.put("tokenizer.ggml.model", "llama");
        m.put("tokenizer.ggml.tokens", tokens);
        m.put("tokenizer.ggml.scores", scores);
        m.put("tokenizer.ggml.token_type", types.stream().mapToLong(Long::longValue).toArray());
        return m;
    }

    /** A small byte-level BPE vocabulary: the 256 byte characters, then merged tokens. */
    static Map<String, Object> bpe(String pre, List<String> merges, String... extra) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteEncoding.encode(b)));
        }
        tokens.addAll(List.of(extra));
        Map<String, Object> m = new HashMap<>();
        m.put("tokenizer.ggml.model", "gpt2");
        if (pre != null) {
            m.put("tokenizer.ggml.pre", pre);
        }
        m.put("tokenizer.ggml.tokens", tokens);
        m.put("tokenizer.ggml.merges", merges);
        return m;
    }

    @Test
    void spmDefaults() {
        Vocabulary v = Vocabulary.fromMetadata(spm("\u2581a"));
        assertEquals(Vocabulary.Model.SPM, v.model());
        assertNull(v.preTokenizerName());
        assertEquals(1, v.bosId());
        assertEquals(2, v.eosId());
        assertEquals(0, v.unknownId());
        assertEquals(Vocabulary.NO_TOKEN, v.paddingId());
        assertTrue(v.addBos());
        assertFalse(v.addEos());
        assertTrue(v.isControl(1));
        assertTrue(v.isByte(3));
        assertTrue(v.isUnknown(0));
        assertTrue(v.isEndOfGeneration(2)); // EOS, and "</s>" is an end-of-generation text
        assertEquals(260, v.size());
    }

    @Test
    void spmMergesByScoreAndFallsBackToBytes() {
        // "▁ab" (score -259) beats building "▁a"+"b"; "é" has no token, so it becomes its two UTF-8 bytes.
        Tokenizer t = Tokenizer.fromMetadata(spm("\u2581ab", "\u2581a", "ab", "\u2581", "a", "b"));
        int ab = t.vocabulary().tokenId("\u2581ab");
        assertArrayEquals(new int[] {ab}, t.encode("ab", false, false));
        assertArrayEquals(new int[] {1, ab, 3 + 0xC3, 3 + 0xA9}, t.encode("ab\u00E9", true, false));
        assertEquals("ab\u00E9", t.decode(t.encode("ab\u00E9", false, false)));
        assertEquals(" ab\u00E9", t.decode(t.encode("ab\u00E9", true, false))); // llama.cpp: BOS takes the strip
    }

    @Test
    void spmWithoutSpacePrefix() {
        Map<String, Object> m = spm("\u2581a", "a");
        m.put("tokenizer.ggml.add_space_prefix", false);
        Tokenizer t = Tokenizer.fromMetadata(m);
        assertArrayEquals(new int[] {t.vocabulary().tokenId("a")}, t.encode("a", false, false));
        assertEquals("a", t.decode(t.encode("a", false, false)));
    }

    @Test
    void keysOverrideDefaults() {
        Map<String, Object> m = spm("x");
        m.put("tokenizer.ggml.bos_token_id", 2L);
        m.put("tokenizer.ggml.eos_token_id", 1L);
        m.put("tokenizer.ggml.padding_token_id", 0L);
        m.put("tokenizer.ggml.add_bos_token", false);
        m.put("tokenizer.ggml.add_eos_token", true);
        Vocabulary v = Vocabulary.fromMetadata(m);
        assertEquals(2, v.bosId());
        assertEquals(1, v.eosId());
        assertEquals(0, v.paddingId());
        assertFalse(v.addBos());
        assertTrue(v.addEos());
        Tokenizer t = new Tokenizer(v);
        int[] ids = t.encode("x", true, false);
        assertEquals(1, ids[ids.length - 1]);
    }

    @Test
    void outOfRangeSpecialIdKeepsTheDefault() {
        Map<String, Object> m = spm("x");
        m.put("tokenizer.ggml.bos_token_id", 100_000L);
        assertEquals(1, Vocabulary.fromMetadata(m).bosId());
    }

    @Test
    void bpeDefaults() {
        Vocabulary v = Vocabulary.fromMetadata(bpe("gpt-2", List.of("a b")));
        assertEquals(Vocabulary.Model.BPE, v.model());
        assertEquals("gpt-2", v.preTokenizerName());
        assertEquals(11, v.bosId()); // llama.cpp's BPE default, in range here
        assertEquals(11, v.eosId());
        assertEquals(Vocabulary.NO_TOKEN, v.unknownId());
        assertFalse(v.addBos());
        assertTrue(v.cleanSpaces());
        assertTrue(Vocabulary.fromMetadata(bpe("llama-bpe", List.of())).addBos());
        assertFalse(Vocabulary.fromMetadata(bpe("qwen2", List.of())).cleanSpaces());
    }

    @Test
    void missingPreTokenizerMeansDefault() {
        assertEquals("default", Vocabulary.fromMetadata(bpe(null, List.of())).preTokenizerName());
    }

    @Test
    void bpeMergesByRank() {
        Tokenizer t = Tokenizer.fromMetadata(bpe("gpt-2", List.of("a b", "b c", "ab c"), "ab", "bc", "abc"));
        assertArrayEquals(new int[] {t.vocabulary().tokenId("abc")}, t.encode("abc", false, false));
        // With "b c" ranked first, "ab c" never applies.
        Tokenizer reversed = Tokenizer.fromMetadata(bpe("gpt-2", List.of("b c", "a b", "ab c"), "ab", "bc", "abc"));
        Vocabulary v = reversed.vocabulary();
        assertArrayEquals(new int[] {v.tokenId("a"), v.tokenId("bc")}, reversed.encode("abc", false, false));
    }

    @Test
    void errorsNameTheProblem() {
        assertMessage(() -> Vocabulary.fromMetadata(Map.of()), "tokenizer.ggml.model");
        Map<String, Object> bert = spm("x");
        bert.put("tokenizer.ggml.model", "bert");
        assertMessage(() -> Vocabulary.fromMetadata(bert), "'bert'");
        assertMessage(() -> Vocabulary.fromMetadata(bpe("no-such-pre", List.of())), "'no-such-pre'");
        Map<String, Object> noMerges = bpe("gpt-2", List.of());
        noMerges.remove("tokenizer.ggml.merges");
        assertMessage(() -> Vocabulary.fromMetadata(noMerges), "tokenizer.ggml.merges");
        Map<String, Object> wrongType = spm("x");
        wrongType.put("tokenizer.ggml.tokens", new long[] {1, 2});
        assertMessage(() -> Vocabulary.fromMetadata(wrongType), "tokenizer.ggml.tokens");
        Map<String, Object> shortScores = spm("x");
        shortScores.put("tokenizer.ggml.scores", new double[] {0, 1});
        assertMessage(() -> Vocabulary.fromMetadata(shortScores), "tokenizer.ggml.scores");
        Map<String, Object> duplicate = spm("x", "x");
        assertMessage(() -> Vocabulary.fromMetadata(duplicate), "duplicate token");
        Map<String, Object> noBos = bpe("gpt-2", List.of()); // 256 tokens: default BOS 11 is valid...
        noBos.put("tokenizer.ggml.tokens", List.of("a", "b"));  // ...but not with 2 tokens
        noBos.put("tokenizer.ggml.add_bos_token", true);
        assertMessage(() -> Vocabulary.fromMetadata(noBos), "bos_token_id");
        assertMessage(() -> Vocabulary.fromMetadata(spm("x")).tokenText(10_000), "10000");
    }

    @Test
    void endOfTurnTokenIsFoundByTextAndBecomesControl() {
        Map<String, Object> m = bpe("qwen2", List.of(), "<|im_start|>", "<|im_end|>");
        Vocabulary v = Vocabulary.fromMetadata(m);
        int imEnd = v.tokenId("<|im_end|>");
        assertEquals(imEnd, v.eotId());
        assertTrue(v.isControl(imEnd));
        assertTrue(v.isEndOfGeneration(imEnd));
        assertFalse(v.isControl(v.tokenId("<|im_start|>")));
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' lacks " + fragment);
    }
}
