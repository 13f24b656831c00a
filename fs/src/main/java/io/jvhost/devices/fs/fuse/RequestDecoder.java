package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.fuse.FuseRequest.*;
import io.jvhost.virtqueue.ChainReader;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes FUSE requests straight from a chain's device-readable buffers, trusting nothing: the
 * header's length must match the chain, every struct must be present, names must end in NUL and
 * counts and sizes must fit the data. Structs that older protocol minors sent shorter are read
 * at the size that minor used; longer structs than expected are accepted (the ABI only grows at
 * the end).
 */
public final class RequestDecoder {
    /** Upper bound of a request's arguments copied to the heap (names, xattr values). */
    static final int MAX_HEAP_BODY = 1 << 20;

    private static final long FUSE_GETATTR_FH = 1;

    private RequestDecoder() {}

    /** The in header, checked against the chain's readable length. */
    public static InHeader header(DescriptorChain chain, ChainReader in) throws MalformedRequestException {
        if (chain.readableBytes() < InHeader.SIZE) {
            throw new MalformedRequestException("request of " + chain.readableBytes() + " bytes has no in header");
        }
        try { // field by field: typed reads split a field cut by a descriptor boundary themselves
            long len = Integer.toUnsignedLong(in.readInt());
            int opcode = in.readInt();
            long unique = in.readLong();
            long nodeId = in.readLong();
            int uid = in.readInt(), gid = in.readInt(), pid = in.readInt();
            int totalExtlen = Short.toUnsignedInt(in.readShort());
            in.skip(2); // padding
            return new InHeader(len, opcode, unique, nodeId, uid, gid, pid, totalExtlen);
        } catch (VirtqueueException e) {
            throw new MalformedRequestException(e.getMessage(), e);
        }
    }

    /**
     * The arguments of {@code h}'s opcode, read from {@code in} (positioned after the header).
     *
     * @param minor           the protocol minor in force (the session's, or the newest before INIT)
     * @param negotiatedFlags INIT flags in force (SETXATTR_EXT changes fuse_setxattr_in)
     */
    public static FuseRequest body(InHeader h, DescriptorChain chain, ChainReader in, int minor, long negotiatedFlags)
            throws MalformedRequestException {
        if (h.len() != chain.readableBytes()) {
            throw new MalformedRequestException(
                    "in header says " + h.len() + " bytes, the chain has " + chain.readableBytes());
        }
        if (h.bodyLength() < 0) {
            throw new MalformedRequestException("extensions of " + 8L * h.totalExtlen() + " bytes exceed the request");
        }
        Opcode op = Opcode.of(h.opcode());
        if (op == null || !op.served()) return new Unsupported(h.opcode());
        Body b = new Body(in, h.bodyLength());
        try {
            return switch (op) {
                case INIT -> init(b);
                case DESTROY -> new Destroy();
                case LOOKUP -> new Lookup(b.names().next());
                case FORGET -> new Forget(b.u64());
                case BATCH_FORGET -> batchForget(b);
                case GETATTR -> getattr(b, minor);
                case SETATTR -> setattr(b);
                case READLINK -> new Readlink();
                case SYMLINK -> {
                    Names n = b.names();
                    yield new Symlink(n.next(), n.next());
                }
                case MKNOD -> {
                    int mode = b.u32(), rdev = b.u32();
                    int umask = 0;
                    if (minor >= 12) {
                        umask = b.u32();
                        b.u32();
                    }
                    yield new Mknod(b.names().next(), mode, rdev, umask);
                }
                case MKDIR -> {
                    int mode = b.u32(), umask = b.u32();
                    yield new Mkdir(b.names().next(), mode, umask);
                }
                case UNLINK -> new Unlink(b.names().next());
                case RMDIR -> new Rmdir(b.names().next());
                case RENAME -> {
                    long newDir = b.u64();
                    Names n = b.names();
                    yield new Rename(newDir, n.next(), n.next(), 0);
                }
                case RENAME2 -> {
                    long newDir = b.u64();
                    int flags = b.u32();
                    b.u32();
                    Names n = b.names();
                    yield new Rename(newDir, n.next(), n.next(), flags);
                }
                case LINK -> {
                    long old = b.u64();
                    yield new Link(old, b.names().next());
                }
                case OPEN -> new Open(b.u32(), b.u32());
                case OPENDIR -> new Opendir(b.u32(), b.u32());
                case READ -> {
                    long fh = b.u64(), offset = b.u64();
                    int size = b.size32();
                    int readFlags = b.u32();
                    long lockOwner = 0;
                    int flags = 0;
                    if (minor >= 9) {
                        lockOwner = b.u64();
                        flags = b.u32();
                    }
                    yield new Read(fh, offset, size, readFlags, lockOwner, flags);
                }
                case WRITE -> write(b, chain, minor);
                case STATFS -> new Statfs();
                case RELEASE -> new Release(b.u64(), b.u32(), b.u32(), b.u64());
                case RELEASEDIR -> new Releasedir(b.u64(), b.u32(), b.u32(), b.u64());
                case FSYNC -> new Fsync(b.u64(), b.u32());
                case FSYNCDIR -> new Fsyncdir(b.u64(), b.u32());
                case SETXATTR -> setxattr(b, negotiatedFlags);
                case GETXATTR -> {
                    int size = b.size32();
                    b.u32();
                    yield new Getxattr(b.names().next(), size);
                }
                case LISTXATTR -> new Listxattr(b.size32());
                case REMOVEXATTR -> new Removexattr(b.names().next());
                case FLUSH -> {
                    long fh = b.u64();
                    b.u32();
                    b.u32();
                    yield new Flush(fh, b.u64());
                }
                case READDIR -> {
                    long fh = b.u64(), offset = b.u64();
                    yield new Readdir(fh, offset, b.size32());
                }
                case READDIRPLUS -> {
                    long fh = b.u64(), offset = b.u64();
                    yield new Readdirplus(fh, offset, b.size32());
                }
                case ACCESS -> new Access(b.u32());
                case CREATE -> {
                    int flags = b.u32(), mode = b.u32();
                    int umask = 0, openFlags = 0;
                    if (minor >= 12) {
                        umask = b.u32();
                        openFlags = b.u32();
                    }
                    yield new Create(b.names().next(), flags, mode, umask, openFlags);
                }
                case FALLOCATE -> {
                    long fh = b.u64(), offset = b.u64(), length = b.u64();
                    yield new Fallocate(fh, offset, length, b.u32());
                }
                case LSEEK -> {
                    long fh = b.u64(), offset = b.u64();
                    yield new Lseek(fh, offset, b.u32());
                }
                case COPY_FILE_RANGE ->
                    new CopyFileRange(b.u64(), b.u64(), b.u64(), b.u64(), b.u64(), b.u64(), b.u64());
                case SYNCFS -> new Syncfs();
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
                        COPY_FILE_RANGE_64 -> new Unsupported(h.opcode());
            };
        } catch (VirtqueueException e) {
            throw new MalformedRequestException(op + ": " + e.getMessage(), e);
        }
    }

