package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Node ids to inodes, and the bookkeeping that decides when an inode goes: it is dropped when
 * the guest has forgotten every lookup and nothing internal (a child's location, an open
 * handle) refers to it. The root is never dropped.
 */
final class InodeTable {
    // Not final: a restore replaces them with maps sized for what it brings (see restore).
    private Map<Long, Inode> byId = new HashMap<>();
    private Map<InodeKey, Inode> byKey = new HashMap<>();
    private Map<Location, Inode> byLocation = new HashMap<>();
    private final Inode root;
    private long nextNodeId = FileSystem.ROOT_ID + 1;
    /** Nodes a migration could not bring back (guest-error policy): id to the lookups the guest still holds. */
    private final Map<Long, Long> unavailable = new HashMap<>();
    /** While a migration is prepared: the ids of nodes added, changed (lookups, location) or dropped since; else null. */
    private Set<Long> changed;

    InodeTable(Inode root) {
        if (root.nodeId != FileSystem.ROOT_ID) throw new IllegalArgumentException("root must have node id 1");
        this.root = root;
        byId.put(root.nodeId, root);
        byKey.put(root.key, root);
    }

    Inode root() {
        return root;
    }

    /** The node, pinned for one use (close it when done). Unknown ids (never handed out or forgotten): ENOENT. */
    synchronized Inode pin(long nodeId) throws FsException {
        Inode n = byId.get(nodeId);
        if (n == null && unavailable.containsKey(nodeId)) {
            throw new FsException(Errno.EIO, "node " + nodeId + " was lost in the migration");
        }
        if (n == null || !n.pin()) throw new FsException(Errno.ENOENT, "unknown node id " + nodeId);
        return n;
    }

    /**
     * If the file is already a node: counts one lookup, records the location if it had none,
     * returns it. A node kept as a file handle is that file only if {@code handle} (the looked-up
     * file's) is its handle: it holds no descriptor that would stop the host from giving its
     * inode number to a new file once the old one is deleted, and the handle's generation tells
     * them apart (then the new file becomes a new node, the stale one answers ENOENT until
     * forgotten).
     */
    synchronized Inode countExisting(InodeKey key, FileHandle handle, Location seenAt) {
        Inode n = byKey.get(key);
        if (n == null || (n.byHandle() && !n.fileHandle.equals(handle))) return null;
        n.lookups++;
        changed(n);
        if (n.location == null && n != root) setLocation(n, seenAt);
        return n;
    }

    /**
     * Counts one lookup of the file {@code file} reaches: the existing node if there is one
     * (then {@code file} is closed, the node keeps its own), else a new node owning {@code file}.
     */
    synchronized Inode addOrCount(InodeKey key, int fileType, InodeFile file, FileHandle handle, Location seenAt) {
        Inode existing = countExisting(key, handle, seenAt);
        if (existing != null) {
            file.close();
            return existing;
        }
        Inode n = new Inode(nextNodeId++, key, fileType, file, handle);
        n.lookups = 1;
        changed(n);
        byId.put(n.nodeId, n);
        byKey.put(key, n);
        setLocation(n, seenAt);
        return n;
    }

    /** FORGET: gives back up to {@code count} lookups; unknown nodes and the root are ignored. */
    synchronized void forget(long nodeId, long count) {
        Inode n = byId.get(nodeId);
        if (n == null && count > 0) {
            unavailable.computeIfPresent(nodeId, (id, left) -> left > count ? left - count : null);
            return;
        }
        if (n == null || n == root || count <= 0) return;
        n.lookups -= Math.min(count, n.lookups);
        changed(n);
        dropIfUnused(n);
    }

    synchronized void addRef(Inode n) {
        n.refs++;
    }

    synchronized void dropRef(Inode n) {
        n.refs--;
        dropIfUnused(n);
    }

    /** A name was removed: the node it named (if known) has no location any more. */
    synchronized void unlinked(long parentId, byte[] name) {
        Inode n = byLocation.get(new Location(parentId, name));
        if (n != null) {
            setLocation(n, null);
            dropIfUnused(n);
        }
    }

    /** renameat2 succeeded: move (or, for RENAME_EXCHANGE, swap) the locations it changed. */
    synchronized void renamed(Location from, Location to, boolean exchange) {
        Inode moved = byLocation.get(from);
        Inode target = byLocation.get(to);
        if (target != null) setLocation(target, exchange ? from : null);
        if (moved != null) setLocation(moved, to);
        if (target != null) dropIfUnused(target);
    }

    /** DESTROY: every node but the root goes, the root's lookups are reset. */
    synchronized void clear() {
        if (changed != null) changed.addAll(byId.keySet());
        for (Inode n : byId.values()) {
            if (n != root) n.retire();
        }
        byId.clear();
        byKey.clear();
        byLocation.clear();
        byId.put(root.nodeId, root);
        byKey.put(root.key, root);
        root.lookups = 0;
        root.refs = 0;
        unavailable.clear();
    }

