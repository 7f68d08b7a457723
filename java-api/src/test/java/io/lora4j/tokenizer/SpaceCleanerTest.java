package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The streaming space clean-up against a direct transcription of llama.cpp's three in-place
 * passes over the whole text (llama_detokenize with clean_spaces), for every way of cutting the
 * input into pieces.
 */
class SpaceCleanerTest {

    private static final String ALPHABET = " '?!.,smrevtdlx";

    @Test
    void streamingEqualsTheThreeBatchPasses() {
        Random random = new Random(42);
        for (int iter = 0; iter < 200_000; iter++) {
            int n = random.nextInt(14);
            byte[] text = new byte[n];
            for (int i = 0; i < n; i++) {
                text[i] = (byte) ALPHABET.charAt(random.nextInt(ALPHABET.length()));
            }
            String expected = batch(text);
            assertEquals(expected, streamed(text, random), () -> "input '" + new String(text, StandardCharsets.US_ASCII) + "'");
        }
    }

    @Test
    void examples() {
        assertEquals("Hello, world!", clean("Hello , world !"));
        assertEquals("it's I'm we're you've", clean("it 's I 'm we 're you 've"));
        assertEquals("don 't I 'd we 'll", clean("don 't I 'd we 'll"));
        assertEquals("a'b", clean("a ' b"));
        assertEquals(" '", clean(" '"));
        assertEquals("x ", clean("x "));
    }

    private static String clean(String s) {
        return streamed(s.getBytes(StandardCharsets.US_ASCII), new Random(1));
    }

    private static String streamed(byte[] text, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SpaceCleaner cleaner = new SpaceCleaner(out::write);
        int at = 0;
        while (at < text.length) {
            int next = at + 1 + random.nextInt(text.length - at);
            cleaner.feed(text, at, next);
            at = next;
        }
        cleaner.finish();
        return out.toString(StandardCharsets.US_ASCII);
    }

    /** llama.cpp's passes, index for index: compaction in place, the apostrophe pass blanks a byte. */
    private static String batch(byte[] input) {
        byte[] text = input.clone();
        int total = text.length;

        int total1 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            text[total++] = x;
        }

        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++) {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }

        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
                byte x1 = text[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < total3) {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            text[total++] = x;
        }
        return new String(text, 0, total, StandardCharsets.US_ASCII);
    }
}
