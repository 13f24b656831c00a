package io.jvhost.devices.fs.api;

/**
 * File attributes as FUSE's struct fuse_attr carries them (times are seconds + nanoseconds).
 * {@code ino} is the host inode number; the FUSE node id is separate (see {@link Entry}).
 * {@code flags} are fuse_attr.flags ({@link #SUBMOUNT}).
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
        int blksize,
        int flags) {
    /** FUSE_ATTR_SUBMOUNT: the directory is a mount point; the guest gives it a submount of its own. */
    public static final int SUBMOUNT = 1 << 0;

    /** These attributes with fuse_attr.flags {@code flags}. */
    public Attr withFlags(int flags) {
        return new Attr(
                ino, size, blocks, atime, mtime, ctime, atimeNsec, mtimeNsec, ctimeNsec, mode, nlink, uid, gid, rdev,
                blksize, flags);
    }
}
