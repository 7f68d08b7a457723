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
    private int dependents;

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

    /**
     * Registers an object that holds native pointers into this handle (a context over a model):
     * until the returned action runs, {@link #close} refuses to free the handle.
     */
    public Runnable addDependent(String dependent) {
        lock.writeLock().lock();
        try {
            ensureOpen();
            dependents++;
        } finally {
            lock.writeLock().unlock();
        }
        boolean[] released = {false};
        return () -> {
            lock.writeLock().lock();
            try {
                if (!released[0]) {
                    released[0] = true;
                    dependents--;
                }
            } finally {
                lock.writeLock().unlock();
            }
        };
    }

    /** Runs {@code release} once; later calls do nothing. */
    public void close(Runnable release) {
        lock.writeLock().lock();
        try {
            if (closed) return;
            if (dependents > 0) {
                throw new IllegalStateException(what + " still has " + dependents
                        + " open context(s) using it; close them first");
            }
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
