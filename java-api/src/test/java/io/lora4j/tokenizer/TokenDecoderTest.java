package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Decoding and streaming decoding on llama.cpp's vocabularies. */
class TokenDecoderTest {

    private static Tokenizer spm;
    private static Tokenizer gpt2;

    @BeforeAll
    static void load() {
        spm = load("llama-spm");
        gpt2 = load("gpt-2");
    }

    static Tokenizer load(String name) {
        return Tokenizer.fromMetadata(VocabFixtures.metadata(VocabFixtures.vocabDir().resolve("ggml-vocab-" + name + ".gguf")));
    }

    @Test
    void byteFallbackCharacterArrivesWhole() {
        // ' this is 🦙.cpp' in llama.cpp's SPM vectors: the llama is four byte tokens <0xF0><0x9F><0xA6><0x99>.
        int[] ids = {29871, 445, 338, 29871, 243, 162, 169, 156, 29889, 8223};
        assertArrayEquals(ids, spm.encode(" this is \uD83E\uDD99.cpp", false, false));
        List<String> parts = stream(spm, ids, false);
        // The first piece loses its leading space (the one SPM encoding added).
        assertEquals(List.of("", " this", " is", " ", "", "", "", "\uD83E\uDD99", ".", "cpp", ""), parts);
        assertEquals(" this is \uD83E\uDD99.cpp", spm.decode(ids));
    }

    @Test
    void byteLevelCharacterSplitOverTokensArrivesWhole() {
        int[] ids = {428, 318, 12520, 99, 247, 13, 20322}; // gpt-2 vectors: ' this is 🦙.cpp'
        assertArrayEquals(ids, gpt2.encode(" this is \uD83E\uDD99.cpp", false, false));
        List<String> parts = stream(gpt2, ids, false);
        // 12520 is "Ġð": its space is complete at once, the 0xF0 waits for 99 and 247.
        assertEquals(List.of(" this", " is", " ", "", "\uD83E\uDD99", ".", "cpp", ""), parts);
    }

    @Test
    void unfinishedCharacterBecomesReplacementAtFinish() {
        TokenDecoder decoder = spm.newDecoder(false);
        assertEquals("", decoder.next(243)); // <0xF0>, the first of four bytes
        assertEquals("", decoder.next(162));
        assertEquals("\uFFFD", decoder.finish());
        assertEquals("", decoder.finish());
        assertThrows(IllegalStateException.class, () -> decoder.next(243));
    }

    @Test
    void streamingEqualsBatchOnEveryVector() throws Exception {
        for (Path gguf : LlamaCppVectorsTest.vocabFiles()) {
            Tokenizer tokenizer = Tokenizer.fromMetadata(VocabFixtures.metadata(gguf));
            for (LlamaCppVectorsTest.Vector v : LlamaCppVectorsTest.readVectors(gguf)) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] ids = tokenizer.encode(v.input(), true, false);
                    assertEquals(tokenizer.decode(ids, special), String.join("", stream(tokenizer, ids, special)),
                            gguf.getFileName() + " " + LlamaCppVectorsTest.describe(v.input()));
                }
            }
        }
    }

    @Test
    void streamingEqualsBatchOnRandomIds() {
        java.util.Random random = new java.util.Random(7);
        for (Tokenizer tokenizer : List.of(spm, gpt2)) {
            for (int iter = 0; iter < 2000; iter++) {
                int[] ids = new int[random.nextInt(12)];
                for (int i = 0; i < ids.length; i++) {
                    // mostly byte-ish low ids (partial UTF-8 sequences), sometimes any token
                    ids[i] = random.nextInt(4) == 0 ? random.nextInt(tokenizer.vocabSize()) : random.nextInt(300);
                }
                boolean special = random.nextBoolean();
                assertEquals(tokenizer.decode(ids, special), String.join("", stream(tokenizer, ids, special)),
                        java.util.Arrays.toString(ids));
            }
        }
    }

    @Test
    void vectorsDecodeBackToTheirInput() throws Exception {
        for (Path gguf : LlamaCppVectorsTest.vocabFiles()) {
            Tokenizer tokenizer = Tokenizer.fromMetadata(VocabFixtures.metadata(gguf));
            boolean cleans = tokenizer.vocabulary().cleanSpaces();
            for (LlamaCppVectorsTest.Vector v : LlamaCppVectorsTest.readVectors(gguf)) {
                if (cleans && v.input().matches("(?s).*( [?!.,']| 'm| 's).*")) {
                    continue; // clean-up changes these on purpose
                }
                assertEquals(v.input(), tokenizer.decode(v.expected()), gguf.getFileName() + " "
                        + LlamaCppVectorsTest.describe(v.input()));
            }
        }
    }

    @Test
    void spmStripsOnlyTheFirstLeadingSpace() {
        assertEquals("Hello", spm.decode(new int[] {15043}));
        assertEquals(" Hello", spm.decode(new int[] {29871, 15043}));
        // As in llama.cpp: a leading BOS consumes the strip, so its word keeps the space.
        assertEquals(" Hello", spm.decode(new int[] {spm.bosId(), 15043}));
        assertEquals("<s> Hello", spm.decode(new int[] {spm.bosId(), 15043}, true));
    }

    @Test
    void controlTokensAreHiddenUnlessRendered() {
        int eot = gpt2.vocabulary().tokenId("<|endoftext|>");
        assertEquals("Hello", gpt2.decode(new int[] {15496, eot}));
        assertEquals("Hello<|endoftext|>", gpt2.decode(new int[] {15496, eot}, true));
    }

    @Test
    void cleanSpacesAppliesAcrossTokenBoundaries() {
        int[] ids = gpt2.encode("Hello , world ! it 's", false, false);
        assertEquals("Hello, world! it's", gpt2.decode(ids));
        List<String> parts = stream(gpt2, ids, false);
        assertFalse(parts.isEmpty());
        assertEquals("Hello, world! it's", String.join("", parts));
    }

    @Test
    void rejectsIdsOutsideTheVocabulary() {
        assertThrows(IllegalArgumentException.class, () -> gpt2.decode(new int[] {gpt2.vocabSize()}));
        assertThrows(IllegalArgumentException.class, () -> gpt2.newDecoder(false).next(-1));
    }

    static List<String> stream(Tokenizer tokenizer, int[] ids, boolean renderSpecial) {
        TokenDecoder decoder = tokenizer.newDecoder(renderSpecial);
        List<String> parts = new ArrayList<>();
        for (int id : ids) {
            parts.add(decoder.next(id));
        }
        parts.add(decoder.finish());
        return parts;
    }
}
