package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.FileHandles;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides how each new inode is kept ({@link InodeFileHandles}) and holds one real descriptor
 * per mount that handle inodes live on: open_by_handle_at decodes a handle on the mount of the
 * descriptor it is given, and refuses O_PATH ones.
 *
 * <p>A mount's descriptor is a directory of that mount the guest looked up (the shared directory
 * for its own mount): a file of a mount can only be reached through a directory of it, save a
 * file bind-mounted on its own, which stays an O_PATH inode (or is refused, mandatory). There
 * are as many as the host mounted under the share, never more: the guest makes no mounts.
 *
 * <p>Confinement is that of O_PATH inodes: a handle is only ever made here, by
 * name_to_handle_at on a descriptor this process opened inside the share, and the kernel decodes
 * it to that very inode or ESTALE (the handle carries the inode's generation, so a reused inode
 * number does not match). Handles from elsewhere (a migration) are checked by {@link FsRestorer},
 * which then keeps the handle of the descriptor it verified, never the one it was given.
 */
final class InodeFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InodeFiles.class);
    static final int PATH_FLAGS = Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;

    private final InodeFileHandles mode;
    private final boolean recordHandles;
    /**
     * Read on every lookup and reopen of a handle inode, by any thread: read without a lock (a
     * restore's threads took turns on one here per node); added to under its own monitor.
     */
    private final Map<Integer, Fd> mountFds = new ConcurrentHashMap<>();
    /** Mounts already warned about (once each, as virtiofsd does). */
    private final Set<Long> warned = new HashSet<>();

    private InodeFiles(InodeFileHandles mode, boolean recordHandles) {
        this.mode = mode;
        this.recordHandles = recordHandles;
    }

    /**
     * The policy for a share whose root is {@code root} (an O_PATH descriptor). Unless handles
     * are never wanted, the root's own handle is made and opened once: if that fails, prefer
     * falls back to descriptors for everything (with a warning), mandatory fails here.
     */
    static InodeFiles open(Fd root, InodeFileHandles wanted, boolean recordHandles) throws IOException {
        InodeFiles files = new InodeFiles(wanted, recordHandles);
        if (wanted == InodeFileHandles.NEVER) return files;
        Fd mountFd = null;
        try {
            FileHandle h = FileHandles.of(root);
            mountFd = NodeOpener.directory(root, Stat.S_IFDIR);
            FileHandles.open(mountFd, h, PATH_FLAGS).close();
            files.mountFds.put(h.mountId(), mountFd);
            return files;
        } catch (NativeException | FsException e) {
            if (mountFd != null) mountFd.close();
            if (wanted == InodeFileHandles.MANDATORY) {
                throw new IOException(
                        "--inode-file-handles=mandatory: the shared directory's file handle cannot be made or opened: "
                                + e.getMessage(),
                        e);
            }
            LOG.warn(
                    "file handles do not work on the shared directory ({}): inodes are kept as O_PATH descriptors",
                    e.getMessage());
            return new InodeFiles(InodeFileHandles.NEVER, recordHandles);
        }
    }

    /** The mode in effect (prefer may have fallen back to never). */
    InodeFileHandles mode() {
        return mode;
    }

    /**
     * The file handle of {@code opath} (to keep the inode by, or to migrate it with), or null.
     * Without file-handle inodes it is made only if handles are recorded for migration, and any
     * failure gives null. With them, a file system without handles gives null (prefer) or
     * EOPNOTSUPP (mandatory), any other failure is the request's.
     */
    FileHandle handleOf(Fd opath) throws NativeException {
        if (mode == InodeFileHandles.NEVER) {
            if (!recordHandles) return null;
            try {
                return FileHandles.of(opath);
            } catch (NativeException e) {
                return null; // the file system has no handles (EOPNOTSUPP): paths only
            }
        }
        try {
            return FileHandles.of(opath);
        } catch (NativeException e) {
            if (e.errno() != Errno.EOPNOTSUPP && e.errno() != Errno.EOVERFLOW) throw e;
            return noHandle(opath, "its file system gives no file handles");
        }
    }

    /** As {@link #handleOf(Fd)}, where {@code known} (if not null) is the handle of {@code opath} made already. */
    FileHandle handleOf(Fd opath, FileHandle known) throws NativeException {
        if (known == null) return handleOf(opath);
        return mode == InodeFileHandles.NEVER && !recordHandles ? null : known;
    }

    /**
     * How the inode {@code opath} refers to (of type {@code fileType}, with handle {@code handle}
     * from {@link #handleOf}) is kept. Takes {@code opath} over: it is the kept descriptor, or it
     * is closed here.
     */
    InodeFile keep(Fd opath, int fileType, FileHandle handle) throws NativeException {
        if (mode == InodeFileHandles.NEVER || handle == null) return new InodeFile.Kept(opath);
        Fd mountFd = mountFd(handle.mountId(), opath, fileType);
        if (mountFd == null) {
            noHandle(opath, "no directory of its mount is known to open its handle with"); // mandatory: throws
            return new InodeFile.Kept(opath);
        }
        opath.close();
        return new InodeFile.ByHandle(handle, mountFd);
    }

    /**
     * A handle inode kept by {@code handle} without opening anything, or null if this side keeps
     * descriptors or knows no descriptor of the handle's mount (then {@link #keep} decides, from a
     * descriptor). Only for a handle made here, by name_to_handle_at inside the share.
     */
    InodeFile.ByHandle byHandle(FileHandle handle) {
        if (mode == InodeFileHandles.NEVER) return null;
        Fd mountFd = mountFds.get(handle.mountId());
        return mountFd == null ? null : new InodeFile.ByHandle(handle, mountFd);
    }

    /** null (prefer: the caller keeps a descriptor), or EOPNOTSUPP (mandatory). Warns once per mount. */
    private FileHandle noHandle(Fd opath, String why) throws NativeException {
        long mount = FileCalls.fstat(opath).mountId();
        boolean first;
        synchronized (warned) {
            first = warned.add(mount);
        }
        if (mode == InodeFileHandles.MANDATORY) {
            if (first) LOG.error("--inode-file-handles=mandatory: a file on mount {}: {}", mount, why);
            throw new NativeException("name_to_handle_at", Errno.EOPNOTSUPP);
        }
        if (first) LOG.warn("a file on mount {} is kept as an O_PATH descriptor: {}", mount, why);
        return null;
    }

    private Fd mountFd(int mountId, Fd opath, int fileType) throws NativeException {
        Fd seen = mountFds.get(mountId);
        if (seen != null || fileType != Stat.S_IFDIR) return seen;
        synchronized (mountFds) { // one descriptor per mount, however many threads meet it at once
            Fd known = mountFds.get(mountId);
            if (known != null) return known;
            Fd fd;
            try {
                fd = NodeOpener.directory(opath, fileType);
            } catch (FsException notADirectory) {
                throw new IllegalStateException(notADirectory); // checked just above
            }
            mountFds.put(mountId, fd);
            return fd;
        }
    }

    /**
     * The O_PATH descriptor of a handle inode, for one use. A stale handle is a file gone from
     * the host (unlinked, no descriptor left): ENOENT, as an O_PATH inode's calls answer in a
     * removed directory.
     */
    static Fd reopen(InodeFile.ByHandle h, long nodeId) throws NativeException {
        return open(h, nodeId, PATH_FLAGS);
    }

    /** The handle inode's file opened with {@code flags}; a stale handle is ENOENT, as for {@link #reopen}. */
    static Fd open(InodeFile.ByHandle h, long nodeId, int flags) throws NativeException {
        try {
            return FileHandles.open(h.mountFd(), h.handle(), flags);
        } catch (NativeException e) {
            if (e.errno() != Errno.ESTALE) throw e;
            throw new NativeException("open_by_handle_at (node " + nodeId + ", gone from the host)", Errno.ENOENT);
        }
    }

    /** Closes the mount descriptors: only once no inode is left to use them. */
    @Override
    public void close() {
        synchronized (mountFds) {
            mountFds.values().forEach(Fd::close);
            mountFds.clear();
        }
    }
}
