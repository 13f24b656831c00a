package io.jvhost.migration;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The destination's reassembly: packets arrive out of order on several channels and leave strictly
 * in index order, each as soon as it is next: the channel thread that put it, or the one already
 * loading, takes it ({@link #poll}), so no thread of its own sits between the sockets and the
 * output; the receiving thread only {@linkplain #awaitLoaded waits} for the end or a gap. At most {@code window} indices past the next one to
 * load are admitted; a channel reader whose packet lies further ahead waits <em>before reading the
 * packet's data</em>, so the excess stays in the socket and TCP back-pressure slows that channel.
 *
 * <p>Why that cannot deadlock: the source hands out indices in order and each channel sends its
 * indices in increasing order (checked here). So the next index is never queued behind a waiting
 * packet on the same channel; it is on a channel whose reader is free to read it. The same rule
 * detects a lost packet early: once every channel has moved past an index that never came, it
 * can no longer arrive.
 */
final class ReorderWindow {
    /**
     * A packet whose data has been read: {@code data}'s position 0 to its limit, the header's
     * length; a slice of {@code chunk}, released once loaded (null: a buffer of its own).
     */
    record Packet(PacketHeader header, ByteBuffer data, BufferPool.Chunk chunk) {}

    private static final long ENDED = Long.MAX_VALUE;

    private final int window;
    private final long maxPackets;
    private final Packet[] slots;
    /** Per channel: the last index it announced, ENDED after EOF. */
    private final long[] channelLast;

    private final ReentrantLock lock = new ReentrantLock();
    /** A channel's end, an abort: what awaitAllEnded waits for. */
    private final Condition changed = lock.newCondition();
    /**
     * Per channel: room in the window for the index its reader waits for, or an abort. One each,
     * so a release wakes only the reader whose packet it let in, not every waiting reader per
     * packet (with runs of 16 packets per channel, that was a wasted wake-up per packet).
     */
    private final Condition[] room;
    /** Per channel: the index its reader waits to admit, -1 if it does not wait. */
    private final long[] waitingFor;
    /** Everything loaded, a gap that can no longer fill, an abort: what {@link #awaitLoaded} waits for. */
    private final Condition settled = lock.newCondition();

    private long next;
    private long lastIdx = -1;
    private long highestSeen = -1;
    private int held;
    private int peakHeld;
    private MigrationException aborted;

    ReorderWindow(int window, long maxPackets, int channels) {
        this.window = window;
        this.maxPackets = maxPackets;
        this.slots = new Packet[window];
        this.channelLast = new long[channels];
        Arrays.fill(channelLast, -1);
        this.room = new Condition[channels];
        for (int c = 0; c < channels; c++) room[c] = lock.newCondition();
        this.waitingFor = new long[channels];
        Arrays.fill(waitingFor, -1);
    }

    /**
     * Checks a header just read from {@code channel} against everything seen so far and returns once
     * its index is inside the window, so the caller may read its data.
     */
    void admit(int channel, PacketHeader h) throws MigrationException, InterruptedException {
        lock.lock();
        try {
            checkAborted();
            long idx = h.idx();
            String where = "state channel " + channel + ": packet " + idx;
            if (idx < 0) {
                throw new MigrationException(where + " has a negative index");
            }
            if (idx >= maxPackets) {
                throw new MigrationException(where + " is beyond the bound of " + maxPackets + " packets");
            }
            if (idx == channelLast[channel]) {
                throw new MigrationException(where + " is a duplicate (sent twice on this channel)");
            }
            if (idx < channelLast[channel]) {
                throw new MigrationException(where + " comes after packet " + channelLast[channel]
                        + " on the same channel; a channel's indices must increase");
            }
            if (lastIdx >= 0 && idx > lastIdx) {
                throw new MigrationException(where + " comes after the last packet (CONFIG_STATE at " + lastIdx + ")");
            }
            if (h.isConfigState()) {
                if (lastIdx >= 0) {
                    throw new MigrationException(
                            where + " is a second CONFIG_STATE packet (the first was " + lastIdx + ")");
                }
                if (highestSeen > idx) {
                    throw new MigrationException(
                            where + " is marked CONFIG_STATE (last), but packet " + highestSeen + " already arrived");
                }
                lastIdx = idx;
            }
            if (idx < next) {
                throw new MigrationException(where + " is a duplicate (already loaded)");
            }
            channelLast[channel] = idx;
            highestSeen = Math.max(highestSeen, idx);
            if (stuck()) settled.signalAll(); // a gap that can never fill: no need to wait for it
            waitingFor[channel] = idx;
            try {
                while (idx >= next + window) {
                    checkAborted();
                    room[channel].await();
                }
            } finally {
                waitingFor[channel] = -1;
            }
            checkAborted();
        } finally {
            lock.unlock();
        }
    }

    /** Stores a packet admitted by {@link #admit} whose data has been read. */
    void put(int channel, Packet p) throws MigrationException {
        lock.lock();
        try {
            checkAborted();
            long idx = p.header().idx();
            int slot = (int) (idx % window);
            if (idx < next || slots[slot] != null) {
                throw new MigrationException("state channel " + channel + ": packet " + idx
                        + " is a duplicate (it also arrived on another channel)");
            }
            slots[slot] = p;
            held++;
            peakHeld = Math.max(peakHeld, held);
            // No signal: whoever loads polls after putting (MigrationDestination's Loader).
        } finally {
            lock.unlock();
        }
    }

    /** The channel reached EOF at a packet boundary: it carries nothing more. */
    void channelEnded(int channel) {
        lock.lock();
        try {
            channelLast[channel] = ENDED;
            changed.signalAll();
            settled.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next packet in index order if it is there, else null (also once the CONFIG_STATE packet
     * has been released). The packet stays in the window until {@link #release}; only one thread
     * at a time may hold a polled packet.
     */
    Packet poll() throws MigrationException {
        lock.lock();
        try {
            checkAborted();
            return finished() ? null : slots[(int) (next % window)];
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #poll} would return a packet now. */
    boolean hasNext() {
        lock.lock();
        try {
            return aborted == null && !finished() && slots[(int) (next % window)] != null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the CONFIG_STATE packet has been loaded and released; throws once the next
     * packet can no longer arrive (every channel has moved past it, or ended without it).
     */
    void awaitLoaded() throws MigrationException, InterruptedException {
        lock.lock();
        try {
            while (true) {
                checkAborted();
                if (finished()) {
                    return;
                }
                if (stuck()) {
                    if (lastIdx < 0 && allEnded()) {
                        // The source closed every channel early: a cancelled source does that right
                        // after its Abort on the main channel, which may still be on its way.
                        throw new ConnectionLostException(
                                "the state channels ended without the last (CONFIG_STATE) packet; " + "packet " + next
                                        + " was expected next");
                    }
                    throw new MigrationException("packet " + next + " is missing: every state channel has moved past it"
                            + (allEnded() ? " or closed" : ""));
                }
                settled.await();
            }
        } finally {
            lock.unlock();
        }
    }

    private boolean finished() {
        return lastIdx >= 0 && next > lastIdx;
    }

    /** The next packet is not there and no channel can still bring it. */
    private boolean stuck() {
        return !finished() && slots[(int) (next % window)] == null && allChannelsPast(next);
    }

    /** The packet from {@link #poll} has been loaded: make room for the next. */
    void release() {
        lock.lock();
        try {
            slots[(int) (next % window)] = null;
            held--;
            next++;
            for (int c = 0; c < waitingFor.length; c++) {
                if (waitingFor[c] >= 0 && waitingFor[c] < next + window) room[c].signal();
            }
            if (finished() || stuck()) settled.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every channel reached EOF; false on timeout. */
    boolean awaitAllEnded(long timeoutMillis) throws MigrationException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (!allEnded()) {
                checkAborted();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            checkAborted();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiter; they throw {@code cause}. */
    void abort(MigrationException cause) {
        lock.lock();
        try {
            if (aborted == null) {
                aborted = cause;
            }
            changed.signalAll();
            for (Condition r : room) r.signalAll();
            settled.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int peakHeld() {
        lock.lock();
        try {
            return peakHeld;
        } finally {
            lock.unlock();
        }
    }

    private boolean allChannelsPast(long idx) {
        for (long last : channelLast) {
            if (last <= idx) {
                return false;
            }
        }
        return true;
    }

    private boolean allEnded() {
        for (long last : channelLast) {
            if (last != ENDED) {
                return false;
            }
        }
        return true;
    }

    private void checkAborted() throws MigrationException {
        if (aborted != null) {
            throw aborted;
        }
    }
}
