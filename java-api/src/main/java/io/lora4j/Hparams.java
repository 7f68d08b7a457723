package io.lora4j;

/** Hyper-parameters of a loaded model, as the engine read and validated them. */
public record Hparams(
        Architecture architecture,
        boolean vocabOnly,
        int vocabSize,
        int contextLength,
        int embeddingLength,
        int blockCount,
        int headCount,
        int headCountKv,
        int feedForwardLength,
        int headDim,
        int ropeDimensions,
        RopeStyle ropeStyle,
        float ropeFreqBase,
        float rmsEps,
        RopeScaling ropeScaling,
        float ropeScaleFactor,
        boolean tiedOutput,
        boolean qkvBias) {

    /** Which pairs RoPE rotates. */
    public enum RopeStyle { NORM, NEOX }

    /** Context-extension schemes the metadata can ask for. */
    public enum RopeScaling { NONE, LINEAR, YARN, LLAMA3 }
}
