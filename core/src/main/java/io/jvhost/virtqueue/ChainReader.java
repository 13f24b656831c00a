package io.jvhost.virtqueue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A sequential cursor over a chain's device-readable buffers, as if they were one byte stream.
 * Running short of bytes is the guest's doing (a request shorter than its header says), so it
 * is a {@link VirtqueueException}, not an unchecked one.
 */
public final class ChainReader {
    // Built once: a layout made per call costs a VarHandle lookup in a map (LayoutPath) per read.
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Buffer i is [spans[3i], +spans[3i+1]) of regions[i] (its memory region, read-only).
    private final MemorySegment[] regions;
    private final long[] spans;
    private final long total;
    private int index;
    private long offsetInBuffer;
    private long position;

    ChainReader(MemorySegment[] regions, long[] spans, long total) {
        this.regions = regions;
        this.spans = spans;
        this.total = total;
    }

    public long position() {
        return position;
    }

    public long remaining() {
        return total - position;
    }

    private void require(long n) throws VirtqueueException {
        if (n < 0) throw new IllegalArgumentException("negative length " + n);
        if (n > remaining()) {
            throw new VirtqueueException(
                    "request too short: needs " + n + " more bytes at offset " + position + " but has " + remaining());
        }
    }

    public void skip(long n) throws VirtqueueException {
        require(n);
        advance(n, null, 0);
    }

    /** Copies up to {@code len} bytes; returns how many (0 at the end). */
    public int read(byte[] dst, int off, int len) {
        int n = (int) Math.min(len, remaining());
        advance(n, MemorySegment.ofArray(dst), off);
        return n;
    }

    public void readFully(byte[] dst, int off, int len) throws VirtqueueException {
        require(len);
        advance(len, MemorySegment.ofArray(dst), off);
    }

    public void readFully(byte[] dst) throws VirtqueueException {
        readFully(dst, 0, dst.length);
    }

    /** Fills {@code dst} completely. */
    public void readFully(MemorySegment dst) throws VirtqueueException {
        require(dst.byteSize());
        advance(dst.byteSize(), dst, 0);
    }

    /** Copies as many bytes as fit into {@code dst}'s remaining space; returns how many. */
    public int read(ByteBuffer dst) {
        int n = (int) Math.min(dst.remaining(), remaining());
        advance(n, MemorySegment.ofBuffer(dst), 0);
        dst.position(dst.position() + n);
        return n;
    }

    public byte readByte() throws VirtqueueException {
        return (byte) readLittleEndian(1);
    }

    public short readShort() throws VirtqueueException {
        return (short) readLittleEndian(2);
    }

    public int readInt() throws VirtqueueException {
        return (int) readLittleEndian(4);
    }

    public long readLong() throws VirtqueueException {
        return readLittleEndian(8);
    }

    private long readLittleEndian(int size) throws VirtqueueException {
        require(size);
        if (spans[3 * index + 1] - offsetInBuffer >= size) { // fast path: inside one buffer
            MemorySegment region = regions[index];
            long at = spans[3 * index] + offsetInBuffer;
            long v = switch (size) {
                case 1 -> region.get(ValueLayout.JAVA_BYTE, at);
                case 2 -> region.get(U16, at);
                case 4 -> region.get(U32, at);
                default -> region.get(U64, at);
            };
            advance(size, null, 0);
            return v;
        }
        byte[] b = new byte[size];
        advance(size, MemorySegment.ofArray(b), 0);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xff);
        return size == 8 ? v : (v << (64 - 8 * size)) >> (64 - 8 * size);
    }

    /** Moves {@code n} bytes forward, copying them to {@code dst} at {@code dstOffset} if given. */
    private void advance(long n, MemorySegment dst, long dstOffset) {
        while (n > 0) {
            long length = spans[3 * index + 1];
            long chunk = Math.min(n, length - offsetInBuffer);
            if (dst != null) {
                MemorySegment.copy(regions[index], spans[3 * index] + offsetInBuffer, dst, dstOffset, chunk);
                dstOffset += chunk;
            }
            n -= chunk;
            position += chunk;
            offsetInBuffer += chunk;
            if (offsetInBuffer == length && index + 1 < regions.length) {
                index++;
                offsetInBuffer = 0;
            }
        }
    }
}
