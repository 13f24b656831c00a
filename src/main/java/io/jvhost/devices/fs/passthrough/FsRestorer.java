package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.FileSystem;
import io.jvhost.devices.fs.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.FileHandles;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 */
final class FsRestorer {
    private static final Logger LOG = LoggerFactory.getLogger(FsRestorer.class);
    private static final String DELETED = " (deleted)";

    private final Inode root;
    private final PassthroughConfig config;
    private final MigrationConfig migration;
    private final Map<Long, Inode> opened = new HashMap<>();
    private final Map<Long, String> failed = new LinkedHashMap<>();
    private final Set<Long> resolving = new HashSet<>();
    private Map<Long, FsSnapshot.InodeState> saved;
    private SavedFs state;
    private boolean sameDirectory;
    private String rootPath;
    private Fd mountFd;

    /** Everything reopened, ready for the tables; {@code failed*} are the nodes and handles that answer EIO. */
    record Restored(long rootLookups, List<Inode> inodes, List<Handle> handles, Map<Long, Long> failedNodes,
            Set<Long> failedHandles, long nextNodeId, long nextFh, long initFlags, List<String> problems) {
        void close() {
            for (Handle h : handles) h.retire();
            for (Inode n : inodes) n.retire();
        }
    }

    FsRestorer(Inode root, PassthroughConfig config, MigrationConfig migration) {
        this.root = root;
        this.config = config;
        this.migration = migration;
    }

