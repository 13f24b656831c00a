package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.Stat;

/**
 * One node the guest knows: an O_PATH descriptor of the file (never following a symlink), its
 * identity, and the counts that keep it alive. Counts and location are guarded by the
 * {@link InodeTable}'s lock.
 */
final class Inode extends Pinnable {
    final long nodeId;
    final InodeKey key;
    final int fileType;
    final Fd fd;
    /** name_to_handle_at's handle, or null where the file system has none. */
    final FileHandle fileHandle;

    /** Lookups the guest holds (given back by FORGET). */
    long lookups;
    /** Internal references: children whose location names this directory, open handles. */
    long refs;
    /** Last known name, or null once unlinked (or never known, for the root). */
    Location location;

    Inode(long nodeId, InodeKey key, int fileType, Fd fd, FileHandle fileHandle) {
        this.nodeId = nodeId;
        this.key = key;
        this.fileType = fileType;
        this.fd = fd;
        this.fileHandle = fileHandle;
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
    void closeDescriptors() {
        fd.close();
    }
}