    /**
     * Replaces every node but the root with the ones a migration reopened (their lookups and
     * locations already set), so node ids stay what the guest knows. Handles are re-added after.
     */
    synchronized void restore(long rootLookups, List<Inode> restored, long nextId, Map<Long, Long> lost) {
        clear();
        // Inside the VM's downtime: maps grown one doubling at a time rehashed 15,000 nodes 11 times over.
        int size = restored.size() + 1;
        byId = copySized(byId, size);
        byKey = copySized(byKey, size);
        byLocation = HashMap.newHashMap(size);
        root.lookups = rootLookups;
        for (Inode n : restored) {
            byId.put(n.nodeId, n);
            byKey.putIfAbsent(n.key, n);
            changed(n);
        }
        for (Inode n : restored) {
            Location loc = n.location;
            n.location = null;
            if (loc != null) setLocation(n, loc);
        }
        nextNodeId = nextId;
        unavailable.putAll(lost);
    }

    private static <K> Map<K, Inode> copySized(Map<K, Inode> m, int size) {
        Map<K, Inode> sized = HashMap.newHashMap(size);
        sized.putAll(m);
        return sized;
    }

    /** The node of the file {@code key}, or null if the guest does not know it. */
    synchronized Inode known(InodeKey key) {
        return byKey.get(key);
    }

    synchronized int size() {
        return byId.size();
    }

    synchronized long nextNodeId() {
        return nextNodeId;
    }

    synchronized List<FsSnapshot.InodeState> snapshot() {
        List<FsSnapshot.InodeState> out = new ArrayList<>();
        for (Inode n : byId.values()) out.add(state(n));
        out.sort(Comparator.comparingLong(FsSnapshot.InodeState::nodeId));
        return out;
    }

    /** Node {@code nodeId}'s record as {@link #snapshot()} has it, or null if there is no such node. */
    synchronized FsSnapshot.InodeState state(long nodeId) {
        Inode n = byId.get(nodeId);
        return n == null ? null : state(n);
    }

    private static FsSnapshot.InodeState state(Inode n) {
        return new FsSnapshot.InodeState(
                n.nodeId, n.lookups, n.key.dev(), n.key.ino(), n.key.mountId(), n.fileType, n.location, n.fileHandle);
    }

    /** Starts recording which nodes change (a migration is being prepared); returns the node ids now. */
    synchronized List<Long> trackChanges() {
        changed = new java.util.HashSet<>();
        return new ArrayList<>(byId.keySet());
    }

    /** The nodes changed since {@link #trackChanges()} or the last call; recording goes on. */
    synchronized Set<Long> takeChanges() {
        Set<Long> c = changed == null ? Set.of() : changed;
        if (changed != null) changed = new java.util.HashSet<>();
        return c;
    }

    /** Stops recording changes. */
    synchronized void stopTracking() {
        changed = null;
    }

    private void changed(Inode n) {
        if (changed != null) changed.add(n.nodeId);
    }

    /** Sets a node's location; a location holds a reference on its parent directory. */
    private void setLocation(Inode n, Location loc) {
        Location old = n.location;
        if (Objects.equals(old, loc)) return;
        Inode parent = loc == null ? null : byId.get(loc.parentId());
        if (parent == null) loc = null; // the parent went away meanwhile: nothing to anchor to
        n.location = loc;
        changed(n);
        if (loc != null) {
            parent.refs++; // the new anchor first, so that nothing below can drop the parent
            Inode displaced = byLocation.put(loc, n);
            if (displaced != null && displaced != n) {
                // A stale record (the host changed the tree behind our back): the name is n's now.
                displaced.location = null;
                changed(displaced);
                parent.refs--;
                dropIfUnused(displaced);
            }
        }
        if (old != null) {
            byLocation.remove(old, n);
            releaseParent(old);
        }
    }

    private void releaseParent(Location loc) {
        Inode parent = byId.get(loc.parentId());
        if (parent != null) {
            parent.refs--;
            dropIfUnused(parent);
        }
    }

    /**
     * Drops {@code n} if nothing holds it any more, and then each ancestor its drop leaves
     * unused. A loop, not a recursion: the chain is as deep as the guest made the tree.
     */
    private void dropIfUnused(Inode n) {
        while (n != null && n != root && n.lookups <= 0 && n.refs <= 0 && byId.get(n.nodeId) == n) {
            byId.remove(n.nodeId);
            byKey.remove(n.key, n);
            changed(n);
            Location loc = n.location;
            n.location = null;
            n.retire();
            Inode next = null;
            if (loc != null) {
                byLocation.remove(loc, n);
                next = byId.get(loc.parentId());
                if (next != null) next.refs--;
            }
            n = next;
        }
    }
}
