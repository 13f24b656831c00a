package io.jvhost.devices.fs.passthrough;

import io.jvhost.state.StateWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records of a migration's save, built while the guest still runs (from the moment the
 * front-end announces the migration) so that the save at stop time, inside the guest's downtime,
 * only re-reads the nodes and handles that changed since instead of every one.
 *
 * <p>When it starts, the tables begin to record which node ids and fhs change (a lookup counted or
 * forgotten, a location set by lookup, rename or unlink, a node added or dropped, a handle opened
 * or released, the tables cleared or restored) and hand over the ids they hold. A thread then
 * copies those records in small batches, each under the tables' locks for a few microseconds, so
 * a request waits at most one batch. {@link #finish} runs with no request in flight: it copies
 * what the thread did not reach, re-reads every id changed since the start (current record, or
 * gone) and returns the same snapshot a from-scratch capture would: a record copied before its
 * node changed is replaced, and a node unchanged since its copy is copied as it still is.
 *
 * <p>It holds only immutable records (no node, handle or descriptor), so giving it up
 * ({@link #close}) leaves nothing pinned: the thread ends, the tables stop recording, the records go.
 */
final class StatePreparation implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatePreparation.class);
    /** Records copied per hold of the tables' locks. */
    static final int BATCH = 256;
    /**
     * Nodes the rehearsals write in all (as many rounds as that takes, at least one): the save's
     * per-node code then runs often enough to be compiled by C2, not interpreted or run as C1's
     * profiling code inside the downtime. At 16,384 (3 rounds of 5,000 nodes) C2 compiled it
     * during the save, beside it on the other CPU (the QEMU test's JIT log).
     */
    static final int REHEARSED_NODES = 65_536;
    /**
     * Rehearsals at most, whatever the node count. A small state's round is mostly the save's
     * fixed part (sections, frames, handles), ~30 µs: a 2-node state's 32,768 rounds took 0.95 s
     * of a CPU while QEMU streamed the guest's RAM beside it, and with the destination's start-up
     * rehearsal (65,536 rounds of 1 node) libvirt's migration ran at 37-53 MiB/s against
     * virtiofsd's 91-120 in the same runs; at 1,024 (30-85 ms) 58-80 against 119-132. The fixed
     * part still runs past C1's thresholds, and the start-up warm-up ran it before.
     */
    static final int MAX_REHEARSALS = 1024;

    private final InodeTable inodes;
    private final HandleTable handles;
    private final List<Long> nodeIds, fhs;
    private final TreeMap<Long, FsSnapshot.InodeState> nodes = new TreeMap<>();
    private final TreeMap<Long, FsSnapshot.HandleState> open = new TreeMap<>();
    /**
     * Guarded by this: the records of {@link #inOrder}, encoded while the guest runs, null until
     * all of them are. The save writes them as they are except where a node changed since.
     */
    private Ahead ahead;

    /**
     * {@code records} (id order) encoded one after the other against {@code defaults}: record
     * {@code i} is {@code blob[ends[i - 1], ends[i])} (from 0 for the first).
     */
    private record Ahead(
            FsStateCodec.InodeDefaults defaults, FsSnapshot.InodeState[] records, byte[] blob, int[] ends) {
        int start(int i) {
            return i == 0 ? 0 : ends[i - 1];
        }

        /** All of it, unchanged. */
        FsStateCodec.EncodedInodes whole() {
            Pieces p = new Pieces(this);
            p.run(0, records.length);
            return p.done();
        }

        /**
         * As if one node in {@value #GAP} had changed: what the rehearsal writes, so that the save's
         * code for a changed node has run before it (a branch the JIT never saw taken is compiled
         * as a trap: a deoptimisation inside the downtime, in the QEMU test's JIT log).
         */
        FsStateCodec.EncodedInodes withGaps() {
            Pieces p = new Pieces(this);
            int from = 0;
            for (int i = GAP - 1; i < records.length; i += GAP) {
                p.run(from, i);
                p.fresh(records[i]);
                from = i + 1;
            }
            p.run(from, records.length);
            return p.done();
        }
    }

    private static final int GAP = 16;

    /**
     * The pieces of a list made of {@link Ahead}'s records and changes: runs of records as they
     * were encoded, and records to encode at the save (the changed ones, and the one after each
     * change, which may be coded against its predecessor).
     */
    private static final class Pieces {
        private final Ahead ahead;
        private final List<FsStateCodec.Piece> out = new ArrayList<>();
        /** The list changed just before the next run: its first record is no longer after the one it was encoded after. */
        private boolean changed;

        Pieces(Ahead ahead) {
            this.ahead = ahead;
        }

        /** Records {@code [from, to)} of the prepared ones, unchanged. */
        void run(int from, int to) {
            if (from >= to) return;
            if (changed) {
                out.add(new FsStateCodec.Fresh(ahead.records()[from++]));
                changed = false;
                if (from == to) return;
            }
            out.add(new FsStateCodec.Encoded(
                    ahead.blob(),
                    ahead.start(from),
                    ahead.ends()[to - 1],
                    to - from,
                    from == 0 ? null : ahead.records()[from - 1],
                    ahead.records()[to - 1]));
        }

        /** A node's record now, new or changed. */
        void fresh(FsSnapshot.InodeState n) {
            out.add(new FsStateCodec.Fresh(n));
            changed = true;
        }

        /** A prepared record left out (the node is gone or changed). */
        void dropped() {
            changed = true;
        }

        FsStateCodec.EncodedInodes done() {
            return new FsStateCodec.EncodedInodes(ahead.defaults(), List.copyOf(out));
        }
    }

    private final Thread thread;
    private final long started = System.nanoTime();
    /** Guarded by this: how far the copy got. */
    private int nextNode, nextFh;

    /**
     * Guarded by this: {@link #nodes}' records in id order once every one was copied, null
     * before. The stop patches it with the changes in bulk copies, rather than walking every
     * node (code that ran once, interpreted, inside the downtime: ~1 µs a node).
     */
    private FsSnapshot.InodeState[] inOrder;

    private volatile boolean stopped;

    private final Rehearsal rehearsal;

    /**
     * Writes a snapshot the way the save will, into {@code sink}, which discards it: run once on
     * the prepared records, it has the encoder compiled (a cold JVM runs it interpreted, inside
     * the downtime) and tells the size of the state to come.
     */
    @FunctionalInterface
    interface Rehearsal {
        void write(FsSnapshot snapshot, FsStateCodec.EncodedInodes encoded, java.io.OutputStream sink)
                throws java.io.IOException;
    }

    /** Counts what a rehearsal writes; stops it (at its next frame, 64 KiB) once the preparation ends, so no stop waits for it. */
    private final class Sink extends java.io.OutputStream {
        long count;

        @Override
        public void write(int b) throws java.io.IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            if (stopped) throw new Stopped();
            count += len;
        }
    }

    private static final class Stopped extends java.io.IOException {
        Stopped() {
            super("the preparation ended", null);
        }
    }

    private StatePreparation(
            InodeTable inodes,
            HandleTable handles,
            List<Long> nodeIds,
            List<Long> fhs,
            ThreadFactory threads,
            Rehearsal rehearsal) {
        this.rehearsal = rehearsal;
        this.inodes = inodes;
        this.handles = handles;
        this.nodeIds = nodeIds;
        this.fhs = fhs;
        this.thread = threads.newThread(this::copyAll);
    }

    /** Starts recording changes and copying the records on a thread of {@code threads}. */
    static StatePreparation start(InodeTable inodes, HandleTable handles, ThreadFactory threads, Rehearsal rehearsal) {
        List<Long> ids, open;
        synchronized (handles) { // the snapshot's lock order: handles, then inodes
            synchronized (inodes) {
                ids = inodes.trackChanges();
                open = handles.trackChanges();
            }
        }
        StatePreparation p = new StatePreparation(inodes, handles, ids, open, threads, rehearsal);
        LOG.info(
                "migration: preparing the state of {} inodes and {} open handles while the guest runs",
                ids.size(),
                open.size());
        p.thread.start();
        return p;
    }

    private void copyAll() {
        while (!stopped && copyBatch()) Thread.yield(); // requests first
        if (stopped) return;
        long copied = System.nanoTime();
        FsSnapshot prepared;
        FsSnapshot.InodeState[] records;
        synchronized (this) {
            prepared = new FsSnapshot(0, 0, 0, List.copyOf(nodes.values()), List.copyOf(open.values()));
            records = inOrder = prepared.inodes().toArray(FsSnapshot.InodeState[]::new);
        }
        if (records.length == 0) return;
        FsStateCodec.InodeEncoder encoder = new FsStateCodec.InodeEncoder(records[0]);
        Sink sink = new Sink();
        int rounds = Math.clamp(REHEARSED_NODES / records.length, 1, MAX_REHEARSALS);
        try {
            byte[] blob = new byte[64 << 10];
            int size = 0;
            int[] ends = new int[records.length];
            FsSnapshot.InodeState previous = null;
            for (int i = 0; i < records.length; i++) {
                if ((i & (BATCH - 1)) == 0 && stopped) return;
                byte[] b = encoder.encode(previous, records[i]);
                if (b.length > blob.length - size)
                    blob = Arrays.copyOf(blob, Math.max(2 * blob.length, size + b.length));
                System.arraycopy(b, 0, blob, size, b.length);
                size += b.length;
                ends[i] = size;
                previous = records[i];
            }
            Ahead done = new Ahead(encoder.defaults(), records, Arrays.copyOf(blob, size), ends);
            synchronized (this) {
                ahead = done;
            }
            FsStateCodec.EncodedInodes whole = done.whole(), gaps = done.withGaps();
            for (int r = 0; r < rounds; r++) {
                sink.count = 0;
                rehearsal.write(prepared, r == 0 ? whole : gaps, sink);
            }
        } catch (Stopped e) {
            return; // the save or a cancel came first
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("migration: rehearsing the save failed: {}", e.toString());
            return;
        }
        LOG.info(
                "migration: prepared {} inodes and {} open handles in {} ms, encoded them and rehearsed their save {} times ({} bytes) in {} ms",
                nodeIds.size(),
                fhs.size(),
                PassthroughFs.ms(copied - started),
                rounds,
                sink.count,
                PassthroughFs.ms(System.nanoTime() - copied));
    }

    /** Copies the next batch of records; false once every record has been copied. */
    private synchronized boolean copyBatch() {
        synchronized (handles) {
            synchronized (inodes) {
                int copied = 0;
                for (; nextNode < nodeIds.size() && copied < BATCH; nextNode++, copied++) {
                    long id = nodeIds.get(nextNode);
                    FsSnapshot.InodeState s = inodes.state(id);
                    if (s != null) nodes.put(id, s); // a node gone meanwhile is among the changes
                }
                for (; nextFh < fhs.size() && copied < BATCH; nextFh++, copied++) {
                    long fh = fhs.get(nextFh);
                    FsSnapshot.HandleState s = handles.state(fh);
                    if (s != null) open.put(fh, s);
                }
                return nextNode < nodeIds.size() || nextFh < fhs.size();
            }
        }
    }

    /**
     * The snapshot at this moment: call with no request in flight (the device suspended). Ends
     * the preparation; close it afterwards all the same.
     */
    Finished finish(long initFlags) {
        stop();
        synchronized (this) {
            synchronized (handles) {
                synchronized (inodes) {
                    boolean waited = nextNode < nodeIds.size() || nextFh < fhs.size();
                    while (copyBatch()) {
                        // what the thread did not get to
                    }
                    Set<Long> changedNodes = inodes.takeChanges(), changedFhs = handles.takeChanges();
                    List<FsSnapshot.InodeState> all;
                    FsStateCodec.EncodedInodes pieces = FsStateCodec.EncodedInodes.NONE;
                    if (inOrder != null && !waited) {
                        Pieces p = ahead != null ? new Pieces(ahead) : null;
                        all = patched(inOrder, changedNodes, p);
                        if (p != null) pieces = p.done();
                    } else {
                        for (long id : changedNodes) {
                            FsSnapshot.InodeState s = inodes.state(id);
                            if (s == null) nodes.remove(id);
                            else nodes.put(id, s);
                        }
                        all = List.copyOf(nodes.values());
                    }
                    for (long fh : changedFhs) {
                        FsSnapshot.HandleState s = handles.state(fh);
                        if (s == null) open.remove(fh);
                        else open.put(fh, s);
                    }
                    return new Finished(
                            new FsSnapshot(
                                    inodes.nextNodeId(), handles.nextFh(), initFlags, all, List.copyOf(open.values())),
                            pieces,
                            changedNodes.size(),
                            changedFhs.size(),
                            waited);
                }
            }
        }
    }

    /** The snapshot, and the bytes of those of its records encoded beforehand (see {@link FsStateCodec#write(SavedFs, FsStateCodec.EncodedInodes, StateWriter)}). */
    record Finished(
            FsSnapshot snapshot,
            FsStateCodec.EncodedInodes encoded,
            int changedNodes,
            int changedHandles,
            boolean unfinished) {
        /** Not prepared: a fresh snapshot. */
        static Finished fresh(FsSnapshot snapshot) {
            return new Finished(snapshot, FsStateCodec.EncodedInodes.NONE, -1, -1, false);
        }

        /** For the capture's log line (see {@code PassthroughFs.capture}): what the preparation had to add at the stop. */
        void describeChanges(StringBuilder b) {
            if (changedNodes < 0) return;
            b.append("; the prepared state took ")
                    .append(changedNodes)
                    .append(" changed inodes and ")
                    .append(changedHandles)
                    .append(" changed handles");
            if (unfinished) b.append(" (its preparation had not finished: the rest was copied now)");
        }
    }

    /**
     * {@code records} (in id order) with each of {@code changed} replaced by its record now, removed
     * if the node is gone, inserted in order if new: the unchanged runs between are copied in
     * bulk, and {@code pieces} (if given: the records were encoded ahead) told the same. Call with
     * the tables locked.
     */
    private List<FsSnapshot.InodeState> patched(FsSnapshot.InodeState[] records, Set<Long> changed, Pieces pieces) {
        long[] ids = new long[changed.size()]; // a loop, not a stream: no lambda to link inside the downtime
        int k = 0;
        for (long id : changed) ids[k++] = id;
        Arrays.sort(ids);
        FsSnapshot.InodeState[] out = new FsSnapshot.InodeState[records.length + ids.length];
        int from = 0, n = 0;
        for (long id : ids) {
            int at = indexOf(records, from, id);
            int end = at >= 0 ? at : -at - 1;
            System.arraycopy(records, from, out, n, end - from);
            n += end - from;
            if (pieces != null) pieces.run(from, end);
            from = at >= 0 ? at + 1 : end; // the old record of a changed node is dropped
            if (at >= 0 && pieces != null) pieces.dropped();
            FsSnapshot.InodeState now = inodes.state(id);
            if (now != null) {
                out[n++] = now;
                if (pieces != null) pieces.fresh(now);
            }
        }
        System.arraycopy(records, from, out, n, records.length - from);
        n += records.length - from;
        if (pieces != null) pieces.run(from, records.length);
        return List.of(Arrays.copyOf(out, n));
    }

    /** Binary search by node id in {@code records[from..]}: the index, or -(insertion point) - 1. */
    private static int indexOf(FsSnapshot.InodeState[] records, int from, long id) {
        int lo = from, hi = records.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long m = records[mid].nodeId();
            if (m < id) lo = mid + 1;
            else if (m > id) hi = mid - 1;
            else return mid;
        }
        return -lo - 1;
    }

    private void stop() {
        stopped = true;
        boolean interrupted = false;
        while (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join(); // at most one batch away
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Gives the preparation up: the thread ends, the tables stop recording changes, the records go. */
    @Override
    public void close() {
        stop();
        synchronized (handles) {
            synchronized (inodes) {
                inodes.stopTracking();
                handles.stopTracking();
            }
        }
        synchronized (this) {
            nodes.clear();
            open.clear();
            inOrder = null;
            ahead = null;
        }
    }
}
