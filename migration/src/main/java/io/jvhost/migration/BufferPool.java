package io.jvhost.migration;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reuses packet buffers on the destination. It never blocks and never limits: the reorder window
 * decides how many packets may be held, and {@link #allocated()} lets tests check that bound.
 */
final class BufferPool {
    private final int bufferSize;
    private final ConcurrentLinkedQueue<byte[]> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger allocated = new AtomicInteger();

    BufferPool(int bufferSize) {
        this.bufferSize = bufferSize;
    }

    byte[] take() {
        byte[] b = free.poll();
        if (b == null) {
            allocated.incrementAndGet();
            b = new byte[bufferSize];
        }
        return b;
    }

    void give(byte[] b) {
        if (b.length == bufferSize) {
            free.add(b);
        }
    }

    int allocated() {
        return allocated.get();
    }
}
