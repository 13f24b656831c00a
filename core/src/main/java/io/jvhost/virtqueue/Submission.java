package io.jvhost.virtqueue;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A request the driver model posted with buffers it allocated: the head, the buffers, and the
 * allocator they return to on {@link #close()} (once the device has completed it).
 */
public final class Submission implements AutoCloseable {
    private final int head;
    private final List<GuestBuffer> readable;
    private final List<GuestBuffer> writable;
    private final BufferAllocator allocator;
    private boolean closed;

    Submission(int head, List<GuestBuffer> readable, List<GuestBuffer> writable, BufferAllocator allocator) {
        this.head = head;
        this.readable = readable;
        this.writable = writable;
        this.allocator = allocator;
    }

    public int head() {
        return head;
    }

    public List<GuestBuffer> readable() {
        return readable;
    }

    public List<GuestBuffer> writable() {
        return writable;
    }

    /** The first {@code length} bytes of the writable buffers, in order. */
    public byte[] readWritten(int length) {
        long capacity = writable.stream().mapToLong(GuestBuffer::length).sum();
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException("length " + length + " outside the " + capacity + " writable bytes");
        }
        byte[] out = new byte[length];
        int done = 0;
        for (GuestBuffer b : writable) {
            int n = (int) Math.min(b.length(), length - done);
            MemorySegment.copy(b.segment(), 0, MemorySegment.ofArray(out), done, n);
            done += n;
            if (done == length) break;
        }
        return out;
    }

    /** Returns the buffers to the allocator. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (GuestBuffer b : readable) allocator.free(b);
        for (GuestBuffer b : writable) allocator.free(b);
    }
}
