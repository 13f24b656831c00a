package io.jvhost.devices.fs.passthrough;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a piece of a test on a platform thread with a small stack (512 KiB, a common default), so
 * that recursion whose depth the input controls fails here whatever -Xss the test JVM has.
 */
final class SmallStack {
    static final long STACK_BYTES = 512 * 1024;

    private SmallStack() {}

    static <T> T call(Duration timeout, Callable<T> body) throws Throwable {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform()
                .name("small-stack")
                .stackSize(STACK_BYTES)
                .unstarted(() -> {
                    try {
                        result.set(body.call());
                    } catch (Throwable e) {
                        thrown.set(e);
                    }
                });
        t.start();
        t.join(timeout);
        if (t.isAlive()) throw new TimeoutException("still running after " + timeout);
        if (thrown.get() != null) throw thrown.get();
        return result.get();
    }
}
