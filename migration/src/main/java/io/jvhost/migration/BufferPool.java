package io.jvhost.migration;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reuses the destination's receive chunks. It never blocks and never limits: the reorder window
 * decides how many packets may be held, each held packet pins at most one chunk and each channel
 * reader fills one, and {@link #allocated()} lets tests check that bound.
 */
final class BufferPool {
    /** A chunk holds this much at least: one read(2) takes several packets of 64 KiB. */
    static final int MIN_CHUNK_BYTES = 256 * 1024;

    private final int chunkSize;
    private final ConcurrentLinkedQueue<Chunk> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger allocated = new AtomicInteger();

    /** Chunks for packets of up to {@code packetSize} bytes: room for a whole packet, its header and the next. */
    BufferPool(int packetSize) {
        this.chunkSize = (int) Math.max(MIN_CHUNK_BYTES, packetSize + 2L * StreamFormat.PACKET_HEADER_BYTES);
    }

    /** A chunk, cleared, held once (by the caller). */
    Chunk take() {
        Chunk c = free.poll();
        if (c == null) {
            allocated.incrementAndGet();
            c = new Chunk(ByteBuffer.allocateDirect(chunkSize), this);
        }
        c.reset();
        return c;
    }

    int allocated() {
        return allocated.get();
    }

    /**
     * A direct buffer a channel reader reads its socket into, packets after packets, and the
     * packets cut from it as slices: it goes back to the pool when the reader and every packet
     * cut from it let go of it.
     */
    static final class Chunk {
        private final ByteBuffer buffer;
        private final BufferPool pool;
        private final AtomicInteger holds = new AtomicInteger();

        private Chunk(ByteBuffer buffer, BufferPool pool) {
            this.buffer = buffer;
            this.pool = pool;
        }

        private void reset() {
            buffer.clear();
            holds.set(1);
        }

        /** Position: how far it is filled; the reader's to move. */
        ByteBuffer buffer() {
            return buffer;
        }

        /** {@code length} bytes from {@code offset}, held until {@link #release}d. */
        ByteBuffer slice(int offset, int length) {
            holds.incrementAndGet();
            return buffer.slice(offset, length);
        }

        /** Whether only the caller (its reader) holds it: no packet cut from it is still waiting. */
        boolean heldOnce() {
            return holds.get() == 1;
        }

        void release() {
            int left = holds.decrementAndGet();
            if (left == 0) {
                pool.free.add(this);
            } else if (left < 0) {
                throw new IllegalStateException("a receive chunk released more often than held");
            }
        }
    }
}