    Restored restore(SavedFs s) throws FsException {
        this.state = s;
        this.saved = new HashMap<>();
        for (FsSnapshot.InodeState n : s.snapshot().inodes()) saved.put(n.nodeId(), n);
        List<Handle> handles = new ArrayList<>();
        try {
            Stat rootStat = FileCalls.fstat(root.fd);
            sameDirectory = rootStat.dev() == s.rootDev() && rootStat.ino() == s.rootIno();
            rootPath = new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(root.fd)), StandardCharsets.UTF_8);
            for (FsSnapshot.InodeState n : s.snapshot().inodes()) {
                if (n.nodeId() != FileSystem.ROOT_ID) resolve(n.nodeId());
            }
            Set<Long> failedHandles = new HashSet<>();
            for (FsSnapshot.HandleState h : s.snapshot().handles()) {
                Inode n = opened.get(h.nodeId());
                if (n == null) {
                    fail(h.fh(), "fh " + h.fh() + ": its node " + h.nodeId() + " could not be reopened", failedHandles);
                    continue;
                }
                try {
                    handles.add(new Handle(h.fh(), n, reopen(n, h), h.flags(), h.directory()));
                } catch (NativeException e) {
                    fail(h.fh(), "fh " + h.fh() + " of node " + h.nodeId() + ": " + e.getMessage(), failedHandles);
                }
            }
            Map<Long, Long> failedNodes = new HashMap<>();
            for (long id : failed.keySet()) failedNodes.put(id, saved.get(id).lookups());
            List<String> problems = new ArrayList<>(failed.values());
            for (long fh : failedHandles) problems.add("fh " + fh + " unavailable");
            List<Inode> inodes = new ArrayList<>(opened.values());
            FsSnapshot snap = s.snapshot();
            return new Restored(saved.get(FileSystem.ROOT_ID).lookups(), inodes, handles, failedNodes, failedHandles,
                    snap.nextNodeId(), snap.nextFh(), snap.initFlags(), problems);
        } catch (FsException | NativeException | RuntimeException e) {
            for (Handle h : handles) h.retire();
            for (Inode n : opened.values()) n.retire();
            if (e instanceof FsException fe) throw fe;
            if (e instanceof NativeException ne) throw new FsException(Errno.EIO, "restoring: " + ne.getMessage());
            throw (RuntimeException) e;
        } finally {
            if (mountFd != null) mountFd.close();
        }
    }

    private void fail(long fh, String why, Set<Long> failedHandles) throws FsException {
        if (migration.onError() == MigrationOnError.ABORT) throw new FsException(Errno.EIO, why);
        LOG.warn("migration: {}; the guest gets EIO for it", why);
        failedHandles.add(fh);
    }

    /** Opens node {@code id} (its parent first, when found by path); null if it could not be. */
    private Inode resolve(long id) throws FsException {
        if (id == FileSystem.ROOT_ID) return root;
        Inode done = opened.get(id);
        if (done != null || failed.containsKey(id)) return done;
        if (!resolving.add(id)) throw new FsException(Errno.EIO, "node " + id + " is its own ancestor");
        FsSnapshot.InodeState n = saved.get(id);
        List<String> tried = new ArrayList<>();
        Fd fd = null;
        boolean handleFirst = state.sourceMode() == MigrationMode.FILE_HANDLES;
        for (int attempt = 0; attempt < 2 && fd == null; attempt++) {
            boolean byHandle = (attempt == 0) == handleFirst;
            try {
                fd = byHandle ? openByHandle(n, tried) : openByPath(n, tried);
            } catch (NativeException e) {
                tried.add((byHandle ? "handle: " : "path: ") + e.getMessage());
            }
        }
        resolving.remove(id);
        if (fd == null) {
            String why = "node " + id + (n.location() == null ? "" : " (" + n.location() + ")") + " not found: "
                    + (tried.isEmpty() ? "no path and no file handle" : String.join("; ", tried));
            if (migration.onError() == MigrationOnError.ABORT) throw new FsException(Errno.EIO, why);
            LOG.warn("migration: {}; the guest gets EIO for it", why);
            failed.put(id, why);
            return null;
        }
        Inode inode;
        try {
            inode = new Inode(id, InodeKey.of(FileCalls.fstat(fd)), n.fileType(), fd, fileHandleOf(fd));
        } catch (NativeException | RuntimeException e) {
            fd.close();
            throw new FsException(Errno.EIO, "node " + id + ": " + e.getMessage());
        }
        inode.lookups = n.lookups();
        inode.location = n.location();
        opened.put(id, inode);
        return inode;
    }

    private Fd openByPath(FsSnapshot.InodeState n, List<String> tried) throws NativeException, FsException {
        if (n.location() == null) return null;
        Inode parent = resolve(n.location().parentId());
        if (parent == null) {
            tried.add("path: parent node " + n.location().parentId() + " unavailable");
            return null;
        }
        Fd fd = FileCalls.openPath(parent.fd, n.location().name());
        return verified(fd, n, "path", tried, false);
    }

    private Fd openByHandle(FsSnapshot.InodeState n, List<String> tried) throws NativeException {
        FileHandle h = n.fileHandle();
        if (h == null || !sameDirectory) return null; // a handle means nothing on another file system
        if (mountFd == null) {
            // open_by_handle_at takes a real descriptor of the mount, not an O_PATH one.
            mountFd = FileCalls.openat(null, FileCalls.procSelfFd(root.fd), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
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
            if (st.fileType() != n.fileType()) {
                problem = "found a file of type " + Integer.toOctalString(st.fileType()) + ", not "
                        + Integer.toOctalString(n.fileType());
            } else if (sameDirectory && (st.dev() != n.dev() || st.ino() != n.ino())) {
                problem = "found inode " + st.ino() + ", the source had " + n.ino();
            } else if (checkInside && !inside(fd)) {
                problem = "the file lies outside the shared directory";
            }
            if (problem == null) return fd;
            tried.add(how + ": " + problem);
            fd.close();
            return null;
        } catch (NativeException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private boolean inside(Fd fd) throws NativeException {
        String p = new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(fd)), StandardCharsets.UTF_8);
        if (p.endsWith(DELETED)) p = p.substring(0, p.length() - DELETED.length());
        return p.equals(rootPath) || p.startsWith(rootPath.endsWith("/") ? rootPath : rootPath + "/");
    }

    private Fd reopen(Inode n, FsSnapshot.HandleState h) throws NativeException {
        if (h.directory()) {
            return FileCalls.openat(n.fd, FileCalls.bytes("."), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        }
        // Never re-create or re-truncate: the file is as the guest left it.
        int flags = h.flags() & ~(Libc.O_CREAT | Libc.O_EXCL | Libc.O_TRUNC | Libc.O_NOCTTY | Libc.O_NOFOLLOW);
        return FileCalls.openat(null, FileCalls.procSelfFd(n.fd), flags | Libc.O_CLOEXEC, 0);
    }

    private FileHandle fileHandleOf(Fd fd) {
        if (!config.fileHandles()) return null;
        try {
            return FileHandles.of(fd);
        } catch (NativeException e) {
            return null;
        }
    }
}
