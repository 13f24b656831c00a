package io.jvhost.nativeio;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Owns one file descriptor and closes it exactly once. The descriptor number is never reused
 * through this object after close: {@link #value()} then throws, so a stale number cannot be
 * handed to a syscall by mistake (the kernel may already have given it to someone else).
 */
public final class Fd implements AutoCloseable {
    private static final int CLOSED = -1;
    private final AtomicInteger fd;

    private Fd(int fd) {
        if (fd < 0) throw new IllegalArgumentException("negative file descriptor " + fd);
        this.fd = new AtomicInteger(fd);
    }

    /** Takes ownership of a descriptor returned by a syscall or received over a socket. */
    public static Fd adopt(int fd) {
        return new Fd(fd);
    }

    /** The descriptor number; throws if this Fd was closed. */
    public int value() {
        int v = fd.get();
        if (v == CLOSED) throw new IllegalStateException("file descriptor already closed");
        return v;
    }

    public boolean isOpen() {
        return fd.get() != CLOSED;
    }

    /** A second, independently owned descriptor for the same open file (F_DUPFD_CLOEXEC). */
    public Fd dup() throws NativeException {
        return adopt(Libc.dupCloexec(value()));
    }

    /**
     * Gives up ownership without closing: the caller (e.g. a child process or a peer after
     * sendmsg) becomes responsible for the number.
     */
    public int release() {
        int v = fd.getAndSet(CLOSED);
        if (v == CLOSED) throw new IllegalStateException("file descriptor already closed");
        return v;
    }

    @Override
    public void close() {
        int v = fd.getAndSet(CLOSED);
        if (v != CLOSED) Libc.closeQuietly(v);
    }

    @Override
    public String toString() {
        int v = fd.get();
        return v == CLOSED ? "Fd(closed)" : "Fd(" + v + ")";
    }
}
