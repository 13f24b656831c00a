package io.jvhost.virtqueue;

import static io.jvhost.virtqueue.SplitRing.DESC_F_INDIRECT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_NEXT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_WRITE;
import static io.jvhost.virtqueue.SplitRing.DESC_SIZE;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemory;
import io.jvhost.memory.GuestMemoryException;
import io.jvhost.memory.GuestRange;
import io.jvhost.memory.LoggedSegment;
import io.jvhost.memory.MemoryRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Follows one descriptor chain through the descriptor table and at most one indirect table,
 * checking every rule a hostile guest could break. Termination does not depend on guest data:
 * each table is walked at most its own length of steps (more means a loop), and only one
 * indirect table is entered per chain. Scratch arrays are reused between chains; only the
 * finished chain's exact-size arrays are allocated.
 */
final class ChainWalker {
    private static final ValueLayout.OfLong ADDR = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LEN = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Virtio: a chain may not be longer than 2^32 bytes in total. */
    private static final long MAX_CHAIN_BYTES = 0xFFFF_FFFFL;

    /** A rule the chain breaks; the queue turns it into an {@link InvalidChainException}. */
    static final class BadChain extends Exception {
        private static final long serialVersionUID = 1L;

        BadChain(String message) {
            this(message, null);
        }

        BadChain(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    private static final MemorySegment[] NO_SEGMENTS = {};
    private static final long[] NO_LONGS = {};
    private static final LoggedSegment[] NO_WRITABLE = {};

    // A readable buffer is its region's read-only segment, an offset into it and a length: a
    // slice per buffer was the largest allocation of a GETATTR (JFR); the chain slices only when
    // asked for a buffer as a segment (WRITE's zero-copy source).
    // Per readable buffer i: readableSpans[3i..3i+2] = offset in readableRegion[i], length,
    // guest address (one array for the chain, not three).
    private MemorySegment[] readableRegion = new MemorySegment[8];
    private long[] readableSpans = new long[3 * 8];
    private LoggedSegment[] writable = new LoggedSegment[8];
    private int readableCount;
    private int writableCount;
    private long readableBytes;
    private long writableBytes;

    DescriptorChain walk(
            SplitQueue queue,
            int generation,
            GuestMemory memory,
            DirtyLog log,
            MemorySegment descTable,
            int queueSize,
            int head)
            throws BadChain {
        readableCount = writableCount = 0;
        readableBytes = writableBytes = 0;
        try {
            MemorySegment table = descTable;
            int tableLength = queueSize;
            boolean inIndirect = false;
            int index = head;
            int steps = 0;
            while (true) {
                if (index >= tableLength) {
                    throw new BadChain("descriptor index " + index + " is outside the "
                            + (inIndirect ? "indirect table" : "descriptor table") + " of " + tableLength + " entries");
                }
                if (++steps > tableLength) {
                    throw new BadChain((inIndirect ? "indirect table" : "descriptor chain") + " from head " + head
                            + " loops: more than " + tableLength + " descriptors");
                }
                long at = (long) index * DESC_SIZE;
                long addr = table.get(ADDR, at);
                long len = table.get(LEN, at + 8) & 0xFFFF_FFFFL;
                int flags = table.get(U16, at + 12) & 0xFFFF;
                int next = table.get(U16, at + 14) & 0xFFFF;

                if ((flags & DESC_F_INDIRECT) != 0) {
                    if (inIndirect) {
                        throw new BadChain("descriptor " + index + " of an indirect table is itself INDIRECT"
                                + " (virtio: only one table per descriptor)");
                    }
                    if ((flags & DESC_F_NEXT) != 0) {
                        throw new BadChain("descriptor " + index + " has both INDIRECT and NEXT (virtio forbids it)");
                    }
                    if (len == 0 || len % DESC_SIZE != 0) {
                        throw new BadChain("indirect table length " + len + " at descriptor " + index
                                + " is not a positive multiple of " + DESC_SIZE);
                    }
                    long entries = len / DESC_SIZE;
                    int limit = SplitRing.maxChainLength(queueSize);
                    if (entries > limit) {
                        throw new BadChain(
                                "indirect table of " + entries + " descriptors exceeds the limit of " + limit);
                    }
                    table = translate(memory, addr, len, "indirect table");
                    tableLength = (int) entries;
                    inIndirect = true;
                    index = 0;
                    steps = 0;
                    continue;
                }

                if (readableBytes + writableBytes + len > MAX_CHAIN_BYTES) {
                    throw new BadChain("chain from head " + head + " is longer than 2^32 bytes");
                }
                if ((flags & DESC_F_WRITE) != 0) {
                    addWritable(memory, log, addr, len);
                    writableBytes += len;
                } else {
                    if (writableCount > 0) {
                        throw new BadChain("device-readable descriptor " + index + " follows a device-writable one"
                                + " (virtio: writable descriptors come last)");
                    }
                    addReadable(memory, addr, len);
                    readableBytes += len;
                }
                if ((flags & DESC_F_NEXT) == 0) break;
                index = next;
            }
            return new DescriptorChain(
                    queue,
                    generation,
                    head,
                    readableCount == 0 ? NO_SEGMENTS : Arrays.copyOf(readableRegion, readableCount),
                    readableCount == 0 ? NO_LONGS : Arrays.copyOf(readableSpans, 3 * readableCount),
                    writableCount == 0 ? NO_WRITABLE : Arrays.copyOf(writable, writableCount),
                    readableBytes,
                    writableBytes);
        } finally {
            Arrays.fill(readableRegion, 0, readableCount, null); // drop references to guest memory
            Arrays.fill(writable, 0, writableCount, null);
        }
    }

    private static MemorySegment translate(GuestMemory memory, long addr, long len, String what) throws BadChain {
        try {
            return memory.slice(addr, len);
        } catch (GuestMemoryException e) {
            throw new BadChain(what + ": " + e.getMessage(), e);
        }
    }

    private void addReadable(GuestMemory memory, long addr, long len) throws BadChain {
        if (len == 0) return; // nothing to read; never translated, so any address will do
        try {
            pushReadable(addr, memory.regionFor(addr, len), len);
        } catch (GuestMemoryException oneRegion) {
            for (GuestRange piece : pieces(memory, addr, len, oneRegion)) {
                try {
                    pushReadable(
                            piece.guestPhysAddr(),
                            memory.regionFor(piece.guestPhysAddr(), piece.length()),
                            piece.length());
                } catch (GuestMemoryException e) {
                    throw new BadChain("buffer: " + e.getMessage(), e);
                }
            }
        }
    }

    private void addWritable(GuestMemory memory, DirtyLog log, long addr, long len) throws BadChain {
        if (len == 0) return;
        try {
            pushWritable(memory.writable(addr, len, log));
        } catch (GuestMemoryException oneRegion) {
            for (GuestRange piece : pieces(memory, addr, len, oneRegion)) {
                try {
                    pushWritable(memory.writable(piece.guestPhysAddr(), piece.length(), log));
                } catch (GuestMemoryException e) {
                    throw new BadChain("buffer: " + e.getMessage(), e);
                }
            }
        }
    }

    /** A buffer crossing into an adjacent region, split per region; otherwise the original error. */
    private static List<GuestRange> pieces(GuestMemory memory, long addr, long len, GuestMemoryException original)
            throws BadChain {
        try {
            return memory.ranges(addr, len);
        } catch (GuestMemoryException e) {
            original.addSuppressed(e);
            throw new BadChain("buffer: " + original.getMessage(), original);
        }
    }

    private void pushReadable(long addr, MemoryRegion region, long len) {
        if (readableCount == readableRegion.length) {
            readableRegion = Arrays.copyOf(readableRegion, readableCount * 2);
            readableSpans = Arrays.copyOf(readableSpans, 3 * readableCount * 2);
        }
        readableRegion[readableCount] = region.readOnlySegment();
        int at = 3 * readableCount++;
        readableSpans[at] = addr - region.guestPhysAddr();
        readableSpans[at + 1] = len;
        readableSpans[at + 2] = addr;
    }

    private void pushWritable(LoggedSegment segment) {
        if (writableCount == writable.length) writable = Arrays.copyOf(writable, writableCount * 2);
        writable[writableCount++] = segment;
    }
}
