package io.lora4j.train.rl;

import io.lora4j.generate.FinishReason;
import io.lora4j.train.data.DataRecord;
import io.lora4j.train.data.Dataset;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RewardsTest {
    private static final DataRecord RECORD = Dataset.of("q", List.of(Map.of("prompt", "2+2=", "answer", 4))).get(0);
    private static final DataRecord NO_ANSWER = Dataset.of("q", List.of(Map.of("prompt", "hi"))).get(0);

    private static List<Completion> completions(DataRecord r, String... texts) {
        return java.util.Arrays.stream(texts).map(t -> new Completion(r, new int[] {1}, new int[] {7, 8}, t,
                FinishReason.EOS)).toList();
    }

    @Test
    void builtInsCompareWithTheAnswerOrFindThePattern() {
        List<Completion> cs = completions(RECORD, " 4 ", "4.", "it is 4", "5");
        assertArrayEquals(new double[] {1, 0, 0, 0}, Rewards.parse("exact").score(cs));
        assertArrayEquals(new double[] {1, 1, 1, 0}, Rewards.parse("contains").score(cs));
        assertArrayEquals(new double[] {0, 1, 0, 0}, Rewards.parse("regex:^\\d\\.$").score(cs));
        assertArrayEquals(new double[] {1, 1, 1, 1}, Rewards.regex("\\d").score(cs));
        assertThrows(IllegalArgumentException.class, () -> Rewards.parse("fuzzy"));
        assertThrows(IllegalArgumentException.class, () -> Rewards.parse("regex:("));
    }

    @Test
    void failuresNameTheRecordAndBadScoresAreRefused() {
        Reward.RewardFailure e = assertThrows(Reward.RewardFailure.class,
                () -> Rewards.exact().score(completions(NO_ANSWER, "x")));
        assertTrue(e.getMessage().startsWith("q:1: ") && e.getMessage().contains("answer"), e.getMessage());
        Reward nan = Reward.of("nan", 1, (r, c) -> Double.NaN);
        assertThrows(Reward.RewardFailure.class, () -> nan.score(completions(RECORD, "x")));
        Reward shortBatch = Reward.ofBatch("short", 1, cs -> new double[] {1});
        assertThrows(Reward.RewardFailure.class, () -> shortBatch.score(completions(RECORD, "a", "b")));
        assertThrows(IllegalArgumentException.class, () -> Reward.of("bad name", 1, (r, c) -> 0));
    }

    @Test
    void tokenRewardsSeeTheCompletionIds() {
        Reward r = Reward.ofTokens("len", 2, (rec, ids) -> ids.length + ids[0]);
        assertArrayEquals(new double[] {9}, r.score(completions(RECORD, "x")));
        assertEquals(2, r.weight());
    }
}
