package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileHandle;

/** What an {@link Inode} holds to reach its file: its own O_PATH descriptor, or a file handle. */
sealed interface InodeFile {
    /** Gives up what this holds (a kept descriptor is closed; a handle holds nothing open). */
    void close();

    /** An O_PATH descriptor the inode owns for its whole life. */
    record Kept(Fd fd) implements InodeFile {
        @Override
        public void close() {
            fd.close();
        }
    }

    /**
     * A handle and a descriptor of its mount (owned by {@link InodeFiles}, which keeps it as long
     * as the file system is open): open_by_handle_at(mountFd, handle) gives the inode back.
     */
    record ByHandle(FileHandle handle, Fd mountFd) implements InodeFile {
        @Override
        public void close() {}
    }
}
