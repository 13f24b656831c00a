package io.jvhost.memory;

import static io.jvhost.memory.GuestMemoryException.hex;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Mapping;
import io.jvhost.nativeio.NativeException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dirty-page bitmap shared with the front-end (SET_LOG_BASE): one bit per 4 KiB guest page,
 * page {@code n} is bit {@code n % 8} of byte {@code n / 8} (vhost-user spec, "Migration";
 * libvhost-user's vu_log_page). QEMU reads the same memory as little-endian {@code unsigned
 * long} chunks (hw/virtio/vhost.c), so bit {@code n % 64} of the little-endian 64-bit word
 * {@code n / 64} is the very same bit: this class ORs whole words, one atomic per word touched,
 * and the layout is explicit little-endian so that stays true on any host.
 *
 * <p>Bits are only ever set atomically: the front-end clears words with an atomic exchange
 * while we run, so a plain read-modify-write would lose its clears or our marks.
 */
public final class DirtyBitmap implements AutoCloseable {
    /** VHOST_LOG_PAGE: the granularity of the log. */
    public static final long PAGE_SIZE = 0x1000;

    private static final int PAGE_SHIFT = 12;
    private static final VarHandle WORD =
            ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final Logger LOG = LoggerFactory.getLogger(DirtyBitmap.class);

    private final MemorySegment words; // 8-aligned, a whole number of words
    private final long bits; // pages covered: 8 per byte of the log the front-end sized
    private final Mapping mapping; // null if the memory is not ours to unmap
    private final AtomicLong outOfRange = new AtomicLong();

    private DirtyBitmap(MemorySegment words, long bits, Mapping mapping) {
        this.words = words;
        this.bits = bits;
        this.mapping = mapping;
    }

    /**
     * Maps the log the front-end sent with SET_LOG_BASE: {@code size} bytes starting at
     * {@code mmapOffset} in {@code fd} (the caller keeps {@code fd}). Maps from file offset 0
     * and slices, so the offset only needs 8-byte alignment (for the atomic words), not page
     * alignment. The mapping is rounded up to whole words; the few extra bytes lie in the same
     * page as the log's last byte and are only ever OR-ed with zero.
     */
    public static DirtyBitmap map(Fd fd, long mmapOffset, long size) throws GuestMemoryException, NativeException {
        if (size <= 0
                || size > Long.MAX_VALUE / 8
                || mmapOffset < 0
                || (mmapOffset & 7) != 0
                || mmapOffset > Long.MAX_VALUE - 8 - size) {
            throw new GuestMemoryException(
                    "unusable dirty log: size " + hex(size) + " at offset " + hex(mmapOffset)
                            + " (need size > 0 and an 8-byte aligned offset)",
                    mmapOffset);
        }
        // The words past size share the log's last page: inside the file as long as the log is.
        BackingFile.requireCovers(
                fd, mmapOffset + size, "dirty log of " + hex(size) + " bytes at offset " + hex(mmapOffset), mmapOffset);
        long wordBytes = (size + 7) & ~7L;
        Mapping mapping = Mapping.map(fd, 0, mmapOffset + wordBytes, true);
        return new DirtyBitmap(mapping.segment().asSlice(mmapOffset, wordBytes), size * 8, mapping);
    }

    /**
     * A bitmap over memory the caller owns (the front-end's own view of the log, tests):
     * 8-byte aligned and a whole number of 8-byte words.
     */
    public static DirtyBitmap over(MemorySegment memory) {
        if (memory.address() % 8 != 0 || memory.byteSize() % 8 != 0 || memory.byteSize() == 0 || memory.isReadOnly()) {
            throw new IllegalArgumentException(
                    "a dirty bitmap needs writable, 8-byte aligned memory of whole words, got " + memory);
        }
        return new DirtyBitmap(memory, memory.byteSize() * 8, null);
    }

    /** Bytes of guest-physical address space the log covers, from address 0. */
    public long coveredBytes() {
        return bits > (Long.MAX_VALUE >>> PAGE_SHIFT) ? Long.MAX_VALUE : bits << PAGE_SHIFT;
    }

    /** Pages covered (one bit each). */
    public long pageCount() {
        return bits;
    }

    /**
     * Marks every page touched by {@code [guestPhysAddr, +len)}. Pages beyond the log are
     * ignored and counted (the front-end sizes the log for all guest memory it knows, so this
     * means a stale log or a bad log address; losing the bit beats crashing the worker).
     */
    public void markDirty(long guestPhysAddr, long len) {
        if (len <= 0) return;
        long lastAddr = guestPhysAddr + len - 1;
        if (Long.compareUnsigned(lastAddr, guestPhysAddr) < 0) lastAddr = -1L; // wrapped: clamp
        long first = guestPhysAddr >>> PAGE_SHIFT;
        long last = lastAddr >>> PAGE_SHIFT;
        if (first >= bits) {
            reportOutOfRange(guestPhysAddr, len);
            return;
        }
        if (last >= bits) {
            reportOutOfRange(guestPhysAddr, len);
            last = bits - 1;
        }
        long firstWord = first >>> 6, lastWord = last >>> 6;
        for (long w = firstWord; w <= lastWord; w++) {
            int lo = w == firstWord ? (int) (first & 63) : 0;
            int hi = w == lastWord ? (int) (last & 63) : 63;
            long mask = (-1L >>> (63 - (hi - lo))) << lo;
            WORD.getAndBitwiseOr(words, w << 3, mask);
        }
    }

    private void reportOutOfRange(long guestPhysAddr, long len) {
        if (outOfRange.getAndIncrement() == 0) {
            LOG.warn(
                    "dirty log covers guest memory up to {} but a write at {} (+{}) goes beyond it; "
                            + "bits past the end are dropped (reported once)",
                    hex(coveredBytes()),
                    hex(guestPhysAddr),
                    hex(len));
        }
    }

    /** How many writes reached past the end of the log. */
    public long outOfRangeCount() {
        return outOfRange.get();
    }

    /** Whether the page holding {@code guestPhysAddr} is marked (false beyond the log). */
    public boolean isDirty(long guestPhysAddr) {
        long page = guestPhysAddr >>> PAGE_SHIFT;
        if (page >= bits) return false;
        long word = (long) WORD.getVolatile(words, (page >>> 6) << 3);
        return (word & (1L << (page & 63))) != 0;
    }

    /**
     * Atomically takes and clears every set bit, reporting the guest-physical address of each
     * dirty page (the front-end's side of the protocol, as QEMU's vhost_dev_sync_region does
     * with an atomic exchange per chunk). Returns the number of pages reported.
     */
    public long collectAndClear(LongConsumer dirtyPageAddress) {
        long count = 0;
        long wordCount = words.byteSize() >>> 3;
        for (long w = 0; w < wordCount; w++) {
            if ((long) WORD.getOpaque(words, w << 3) == 0) continue;
            long v = (long) WORD.getAndSet(words, w << 3, 0L);
            while (v != 0) {
                int bit = Long.numberOfTrailingZeros(v);
                v &= v - 1;
                long page = (w << 6) + bit;
                if (page < bits) {
                    dirtyPageAddress.accept(page << PAGE_SHIFT);
                    count++;
                }
            }
        }
        return count;
    }

    /** Unmaps the log if it was mapped here. */
    @Override
    public void close() {
        if (mapping != null) mapping.close();
    }

    @Override
    public String toString() {
        return "DirtyBitmap[" + bits + " pages, covering " + hex(coveredBytes()) + "]";
    }
}
