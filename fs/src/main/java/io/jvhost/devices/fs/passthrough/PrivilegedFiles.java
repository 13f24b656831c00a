package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Stat;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@link PassthroughConfig#denyPrivilegedFiles}: what the guest may not make of a file, when
 * the option is on. A set-user-ID or set-group-ID non-directory runs with its owner's or
 * group's rights on the host, and a security.capability xattr with capabilities: both outlive
 * the guest and reach whoever on the host runs the file. A new file's mode loses those bits
 * (the creation itself, often a copy, goes on: failing it would lose the data too), a chmod
 * that adds one or a chown that hands such a file to root fails with EPERM (the guest learns its
 * request was not done), and security.capability cannot be set. A set-ID file the host
 * already has is not opened for writing: the daemon keeps CAP_FSETID, so the host kernel would
 * not clear the bits on a write as it does for an unprivileged writer, and a guest that skips
 * the SETATTR its own kernel would send could change what the file runs as its owner. A
 * directory's set-group-ID bit only passes the directory's group on to new files, so
 * directories keep it.
 */
final class PrivilegedFiles {
    private static final int S_ISUID = 04000, S_ISGID = 02000, SET_ID = S_ISUID | S_ISGID;
    private static final byte[] FILE_CAPABILITIES = "security.capability".getBytes(StandardCharsets.US_ASCII);

    private final boolean deny;

    PrivilegedFiles(boolean deny) {
        this.deny = deny;
    }

    /** The mode to create a non-directory with (S_IF* bits, if any, kept). */
    int newFileMode(int mode) {
        return deny ? mode & ~SET_ID : mode;
    }

    /** Refuses a chmod of {@code current} to {@code mode} that gives a non-directory a set-ID bit it does not have. */
    void checkChmod(Stat current, int mode) throws FsException {
        if (deny && !current.isDirectory() && (mode & SET_ID & ~current.mode()) != 0) {
            throw new FsException(Errno.EPERM, "set-user-ID and set-group-ID bits are refused");
        }
    }

    /** Refuses to make a non-directory of mode {@code mode} (after the same request's chmod) root's with set-ID bits. */
    void checkChown(Stat current, int mode, int uid, int gid) throws FsException {
        if (deny && !current.isDirectory() && (mode & SET_ID) != 0 && (uid == 0 || gid == 0)) {
            throw new FsException(Errno.EPERM, "a set-user-ID or set-group-ID file is not handed to root");
        }
    }

    /** Refuses to open a set-ID non-directory {@code current} with {@code flags} that write (O_TRUNC included). */
    void checkOpen(Stat current, int flags) throws FsException {
        if (deny
                && !current.isDirectory()
                && (current.mode() & SET_ID) != 0
                && (flags & (Libc.O_WRONLY | Libc.O_RDWR | Libc.O_TRUNC)) != 0) {
            throw new FsException(Errno.EPERM, "a set-user-ID or set-group-ID file is not opened for writing");
        }
    }

    void checkXattr(byte[] name) throws FsException {
        if (deny && Arrays.equals(name, FILE_CAPABILITIES)) {
            throw new FsException(Errno.EPERM, "file capabilities are refused");
        }
    }

    boolean denies() {
        return deny;
    }
}
