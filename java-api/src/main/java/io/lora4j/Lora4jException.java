package io.lora4j;

/** An error reported by the native engine (or by lora4j's Java layer on its behalf). */
public class Lora4jException extends RuntimeException {
    private final int status;

    public Lora4jException(int status, String message) {
        super(message);
        this.status = status;
    }

    public Lora4jException(String message, Throwable cause) {
        super(message, cause);
        this.status = -1;
    }

    /** The engine's status code ({@code lora4j_status}), or -1 when the error arose in Java. */
    public int status() {
        return status;
    }
}
