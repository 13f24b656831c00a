package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/** An eventfd counter: vhost-user kick (guest → device) and call (device → guest) notifications. */
public final class EventFd implements AutoCloseable {
    private final Fd fd;

    private EventFd(Fd fd) {
        this.fd = fd;
    }

    /** A new close-on-exec eventfd, optionally non-blocking. */
    public static EventFd create(boolean nonBlocking) throws NativeException {
        return new EventFd(Libc.eventfd(0, Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0)));
    }

    /** Wraps an eventfd received from a peer (ownership moves here). */
    public static EventFd adopt(Fd fd) {
        return new EventFd(fd);
    }

    public Fd fd() {
        return fd;
    }

    /** Adds 1 to the counter, waking whoever polls the other side. */
    public void signal() throws NativeException {
        try (Scratch a = Scratch.open()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            long r = Libc.write(fd, one, 8);
            // EAGAIN only if the counter would overflow (2^64-2): the reader is already woken.
            if (r != 8 && r != -1) throw new NativeException("write(eventfd)", Errno.EIO);
        }
    }

    /**
     * Reads and resets the counter. Returns the count, or 0 when non-blocking and nothing was
     * signalled.
     */
    public long drain() throws NativeException {
        try (Scratch a = Scratch.open()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            long r = Libc.read(fd, v, 8);
            return r == 8 ? v.get(JAVA_LONG, 0) : 0;
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
