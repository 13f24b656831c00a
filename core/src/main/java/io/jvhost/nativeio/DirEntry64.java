package io.jvhost.nativeio;

/**
 * One struct linux_dirent64 as getdents64(2) returns it: inode number, the file system's
 * cookie for the position after this entry ({@code offset}, what lseek takes to continue
 * there), the DT_* type and the raw name bytes.
 */
public record DirEntry64(long ino, long offset, int type, byte[] name) {
    public static final int DT_UNKNOWN = 0,
            DT_FIFO = 1,
            DT_CHR = 2,
            DT_DIR = 4,
            DT_BLK = 6,
            DT_REG = 8,
            DT_LNK = 10,
            DT_SOCK = 12;

    /** True for the "." and ".." entries every directory lists. */
    public boolean isDotOrDotDot() {
        return (name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.');
    }

    @Override
    public String toString() {
        return "DirEntry64[ino=" + ino + ", offset=" + offset + ", type=" + type + ", name="
                + new String(name, java.nio.charset.StandardCharsets.UTF_8) + "]";
    }
}
