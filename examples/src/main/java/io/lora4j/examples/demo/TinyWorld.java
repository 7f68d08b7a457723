package io.lora4j.examples.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The made-up language the bundled tiny model is pretrained on: short sentences from a small
 * grammar, sometimes written in capitals (signs, shouting), so the model knows both letter cases.
 * Everything is generated from a seed; nothing is downloaded.
 */
public final class TinyWorld {
    static final String[] ANIMALS = {"cat", "dog", "fox", "owl", "cow", "hen", "pig", "bee", "ant", "bat", "elk",
            "yak", "emu", "ram", "eel", "cod"};
    static final String[] THINGS = {"box", "cup", "hat", "map", "pen", "key", "bag", "mat", "pot", "jar", "bed",
            "car", "bus", "sun", "log", "net"};
    static final String[] COLOURS = {"red", "blue", "green", "pink", "gold", "grey", "tan", "black", "white"};
    static final String[] VERBS = {"sees", "finds", "likes", "takes", "wants", "has", "gets", "moves", "hides"};
    static final String[] PLACES = {"park", "farm", "town", "lake", "hill", "shop", "yard", "barn", "road"};
    static final String[] ADVERBS = {"today", "now", "again", "slowly", "quickly", "later"};

    private final SplittableRandom rng;

    public TinyWorld(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    private String pick(String[] words) {
        return words[rng.nextInt(words.length)];
    }

    /** One sentence of the language. */
    public String sentence() {
        return switch (rng.nextInt(5)) {
            case 0 -> "the " + pick(ANIMALS) + " " + pick(VERBS) + " the " + pick(COLOURS) + " " + pick(THINGS) + ".";
            case 1 -> "a " + pick(COLOURS) + " " + pick(ANIMALS) + " is in the " + pick(PLACES) + ".";
            case 2 -> "the " + pick(ANIMALS) + " " + pick(VERBS) + " a " + pick(THINGS) + " " + pick(ADVERBS) + ".";
            case 3 -> "my " + pick(THINGS) + " is " + pick(COLOURS) + " and my " + pick(THINGS) + " is " + pick(COLOURS) + ".";
            default -> "the " + pick(ANIMALS) + " and the " + pick(ANIMALS) + " go to the " + pick(PLACES) + ".";
        };
    }

    /** Pretraining lines: sentences, and some of them as a sign in capitals. */
    public List<String> corpus(int lines) {
        List<String> out = new ArrayList<>(lines);
        for (int i = 0; i < lines; i++) {
            String s = sentence();
            out.add(rng.nextInt(3) == 0 ? s + " the sign says " + s.toUpperCase() : s);
        }
        return out;
    }

    /** A few words of the language (the fine-tuning task's inputs). */
    public String phrase() {
        return switch (rng.nextInt(3)) {
            case 0 -> pick(COLOURS) + " " + pick(ANIMALS);
            case 1 -> pick(ANIMALS) + " " + pick(VERBS) + " " + pick(THINGS);
            default -> pick(COLOURS) + " " + pick(THINGS) + " " + pick(ADVERBS);
        };
    }
}
