package io.lora4j;

/**
 * A CUDA device was asked for but cannot be used; the message says why (the engine's reason when
 * the backend does not load, or which devices exist when the index is out of range).
 */
public final class CudaUnavailableException extends Lora4jException {
    public CudaUnavailableException(int status, String message) {
        super(status, message);
    }
}
