package io.jvhost.devices.fs.api;

/**
 * File attributes as FUSE's struct fuse_attr carries them (times are seconds + nanoseconds).
 * {@code ino} is the host inode number; the FUSE node id is separate (see {@link Entry}).
 */
public record Attr(
        long ino,
        long size,
        long blocks,
        long atime,
        long mtime,
        long ctime,
        int atimeNsec,
        int mtimeNsec,
        int ctimeNsec,
        int mode,
        int nlink,
        int uid,
        int gid,
        int rdev,
        int blksize) {}
