package io.jvhost.nativeio;

/**
 * What statx(2) says about one file. {@code dev} and {@code rdev} use glibc's dev_t encoding
 * (makedev); {@code mountId} is STATX_MNT_ID, or 0 when the kernel did not report it.
 */
public record Stat(
        long dev,
        long ino,
        long mountId,
        int mode,
        int nlink,
        int uid,
        int gid,
        long rdev,
        long size,
        int blksize,
        long blocks,
        long atime,
        int atimeNsec,
        long mtime,
        int mtimeNsec,
        long ctime,
        int ctimeNsec) {

    public static final int S_IFMT = 0170000,
            S_IFSOCK = 0140000,
            S_IFLNK = 0120000,
            S_IFREG = 0100000,
            S_IFBLK = 060000,
            S_IFDIR = 040000,
            S_IFCHR = 020000,
            S_IFIFO = 010000;

    /** The S_IF* bits of {@link #mode}. */
    public int fileType() {
        return mode & S_IFMT;
    }

    public boolean isDirectory() {
        return fileType() == S_IFDIR;
    }

    public boolean isRegularFile() {
        return fileType() == S_IFREG;
    }

    public boolean isSymlink() {
        return fileType() == S_IFLNK;
    }

    /** The major number of a dev_t (glibc's major()). */
    public static long major(long dev) {
        return ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
    }

    /** The minor number of a dev_t (glibc's minor()). */
    public static long minor(long dev) {
        return (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
    }

    /** glibc's makedev: how dev_t packs a major and a minor number. */
    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32)
                | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }
}
