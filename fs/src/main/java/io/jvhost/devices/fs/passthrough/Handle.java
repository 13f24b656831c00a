package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.Fd;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An open file or directory the guest holds by {@code fh}: the real descriptor, the flags it
 * was opened with and the node it belongs to (which it keeps alive).
 */
final class Handle extends Pinnable {
    final long fh;
    final Inode inode;
    final Fd fd;
    final int flags;
    final boolean directory;
    /** A directory listing is lseek + getdents64 on one file position: one reader at a time. */
    final ReentrantLock position = new ReentrantLock();

    Handle(long fh, Inode inode, Fd fd, int flags, boolean directory) {
        this.fh = fh;
        this.inode = inode;
        this.fd = fd;
        this.flags = flags;
        this.directory = directory;
    }

    @Override
    void closeDescriptors() {
        fd.close();
    }
}
