package io.lora4j.internal;

/**
 * The lora4j engine could not be loaded. The message names what was tried (the
 * {@code lora4j.library.path} property or the jar resource) and why it failed; the cause is the
 * underlying {@link UnsatisfiedLinkError} or I/O error when there is one. It is itself an
 * {@code UnsatisfiedLinkError}, so it reaches the caller of the first bound function unwrapped.
 */
public final class NativeLibraryError extends UnsatisfiedLinkError {

    private static final long serialVersionUID = 1L;

    NativeLibraryError(String message, Throwable cause) {
        super(message);
        if (cause != null) initCause(cause);
    }
}
