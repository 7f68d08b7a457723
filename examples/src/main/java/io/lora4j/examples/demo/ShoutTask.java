package io.lora4j.examples.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo's fine-tuning task, which the pretrained model has never seen in this form:
 * "shout: red fox =>" must be answered " RED FOX". Train and test phrases are disjoint.
 */
public final class ShoutTask {
    public static String prompt(String phrase) {
        return "shout: " + phrase + " =>";
    }

    public static String answer(String phrase) {
        return " " + phrase.toUpperCase();
    }

    /** Exact match of the completion's first line (trimmed) with the expected capitals. */
    public static boolean correct(String phrase, String completion) {
        String line = completion.strip().split("\n", 2)[0].strip();
        return line.equals(phrase.toUpperCase());
    }

    /** Disjoint train and test phrases drawn from the tiny language. */
    public record Split(List<String> train, List<String> test) {}

    public static Split split(long seed, int train, int test) {
        TinyWorld world = new TinyWorld(seed);
        Set<String> phrases = new LinkedHashSet<>();
        int guard = 0;
        while (phrases.size() < train + test && guard++ < 100_000) phrases.add(world.phrase());
        List<String> all = new ArrayList<>(phrases);
        if (all.size() < train + test) throw new IllegalStateException("the tiny language has too few phrases");
        return new Split(all.subList(0, train), all.subList(train, train + test));
    }

    /** {"prompt","completion","answer"} records for SFT and RL. */
    public static List<Map<String, Object>> records(List<String> phrases) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String p : phrases) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("prompt", prompt(p));
            r.put("completion", answer(p));
            r.put("answer", p.toUpperCase());
            out.add(r);
        }
        return out;
    }
}
