package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.generate.InferenceContext;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.ScaledAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AdapterStackTest {
    @TempDir
    Path dir;

    /** Different ranks, targets, layers and rsLoRA: the merged adapter equals the two applied together, also after a save. */
    @Test
    void mergedAdapterEqualsTheStack() {
        try (Model model = Model.load(TinyModel.path());
             Adapter a = RlFixtures.randomAdapter(model, LoraConfig.builder().rank(3).alpha(5).targets(LoraTarget.ATTN_Q,
                     LoraTarget.FFN_UP).layers(0, 2).build(), 1, 0.2);
             Adapter b = RlFixtures.randomAdapter(model, LoraConfig.builder().rank(4).alpha(8).rslora(true)
                     .targets(LoraTarget.ATTN_Q, LoraTarget.ATTN_V).layers(1, 4).build(), 2, 0.2);
             Adapter merged = AdapterStack.merge(model, a, b)) {
            assertEquals(7, merged.info().rank());
            Path file = dir.resolve("merged.gguf");
            merged.save(file);
            int[] prompt = model.tokenizer().encode("the cat sees the red", true, true);
            try (Adapter loaded = Adapter.load(model, file);
                 InferenceContext stack = new InferenceContext(model, 16, 1, 1, true);
                 InferenceContext one = new InferenceContext(model, 16, 1, 1, true);
                 InferenceContext reloaded = new InferenceContext(model, 16, 1, 1, true)) {
                stack.setAdapters(List.of(ScaledAdapter.of(a), ScaledAdapter.of(b)));
                one.setAdapters(List.of(ScaledAdapter.of(merged)));
                reloaded.setAdapters(List.of(ScaledAdapter.of(loaded)));
                float[] expected = stack.decode(0, prompt);
                assertArrayEquals(expected, one.decode(0, prompt), 1e-4f);
                assertArrayEquals(expected, reloaded.decode(0, prompt), 1e-4f);
            }
        }
    }
}
