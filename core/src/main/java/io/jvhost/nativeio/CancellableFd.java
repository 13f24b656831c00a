package io.jvhost.nativeio;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * Blocking-style streams over one fd (a pipe end, a socket) that another thread can abort at
 * once with {@link #cancel()}. Closing an fd does not wake a thread blocked in read(2) on it,
 * so the fd is made non-blocking and every wait is an epoll on the fd plus a private eventfd
 * that {@link #cancel()} signals. A cancelled or timed-out wait throws
 * {@link InterruptedIOException}.
 *
 * <p>The fd is owned: {@link #close()} closes it, which for a pipe's write end is the EOF the
 * reader waits for.
 */
public final class CancellableFd implements AutoCloseable {
    private static final long DATA = 0, CANCEL = 1;

    private final Fd fd;
    private final EventFd cancel;
    private final Epoll epoll;
    private final int waitEvents;
    private final long timeoutNanos;
    private volatile boolean cancelled;

    private CancellableFd(Fd fd, int waitEvents, long timeoutNanos) throws NativeException {
        this.fd = fd;
        this.waitEvents = waitEvents;
        this.timeoutNanos = timeoutNanos;
        Libc.setNonBlocking(fd, true);
        EventFd c = EventFd.create(true);
        Epoll e = null;
        try {
            e = Epoll.create();
            e.add(fd, waitEvents, DATA);
            e.add(c.fd(), Epoll.EPOLLIN, CANCEL);
        } catch (NativeException ex) {
            c.close();
            if (e != null) e.close();
            throw ex;
        }
        this.cancel = c;
        this.epoll = e;
    }

    /**
     * For reading; {@code idleTimeoutMillis} > 0 fails a read that waits longer than that for
     * the next byte (0: wait until data, EOF or cancel).
     */
    public static CancellableFd forReading(Fd fd, long idleTimeoutMillis) throws NativeException {
        return new CancellableFd(fd, Epoll.EPOLLIN, idleTimeoutMillis * 1_000_000);
    }

    /** For writing; the timeout bounds each wait for room in the fd, as for reading. */
    public static CancellableFd forWriting(Fd fd, long idleTimeoutMillis) throws NativeException {
        return new CancellableFd(fd, Epoll.EPOLLOUT, idleTimeoutMillis * 1_000_000);
    }

    public Fd fd() {
        return fd;
    }

    /** Makes the current and every later wait throw; callable from any thread, any number of times. */
    public void cancel() {
        cancelled = true;
        try {
            cancel.signal();
        } catch (NativeException | IllegalStateException e) {
            // Already closed, or the counter is full: the flag alone still stops the next wait.
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /**
     * Waits until the fd is ready in this object's direction (or hung up / in error, which the
     * next read or write then reports).
     */
    public void awaitReady() throws IOException {
        long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
        try (Epoll.Events events = new Epoll.Events(2)) {
            while (true) {
                if (cancelled) throw new InterruptedIOException("transfer cancelled");
                int wait = 1000; // bounded, so a lost wake-up costs at most this much
                if (deadline != 0) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0)
                        throw new InterruptedIOException("no progress for " + timeoutNanos / 1_000_000 + " ms");
                    wait = (int) Math.min(wait, left);
                }
                int n = epoll.await(events, wait);
                for (int i = 0; i < n; i++) {
                    if (events.token(i) == DATA) {
                        if (cancelled) throw new InterruptedIOException("transfer cancelled");
                        return;
                    }
                }
            }
        }
    }

    /** Reads into a native buffer: bytes read, 0 at EOF; waits as needed. */
    public long read(MemorySegment buf, long len) throws IOException {
        while (true) {
            if (cancelled) throw new InterruptedIOException("transfer cancelled");
            long r = Libc.read(fd, buf, len);
            if (r >= 0) return r;
            awaitReady();
        }
    }

    /** Writes the whole native buffer; waits as needed. */
    public void writeFully(MemorySegment buf, long len) throws IOException {
        long done = 0;
        while (done < len) {
            if (cancelled) throw new InterruptedIOException("transfer cancelled");
            long w = Libc.write(fd, buf.asSlice(done), len - done);
            if (w >= 0) {
                done += w;
            } else {
                awaitReady();
            }
        }
    }

    /**
     * Writes what the fd takes now of {@code b[off, off + len)}, without waiting: the bytes
     * written, 0 when it has no room.
     */
    public int writeNow(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        int done = 0;
        while (done < len) {
            if (cancelled) throw new InterruptedIOException("transfer cancelled");
            int w = HeapIo.write(fd, b, off + done, len - done);
            if (w < 0) break;
            done += w;
        }
        return done;
    }

    /**
     * An InputStream over this fd; closing it closes the fd. Reads go straight into the caller's
     * array ({@link HeapIo}: the fd is non-blocking), one read(2) per call. It is also a
     * {@link ReadableByteChannel}: a direct buffer is read into without any copy in between.
     */
    public InputStream input() {
        return new Input();
    }

    /**
     * An OutputStream over this fd; closing it closes the fd (EOF for a pipe's reader). Writes go
     * straight from the caller's array ({@link HeapIo}). It is also a {@link WritableByteChannel}
     * that writes a direct buffer straight from its native memory.
     */
    public OutputStream output() {
        return new Output();
    }

    private final class Input extends InputStream implements ReadableByteChannel {
        private volatile boolean open = true;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            while (true) {
                if (cancelled) throw new InterruptedIOException("transfer cancelled");
                int r = HeapIo.read(fd, b, off, len);
                if (r > 0) return r;
                if (r == 0) return -1;
                awaitReady();
            }
        }

        /** One read(2) (after waiting as needed) into {@code dst}'s remaining bytes; -1 at EOF. */
        @Override
        public synchronized int read(ByteBuffer dst) throws IOException {
            if (!dst.hasRemaining()) return 0;
            if (!dst.isDirect()) {
                int n = read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                if (n > 0) dst.position(dst.position() + n);
                return n;
            }
            int n = (int) CancellableFd.this.read(MemorySegment.ofBuffer(dst), dst.remaining());
            if (n == 0) return -1;
            dst.position(dst.position() + n);
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public synchronized void close() { // after a read or write in progress: its fd stays ours
            open = false;
            CancellableFd.this.close();
        }
    }

    private final class Output extends OutputStream implements WritableByteChannel {
        private volatile boolean open = true;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            while (len > 0) {
                if (cancelled) throw new InterruptedIOException("transfer cancelled");
                int w = HeapIo.write(fd, b, off, len);
                if (w >= 0) {
                    off += w;
                    len -= w;
                } else {
                    awaitReady();
                }
            }
        }

        /** Writes all of {@code src}'s remaining bytes (waiting as needed), as the stream's write does. */
        @Override
        public synchronized int write(ByteBuffer src) throws IOException {
            int n = src.remaining();
            if (src.isDirect()) {
                writeFully(MemorySegment.ofBuffer(src), n);
            } else if (src.hasArray()) {
                write(src.array(), src.arrayOffset() + src.position(), n);
            } else { // a read-only heap buffer
                byte[] copy = new byte[n];
                src.duplicate().get(copy);
                write(copy, 0, n);
            }
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public synchronized void close() { // after a read or write in progress: its fd stays ours
            open = false;
            CancellableFd.this.close();
        }
    }

    @Override
    public void close() {
        fd.close();
        epoll.close();
        cancel.close();
    }
}
