package io.jvhost.testing.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;

/** Waiting for unix sockets that another process creates. */
public final class UnixSockets {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private UnixSockets() {}

    /** Whether {@code path} exists and is a socket. */
    public static boolean isSocket(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return ((Integer) mode & S_IFMT) == S_IFSOCK;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Waits until {@code path} is a socket, without connecting to it (a vhost-user back-end may
     * accept only one front-end, so a probe connection would use it up). Fails fast with the
     * owner's log tail if {@code owner} (may be null) exits first.
     */
    public static void awaitSocketFile(Path path, Duration timeout, ManagedProcess owner) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isSocket(path)) {
            if (owner != null && !owner.isAlive()) {
                throw new AssertionError(owner.name() + " (pid " + owner.pid() + ") exited with code "
                        + owner.process().exitValue() + " before creating " + path + "; last lines of "
                        + owner.log() + ":\n" + owner.logTail(30));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no socket " + path + " after " + TestRun.secs(timeout)
                        + (owner == null
                                ? ""
                                : " from " + owner + "; last lines of " + owner.log() + ":\n" + owner.logTail(30)));
            }
            sleep(20);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
