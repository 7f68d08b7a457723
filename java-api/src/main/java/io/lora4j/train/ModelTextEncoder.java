package io.lora4j.train;

import io.lora4j.tokenizer.Tokenizer;
import io.lora4j.train.data.TextEncoder;

/** The model's tokenizer as the data pipeline uses it (special-token texts parsed, as HF does). */
public record ModelTextEncoder(Tokenizer tokenizer) implements TextEncoder {
    @Override
    public int[] encode(String text, boolean addBos) {
        if (!addBos) return tokenizer.encodeContinuation(text, true);
        int[] ids = tokenizer.encode(text, false, true);
        if (!tokenizer.vocabulary().addBos() || tokenizer.bosId() < 0) return ids;
        int[] withBos = new int[ids.length + 1];
        withBos[0] = tokenizer.bosId();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    @Override
    public int bosId() {
        return tokenizer.bosId();
    }

    @Override
    public int eosId() {
        return tokenizer.eosId();
    }
}
