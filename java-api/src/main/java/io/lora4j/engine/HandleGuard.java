package io.lora4j.engine;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Guards a native handle shared across threads: calls run under a read lock, close takes the
 * write lock, so a handle is never freed while another thread is inside the engine with it, and
 * any use after close is an {@link IllegalStateException} instead of a crash.
 */
public final class HandleGuard {
    private final String what;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    public HandleGuard(String what) {
        this.what = what;
    }

    public <T> T call(Supplier<T> body) {
        lock.readLock().lock();
        try {
            ensureOpen();
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    public void run(Runnable body) {
        call(() -> {
            body.run();
            return null;
        });
    }

    /** Runs {@code release} once; later calls do nothing. */
    public void close(Runnable release) {
        lock.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            release.run();
        } finally {
            lock.writeLock().unlock();
        }
    }

    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return closed;
        } finally {
            lock.readLock().unlock();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(what + " is closed");
    }
}