    private static Init init(Body b) throws MalformedRequestException, VirtqueueException {
        int major = b.u32(), minor = b.u32();
        if (b.left() < 8) return new Init(major, minor, 0, 0); // before 7.6 init_in was 8 bytes
        int readahead = b.u32();
        long flags = Integer.toUnsignedLong(b.u32());
        if ((flags & InitFlags.INIT_EXT) != 0 && b.left() >= 4) flags |= Integer.toUnsignedLong(b.u32()) << 32;
        return new Init(major, minor, readahead, flags);
    }

    /**
     * Most fuse_forget_one a BATCH_FORGET may carry: as many as fit in {@link #MAX_HEAP_BODY}.
     * The chain's length is no bound on its own: a driver can point many descriptors at one
     * buffer and make a few MiB of guest memory "hold" 4 GiB. Linux's virtio-fs driver sends
     * FORGETs one by one, and /dev/fuse batches fit in a page or so.
     */
    static final int MAX_BATCH_FORGET = MAX_HEAP_BODY / 16;

    private static BatchForget batchForget(Body b) throws MalformedRequestException, VirtqueueException {
        long count = Integer.toUnsignedLong(b.u32());
        b.u32();
        if (count > MAX_BATCH_FORGET) {
            throw new MalformedRequestException(
                    "BATCH_FORGET of " + count + " items exceeds the limit of " + MAX_BATCH_FORGET);
        }
        if (count * 16 > b.left()) {
            throw new MalformedRequestException("BATCH_FORGET of " + count + " items carries " + b.left() + " bytes");
        }
        List<ForgetOne> items = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) items.add(new ForgetOne(b.u64(), b.u64()));
        return new BatchForget(List.copyOf(items));
    }

    private static Getattr getattr(Body b, int minor) throws MalformedRequestException, VirtqueueException {
        if (minor < 9) return new Getattr(false, 0); // fuse_getattr_in came with 7.9
        long flags = Integer.toUnsignedLong(b.u32());
        b.u32();
        return new Getattr((flags & FUSE_GETATTR_FH) != 0, b.u64());
    }

    private static Setattr setattr(Body b) throws MalformedRequestException, VirtqueueException {
        int valid = b.u32();
        b.u32();
        long fh = b.u64(), size = b.u64();
        b.u64(); // lock_owner
        long atime = b.u64(), mtime = b.u64();
        b.u64(); // ctime: the kernel sends it with FATTR_CTIME; a file system cannot set ctime
        int atimeNsec = b.u32(), mtimeNsec = b.u32();
        b.u32();
        int mode = b.u32();
        b.u32();
        int uid = b.u32(), gid = b.u32();
        b.u32();
        return new Setattr(new SetAttr(valid, fh, size, atime, atimeNsec, mtime, mtimeNsec, mode, uid, gid));
    }

    private static Write write(Body b, DescriptorChain chain, int minor)
            throws MalformedRequestException, VirtqueueException {
        long fh = b.u64(), offset = b.u64();
        long size = Integer.toUnsignedLong(b.u32());
        int writeFlags = b.u32();
        long lockOwner = 0;
        int flags = 0;
        if (minor >= 9) { // FUSE_COMPAT_WRITE_IN_SIZE is 24
            lockOwner = b.u64();
            flags = b.u32();
            b.u32();
        }
        if (size > b.left()) {
            throw new MalformedRequestException("WRITE of " + size + " bytes carries " + b.left());
        }
        List<MemorySegment> readable = new ArrayList<>(chain.readableCount());
        for (int i = 0; i < chain.readableCount(); i++) readable.add(chain.readable(i));
        GuestWriteSource data = new GuestWriteSource(Segments.range(readable, b.position(), size));
        b.skip(size);
        return new Write(fh, offset, writeFlags, lockOwner, flags, data);
    }

    private static Setxattr setxattr(Body b, long negotiatedFlags)
            throws MalformedRequestException, VirtqueueException {
        long size = Integer.toUnsignedLong(b.u32());
        int flags = b.u32();
        int setxattrFlags = 0;
        if ((negotiatedFlags & InitFlags.SETXATTR_EXT) != 0) { // else FUSE_COMPAT_SETXATTR_IN_SIZE (8)
            setxattrFlags = b.u32();
            b.u32();
        }
        Names n = b.names();
        byte[] name = n.next();
        return new Setxattr(name, n.bytes(size), flags, setxattrFlags);
    }

    /** The arguments part of a request: bounded reads over the chain. */
    private static final class Body {
        private final ChainReader in;
        private final long start;
        private final long end;

        Body(ChainReader in, long length) {
            this.in = in;
            this.start = in.position();
            this.end = start + length;
        }

        long left() {
            return end - in.position();
        }

        /** Offset in the readable stream. */
        long position() {
            return in.position();
        }

        private void need(int n) throws MalformedRequestException {
            if (left() < n) {
                throw new MalformedRequestException(
                        "arguments end after " + (in.position() - start) + " bytes, " + n + " more needed");
            }
        }

        int u32() throws MalformedRequestException, VirtqueueException {
            need(4);
            return in.readInt();
        }

        long u64() throws MalformedRequestException, VirtqueueException {
            need(8);
            return in.readLong();
        }

        /** An unsigned 32-bit size, capped at Integer.MAX_VALUE (callers clip to the buffers anyway). */
        int size32() throws MalformedRequestException, VirtqueueException {
            return (int) Math.min(Integer.toUnsignedLong(u32()), Integer.MAX_VALUE);
        }

        void skip(long n) throws VirtqueueException {
            in.skip(n);
        }

        /** The remaining arguments, copied (they are names and small values). */
        Names names() throws MalformedRequestException, VirtqueueException {
            long n = left();
            if (n > MAX_HEAP_BODY) throw new MalformedRequestException("arguments of " + n + " bytes are too long");
            byte[] rest = new byte[(int) n];
            in.readFully(rest);
            return new Names(rest);
        }
    }

    /** NUL-terminated names one after the other, then possibly raw bytes. */
    private static final class Names {
        private final byte[] data;
        private int at;

        Names(byte[] data) {
            this.data = data;
        }

        byte[] next() throws MalformedRequestException {
            for (int i = at; i < data.length; i++) {
                if (data[i] == 0) {
                    byte[] name = java.util.Arrays.copyOfRange(data, at, i);
                    at = i + 1;
                    return name;
                }
            }
            throw new MalformedRequestException("name without a terminating NUL");
        }

        byte[] bytes(long n) throws MalformedRequestException {
            if (n > data.length - at) {
                throw new MalformedRequestException(n + " bytes announced, " + (data.length - at) + " present");
            }
            byte[] out = java.util.Arrays.copyOfRange(data, at, at + (int) n);
            at += (int) n;
            return out;
        }
    }
}
