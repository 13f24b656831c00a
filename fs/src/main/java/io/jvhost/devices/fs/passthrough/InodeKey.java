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

    // Written out: a record's generated equals and hashCode go through ObjectMethods' method
    // handle chain, 6% of a LOOKUP's samples on the ring worker (JFR, bench-fs), for three longs.
    @Override
    public boolean equals(Object o) {
        return o instanceof InodeKey k && k.ino == ino && k.dev == dev && k.mountId == mountId;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(ino) * 961 + Long.hashCode(dev) * 31 + Long.hashCode(mountId);
    }
}
