package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.FileHandles;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination half of a migration: reopens every node and handle a {@link SavedFs}
 * describes, relative to this process's own shared directory, without touching the live tables.
 *
 * <p>A node is found by path (its parent's descriptor + its name, O_NOFOLLOW) or by file handle
 * (open_by_handle_at), in the order the source's {@link MigrationMode} prefers, falling back to
 * the other. Whatever is opened must be the file the source had: the same file type always, and
 * when both sides serve the very same directory (same device and inode of the shared root) the
 * same inode. A file handle can name any file of the file system, so a node opened by handle
 * must also lie inside the shared directory (its /proc/self/fd path, " (deleted)" allowed for a
 * file the guest unlinked while holding it open: only handles reach those).
 *
 * <p>The blob is the source's word, not the truth: parent chains are walked with an explicit
 * stack (any depth, loops detected), a handle is reopened only as OPEN or OPENDIR would open it
 * ({@link NodeOpener}: never a device node or a FIFO, never with O_CREAT, O_TRUNC or O_PATH), and
 * a restore that fails, by whatever throwable, closes every descriptor it opened.
 */
final class FsRestorer {
    private static final Logger LOG = LoggerFactory.getLogger(FsRestorer.class);
    private static final String DELETED = " (deleted)";
    /** Failures logged one by one under guest-error; past these, only their number (a blob can hold millions). */
    private static final int LOGGED_FAILURES = 16;

    private final Inode root;
    private final InodeFiles files;
    private final MigrationConfig migration;
    private final Map<Long, Inode> opened = new HashMap<>();
    private final Map<Long, String> failed = new LinkedHashMap<>();
    private Map<Long, FsSnapshot.InodeState> saved;
    private SavedFs state;
    private boolean sameDirectory;
    private String rootPath;
    private Fd mountFd;
    /**
     * The parent directory the last node was found in, kept pinned (its descriptor open, for a
     * handle inode) while the next nodes are in it too: a blob lists siblings together, and
     * reopening the parent's handle for each child would cost a syscall per node.
     */
    private Inode heldParent;

    private int failures;

    /** Everything reopened, ready for the tables; {@code failed*} are the nodes and handles that answer EIO. */
    record Restored(
            long rootLookups,
            List<Inode> inodes,
            List<Handle> handles,
            Map<Long, Long> failedNodes,
            Set<Long> failedHandles,
            long nextNodeId,
            long nextFh,
            long initFlags,
            List<String> problems) {
        void close() {
            for (Handle h : handles) h.retire();
            for (Inode n : inodes) n.retire();
        }
    }

    /** A node being resolved: what was tried so far. */
    private static final class Pending {
        final FsSnapshot.InodeState node;
        final List<String> tried = new ArrayList<>();
        boolean handleTried, pathTried;

        Pending(FsSnapshot.InodeState node) {
            this.node = node;
        }
    }

    FsRestorer(Inode root, InodeFiles files, MigrationConfig migration) {
        this.root = root;
        this.files = files;
        this.migration = migration;
    }

    Restored restore(SavedFs s) throws FsException {
        this.state = s;
        this.saved = new HashMap<>();
        for (FsSnapshot.InodeState n : s.snapshot().inodes()) saved.put(n.nodeId(), n);
        List<Handle> handles = new ArrayList<>();
        boolean done = false;
        try {
            Stat rootStat = FileCalls.fstat(root.fd());
            sameDirectory = rootStat.dev() == s.rootDev() && rootStat.ino() == s.rootIno();
            rootPath = new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(root.fd())), StandardCharsets.UTF_8);
            for (FsSnapshot.InodeState n : s.snapshot().inodes()) resolve(n.nodeId());
            Set<Long> failedHandles = new HashSet<>();
            for (FsSnapshot.HandleState h : s.snapshot().handles()) {
                Inode n = inode(h.nodeId());
                if (n == null) {
                    fail(h.fh(), "fh " + h.fh() + ": its node " + h.nodeId() + " could not be reopened", failedHandles);
                    continue;
                }
                try {
                    handles.add(reopen(n, h));
                } catch (NativeException e) {
                    requireResources(e, "fh " + h.fh());
                    fail(h.fh(), "fh " + h.fh() + " of node " + h.nodeId() + ": " + e.getMessage(), failedHandles);
                } catch (FsException e) {
                    fail(h.fh(), "fh " + h.fh() + " of node " + h.nodeId() + ": " + e.getMessage(), failedHandles);
                }
            }
            if (failures > LOGGED_FAILURES) {
                LOG.warn(
                        "migration: {} more nodes and handles unavailable (not logged one by one)",
                        failures - LOGGED_FAILURES);
            }
            Map<Long, Long> failedNodes = new HashMap<>();
            for (long id : failed.keySet()) failedNodes.put(id, saved.get(id).lookups());
            List<String> problems = new ArrayList<>(failed.values());
            for (long fh : failedHandles) problems.add("fh " + fh + " unavailable");
            List<Inode> inodes = new ArrayList<>(opened.values());
            FsSnapshot snap = s.snapshot();
            Restored r = new Restored(
                    saved.get(FileSystem.ROOT_ID).lookups(),
                    inodes,
                    handles,
                    failedNodes,
                    failedHandles,
                    snap.nextNodeId(),
                    snap.nextFh(),
                    snap.initFlags(),
                    problems);
            done = true;
            return r;
        } catch (NativeException e) {
            throw new FsException(Errno.EIO, "restoring: " + e.getMessage(), e);
        } finally {
            if (heldParent != null) heldParent.close();
            // Whatever ended the restore (an Error too), nothing it opened stays open.
            if (!done) {
                for (Handle h : handles) h.retire();
                for (Inode n : opened.values()) n.retire();
            }
            if (mountFd != null) mountFd.close();
        }
    }

    private void fail(long fh, String why, Set<Long> failedHandles) throws FsException {
        if (migration.onError() == MigrationOnError.ABORT) throw new FsException(Errno.EIO, why);
        warn(why);
        failedHandles.add(fh);
    }

    private void warn(String why) {
        if (++failures <= LOGGED_FAILURES) LOG.warn("migration: {}; the guest gets EIO for it", why);
    }

    /** The node reopened (the root included), or null if it is not (yet, or at all). */
    private Inode inode(long id) {
        return id == FileSystem.ROOT_ID ? root : opened.get(id);
    }

    private boolean decided(long id) {
        return id == FileSystem.ROOT_ID || opened.containsKey(id) || failed.containsKey(id);
    }

    /**
     * Opens node {@code id}, and first every ancestor its path needs: an explicit stack instead of
     * recursion, since the blob decides how deep the chain is. Each node is pushed at most once
     * over the whole restore (it leaves the stack decided), so the cost is linear in the nodes;
     * a parent already on the stack means the chain loops, and that path attempt fails.
     */
    private void resolve(long id) throws FsException {
        if (decided(id)) return;
        Deque<Pending> stack = new ArrayDeque<>();
        Set<Long> onStack = new HashSet<>();
        stack.push(new Pending(saved.get(id)));
        onStack.add(id);
        while (!stack.isEmpty()) {
            Pending p = stack.peek();
            Long parent = step(p, onStack);
            if (parent != null) {
                stack.push(new Pending(saved.get(parent)));
                onStack.add(parent);
            } else {
                stack.pop();
                onStack.remove(p.node.nodeId());
            }
        }
    }

    /**
     * Tries {@code p}'s ways in the order the source's mode prefers. Returns the parent to
     * resolve first when the path is next and its parent is not decided yet; otherwise decides
     * {@code p} (opened, or failed by the policy) and returns null.
     */
    private Long step(Pending p, Set<Long> onStack) throws FsException {
        FsSnapshot.InodeState n = p.node;
        boolean handleFirst = state.sourceMode() == MigrationMode.FILE_HANDLES;
        Fd fd = null;
        if (handleFirst && !p.handleTried) {
            p.handleTried = true;
            fd = attempt(p, true, null);
        }
        if (fd == null && !p.pathTried) {
            Location loc = n.location();
            if (loc != null && !decided(loc.parentId()) && !onStack.contains(loc.parentId())) return loc.parentId();
            p.pathTried = true;
            if (loc != null && onStack.contains(loc.parentId())) {
                p.tried.add("path: its parent chain loops back to node " + loc.parentId());
            } else if (loc != null) {
                Inode parent = inode(loc.parentId());
                if (parent == null) p.tried.add("path: parent node " + loc.parentId() + " unavailable");
                else fd = attempt(p, false, parent);
            }
        }
        if (fd == null && !p.handleTried) {
            p.handleTried = true;
            fd = attempt(p, true, null);
        }
        if (fd == null) {
            String why = "node " + n.nodeId() + (n.location() == null ? "" : " (" + n.location() + ")") + " not found: "
                    + (p.tried.isEmpty() ? "no path and no file handle" : String.join("; ", p.tried));
            if (migration.onError() == MigrationOnError.ABORT) throw new FsException(Errno.EIO, why);
            warn(why);
            failed.put(n.nodeId(), why);
            return null;
        }
        try {
            Stat st = FileCalls.fstat(fd); // its type is the saved one, unless the source recorded none
            // Kept as this side's mode says; a handle is always the one of the descriptor just verified.
            FileHandle handle = files.handleOf(fd);
            Inode inode = new Inode(
                    n.nodeId(), InodeKey.of(st), st.fileType(), files.keep(fd, st.fileType(), handle), handle);
            inode.lookups = n.lookups();
            inode.location = n.location();
            opened.put(n.nodeId(), inode);
        } catch (NativeException e) {
            fd.close();
            throw new FsException(Errno.EIO, "node " + n.nodeId() + ": " + e.getMessage(), e);
        } catch (Throwable t) {
            fd.close();
            throw t;
        }
        return null;
    }

    /** One way to find {@code p}'s file; null (and why, in {@code p.tried}) if it does not find it. */
    private Fd attempt(Pending p, boolean byHandle, Inode parent) throws FsException {
        try {
            return byHandle ? openByHandle(p.node, p.tried) : openByPath(p.node, parent, p.tried);
        } catch (NativeException e) {
            requireResources(e, "node " + p.node.nodeId());
            p.tried.add((byHandle ? "handle: " : "path: ") + e.getMessage());
            return null;
        }
    }

    /**
     * Running out of descriptors or memory is the destination's failure, not one node's: under
     * guest-error it would otherwise load a state that leaves nothing to serve the guest with.
     */
    private static void requireResources(NativeException e, String what) throws FsException {
        if (e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE || e.errno() == Errno.ENOMEM) {
            throw new FsException(
                    e.errno(),
                    "restoring " + what + ": " + e.getMessage()
                            + " (the destination is out of resources: the load fails whatever --migration-on-error says)");
        }
    }

    private Fd openByPath(FsSnapshot.InodeState n, Inode parent, List<String> tried) throws NativeException {
        if (heldParent != parent) {
            Inode previous = heldParent;
            heldParent = pinned(parent);
            if (previous != null) previous.close();
        }
        Fd fd = FileCalls.openPath(parent.fd(), n.location().name());
        return verified(fd, n, "path", tried, false);
    }

    /** A node of this restore (not in any table yet, so never retired), pinned for one use of its descriptor. */
    private static Inode pinned(Inode n) {
        if (!n.pin()) throw new IllegalStateException("node " + n.nodeId + " retired during its restore");
        return n;
    }

    private Fd openByHandle(FsSnapshot.InodeState n, List<String> tried) throws NativeException {
        FileHandle h = n.fileHandle();
        if (h == null || !sameDirectory) return null; // a handle means nothing on another file system
        if (mountFd == null) {
            // open_by_handle_at takes a real descriptor of the mount, not an O_PATH one.
            mountFd = FileCalls.openat(
                    null, FileCalls.procSelfFd(root.fd()), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        }
        Fd fd = FileHandles.open(mountFd, h, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC);
        return verified(fd, n, "handle", tried, true);
    }

    /** Keeps {@code fd} only if it is the file the source had (and, by handle, inside the share). */
    private Fd verified(Fd fd, FsSnapshot.InodeState n, String how, List<String> tried, boolean checkInside)
            throws NativeException {
        try {
            Stat st = FileCalls.fstat(fd);
            String problem = null;
            if (n.fileType() != 0 && st.fileType() != n.fileType()) { // 0: unknown (virtiofsd's state)
                problem = "found a file of type " + Integer.toOctalString(st.fileType()) + ", not "
                        + Integer.toOctalString(n.fileType());
            } else if (sameDirectory && n.ino() != 0 && (st.dev() != n.dev() || st.ino() != n.ino())) {
                // ino 0: none saved (virtiofsd's state); a handle then names the file by itself
                problem = "found inode " + st.ino() + ", the source had " + n.ino();
            } else if (checkInside && !inside(fd, st)) {
                problem = "the file lies outside the shared directory";
            } else if (!checkInside && sameDirectory && !sameHandle(fd, n.fileHandle())) {
                problem = "found another file of inode " + st.ino() + " (its file handle differs)";
            }
            if (problem == null) return fd;
            tried.add(how + ": " + problem);
            fd.close();
            return null;
        } catch (Throwable t) {
            fd.close();
            throw t;
        }
    }

    /**
     * Whether a file found by path is the one whose handle the source saved: a source that keeps
     * inodes as handles holds no descriptor that would stop the host from reusing an unlinked
     * file's inode number, and the handle's generation tells the two apart. No handle on either
     * side: nothing to compare, the inode number must do.
     */
    private static boolean sameHandle(Fd fd, FileHandle saved) {
        if (saved == null) return true;
        try {
            FileHandle mine = FileHandles.of(fd);
            return mine.type() == saved.type() && java.util.Arrays.equals(mine.bytes(), saved.bytes());
        } catch (NativeException e) {
            return true;
        }
    }

    /**
     * Whether {@code fd} (of status {@code st}) lies inside the share. Its path alone would not
     * do for the share's own path: a file the kernel cannot connect to its directory (a
     * non-directory decoded from a handle, whose dentry it did not have) reads as "/" + its name,
     * so it is the root only if it is the root's inode.
     */
    private boolean inside(Fd fd, Stat st) throws NativeException {
        String p = new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(fd)), StandardCharsets.UTF_8);
        if (p.endsWith(DELETED)) p = p.substring(0, p.length() - DELETED.length());
        if (p.equals(rootPath)) return st.dev() == root.key.dev() && st.ino() == root.key.ino();
        return p.startsWith(rootPath.endsWith("/") ? rootPath : rootPath + "/");
    }

    /** A saved handle, reopened as OPEN or OPENDIR would open it: the flags it records are the ones used. */
    private static Handle reopen(Inode n, FsSnapshot.HandleState h) throws FsException, NativeException {
        int flags = h.directory() ? NodeOpener.DIRECTORY_FLAGS : NodeOpener.handleFlags(h.flags());
        Fd fd;
        try (Inode p = pinned(n)) {
            fd = h.directory() ? NodeOpener.directory(p.fd(), p.fileType) : NodeOpener.file(p.fd(), p.fileType, flags);
        }
        try {
            return new Handle(h.fh(), n, fd, flags, h.directory());
        } catch (Throwable t) {
            fd.close();
            throw t;
        }
    }
}
