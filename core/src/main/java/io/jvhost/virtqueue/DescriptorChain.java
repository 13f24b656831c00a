package io.jvhost.virtqueue;

import io.jvhost.memory.LoggedSegment;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * One request taken off a {@link SplitQueue}: the head index and its buffers, device-readable
 * ones first, then device-writable ones (the order virtio requires), already translated and
 * bounds-checked. Indirect tables are resolved; a buffer that crosses from one memory region
 * into the adjacent one appears as two buffers.
 *
 * <p>Readable buffers are read-only segments. Writable buffers are {@link LoggedSegment}s, so
 * writes through them reach the dirty log; whatever is written through their raw views is
 * logged when the chain is completed with {@link SplitQueue#addUsed(DescriptorChain, long)},
 * which must therefore report every byte written (virtio requires that of the used length).
 *
 * <p>A chain belongs to one thread at a time; hand it over with a happens-before edge.
 */
public final class DescriptorChain {
    private final SplitQueue queue;
    private final int generation;
    private final int head;
    private final MemorySegment[] readableRegion; // buffer i: its region, read-only
    private final long[] readableSpans; // buffer i: [3i] offset in its region, [3i+1] length, [3i+2] guest address
    private final LoggedSegment[] writable;
    private final long readableBytes;
    private final long writableBytes;
    private long loggedPrefix; // writable bytes [0, loggedPrefix) already logged by a ChainWriter
    private boolean completed;

    DescriptorChain(
            SplitQueue queue,
            int generation,
            int head,
            MemorySegment[] readableRegion,
            long[] readableSpans,
            LoggedSegment[] writable,
            long readableBytes,
            long writableBytes) {
        this.queue = queue;
        this.generation = generation;
        this.head = head;
        this.readableRegion = readableRegion;
        this.readableSpans = readableSpans;
        this.writable = writable;
        this.readableBytes = readableBytes;
        this.writableBytes = writableBytes;
    }

    /** The head descriptor index: what goes back on the used ring. */
    public int head() {
        return head;
    }

    public int readableCount() {
        return readableRegion.length;
    }

    /** Device-readable buffer {@code i} (read-only). */
    public MemorySegment readable(int i) {
        return readableRegion[i].asSlice(readableSpans[3 * i], readableSpans[3 * i + 1]);
    }

    public long readableAddress(int i) {
        Objects.checkIndex(i, readableRegion.length);
        return readableSpans[3 * i + 2];
    }

    public int writableCount() {
        return writable.length;
    }

    /** Device-writable buffer {@code i}; its guest address is {@link LoggedSegment#logAddress()}. */
    public LoggedSegment writable(int i) {
        return writable[i];
    }

    /** Total bytes in the device-readable buffers. */
    public long readableBytes() {
        return readableBytes;
    }

    /** Total bytes in the device-writable buffers. */
    public long writableBytes() {
        return writableBytes;
    }

    /** A cursor over the readable buffers, from the start. */
    public ChainReader reader() {
        return new ChainReader(readableRegion, readableSpans, readableBytes);
    }

    /** A cursor over the writable buffers, from the start; logs as it writes. */
    public ChainWriter writer() {
        return new ChainWriter(this, writable, writableBytes);
    }

    /** All readable bytes in one array. */
    public byte[] readAll() throws VirtqueueException {
        if (readableBytes > Integer.MAX_VALUE - 8) {
            throw new VirtqueueException("request of " + readableBytes + " bytes does not fit an array");
        }
        byte[] out = new byte[(int) readableBytes];
        reader().readFully(out, 0, out.length);
        return out;
    }

    public boolean isCompleted() {
        return completed;
    }

    SplitQueue queue() {
        return queue;
    }

    int generation() {
        return generation;
    }

    long loggedPrefix() {
        return loggedPrefix;
    }

    void extendLoggedPrefix(long upTo) {
        if (upTo > loggedPrefix) loggedPrefix = upTo;
    }

    void markCompleted() {
        completed = true;
    }

    @Override
    public String toString() {
        return "DescriptorChain[head=" + head + ", readable=" + readableRegion.length + " (" + readableBytes
                + " bytes), writable=" + writable.length + " (" + writableBytes + " bytes)]";
    }
}
