package io.jvhost.nativeio;

/** errno values used by name in jvhost (Linux x86_64/aarch64 generic numbers). */
public final class Errno {
    public static final int EPERM = 1,
            ENOENT = 2,
            ESRCH = 3,
            EINTR = 4,
            EIO = 5,
            ENXIO = 6,
            E2BIG = 7,
            EBADF = 9,
            EAGAIN = 11,
            ENOMEM = 12,
            EACCES = 13,
            EFAULT = 14,
            EBUSY = 16,
            EEXIST = 17,
            EXDEV = 18,
            ENODEV = 19,
            ENOTDIR = 20,
            EISDIR = 21,
            EINVAL = 22,
            ENFILE = 23,
            EMFILE = 24,
            EFBIG = 27,
            ENOSPC = 28,
            ESPIPE = 29,
            EROFS = 30,
            EMLINK = 31,
            EPIPE = 32,
            ERANGE = 34,
            ENAMETOOLONG = 36,
            ENOSYS = 38,
            ENOTEMPTY = 39,
            ELOOP = 40,
            ENODATA = 61,
            EOVERFLOW = 75,
            EPROTO = 71,
            EOPNOTSUPP = 95,
            ECONNRESET = 104,
            ENOTCONN = 107,
            ETIMEDOUT = 110,
            ECONNREFUSED = 111,
            ESTALE = 116;

    private Errno() {}

    /** The C library's text for errno (strerror), or a generic text if it has none. */
    public static String describe(int errno) {
        return Libc.strerror(errno);
    }
}
