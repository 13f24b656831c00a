package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.api.WriteSource;
import java.util.List;

/**
 * One decoded FUSE request: the arguments of its opcode (the node it is about is in the
 * {@link InHeader}). Names are the guest's raw bytes without the NUL. Records with array fields
 * compare by identity; they are messages, not values.
 */
public sealed interface FuseRequest {
    /** fuse_init_in; {@code flags} has flags2 in its upper half when the guest set INIT_EXT. */
    record Init(int major, int minor, int maxReadahead, long flags) implements FuseRequest {}

    record Destroy() implements FuseRequest {}

    record Lookup(byte[] name) implements FuseRequest {}

    record Forget(long nlookup) implements FuseRequest {}

    record ForgetOne(long nodeId, long nlookup) {}

    record BatchForget(List<ForgetOne> items) implements FuseRequest {}

    /** {@code fhValid}: FUSE_GETATTR_FH was set, so {@code fh} names an open handle. */
    record Getattr(boolean fhValid, long fh) implements FuseRequest {}

    record Setattr(SetAttr attr) implements FuseRequest {}

    record Readlink() implements FuseRequest {}

    record Symlink(byte[] name, byte[] target) implements FuseRequest {}

    record Mknod(byte[] name, int mode, int rdev, int umask) implements FuseRequest {}

    record Mkdir(byte[] name, int mode, int umask) implements FuseRequest {}

    record Unlink(byte[] name) implements FuseRequest {}

    record Rmdir(byte[] name) implements FuseRequest {}

    /** RENAME (flags 0) and RENAME2. */
    record Rename(long newDir, byte[] oldName, byte[] newName, int flags) implements FuseRequest {}

    record Link(long oldNodeId, byte[] newName) implements FuseRequest {}

    record Open(int flags, int openFlags) implements FuseRequest {}

    record Read(long fh, long offset, int size, int readFlags, long lockOwner, int flags) implements FuseRequest {}

    /** The data stays in guest memory: {@code data} writes it from the readable descriptors. */
    record Write(long fh, long offset, int writeFlags, long lockOwner, int flags, WriteSource data)
            implements FuseRequest {}

    record Statfs() implements FuseRequest {}

    record Release(long fh, int flags, int releaseFlags, long lockOwner) implements FuseRequest {}

    /** {@code fsyncFlags} bit 0 is FUSE_FSYNC_FDATASYNC. */
    record Fsync(long fh, int fsyncFlags) implements FuseRequest {}

    record Setxattr(byte[] name, byte[] value, int flags, int setxattrFlags) implements FuseRequest {}

    /** {@code size} 0 asks for the value's length only. */
    record Getxattr(byte[] name, int size) implements FuseRequest {}

    record Listxattr(int size) implements FuseRequest {}

    record Removexattr(byte[] name) implements FuseRequest {}

    record Flush(long fh, long lockOwner) implements FuseRequest {}

    record Opendir(int flags, int openFlags) implements FuseRequest {}

    record Readdir(long fh, long offset, int size) implements FuseRequest {}

    record Readdirplus(long fh, long offset, int size) implements FuseRequest {}

    record Releasedir(long fh, int flags, int releaseFlags, long lockOwner) implements FuseRequest {}

    record Fsyncdir(long fh, int fsyncFlags) implements FuseRequest {}

    record Access(int mask) implements FuseRequest {}

    record Create(byte[] name, int flags, int mode, int umask, int openFlags) implements FuseRequest {}

    record Fallocate(long fh, long offset, long length, int mode) implements FuseRequest {}

    record Lseek(long fh, long offset, int whence) implements FuseRequest {}

    record CopyFileRange(long fhIn, long offsetIn, long nodeOut, long fhOut, long offsetOut, long length, long flags)
            implements FuseRequest {}

    record Syncfs() implements FuseRequest {}

    /** Any opcode the server does not implement (known or not): answered -ENOSYS. */
    record Unsupported(int opcode) implements FuseRequest {}
}
