package io.lora4j.train.data;

import static io.lora4j.train.data.CharEncoder.BOS;
import static io.lora4j.train.data.CharEncoder.EOS;
import static io.lora4j.train.data.CharEncoder.EOT;
import static io.lora4j.train.data.CharEncoder.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExampleEncoderTest {

    private final ExampleEncoder encoder = ExampleEncoder.builder(new CharEncoder())
            .chatRenderer(CharEncoder.chatRenderer(false)).build();

    private static DataRecord record(Map<String, ?> fields) {
        return Dataset.of("mem", List.of(fields)).get(0);
    }

    private static boolean[] mask(String pattern) {
        boolean[] m = new boolean[pattern.length()];
        for (int i = 0; i < m.length; i++) m[i] = pattern.charAt(i) == '1';
        return m;
    }

    @Test
    void textTrainsEveryTokenAndEndsWithEos() {
        Example e = encoder.encode(record(Map.of("text", "ab")));
        assertArrayEquals(new int[] {BOS, id('a'), id('b'), EOS}, e.tokens());
        assertArrayEquals(mask("0111"), e.lossMask());
        assertEquals("mem:1", e.source());

        Example noEos = ExampleEncoder.builder(new CharEncoder()).eosAfterText(false).build()
                .encode(record(Map.of("text", "ab")));
        assertArrayEquals(new int[] {BOS, id('a'), id('b')}, noEos.tokens());
    }

    @Test
    void promptIsMaskedAndEosAppendedToCompletion() {
        Example e = encoder.encode(record(Map.of("prompt", "Q:", "completion", "A")));
        assertArrayEquals(new int[] {BOS, id('Q'), id(':'), id('A'), EOS}, e.tokens());
        assertArrayEquals(mask("00011"), e.lossMask());
        assertEquals(2, e.targetCount());
    }

    @Test
    void eosIsNotDoubledAndFirstTokenIsNeverATarget() {
        Example e = encoder.encode(record(Map.of("prompt", "Q", "completion", "A</s>")));
        assertArrayEquals(new int[] {BOS, id('Q'), id('A'), EOS}, e.tokens());

        // No BOS and an empty prompt: the first completion token has nothing to be predicted from.
        ExampleEncoder noBos = ExampleEncoder.builder(new CharEncoder(false)).build();
        Example f = noBos.encode(record(Map.of("prompt", "", "completion", "AB")));
        assertArrayEquals(new int[] {id('A'), id('B'), EOS}, f.tokens());
        assertArrayEquals(mask("011"), f.lossMask());
    }

    @Test
    void chatTrainsOnlyAssistantContentAndEndOfTurn() {
        Example e = encoder.encode(record(Map.of("messages", List.of(
                Map.of("role", "user", "content", "hi"),
                Map.of("role", "assistant", "content", "yo"),
                Map.of("role", "user", "content", "x"),
                Map.of("role", "assistant", "content", "z")))));
        // <s> <|user|>hi<eot>\n <|assistant|>yo<eot>\n <|user|>x<eot>\n <|assistant|>z<eot>\n
        StringBuilder expectMask = new StringBuilder("0");
        expectMask.append("0".repeat("<|user|>hi".length())).append("0").append("0");
        expectMask.append("0".repeat("<|assistant|>".length())).append("111").append("0");
        expectMask.append("0".repeat("<|user|>x".length())).append("0").append("0");
        expectMask.append("0".repeat("<|assistant|>".length())).append("11").append("0");
        assertArrayEquals(mask(expectMask.toString()), e.lossMask());
        assertEquals(BOS, e.tokens()[0]);
        int firstTarget = expectMask.indexOf("1");
        assertArrayEquals(new int[] {id('y'), id('o'), EOT}, java.util.Arrays.copyOfRange(e.tokens(), firstTarget, firstTarget + 3));
    }

    @Test
    void templateBosIsNotDoubled() {
        ExampleEncoder withBosTemplate = ExampleEncoder.builder(new CharEncoder())
                .chatRenderer(CharEncoder.chatRenderer(true)).build();
        Example e = withBosTemplate.encode(record(Map.of("messages", List.of(
                Map.of("role", "user", "content", "hi"), Map.of("role", "assistant", "content", "yo")))));
        assertEquals(BOS, e.tokens()[0]);
        assertEquals(id('<'), e.tokens()[1]);
    }

    @Test
    void chatWithoutAssistantIsAnErrorNamingTheLine() {
        var e = assertThrows(DatasetFormatException.class, () -> encoder.encode(record(Map.of("messages",
                List.of(Map.of("role", "user", "content", "hi"))))));
        assertEquals("mem:1: no assistant message, so nothing to train on", e.getMessage());
        var noRenderer = ExampleEncoder.builder(new CharEncoder()).build();
        assertThrows(IllegalStateException.class, () -> noRenderer.encode(record(Map.of("messages",
                List.of(Map.of("role", "assistant", "content", "hi"))))));
    }

    @Test
    void tooLongIsAnErrorUnlessTruncating() {
        DataRecord r = record(Map.of("prompt", "abc", "completion", "defg"));
        var strict = ExampleEncoder.builder(new CharEncoder()).maxLength(6).build();
        var e = assertThrows(DatasetFormatException.class, () -> strict.encode(r));
        assertTrue(e.getMessage().startsWith("mem:1: 9 tokens, longer than the maximum of 6"), e.getMessage());

        Example cut = ExampleEncoder.builder(new CharEncoder()).maxLength(6).truncate(true).build().encode(r);
        assertArrayEquals(new int[] {BOS, id('a'), id('b'), id('c'), id('d'), id('e')}, cut.tokens());
        assertArrayEquals(mask("000011"), cut.lossMask());

        var tiny = ExampleEncoder.builder(new CharEncoder()).maxLength(3).truncate(true).build();
        var none = assertThrows(DatasetFormatException.class, () -> tiny.encode(r));
        assertTrue(none.getMessage().startsWith("mem:1: no token left to train on after truncation"), none.getMessage());
    }

    @Test
    void promptOnlyRecordsCannotBeTrainedBySft() {
        var e = assertThrows(DatasetFormatException.class, () -> encoder.encode(record(Map.of("prompt", "q"))));
        assertTrue(e.getMessage().startsWith("mem:1: a prompt record has no single target"), e.getMessage());
    }

    @Test
    void preferencePairSharesThePrompt() {
        PreferencePair p = encoder.encodePair(record(Map.of("prompt", "Q", "chosen", "a", "rejected", "bc")));
        assertArrayEquals(new int[] {BOS, id('Q'), id('a'), EOS}, p.chosen().tokens());
        assertArrayEquals(new int[] {BOS, id('Q'), id('b'), id('c'), EOS}, p.rejected().tokens());
        assertArrayEquals(mask("00111"), p.rejected().lossMask());
    }
}
