package io.jvhost.migration;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reuses packet buffers on the destination. It never blocks and never limits: the reorder window
 * decides how many packets may be held, and {@link #allocated()} lets tests check that bound.
 */
final class BufferPool {
    private final int bufferSize;
    private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger allocated = new AtomicInteger();

    BufferPool(int bufferSize) {
        this.bufferSize = bufferSize;
    }

    /** A direct buffer of the pool's size: the socket is read into it and the output written from it. */
    ByteBuffer take() {
        ByteBuffer b = free.poll();
        if (b == null) {
            allocated.incrementAndGet();
            b = ByteBuffer.allocateDirect(bufferSize);
        }
        return b;
    }

    void give(ByteBuffer b) {
        if (b.isDirect() && b.capacity() == bufferSize) {
            free.add(b);
        }
    }

    int allocated() {
        return allocated.get();
    }
}
