package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.Stat;

/**
 * What makes two lookups the same file: device and inode number, plus the mount id so that
 * the same inode seen through two bind mounts of one file system stays two nodes (as their
 * paths differ).
 */
record InodeKey(long dev, long ino, long mountId) {
    static InodeKey of(Stat st) {
        return new InodeKey(st.dev(), st.ino(), st.mountId());
    }
}
