package io.jvhost.devices.fs.fuse;

/**
 * FUSE opcodes (enum fuse_opcode of include/uapi/linux/fuse.h). Every opcode the kernel defines
 * is named, so logs say what an unsupported request was; {@link #served()} says which ones the
 * server answers other than with -ENOSYS.
 */
public enum Opcode {
    LOOKUP(1),
    FORGET(2),
    GETATTR(3),
    SETATTR(4),
    READLINK(5),
    SYMLINK(6),
    MKNOD(8),
    MKDIR(9),
    UNLINK(10),
    RMDIR(11),
    RENAME(12),
    LINK(13),
    OPEN(14),
    READ(15),
    WRITE(16),
    STATFS(17),
    RELEASE(18),
    FSYNC(20),
    SETXATTR(21),
    GETXATTR(22),
    LISTXATTR(23),
    REMOVEXATTR(24),
    FLUSH(25),
    INIT(26),
    OPENDIR(27),
    READDIR(28),
    RELEASEDIR(29),
    FSYNCDIR(30),
    GETLK(31),
    SETLK(32),
    SETLKW(33),
    ACCESS(34),
    CREATE(35),
    INTERRUPT(36),
    BMAP(37),
    DESTROY(38),
    IOCTL(39),
    POLL(40),
    NOTIFY_REPLY(41),
    BATCH_FORGET(42),
    FALLOCATE(43),
    READDIRPLUS(44),
    RENAME2(45),
    LSEEK(46),
    COPY_FILE_RANGE(47),
    SETUPMAPPING(48),
    REMOVEMAPPING(49),
    SYNCFS(50),
    TMPFILE(51),
    STATX(52),
    COPY_FILE_RANGE_64(53);

    private static final Opcode[] BY_CODE = new Opcode[54];

    static {
        for (Opcode o : values()) BY_CODE[o.code] = o;
    }

    private final int code;

    Opcode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The opcode for {@code code}, or null if the kernel ABI defines none. */
    public static Opcode of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Whether the server implements this opcode (everything else is answered -ENOSYS). */
    public boolean served() {
        return switch (this) {
            case GETLK,
                    SETLK,
                    SETLKW,
                    INTERRUPT,
                    BMAP,
                    IOCTL,
                    POLL,
                    NOTIFY_REPLY,
                    SETUPMAPPING,
                    REMOVEMAPPING,
                    TMPFILE,
                    STATX,
                    COPY_FILE_RANGE_64 -> false;
            default -> true;
        };
    }

    /** FORGET and BATCH_FORGET: the kernel expects no reply at all. */
    public boolean hasReply() {
        return this != FORGET && this != BATCH_FORGET;
    }
}
