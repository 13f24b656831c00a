package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;

/**
 * One node the guest knows: how to reach its file ({@link InodeFile}: its own O_PATH descriptor,
 * never following a symlink, or a file handle), its identity, and the counts that keep it alive.
 * Counts and location are guarded by the {@link InodeTable}'s lock.
 *
 * <p>A handle inode has a descriptor only while requests use it: the first {@link #fd()} of a
 * use opens it (open_by_handle_at), the uses pinned at that time share it, and it closes when the
 * last of them ends. No descriptor is cached beyond that: a cache would have to stay well below
 * the fd limit the handles are there to avoid, evicting would have to wait for pinned uses, and
 * reopening a handle whose dentry the kernel has cached costs one syscall, little beside the
 * FUSE round trip through the guest's queue that asked for it.
 */
final class Inode extends Pinnable {
    final long nodeId;
    final InodeKey key;
    final int fileType;
    final InodeFile file;
    /** name_to_handle_at's handle (for a handle inode, the one it is kept by), or null where there is none. */
    final FileHandle fileHandle;
    /** A handle inode's descriptor while pinned uses need it; guarded by this. */
    private Fd opened;

    /** Lookups the guest holds (given back by FORGET). */
    long lookups;
    /** Internal references: children whose location names this directory, open handles. */
    long refs;
    /** Last known name, or null once unlinked (or never known, for the root). */
    Location location;

    Inode(long nodeId, InodeKey key, int fileType, InodeFile file, FileHandle fileHandle) {
        this.nodeId = nodeId;
        this.key = key;
        this.fileType = fileType;
        this.file = file;
        this.fileHandle = fileHandle;
    }

    /** An inode keeping {@code fd} as its O_PATH descriptor. */
    Inode(long nodeId, InodeKey key, int fileType, Fd fd, FileHandle fileHandle) {
        this(nodeId, key, fileType, new InodeFile.Kept(fd), fileHandle);
    }

    /**
     * The node's O_PATH descriptor, valid until this use (a {@link #pin()}) ends. Handle inodes
     * open it on first need (ESTALE once the file is gone from the host); only call while pinned.
     */
    Fd fd() throws NativeException {
        return switch (file) {
            case InodeFile.Kept k -> k.fd();
            case InodeFile.ByHandle h -> opened(h);
        };
    }

    /**
     * The shared descriptor of this use, opened outside the lock: {@link #pin()} takes it too,
     * under the table's lock, which must not wait for a syscall. Pinned, it cannot close meanwhile.
     */
    private Fd opened(InodeFile.ByHandle h) throws NativeException {
        synchronized (this) {
            if (!pinned()) throw new IllegalStateException("node " + nodeId + " used without a pin");
            if (opened != null) return opened;
        }
        Fd fresh = InodeFiles.reopen(h, nodeId);
        synchronized (this) {
            if (opened == null) {
                opened = fresh;
                return fresh;
            }
        }
        fresh.close(); // another use of the same pin session opened it first
        synchronized (this) {
            return opened;
        }
    }

    /** Whether this inode holds no descriptor of its own between uses. */
    boolean byHandle() {
        return file instanceof InodeFile.ByHandle;
    }

    boolean isDirectory() {
        return fileType == Stat.S_IFDIR;
    }

    boolean isRegularFile() {
        return fileType == Stat.S_IFREG;
    }

    boolean isSymlink() {
        return fileType == Stat.S_IFLNK;
    }

    @Override
    void unpinned() {
        if (opened != null) {
            opened.close();
            opened = null;
        }
    }

    @Override
    void closeDescriptors() {
        synchronized (this) {
            unpinned();
        }
        file.close();
    }
}
