package io.lora4j.generate;

/** Receives each token as it is generated; return false to stop generating. */
@FunctionalInterface
public interface TokenListener {
    boolean onToken(GeneratedToken token);
}
