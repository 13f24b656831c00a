package io.jvhost.devices.fs.api;

/**
 * A file-system operation failed with a POSIX errno; the FUSE server answers the request with
 * {@code -errno}. Checked, so every operation states that it can fail this way and nothing
 * else is sent to the guest as a crash.
 */
public final class FsException extends Exception {
    private final int errno;

    public FsException(int errno) {
        this(errno, null);
    }

    public FsException(int errno, String detail) {
        this(errno, detail, null);
    }

    /** Stackless as the others (a guest causes them at will); the cause keeps what failed underneath. */
    public FsException(int errno, String detail, Throwable cause) {
        super(detail == null ? io.jvhost.nativeio.Errno.describe(errno) : detail, cause, false, false);
        if (errno <= 0) {
            throw new IllegalArgumentException("errno must be positive: " + errno);
        }
        this.errno = errno;
    }

    /** The positive errno (ENOENT = 2, ...). */
    public int errno() {
        return errno;
    }
}
