package io.jvhost.virtqueue;

import static io.jvhost.virtqueue.SplitRing.AVAIL_F_NO_INTERRUPT;
import static io.jvhost.virtqueue.SplitRing.FLAGS_OFFSET;
import static io.jvhost.virtqueue.SplitRing.IDX_OFFSET;
import static io.jvhost.virtqueue.SplitRing.USED_F_NO_NOTIFY;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemory;
import io.jvhost.memory.GuestMemoryException;
import io.jvhost.memory.GuestMemorySource;
import io.jvhost.memory.LoggedSegment;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The device side of one split virtqueue (virtio 1.x "Split Virtqueues") as a vhost-user
 * back-end drives it.
 *
 * <p>Set-up follows the vhost-user messages, while the ring is stopped: {@link #setSize}
 * (SET_VRING_NUM), {@link #setBase} (SET_VRING_BASE), {@link #setAddresses} (SET_VRING_ADDR),
 * {@link #setEventIdx} (VIRTIO_RING_F_EVENT_IDX in SET_FEATURES); then {@link #start()} when the
 * ring starts (its first kick) and {@link #stop()} for GET_VRING_BASE. One data-path thread then
 * calls {@link #pop()}, {@link #addUsed}, {@link #needsNotification()} and the notification
 * switches. Hand the queue between the message thread and the worker with a happens-before edge
 * (starting the worker, a lock, a volatile); the only set-up allowed on a running ring is a
 * SET_VRING_ADDR that keeps the ring addresses and changes the logging flag (QEMU toggles
 * VHOST_VRING_F_LOG that way when migration starts and ends).
 *
 * <p>Guest memory comes from a {@link GuestMemorySource}: the ring addresses are translated
 * again whenever the memory table publishes a new snapshot, which costs one volatile read per
 * operation otherwise.
 *
 * <p>Memory ordering with the driver on another CPU: avail->idx is read with acquire before the
 * ring entries and descriptors it covers; used->idx is stored with release after the used
 * element; a full fence separates our used-ring writes from reading used_event / avail->flags,
 * and our avail_event / used->flags write from re-reading avail->idx.
 */
public final class SplitQueue {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U16_ACQUIRE =
            ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final GuestMemorySource memorySource;
    private final DirtyLog log;
    private final ChainWalker walker = new ChainWalker();

    // Configuration: written by the message thread while stopped (addresses also while running).
    private int size;
    private volatile VringAddresses addresses;
    private boolean eventIdx;

    // Ring views, valid for (resolvedMemory, resolvedAddresses); data-path thread only.
    private GuestMemory resolvedMemory;
    private VringAddresses resolvedAddresses;
    private MemorySegment desc;
    private MemorySegment avail;
    private LoggedSegment used;

    // Ring state (16-bit indices kept in ints, always masked).
    private int nextAvail;
    private int nextUsed;
    private int shadowAvail; // last avail->idx read; entries before it are already visible
    private int signalledUsed; // used index at the last notification decision (QEMU's signalled_used)
    private boolean signalledUsedValid;
    private boolean started;
    private int generation;
    private String brokenReason;

    /**
     * @param memory guest memory (normally the back-end's {@link io.jvhost.memory.MemoryTable})
     * @param log    the device's dirty log; buffer and used-ring writes are marked in it
     */
    public SplitQueue(GuestMemorySource memory, DirtyLog log) {
        this.memorySource = Objects.requireNonNull(memory, "memory");
        this.log = Objects.requireNonNull(log, "log");
    }

    // ---------------------------------------------------------------- set-up

    /** SET_VRING_NUM: a power of two from 1 to 32768. */
    public void setSize(int size) throws VirtqueueException {
        rejectIfRunning("SET_VRING_NUM");
        if (!SplitRing.isValidSize(size)) {
            throw new VirtqueueException(
                    "queue size " + size + " is not a power of two between 1 and " + SplitRing.MAX_SIZE);
        }
        if (size != this.size) {
            this.size = size;
            resolvedAddresses = null; // ring lengths changed
        }
    }

    public int size() {
        return size;
    }

    /**
     * SET_VRING_BASE: the next available index to process. The used index starts at the same
     * value; {@link #start()} then takes it from used->idx in guest memory when the ring is
     * mapped, as libvhost-user and rust-vmm do, because that is what the driver has seen.
     */
    public void setBase(int base) throws VirtqueueException {
        rejectIfRunning("SET_VRING_BASE");
        if (base < 0 || base > 0xFFFF) {
            throw new VirtqueueException("split ring base " + Integer.toUnsignedString(base) + " does not fit 16 bits");
        }
        nextAvail = nextUsed = shadowAvail = base;
        signalledUsedValid = false;
        brokenReason = null;
    }

    /**
     * SET_VRING_ADDR: checks alignment (desc 16, avail 2, used 4) and that each ring lies inside
     * guest memory for the current size. On a running ring only the flags and log address may
     * change (the data path picks them up at its next operation).
     */
    public void setAddresses(VringAddresses next) throws VirtqueueException {
        Objects.requireNonNull(next, "addresses");
        if (size == 0) throw new VirtqueueException("SET_VRING_ADDR before SET_VRING_NUM");
        if (started) {
            VringAddresses current = addresses;
            if (current == null || !current.sameRings(next)) {
                throw new VirtqueueException("cannot move the rings of a running queue: " + current + " -> " + next);
            }
            addresses = next;
            return;
        }
        checkAligned("descriptor table", next.descUserAddr(), SplitRing.DESC_ALIGN);
        checkAligned("available ring", next.availUserAddr(), SplitRing.AVAIL_ALIGN);
        checkAligned("used ring", next.usedUserAddr(), SplitRing.USED_ALIGN);
        resolve(memorySource.current(), next); // fails here, with the reason, if not mapped
        addresses = next;
        brokenReason = null;
    }

    private static void checkAligned(String what, long addr, int alignment) throws VirtqueueException {
        if ((addr & (alignment - 1)) != 0) {
            throw new VirtqueueException(
                    what + " address 0x" + Long.toHexString(addr) + " is not " + alignment + "-byte aligned");
        }
    }

    /**
     * VIRTIO_RING_F_EVENT_IDX negotiated or not. Repeating the current value is fine on a running
     * ring (QEMU resends SET_FEATURES to toggle VHOST_F_LOG_ALL); changing it is not.
     */
    public void setEventIdx(boolean enabled) {
        if (enabled == eventIdx) return;
        requireStopped("changing EVENT_IDX");
        eventIdx = enabled;
        signalledUsedValid = false;
    }

    public boolean eventIdx() {
        return eventIdx;
    }

    /**
     * The ring starts (first kick): maps the rings in the current memory and takes the used
     * index from used->idx.
     */
    public void start() throws VirtqueueException {
        if (size == 0 || addresses == null) {
            throw new VirtqueueException("ring started before SET_VRING_NUM and SET_VRING_ADDR");
        }
        resolve(memorySource.current(), addresses);
        nextUsed = used.getShortAcquire(IDX_OFFSET) & 0xFFFF;
        shadowAvail = nextAvail;
        signalledUsedValid = false;
        brokenReason = null;
        generation++;
        started = true;
    }

    /** The ring stops (GET_VRING_BASE): returns the next available index, the value to reply. */
    public int stop() {
        started = false;
        generation++; // chains popped before this can no longer be completed
        return nextAvail;
    }

    public boolean isStarted() {
        return started;
    }

    /** GET_VRING_BASE's value: the next available index this queue will process. */
    public int nextAvailIndex() {
        return nextAvail;
    }

    /** The used index the next completion will publish. */
    public int nextUsedIndex() {
        return nextUsed;
    }

    public boolean isBroken() {
        return brokenReason != null;
    }

    /** Why the queue is broken, or null. */
    public String brokenReason() {
        return brokenReason;
    }

    /**
     * Stops processing for a reason found outside the rings themselves (guest memory faulted
     * under the device): like a bad avail index, it holds until the ring is set up or started
     * again. The first reason is kept.
     */
    public void markBroken(String reason) {
        if (brokenReason == null) brokenReason = reason;
    }

    /** A front-end message that needs a stopped ring: refused like any other bad message. */
    private void rejectIfRunning(String what) throws VirtqueueException {
        if (started) throw new VirtqueueException(what + " on a running ring (stop it with GET_VRING_BASE first)");
    }

    private void requireStopped(String what) {
        if (started) throw new IllegalStateException(what + " on a running ring (stop it with GET_VRING_BASE first)");
    }

    // ---------------------------------------------------------------- ring views

    private void resolve(GuestMemory memory, VringAddresses a) throws VirtqueueException {
        try {
            MemorySegment d = memory.sliceUserAddr(a.descUserAddr(), SplitRing.descTableBytes(size));
            MemorySegment av = memory.sliceUserAddr(a.availUserAddr(), SplitRing.availRingBytes(size));
            LoggedSegment u = memory.writableUserAddr(
                    a.usedUserAddr(),
                    SplitRing.usedRingBytes(size),
                    a.logGuestAddr(),
                    a.logUsedRing() ? log : DirtyLog.NONE);
            desc = d;
            avail = av;
            used = u;
            resolvedMemory = memory;
            resolvedAddresses = a;
        } catch (GuestMemoryException e) {
            throw new VirtqueueException(
                    "rings of " + a + " (size " + size + ") are not in guest memory: " + e.getMessage(), e);
        }
    }

    /** Checks the queue can run and that the ring views match the current memory and addresses. */
    private void ready() throws VirtqueueException {
        if (!started) throw new IllegalStateException("ring is not started");
        if (brokenReason != null) throw new BrokenQueueException("queue is broken: " + brokenReason);
        GuestMemory memory = memorySource.current();
        VringAddresses a = addresses;
        if (memory != resolvedMemory || a != resolvedAddresses) resolve(memory, a);
    }

    private int availIdx() {
        return (short) U16_ACQUIRE.getAcquire(avail, IDX_OFFSET) & 0xFFFF;
    }

    // ---------------------------------------------------------------- data path

    /**
     * The next chain the driver made available, or null if there is none.
     *
     * @throws InvalidChainException the chain broke a rule; it was consumed (and returned with
     *                               length 0 when its head is a valid index); call pop again
     * @throws BrokenQueueException  avail->idx moved more than a queue size ahead
     * @throws VirtqueueException    the rings are not in guest memory right now (e.g. between a
     *                               REM_MEM_REG and the matching ADD_MEM_REG); nothing consumed
     */
    public DescriptorChain pop() throws VirtqueueException {
        ready();
        if (nextAvail == shadowAvail) {
            int idx = availIdx();
            int pending = (idx - nextAvail) & 0xFFFF;
            if (pending > size) {
                brokenReason = "driver moved avail->idx to " + idx + " while the device is at " + nextAvail + ": "
                        + pending + " entries for a queue of " + size;
                throw new BrokenQueueException(brokenReason);
            }
            shadowAvail = idx;
            if (pending == 0) return null;
        }
        int head = avail.get(U16, SplitRing.availEntryOffset(nextAvail & (size - 1))) & 0xFFFF;
        nextAvail = (nextAvail + 1) & 0xFFFF;
        if (head >= size) {
            throw new InvalidChainException(
                    head,
                    false,
                    "available ring entry names head " + head + ", outside the queue of " + size + "; entry skipped");
        }
        try {
            return walker.walk(this, generation, resolvedMemory, log, desc, size, head);
        } catch (ChainWalker.BadChain bad) {
            writeUsed(head, 0);
            throw new InvalidChainException(
                    head, true, "chain with head " + head + " rejected: " + bad.getMessage(), bad);
        }
    }

    /** Whether avail->idx shows chains not yet popped. */
    public boolean hasAvailable() throws VirtqueueException {
        ready();
        return nextAvail != shadowAvail || availIdx() != nextAvail;
    }

    /**
     * Completes {@code chain}: logs the first {@code writtenLength} writable bytes (whatever a
     * {@link ChainWriter} has not logged already), then publishes the used element.
     *
     * @param writtenLength bytes the device wrote into the writable buffers, from their start
     */
    public void addUsed(DescriptorChain chain, long writtenLength) throws VirtqueueException {
        if (chain.queue() != this) throw new IllegalArgumentException("chain belongs to another queue");
        if (chain.isCompleted())
            throw new IllegalStateException("chain with head " + chain.head() + " already completed");
        if (chain.generation() != generation) {
            throw new IllegalStateException(
                    "chain with head " + chain.head() + " was popped before the ring was restarted");
        }
        if (writtenLength < 0 || writtenLength > chain.writableBytes()) {
            throw new IllegalArgumentException("written length " + writtenLength + " outside the chain's "
                    + chain.writableBytes() + " writable bytes");
        }
        ready();
        if (log.isEnabled() && writtenLength > chain.loggedPrefix()) {
            logWritten(chain, chain.loggedPrefix(), writtenLength);
        }
        chain.markCompleted();
        writeUsed(chain.head(), (int) writtenLength);
    }

    private static void logWritten(DescriptorChain chain, long from, long to) {
        long start = 0;
        for (int i = 0; i < chain.writableCount() && start < to; i++) {
            LoggedSegment buffer = chain.writable(i);
            long end = start + buffer.byteSize();
            long lo = Math.max(from, start), hi = Math.min(to, end);
            if (lo < hi) buffer.markWritten(lo - start, hi - lo);
            start = end;
        }
    }

    /**
     * Puts a head on the used ring without a chain object (e.g. requests restored from saved
     * state). The caller must have logged any buffer writes itself.
     */
    public void addUsed(int head, int writtenLength) throws VirtqueueException {
        if (head < 0 || head >= size) throw new IllegalArgumentException("head " + head + " outside queue of " + size);
        ready();
        writeUsed(head, writtenLength);
    }

    private void writeUsed(int head, int writtenLength) {
        long elem = SplitRing.usedElemOffset(nextUsed & (size - 1));
        used.putInt(elem, head);
        used.putInt(elem + 4, writtenLength);
        nextUsed = (nextUsed + 1) & 0xFFFF;
        used.putShortRelease(IDX_OFFSET, (short) nextUsed); // element before index (virtio 2.7.13.3)
    }

    /**
     * Whether the driver wants an interrupt for what was added since the last call: with
     * EVENT_IDX when the used index passed used_event (vring_need_event from the index of the
     * last decision, as QEMU's signalled_used), else unless avail->flags has NO_INTERRUPT.
     */
    public boolean needsNotification() throws VirtqueueException {
        ready();
        VarHandle.fullFence(); // used->idx must be visible before we read the driver's wish
        if (!eventIdx) {
            return (avail.get(U16, FLAGS_OFFSET) & AVAIL_F_NO_INTERRUPT) == 0;
        }
        boolean valid = signalledUsedValid;
        int old = signalledUsed;
        signalledUsedValid = true;
        signalledUsed = nextUsed;
        int usedEvent = avail.get(U16, SplitRing.usedEventOffset(size)) & 0xFFFF;
        return !valid || SplitRing.needEvent(usedEvent, nextUsed, old);
    }

    /**
     * Asks the driver to kick again (avail_event := next avail index with EVENT_IDX, as
     * rust-vmm does, else clears NO_NOTIFY), then re-reads avail->idx after a full fence:
     * returns true if chains arrived meanwhile, which the caller must process because their
     * kick may have been suppressed. The usual loop: disable, drain with pop, enable; repeat
     * while enable returns true.
     */
    public boolean enableNotification() throws VirtqueueException {
        ready();
        if (eventIdx) {
            used.putShort(SplitRing.availEventOffset(size), (short) nextAvail);
        } else {
            used.putShort(FLAGS_OFFSET, (short) 0);
        }
        VarHandle.fullFence();
        return availIdx() != nextAvail;
    }

    /**
     * Tells the driver not to kick while we are draining. With EVENT_IDX there is nothing to
     * write: avail_event stays where the last enable put it, so the driver kicks at most once.
     */
    public void disableNotification() throws VirtqueueException {
        ready();
        if (!eventIdx) used.putShort(FLAGS_OFFSET, (short) USED_F_NO_NOTIFY);
    }

    @Override
    public String toString() {
        return "SplitQueue[size=" + size + ", nextAvail=" + nextAvail + ", nextUsed=" + nextUsed
                + (started ? ", started" : ", stopped") + (brokenReason != null ? ", broken" : "") + "]";
    }
}
