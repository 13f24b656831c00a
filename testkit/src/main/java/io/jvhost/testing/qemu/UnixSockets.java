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
     * Whether {@code path} is a socket that is not yet listening: the kernel lists it in {@code
     * /proc/net/unix} (this network namespace's sockets) without __SO_ACCEPTCON. The file exists
     * from bind(2) on, before listen(2), and a connect in between is refused. A socket of another
     * network namespace (a sandboxed daemon's) is not listed; it counts as listening.
     */
    static boolean boundNotListening(Path path) {
        boolean bound = false;
        try {
            String name = path.toAbsolutePath().toString();
            for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
                String[] f = line.trim().split("\\s+");
                // Num RefCount Protocol Flags Type St Inode Path; accepted connections list the path too.
                if (f.length < 8 || !f[7].equals(name)) continue;
                if ((Long.parseLong(f[3], 16) & ACCEPTCON) != 0) return false;
                if (f[5].equals("01")) bound = true; // SS_UNCONNECTED: bound, not yet listening
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc: the file's existence is all there is to wait for
        }
        return bound;
    }

    private static final long ACCEPTCON = 0x10000;

    /**
     * Waits until {@code path} is a socket that listens, without connecting to it (a vhost-user
     * back-end may accept only one front-end, so a probe connection would use it up). Fails fast
     * with the owner's log tail if {@code owner} (may be null) exits first.
     */
    public static void awaitSocketFile(Path path, Duration timeout, ManagedProcess owner) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isSocket(path) || boundNotListening(path)) {
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
