package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraPair;
import io.lora4j.train.data.Dataset;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Data and adapters shared by the RL tests (the bundled tiny model's language). */
final class RlFixtures {
    static final String[] ANIMALS = {"cat", "dog", "fox", "owl", "cow", "hen", "pig", "bee"};

    private RlFixtures() {}

    /** "the cat sees the" …: the model continues with a colour about one time in nine. */
    static Dataset prompts() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String a : ANIMALS) rows.add(Map.of("prompt", "the " + a + " sees the", "answer", "red"));
        return Dataset.of("prompts", rows);
    }

    static LoraConfig lora() {
        return LoraConfig.builder().rank(4).alpha(8).seed(1).build();
    }

    /** An adapter with random B (so it changes the model), standing in for an SFT result. */
    static Adapter randomAdapter(Model model, LoraConfig cfg, long seed, double size) {
        Adapter a = Adapter.create(model, cfg);
        SplittableRandom rng = new SplittableRandom(seed);
        for (LoraPair p : a.pairs()) {
            for (long i = 0; i < p.nOut() * p.rank(); i++) {
                p.b().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextDouble(-size, size));
            }
        }
        return a;
    }

    static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
