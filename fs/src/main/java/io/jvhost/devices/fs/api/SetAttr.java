package io.jvhost.devices.fs.api;

/**
 * SETATTR as decoded from fuse_setattr_in: {@code valid} says which fields apply (the FATTR_*
 * bits below, same values as the kernel's). {@code fh} is meaningful only with {@link #FH}.
 */
public record SetAttr(
        int valid,
        long fh,
        long size,
        long atime,
        int atimeNsec,
        long mtime,
        int mtimeNsec,
        int mode,
        int uid,
        int gid) {
    public static final int MODE = 1 << 0,
            UID = 1 << 1,
            GID = 1 << 2,
            SIZE = 1 << 3,
            ATIME = 1 << 4,
            MTIME = 1 << 5,
            FH = 1 << 6,
            ATIME_NOW = 1 << 7,
            MTIME_NOW = 1 << 8,
            LOCKOWNER = 1 << 9,
            CTIME = 1 << 10,
            KILL_SUIDGID = 1 << 11;

    public boolean has(int bit) {
        return (valid & bit) != 0;
    }
}
