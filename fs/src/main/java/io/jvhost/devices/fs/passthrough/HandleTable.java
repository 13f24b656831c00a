package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Open handles by fh. A handle is only valid with the node it was opened for and for its kind
 * (file or directory): anything else is EBADF, so a forged or mixed-up fh reaches nothing.
 */
final class HandleTable {
    enum Kind {
        FILE,
        DIRECTORY
    }

    private Map<Long, Handle> byFh = new HashMap<>(); // a restore sizes it for what it brings
    private final InodeTable inodes;
    private long nextFh = 1;
    /** Handles a migration could not reopen (guest-error policy): EIO until released. */
    private final java.util.Set<Long> unavailable = new java.util.HashSet<>();
    /** While a migration is prepared: the fhs opened or released since; else null. */
    private java.util.Set<Long> changed;

    HandleTable(InodeTable inodes) {
        this.inodes = inodes;
    }

    /** Registers an open descriptor of {@code inode}; the handle keeps the inode alive until released. */
    synchronized Handle add(Inode inode, Fd fd, int flags, Kind kind) {
        Handle h = new Handle(nextFh++, inode, fd, flags, kind == Kind.DIRECTORY);
        byFh.put(h.fh, h);
        changed(h.fh);
        inodes.addRef(inode);
        return h;
    }

    /** The handle, pinned for one use (close it when done). */
    synchronized Handle pin(long fh, long nodeId, Kind kind) throws FsException {
        Handle h = byFh.get(fh);
        if (h == null && unavailable.contains(fh))
            throw new FsException(Errno.EIO, "fh " + fh + " was lost in the migration");
        if (h == null || h.inode.nodeId != nodeId)
            throw new FsException(Errno.EBADF, "unknown fh " + fh + " for node " + nodeId);
        if (h.directory != (kind == Kind.DIRECTORY)) {
            throw new FsException(
                    Errno.EBADF, "fh " + fh + " is not a " + kind.name().toLowerCase() + " handle");
        }
        if (!h.pin()) throw new FsException(Errno.EBADF, "fh " + fh + " is being released");
        return h;
    }

    /** RELEASE / RELEASEDIR. */
    void remove(long fh, long nodeId, Kind kind) throws FsException {
        Handle h;
        synchronized (this) {
            h = byFh.get(fh);
            if (h == null && unavailable.remove(fh)) return;
            if (h == null || h.inode.nodeId != nodeId || h.directory != (kind == Kind.DIRECTORY)) {
                throw new FsException(Errno.EBADF, "unknown fh " + fh + " for node " + nodeId);
            }
            byFh.remove(fh);
            changed(fh);
        }
        h.retire();
        inodes.dropRef(h.inode);
    }

    synchronized void clear() {
        if (changed != null) changed.addAll(byFh.keySet());
        for (Handle h : byFh.values()) h.retire();
        byFh.clear();
        unavailable.clear();
    }

    /** After {@link InodeTable#restore}: the handles a migration reopened, with the source's fh numbers. */
    synchronized void restore(List<Handle> restored, long next, java.util.Set<Long> lost) {
        clear();
        byFh = HashMap.newHashMap(restored.size());
        for (Handle h : restored) {
            byFh.put(h.fh, h);
            changed(h.fh);
            inodes.addRef(h.inode);
        }
        nextFh = next;
        unavailable.addAll(lost);
    }

    synchronized long nextFh() {
        return nextFh;
    }

    synchronized int size() {
        return byFh.size();
    }

    synchronized List<FsSnapshot.HandleState> snapshot() {
        List<FsSnapshot.HandleState> out = new ArrayList<>();
        for (Handle h : byFh.values()) out.add(state(h));
        out.sort(Comparator.comparingLong(FsSnapshot.HandleState::fh));
        return out;
    }

    /** Handle {@code fh}'s record as {@link #snapshot()} has it, or null if it is not open. */
    synchronized FsSnapshot.HandleState state(long fh) {
        Handle h = byFh.get(fh);
        return h == null ? null : state(h);
    }

    private static FsSnapshot.HandleState state(Handle h) {
        return new FsSnapshot.HandleState(h.fh, h.inode.nodeId, h.flags, h.directory);
    }

    /** Starts recording which handles change (a migration is being prepared); returns the fhs now. */
    synchronized List<Long> trackChanges() {
        changed = new java.util.HashSet<>();
        return new ArrayList<>(byFh.keySet());
    }

    /** The handles opened or released since {@link #trackChanges()} or the last call; recording goes on. */
    synchronized java.util.Set<Long> takeChanges() {
        java.util.Set<Long> c = changed == null ? java.util.Set.of() : changed;
        if (changed != null) changed = new java.util.HashSet<>();
        return c;
    }

    /** Stops recording changes. */
    synchronized void stopTracking() {
        changed = null;
    }

    private void changed(long fh) {
        if (changed != null) changed.add(fh);
    }
}
