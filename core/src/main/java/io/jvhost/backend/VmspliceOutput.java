package io.jvhost.backend;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Mapping;
import io.jvhost.nativeio.NativeException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Writes into a pipe the back-end created itself, with vmsplice(2): the pipe then references
 * our pages instead of copying them, and the reader copies once, straight out of them.
 *
 * <p>The catch with vmsplice is that a page handed over must not change until the reader has
 * copied it. Chunks are separate anonymous mappings and are reused only when they are provably
 * consumed: a pipe holds at most its capacity in bytes (one page per slot), so every byte more
 * than {@code capacity} behind what we have spliced has been read. Unmapping a chunk the pipe
 * still references is safe (the kernel holds its own page references), so closing never waits.
 */
final class VmspliceOutput extends OutputStream {
    static final int CHUNK = 256 * 1024;

    private record InFlight(Mapping chunk, long end) {}

    private final CancellableFd pipe;
    private final long capacity;
    private final Deque<InFlight> inFlight = new ArrayDeque<>();
    private final Deque<Mapping> free = new ArrayDeque<>();
    private Mapping current;
    private int fill;
    private long spliced;
    private boolean closed;

    /** {@code pipe} is the write end of a pipe; its capacity is read with F_GETPIPE_SZ. */
    VmspliceOutput(CancellableFd pipe) throws NativeException {
        this.pipe = pipe;
        this.capacity = Libc.fcntl(pipe.fd().value(), Libc.F_GETPIPE_SZ, "fcntl(F_GETPIPE_SZ)");
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) throw new IOException("stream closed");
        while (len > 0) {
            if (current == null) current = acquire();
            int n = Math.min(len, CHUNK - fill);
            MemorySegment.copy(b, off, current.segment(), ValueLayout.JAVA_BYTE, fill, n);
            fill += n;
            off += n;
            len -= n;
            if (fill == CHUNK) spliceCurrent();
        }
    }

    private void spliceCurrent() throws IOException {
        MemorySegment seg = current.segment();
        long done = 0;
        while (done < fill) {
            long w = Libc.vmsplice(pipe.fd(), seg.asSlice(done), fill - done, Libc.SPLICE_F_NONBLOCK);
            if (w >= 0) {
                done += w;
            } else {
                pipe.awaitReady();
            }
        }
        spliced += fill;
        inFlight.addLast(new InFlight(current, spliced));
        current = null;
        fill = 0;
    }

    private Mapping acquire() throws NativeException {
        while (!inFlight.isEmpty() && inFlight.peekFirst().end() <= spliced - capacity) {
            free.addLast(inFlight.removeFirst().chunk());
        }
        return free.isEmpty() ? Mapping.anonymous(CHUNK) : free.removeFirst();
    }

    /** Splices what is buffered and closes the pipe end: EOF for the reader. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        try {
            if (current != null && fill > 0) spliceCurrent();
        } finally {
            closed = true;
            release();
        }
    }

    /** Closes the pipe end and unmaps every chunk, without writing more (also after a failure). */
    void release() {
        closed = true;
        pipe.close();
        if (current != null) current.close();
        current = null;
        inFlight.forEach(f -> f.chunk().close());
        inFlight.clear();
        free.forEach(Mapping::close);
        free.clear();
    }
}
