package io.lora4j.train.data;

import io.lora4j.chat.ChatMessage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DatasetTest {

    @TempDir
    Path dir;

    private Path write(String content) throws IOException {
        Path file = dir.resolve("data.jsonl");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void readsEachShapeAndKeepsEveryField() throws IOException {
        Dataset text = Dataset.jsonl(write("{\"text\":\"hello\"}\n\n{\"text\":\"world\",\"id\":7}\n"));
        assertEquals(RecordShape.TEXT, text.shape());
        assertEquals(2, text.size());
        assertEquals(3, text.get(1).line(), "blank lines still count");
        assertEquals(7L, text.get(1).fields().get("id"));

        Dataset pc = Dataset.jsonl(write("{\"prompt\":\"2+2=\",\"completion\":\"4\",\"answer\":4,\"tags\":[\"a\",null]}\n"));
        assertEquals(RecordShape.PROMPT_COMPLETION, pc.shape());
        DataRecord r = pc.get(0);
        assertEquals("2+2=", r.prompt());
        assertEquals("4", r.completion());
        assertEquals(4L, r.fields().get("answer"));
        assertEquals(java.util.Arrays.asList("a", null), r.fields().get("tags"));
        assertThrows(UnsupportedOperationException.class, () -> r.fields().put("x", 1));

        Dataset chat = Dataset.jsonl(write("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"hello\"}]}"));
        assertEquals(RecordShape.MESSAGES, chat.shape());
        assertEquals(List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "hello")),
                chat.get(0).messages());

        Dataset pairs = Dataset.jsonl(write("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}"));
        assertEquals(RecordShape.PREFERENCE, pairs.shape());
        assertEquals("b", pairs.get(0).rejected());
    }

    @Test
    void recordsOfAnExpectedShapeMayCarryMoreFields() throws IOException {
        Path file = write("{\"prompt\":\"q\",\"completion\":\"c\",\"answer\":\"42\"}\n{\"prompt\":\"r\"}\n");
        Dataset prompts = Dataset.jsonl(file, RecordShape.PROMPT);
        assertEquals(RecordShape.PROMPT, prompts.shape());
        assertEquals("42", prompts.get(0).fields().get("answer"));
        assertThrows(IllegalStateException.class, () -> prompts.get(0).completion());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            bad JSON               | {"text": "fine"} | {"text": "oops"                      | 2 | bad JSON
            trailing garbage       | {"text": "fine"} | {"text": "a"} x                       | 2 | bad JSON
            duplicate key          | {"text": "fine"} | {"text": "a", "text": "b"}            | 2 | Duplicate field
            not an object          | {"text": "fine"} | ["text"]                              | 2 | expected a JSON object, got array
            missing completion     | {"prompt": "p", "completion": "c"} | {"prompt": "p"}     | 2 | missing field 'completion'
            completion not string  | {"prompt": "p", "completion": "c"} | {"prompt": "p", "completion": 5} | 2 | field 'completion' must be a string, got number
            empty completion       | {"prompt": "p", "completion": "c"} | {"prompt": "p", "completion": ""} | 2 | field 'completion' is empty
            prompt null            | {"prompt": "p", "completion": "c"} | {"prompt": null, "completion": "c"} | 2 | field 'prompt' must be a string, got null
            unknown role           | {"text": "fine"} | {"messages": [{"role": "bot", "content": "x"}]} | 1 | messages[0].role 'bot' is unknown
            content wrong type     | {"messages": [{"role": "user", "content": "x"}]} | {"messages": [{"role": "user", "content": 3}]} | 2 | messages[0].content must be a string, got number
            messages not array     | {"messages": [{"role": "user", "content": "x"}]} | {"messages": "hi"} | 2 | field 'messages' must be an array, got string
            empty assistant        | {"messages": [{"role": "user", "content": "x"}]} | {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": " "}]} | 2 | messages[1] (assistant) has empty content
            mixed shapes           | {"text": "fine"} | {"prompt": "p", "completion": "c"}    | 2 | missing field 'text' (this file's records are text, as line 1 set)
            ambiguous record       | {"text": "fine"} | {"text": "a", "completion": "c"}      | 2 | a prompt/completion record [completion, text], but line 1 made this file's records text
            no known fields        | {"text": "fine"} | {"foo": 1}                            | 1 | no known record fields [foo]
            """)
    void malformedLineNamesFileAndLine(String name, String first, String second, int badLine, String problem)
            throws IOException {
        // The bad record is on the given line; put a blank line first to check numbering is by file line.
        Path file = badLine == 1 ? write(second + "\n") : write(first + "\n" + second + "\n");
        var e = assertThrows(DatasetFormatException.class, () -> Dataset.jsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":" + badLine + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(badLine, e.line());
        assertEquals(file.toString(), e.source());
    }

    @Test
    void lineNumbersCountBlankLines() throws IOException {
        Path file = write("{\"text\":\"a\"}\n\n\n{\"text\":7}\n");
        var e = assertThrows(DatasetFormatException.class, () -> Dataset.jsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":4: field 'text' must be a string, got number"), e.getMessage());
    }

    @Test
    void expectedShapeIsChecked() throws IOException {
        Path file = write("{\"text\":\"a\"}\n");
        var e = assertThrows(DatasetFormatException.class, () -> Dataset.jsonl(file, RecordShape.PROMPT_COMPLETION));
        assertTrue(e.getMessage().startsWith(file + ":1: missing field 'prompt'"), e.getMessage());
    }

    @Test
    void emptyFileIsAnError() throws IOException {
        Path empty = write("");
        var e = assertThrows(IllegalArgumentException.class, () -> Dataset.jsonl(empty));
        assertTrue(e.getMessage().contains(empty + ": no records"), e.getMessage());
        Path blank = write("\n  \n\n");
        assertThrows(IllegalArgumentException.class, () -> Dataset.jsonl(blank));
    }

    @Test
    void invalidUtf8NamesTheLine() throws IOException {
        Path file = dir.resolve("bad.jsonl");
        byte[] good = "{\"text\":\"a\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'};
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(file, all);
        var e = assertThrows(DatasetFormatException.class, () -> Dataset.jsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":2: not valid UTF-8"), e.getMessage());
    }

    @Test
    void byteOrderMarkIsIgnored() throws IOException {
        assertEquals("a", Dataset.jsonl(write("\uFEFF{\"text\":\"a\"}\n")).get(0).text());
    }

    @Test
    void missingFileIsAnIoError() {
        var e = assertThrows(UncheckedIOException.class, () -> Dataset.jsonl(dir.resolve("nope.jsonl")));
        assertTrue(e.getMessage().contains("nope.jsonl"));
    }

    @Test
    void inMemoryRecordsAreValidatedToo() {
        Dataset d = Dataset.of("mem", List.of(Map.of("text", "a"), Map.of("text", "b")));
        assertEquals("mem:2", d.get(1).location());
        var e = assertThrows(DatasetFormatException.class,
                () -> Dataset.of("mem", List.of(Map.of("text", "a"), Map.of("text", 3))));
        assertTrue(e.getMessage().startsWith("mem:2: field 'text' must be a string"), e.getMessage());
    }

    private static Dataset numbered(int n) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) rows.add(Map.of("text", "t" + i));
        return Dataset.of("numbers", rows);
    }

    @Test
    void splitIsSeededDisjointAndComplete() {
        Dataset d = numbered(50);
        DatasetSplit s = d.split(0.2, 42);
        assertEquals(10, s.eval().size());
        assertEquals(40, s.train().size());
        Set<Integer> seen = new HashSet<>();
        for (DataRecord r : s.train()) assertTrue(seen.add(r.line()));
        for (DataRecord r : s.eval()) assertTrue(seen.add(r.line()), "eval overlaps train");
        assertEquals(50, seen.size());

        assertEquals(lines(s.eval()), lines(d.split(0.2, 42).eval()), "same seed, same split");
        assertNotEquals(lines(s.eval()), lines(d.split(0.2, 43).eval()), "another seed, another split");
        List<Integer> evalLines = lines(s.eval());
        assertEquals(evalLines.stream().sorted().toList(), evalLines, "file order kept");
    }

    @Test
    void splitEdgeCases() {
        assertTrue(numbered(5).split(0, 1).eval().isEmpty());
        assertEquals(1, numbered(5).split(0.01, 1).eval().size(), "a positive fraction gives at least one");
        assertThrows(IllegalArgumentException.class, () -> numbered(1).split(0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> numbered(5).split(1.0, 1));
        assertThrows(IllegalArgumentException.class, () -> numbered(5).split(Double.NaN, 1));
    }

    private static List<Integer> lines(Dataset d) {
        return d.records().stream().map(DataRecord::line).toList();
    }
}
