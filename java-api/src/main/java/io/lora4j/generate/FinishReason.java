package io.lora4j.generate;

/** Why generation ended. */
public enum FinishReason {
    /** an end-of-generation token (EOS, EOT, …) */
    EOS,
    /** a stop string appeared */
    STOP,
    /** maxTokens reached, or the context is full */
    LENGTH,
    /** the listener asked to stop */
    CANCELLED
}
