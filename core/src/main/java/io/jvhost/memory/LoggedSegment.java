package io.jvhost.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A writable range of guest memory that marks the dirty log for everything written through it.
 * This is the only way the back-end gets writable guest memory, so a write cannot forget the
 * log: the methods below log as they write, and the one raw view ({@link #unloggedView()})
 * says in its name that the caller owes a {@link #markWritten} (the virtqueue does that for
 * device-written buffers when the chain is completed, as the kernel's vhost does with the used
 * length).
 *
 * <p>Offsets are relative to the start of this range. Multi-byte values are little-endian, as
 * every virtio 1.x structure is.
 */
public final class LoggedSegment {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Aligned view for the ordered stores the rings need (used->idx is 2-byte aligned). */
    private static final VarHandle SHORT_LE_ATOMIC =
            ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final MemorySegment segment;
    private final long logAddress;
    private final DirtyLog log;

    /**
     * @param segment    writable memory of the range
     * @param logAddress the guest-physical address whose dirty bit covers offset 0 (for the used
     *                   ring this is SET_VRING_ADDR's log_guest_addr, not a translation)
     * @param log        where writes are recorded; {@link DirtyLog#NONE} for untracked memory
     */
    public LoggedSegment(MemorySegment segment, long logAddress, DirtyLog log) {
        if (segment.isReadOnly()) throw new IllegalArgumentException("segment is read-only");
        this.segment = segment;
        this.logAddress = logAddress;
        this.log = Objects.requireNonNull(log, "log");
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** The guest-physical address logged for offset 0. */
    public long logAddress() {
        return logAddress;
    }

    public DirtyLog log() {
        return log;
    }

    /** A sub-range that logs the same way. */
    public LoggedSegment slice(long offset, long len) {
        return new LoggedSegment(segment.asSlice(offset, len), logAddress + offset, log);
    }

    /** Read access to the range (reading needs no logging). */
    public MemorySegment readOnly() {
        return segment.asReadOnly();
    }

    /**
     * The raw writable memory, for zero-copy producers (e.g. a pread straight into guest memory).
     * Writes through it are not logged: call {@link #markWritten} for what you wrote, or return
     * the bytes written as the used length of the chain they belong to.
     */
    public MemorySegment unloggedView() {
        return segment;
    }

    /** Records {@code [offset, +len)} as written in the dirty log (bounds-checked against this range). */
    public void markWritten(long offset, long len) {
        Objects.checkFromIndexSize(offset, len, segment.byteSize());
        log.markDirty(logAddress + offset, len);
    }

    public void put(long offset, byte[] src, int srcOffset, int len) {
        MemorySegment.copy(src, srcOffset, segment, ValueLayout.JAVA_BYTE, offset, len);
        log.markDirty(logAddress + offset, len);
    }

    public void copyFrom(long offset, MemorySegment src, long srcOffset, long len) {
        MemorySegment.copy(src, srcOffset, segment, offset, len);
        log.markDirty(logAddress + offset, len);
    }

    /** Copies all remaining bytes of {@code src} (its position advances). */
    public void copyFrom(long offset, ByteBuffer src) {
        int len = src.remaining();
        segment.asSlice(offset, len).copyFrom(MemorySegment.ofBuffer(src));
        src.position(src.limit());
        log.markDirty(logAddress + offset, len);
    }

    public void fill(long offset, long len, byte value) {
        segment.asSlice(offset, len).fill(value);
        log.markDirty(logAddress + offset, len);
    }

    public void putByte(long offset, byte value) {
        segment.set(ValueLayout.JAVA_BYTE, offset, value);
        log.markDirty(logAddress + offset, 1);
    }

    public void putShort(long offset, short value) {
        segment.set(SHORT_LE, offset, value);
        log.markDirty(logAddress + offset, 2);
    }

    public void putInt(long offset, int value) {
        segment.set(INT_LE, offset, value);
        log.markDirty(logAddress + offset, 4);
    }

    public void putLong(long offset, long value) {
        segment.set(LONG_LE, offset, value);
        log.markDirty(logAddress + offset, 8);
    }

    /**
     * A release store of a 2-byte-aligned little-endian u16: every earlier write becomes visible
     * to another CPU no later than this value (virtio spec 2.7.13.3: the device publishes
     * used->idx only after the used elements).
     */
    public void putShortRelease(long offset, short value) {
        SHORT_LE_ATOMIC.setRelease(segment, offset, value);
        log.markDirty(logAddress + offset, 2);
    }

    public short getShort(long offset) {
        return segment.get(SHORT_LE, offset);
    }

    public int getInt(long offset) {
        return segment.get(INT_LE, offset);
    }

    public short getShortAcquire(long offset) {
        return (short) SHORT_LE_ATOMIC.getAcquire(segment, offset);
    }

    @Override
    public String toString() {
        return "LoggedSegment[log=" + GuestMemoryException.hex(logAddress) + ", size=" + segment.byteSize() + "]";
    }
}
