package io.jvhost.virtqueue;

import static io.jvhost.virtqueue.SplitRing.AVAIL_F_NO_INTERRUPT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_INDIRECT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_NEXT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_WRITE;
import static io.jvhost.virtqueue.SplitRing.DESC_SIZE;
import static io.jvhost.virtqueue.SplitRing.FLAGS_OFFSET;
import static io.jvhost.virtqueue.SplitRing.IDX_OFFSET;
import static io.jvhost.virtqueue.SplitRing.USED_F_NO_NOTIFY;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The driver side of a split virtqueue, for tests and benchmarks that play the guest: lays the
 * rings out in memory we own, posts descriptor chains (directly or through an indirect table),
 * publishes avail->idx with release semantics, decides kicks (EVENT_IDX avail_event or
 * NO_NOTIFY, as Linux's virtqueue_kick_prepare) and collects completions. Not thread-safe.
 *
 * <p>Layout inside the ring memory: descriptor table at 0, available ring right after it,
 * used ring after that rounded up to 4 bytes (virtio 1.x alignment; the rings need not be
 * contiguous, this is just one valid choice). {@link #addresses} gives SET_VRING_ADDR's values.
 */
public final class DriverQueue {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U16_ORDERED =
            ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final int size;
    private final boolean eventIdx;
    private final DriverMemory ring;
    private final BufferAllocator allocator;
    private final MemorySegment desc, avail, used;
    private final long availOffset, usedOffset;

    private final int[] freeStack;
    private int freeCount;
    private final int[] chainNext; // our copy of each descriptor's next link
    private final int[] chainLength; // per head: descriptors it holds in the table
    private final boolean[] inFlight; // per head
    private final GuestBuffer[] indirectTable; // per head
    private final Submission[] submissions; // per head

    private int availIdx; // next avail index we publish
    private int kickedAvail; // avail index at the last kick decision
    private int lastUsed; // next used index we consume
    private boolean interruptsSuppressed;

    /** Bytes of ring memory a queue of {@code size} needs with this layout. */
    public static long ringBytes(int size) {
        return usedOffsetFor(size) + SplitRing.usedRingBytes(size);
    }

    private static long usedOffsetFor(int size) {
        long availEnd = SplitRing.descTableBytes(size) + SplitRing.availRingBytes(size);
        return (availEnd + SplitRing.USED_ALIGN - 1) & -SplitRing.USED_ALIGN;
    }

    /**
     * @param ring       at least {@link #ringBytes} bytes, 16-byte aligned in both address spaces
     * @param allocator  where {@link #submit} takes buffers and indirect tables
     * @param startIndex the avail and used index to start from (as after a migration: a back-end
     *                   restarted with SET_VRING_BASE startIndex sees a consistent ring)
     */
    public DriverQueue(int size, DriverMemory ring, BufferAllocator allocator, boolean eventIdx, int startIndex) {
        if (!SplitRing.isValidSize(size)) throw new IllegalArgumentException("invalid queue size " + size);
        if (ring.byteSize() < ringBytes(size)) {
            throw new IllegalArgumentException("ring memory of " + ring.byteSize() + " bytes < " + ringBytes(size));
        }
        if (((ring.guestPhysAddr() | ring.userAddr() | ring.segment().address()) & (SplitRing.DESC_ALIGN - 1)) != 0) {
            throw new IllegalArgumentException("ring memory must be 16-byte aligned");
        }
        this.size = size;
        this.eventIdx = eventIdx;
        this.ring = ring;
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.availOffset = SplitRing.descTableBytes(size);
        this.usedOffset = usedOffsetFor(size);
        this.desc = ring.segment().asSlice(0, SplitRing.descTableBytes(size));
        this.avail = ring.segment().asSlice(availOffset, SplitRing.availRingBytes(size));
        this.used = ring.segment().asSlice(usedOffset, SplitRing.usedRingBytes(size));
        ring.segment().asSlice(0, ringBytes(size)).fill((byte) 0);

        freeStack = new int[size];
        for (int i = 0; i < size; i++) freeStack[i] = size - 1 - i; // descriptor 0 comes out first
        freeCount = size;
        chainNext = new int[size];
        chainLength = new int[size];
        inFlight = new boolean[size];
        indirectTable = new GuestBuffer[size];
        submissions = new Submission[size];

        availIdx = kickedAvail = lastUsed = startIndex & 0xFFFF;
        avail.set(U16, IDX_OFFSET, (short) availIdx);
        used.set(U16, IDX_OFFSET, (short) availIdx);
        avail.set(U16, SplitRing.usedEventOffset(size), (short) availIdx);
    }

    public DriverQueue(int size, DriverMemory ring, BufferAllocator allocator, boolean eventIdx) {
        this(size, ring, allocator, eventIdx, 0);
    }

    public int size() {
        return size;
    }

    /** SET_VRING_ADDR's values for this ring; {@code logUsed} sets VHOST_VRING_F_LOG. */
    public VringAddresses addresses(boolean logUsed) {
        return new VringAddresses(
                logUsed ? VringAddresses.F_LOG : 0,
                ring.userAddr(),
                ring.userAddr() + usedOffset,
                ring.userAddr() + availOffset,
                usedGuestAddr());
    }

    public long descGuestAddr() {
        return ring.guestPhysAddr();
    }

    public long availGuestAddr() {
        return ring.guestPhysAddr() + availOffset;
    }

    public long usedGuestAddr() {
        return ring.guestPhysAddr() + usedOffset;
    }

    /** Our view of the descriptor table (tests write hostile descriptors straight into it). */
    public MemorySegment descriptorTable() {
        return desc;
    }

    public MemorySegment availRing() {
        return avail;
    }

    public MemorySegment usedRing() {
        return used;
    }

    public int freeDescriptors() {
        return freeCount;
    }

    /** The avail index the next {@link #add} publishes. */
    public int availIndex() {
        return availIdx;
    }

    /** The used index the next {@link #pollUsed} looks at. */
    public int lastUsedIndex() {
        return lastUsed;
    }

    // ---------------------------------------------------------------- posting

    /**
     * Posts a chain of {@code readable} then {@code writable} buffers and publishes it. Through
     * an indirect table (allocated from the allocator) when {@code indirect}, using one ring
     * descriptor. Returns the head.
     *
     * @throws IllegalStateException if the ring has too few free descriptors
     */
    public int add(List<GuestBuffer> readable, List<GuestBuffer> writable, boolean indirect) {
        int n = readable.size() + writable.size();
        if (n == 0) throw new IllegalArgumentException("a chain needs at least one buffer");
        int needed = indirect ? 1 : n;
        if (needed > freeCount) {
            throw new IllegalStateException("ring full: " + needed + " descriptors needed, " + freeCount + " free");
        }
        int head;
        if (indirect) {
            GuestBuffer table = allocator.allocate((long) DESC_SIZE * n);
            writeChain(table.segment(), null, readable, writable);
            head = takeDescriptor();
            writeDescriptor(desc, head, table.guestPhysAddr(), DESC_SIZE * n, DESC_F_INDIRECT, 0);
            indirectTable[head] = table;
            chainLength[head] = 1;
        } else {
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = takeDescriptor();
            writeChain(desc, ids, readable, writable);
            head = ids[0];
            for (int i = 0; i < n; i++) chainNext[ids[i]] = i + 1 < n ? ids[i + 1] : -1;
            chainLength[head] = n;
        }
        inFlight[head] = true;
        publish(head);
        return head;
    }

    /** Writes the chain into {@code table} at {@code ids} (or at 0, 1, 2... for an indirect table). */
    private static void writeChain(
            MemorySegment table, int[] ids, List<GuestBuffer> readable, List<GuestBuffer> writable) {
        int n = readable.size() + writable.size();
        for (int i = 0; i < n; i++) {
            boolean isWritable = i >= readable.size();
            GuestBuffer b = isWritable ? writable.get(i - readable.size()) : readable.get(i);
            int at = ids == null ? i : ids[i];
            int next = i + 1 < n ? (ids == null ? i + 1 : ids[i + 1]) : 0;
            int flags = (isWritable ? DESC_F_WRITE : 0) | (i + 1 < n ? DESC_F_NEXT : 0);
            writeDescriptor(table, at, b.guestPhysAddr(), Math.toIntExact(b.length()), flags, next);
        }
    }

    private static void writeDescriptor(MemorySegment table, int index, long addr, int len, int flags, int next) {
        long at = (long) index * DESC_SIZE;
        table.set(U64, at, addr);
        table.set(U32, at + 8, len);
        table.set(U16, at + 12, (short) flags);
        table.set(U16, at + 14, (short) next);
    }

    private int takeDescriptor() {
        return freeStack[--freeCount];
    }

    /**
     * Takes {@code count} descriptors out of the free list for the caller to fill by hand (tests
     * that write hostile chains straight into {@link #descriptorTable()}).
     */
    public int[] reserveDescriptors(int count) {
        if (count > freeCount) throw new IllegalStateException(count + " descriptors wanted, " + freeCount + " free");
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = takeDescriptor();
        return ids;
    }

    /**
     * Offers a hand-made chain: {@code head} (any 16-bit value, even out of range) goes on the
     * available ring. An in-range head counts as in flight and frees nothing when completed:
     * its descriptors stay reserved by the caller.
     */
    public void publishHandMade(int head) {
        if (head >= 0 && head < size) {
            inFlight[head] = true;
            chainLength[head] = 0;
        }
        publish(head);
    }

    /**
     * Puts {@code head} in the next available slot and publishes avail->idx with release
     * semantics, so the device sees the descriptors before the index.
     */
    private void publish(int head) {
        avail.set(U16, SplitRing.availEntryOffset(availIdx & (size - 1)), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        U16_ORDERED.setRelease(avail, IDX_OFFSET, (short) availIdx);
    }

    /** Stores an arbitrary avail->idx (tests of a driver that jumps the index). */
    public void forceAvailIndex(int idx) {
        availIdx = idx & 0xFFFF;
        U16_ORDERED.setRelease(avail, IDX_OFFSET, (short) availIdx);
    }

    /**
     * Allocates buffers, copies {@code readable} into them, adds zeroed writable buffers of the
     * given lengths, and posts the chain.
     */
    public Submission submit(List<byte[]> readable, int[] writableLengths, boolean indirect) {
        List<GuestBuffer> in = new ArrayList<>(readable.size());
        List<GuestBuffer> out = new ArrayList<>(writableLengths.length);
        try {
            for (byte[] data : readable) {
                GuestBuffer b = allocator.allocate(data.length);
                MemorySegment.copy(MemorySegment.ofArray(data), 0, b.segment(), 0, data.length);
                in.add(b);
            }
            for (int len : writableLengths) out.add(allocator.allocate(len));
            int head = add(in, out, indirect);
            Submission s = new Submission(head, List.copyOf(in), List.copyOf(out), allocator);
            submissions[head] = s;
            return s;
        } catch (RuntimeException e) {
            in.forEach(allocator::free);
            out.forEach(allocator::free);
            throw e;
        }
    }

    /**
     * Whether the device wants a kick for what was published since the last call: with
     * EVENT_IDX when avail->idx passed avail_event, else unless used->flags has NO_NOTIFY.
     */
    public boolean kickNeeded() {
        VarHandle.fullFence(); // avail->idx before reading the device's wish
        if (!eventIdx) return (used.get(U16, FLAGS_OFFSET) & USED_F_NO_NOTIFY) == 0;
        int old = kickedAvail;
        kickedAvail = availIdx;
        int availEvent = used.get(U16, SplitRing.availEventOffset(size)) & 0xFFFF;
        return SplitRing.needEvent(availEvent, availIdx, old);
    }

    // ---------------------------------------------------------------- completions

    /**
     * The next completion, or null. Frees the chain's descriptors (and indirect table); the
     * submission's buffers stay until it is closed. With EVENT_IDX, moves used_event so the
     * device interrupts on the next completion (Linux's virtqueue_get_buf).
     *
     * @throws IllegalStateException if the device returned a head that is not in flight
     */
    public UsedElement pollUsed() {
        int idx = (short) U16_ORDERED.getAcquire(used, IDX_OFFSET) & 0xFFFF;
        if (idx == lastUsed) return null;
        long elem = SplitRing.usedElemOffset(lastUsed & (size - 1));
        int head = used.get(U32, elem);
        int length = used.get(U32, elem + 4);
        if (head < 0 || head >= size || !inFlight[head]) {
            throw new IllegalStateException("device returned head " + Integer.toUnsignedString(head) + " at used index "
                    + lastUsed + ", which is not in flight");
        }
        lastUsed = (lastUsed + 1) & 0xFFFF;
        Submission submission = submissions[head];
        release(head);
        if (eventIdx && !interruptsSuppressed) {
            U16_ORDERED.setRelease(avail, SplitRing.usedEventOffset(size), (short) lastUsed);
            VarHandle.fullFence();
        }
        return new UsedElement(head, length, submission);
    }

    /** Frees a completed head's descriptors and indirect table. */
    private void release(int head) {
        inFlight[head] = false;
        submissions[head] = null;
        if (indirectTable[head] != null) {
            allocator.free(indirectTable[head]);
            indirectTable[head] = null;
            freeStack[freeCount++] = head;
            return;
        }
        int d = head;
        for (int i = 0; i < chainLength[head]; i++) {
            int next = chainNext[d];
            freeStack[freeCount++] = d;
            d = next;
        }
    }

    /**
     * Asks the device not to interrupt: NO_INTERRUPT without EVENT_IDX; with EVENT_IDX
     * used_event goes half the index space away and stops moving, as Linux's
     * virtqueue_disable_cb does (used_event at the next used index would still ask for one).
     */
    public void disableInterrupts() {
        interruptsSuppressed = true;
        if (eventIdx) {
            U16_ORDERED.setRelease(avail, SplitRing.usedEventOffset(size), (short) (lastUsed + 0x8000));
        } else {
            avail.set(U16, FLAGS_OFFSET, (short) AVAIL_F_NO_INTERRUPT);
        }
    }

    /**
     * Asks for interrupts again (used_event := next used index, or clears NO_INTERRUPT) and
     * returns whether completions arrived meanwhile (after a full fence, so none is missed).
     */
    public boolean enableInterrupts() {
        interruptsSuppressed = false;
        if (eventIdx) {
            avail.set(U16, SplitRing.usedEventOffset(size), (short) lastUsed);
        } else {
            avail.set(U16, FLAGS_OFFSET, (short) 0);
        }
        VarHandle.fullFence();
        return ((short) U16_ORDERED.getAcquire(used, IDX_OFFSET) & 0xFFFF) != lastUsed;
    }

    /** Sets used_event directly (tests of the device's notification decisions). */
    public void setUsedEvent(int usedEvent) {
        U16_ORDERED.setRelease(avail, SplitRing.usedEventOffset(size), (short) usedEvent);
        VarHandle.fullFence();
    }
}
