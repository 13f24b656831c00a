package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;

/**
 * The one way a node the guest knows is opened for I/O: OPEN, CREATE of a name that already
 * exists, OPENDIR, and every handle a migration brings back. The real descriptor is opened
 * through the magic link of the node's own O_PATH descriptor, so the file type checked (that
 * descriptor's, which can never change) is the type of the inode opened: no name is looked up
 * again in between.
 *
 * <p>Only regular files (and directories, as directories) are opened. A device node would hand
 * the guest a host device, outside the share whatever its name; a FIFO would block the request
 * thread in open(2) until someone on the host opens the other end; both are EBADF, as virtiofsd
 * answers. A symlink is ELOOP, a directory opened as a file EISDIR.
 */
final class NodeOpener {
    private static final int O_TMPFILE_BIT = 020000000;
    /**
     * open(2) flags no guest (nor saved handle) chooses: creation is CREATE's own business, the
     * rest would make the descriptor something other than a plain open file.
     */
    static final int REFUSED_FLAGS = Libc.O_CREAT
            | Libc.O_EXCL
            | Libc.O_NOCTTY
            | Libc.O_NOFOLLOW
            | Libc.O_PATH
            | O_TMPFILE_BIT
            | Libc.O_DIRECTORY;

    static final int DIRECTORY_FLAGS = Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC;

    private NodeOpener() {}

    /** The flags a file is opened with for the guest's {@code flags}. */
    static int fileFlags(int flags) {
        return (flags & ~REFUSED_FLAGS) | Libc.O_CLOEXEC;
    }

    /** What a handle records to be reopened with later (a migration): never truncates again. */
    static int handleFlags(int flags) {
        return fileFlags(flags) & ~Libc.O_TRUNC;
    }

    /** A regular file's descriptor for I/O, {@code opath} being the node's O_PATH descriptor of type {@code fileType}. */
    static Fd file(Fd opath, int fileType, int flags) throws FsException, NativeException {
        requireRegularFile(fileType);
        return FileCalls.openat(null, FileCalls.procSelfFd(opath), fileFlags(flags), 0);
    }

    /**
     * A regular file's descriptor for I/O straight from its handle, one syscall where the O_PATH
     * way takes three (open it, open its magic link, close it): a migration's load reopens every
     * saved handle inside the VM's downtime. As safe as {@link #file(Fd, int, int)}: the handle
     * names one inode (and its generation), whose type {@code fileType} was verified when the
     * node was made and can never change.
     */
    static Fd file(InodeFile.ByHandle h, long nodeId, int fileType, int flags) throws FsException, NativeException {
        requireRegularFile(fileType);
        return InodeFiles.open(h, nodeId, fileFlags(flags));
    }

    /** A directory's descriptor for listing. */
    static Fd directory(Fd opath, int fileType) throws FsException, NativeException {
        if (fileType != Stat.S_IFDIR) throw new FsException(Errno.ENOTDIR);
        return FileCalls.openat(opath, FileCalls.bytes("."), DIRECTORY_FLAGS, 0);
    }

    /** Another O_PATH descriptor of the file {@code fd} (any kind of descriptor) refers to. */
    static Fd path(Fd fd) throws NativeException {
        return FileCalls.openat(null, FileCalls.procSelfFd(fd), Libc.O_PATH | Libc.O_CLOEXEC, 0);
    }

    static void requireRegularFile(int fileType) throws FsException {
        switch (fileType) {
            case Stat.S_IFREG -> {}
            case Stat.S_IFDIR -> throw new FsException(Errno.EISDIR);
            case Stat.S_IFLNK -> throw new FsException(Errno.ELOOP);
            default ->
                throw new FsException(
                        Errno.EBADF,
                        "not a regular file (type " + Integer.toOctalString(fileType)
                                + "): special files are never opened");
        }
    }
}
