package io.lora4j.train.rl;

import io.lora4j.train.data.DataRecord;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Built-in rewards (the command line's {@code --reward exact|contains|regex:PATTERN}). Each
 * scores 1 or 0. {@code exact} and {@code contains} compare with the record's {@code "answer"}.
 */
public final class Rewards {
    private Rewards() {}

    /** 1 when the completion, without surrounding whitespace, equals the record's answer (also stripped). */
    public static Reward exact() {
        return Reward.of("exact", 1, (record, completion) -> completion.strip().equals(answer(record)) ? 1 : 0);
    }

    /** 1 when the completion contains the record's answer (stripped of surrounding whitespace). */
    public static Reward contains() {
        return Reward.of("contains", 1, (record, completion) -> completion.contains(answer(record)) ? 1 : 0);
    }

    /** 1 when {@code pattern} (java.util.regex) is found anywhere in the completion. */
    public static Reward regex(String pattern) {
        Pattern p;
        try {
            p = Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("bad reward pattern: " + e.getMessage(), e);
        }
        return Reward.of("regex", 1, (record, completion) -> p.matcher(completion).find() ? 1 : 0);
    }

    /** {@code exact}, {@code contains} or {@code regex:PATTERN}. */
    public static Reward parse(String spec) {
        if (spec.startsWith("regex:")) return regex(spec.substring("regex:".length()));
        return switch (spec) {
            case "exact" -> exact();
            case "contains" -> contains();
            default -> throw new IllegalArgumentException("unknown reward '" + spec + "'; expected exact, contains or regex:PATTERN");
        };
    }

    /** The record's {@code "answer"} field as text, stripped; an error naming the record when it has none. */
    public static String answer(DataRecord record) {
        Object a = record.fields().get("answer");
        if (a == null || a instanceof java.util.Map || a instanceof java.util.List) {
            throw new IllegalArgumentException("record has no \"answer\" string or number to compare with");
        }
        return String.valueOf(a).strip();
    }
}
