package io.jvhost.virtqueue;

import io.jvhost.memory.LoggedSegment;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A sequential cursor over a chain's device-writable buffers, as if they were one byte stream.
 * Every write goes through {@link LoggedSegment}, so it is in the dirty log the moment it lands.
 * A reply longer than the guest's buffers is refused whole (nothing is written) with a
 * {@link VirtqueueException}: the guest chose the buffer sizes.
 */
public final class ChainWriter {
    private final DescriptorChain chain;
    private final LoggedSegment[] buffers;
    private final long total;
    private int index;
    private long offsetInBuffer;
    private long position;
    private boolean contiguousFromStart = true; // false after a skip: the skipped bytes are not logged

    ChainWriter(DescriptorChain chain, LoggedSegment[] buffers, long total) {
        this.chain = chain;
        this.buffers = buffers;
        this.total = total;
    }

    /** Bytes written or skipped so far: the used length to report if the reply ends here. */
    public long position() {
        return position;
    }

    public long remaining() {
        return total - position;
    }

    private void require(long n) throws VirtqueueException {
        if (n < 0) throw new IllegalArgumentException("negative length " + n);
        if (n > remaining()) {
            throw new VirtqueueException("reply of " + n + " more bytes at offset " + position
                    + " does not fit the guest's writable buffers (" + remaining() + " left)");
        }
    }

    /** Leaves {@code n} bytes as they are (for a region filled through a raw view). */
    public void skip(long n) throws VirtqueueException {
        require(n);
        contiguousFromStart = false;
        advance(n, null, 0);
    }

    public void write(byte[] src, int off, int len) throws VirtqueueException {
        require(len);
        advance(len, MemorySegment.ofArray(src), off);
    }

    public void write(byte[] src) throws VirtqueueException {
        write(src, 0, src.length);
    }

    public void write(MemorySegment src) throws VirtqueueException {
        require(src.byteSize());
        advance(src.byteSize(), src, 0);
    }

    /** Writes {@code length} bytes of {@code src} from {@code offset}: a slice without making one. */
    public void write(MemorySegment src, long offset, long length) throws VirtqueueException {
        Objects.checkFromIndexSize(offset, length, src.byteSize());
        require(length);
        advance(length, src, offset);
    }

    /** Writes all remaining bytes of {@code src} (its position advances). */
    public void write(ByteBuffer src) throws VirtqueueException {
        int n = src.remaining();
        require(n);
        advance(n, MemorySegment.ofBuffer(src), 0);
        src.position(src.limit());
    }

    public void writeByte(byte v) throws VirtqueueException {
        writeLittleEndian(v, 1);
    }

    public void writeShort(short v) throws VirtqueueException {
        writeLittleEndian(v, 2);
    }

    public void writeInt(int v) throws VirtqueueException {
        writeLittleEndian(v, 4);
    }

    public void writeLong(long v) throws VirtqueueException {
        writeLittleEndian(v, 8);
    }

    private void writeLittleEndian(long v, int size) throws VirtqueueException {
        require(size);
        LoggedSegment current = buffers[index];
        if (current.byteSize() - offsetInBuffer >= size) { // fast path: inside one buffer
            switch (size) {
                case 1 -> current.putByte(offsetInBuffer, (byte) v);
                case 2 -> current.putShort(offsetInBuffer, (short) v);
                case 4 -> current.putInt(offsetInBuffer, (int) v);
                default -> current.putLong(offsetInBuffer, v);
            }
            moved(size);
            return;
        }
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (v >>> (8 * i));
        advance(size, MemorySegment.ofArray(b), 0);
    }

    private void advance(long n, MemorySegment src, long srcOffset) {
        while (n > 0) {
            LoggedSegment current = buffers[index];
            long chunk = Math.min(n, current.byteSize() - offsetInBuffer);
            if (src != null) {
                current.copyFrom(offsetInBuffer, src, srcOffset, chunk);
                srcOffset += chunk;
            }
            n -= chunk;
            moved(chunk);
        }
    }

    private void moved(long n) {
        position += n;
        offsetInBuffer += n;
        if (offsetInBuffer == buffers[index].byteSize() && index + 1 < buffers.length) {
            index++;
            offsetInBuffer = 0;
        }
        if (contiguousFromStart) chain.extendLoggedPrefix(position);
    }
}
