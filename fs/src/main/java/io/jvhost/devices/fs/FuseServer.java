package io.jvhost.devices.fs;

import io.jvhost.devices.fs.api.AttrReply;
import io.jvhost.devices.fs.api.Created;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.Opened;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.fuse.DirentSink;
import io.jvhost.devices.fs.fuse.FuseRequest;
import io.jvhost.devices.fs.fuse.FuseRequest.*;
import io.jvhost.devices.fs.fuse.GuestReadSink;
import io.jvhost.devices.fs.fuse.InHeader;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.fuse.InitNegotiation;
import io.jvhost.devices.fs.fuse.InitReply;
import io.jvhost.devices.fs.fuse.MalformedRequestException;
import io.jvhost.devices.fs.fuse.Opcode;
import io.jvhost.devices.fs.fuse.ReplyEncoder;
import io.jvhost.devices.fs.fuse.RequestDecoder;
import io.jvhost.devices.fs.fuse.RequestExtensions;
import io.jvhost.memory.LoggedSegment;
import io.jvhost.nativeio.Errno;
import io.jvhost.virtqueue.ChainReader;
import io.jvhost.virtqueue.ChainWriter;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FUSE server of virtio-fs: takes one request chain (in header and arguments in the
 * device-readable buffers, room for the reply in the device-writable ones), decodes it, calls
 * the {@link FileSystem} and writes the reply into the chain. The session starts with INIT
 * (anything else before it gets -EIO, as virtiofsd does) and ends with DESTROY or a device
 * reset. File data of READ and WRITE moves between the file and guest memory with
 * preadv/pwritev, never through the heap.
 *
 * <p>Failures are answered, never thrown: an {@link FsException} becomes {@code -errno}, a
 * malformed request {@code -EINVAL} (or nothing if there is no room even for an out header),
 * and a bug in the file system ({@link RuntimeException}) {@code -EIO} with a log line.
 *
 * <p>Thread-safe: chains of different queues may be handled at the same time.
 */
public final class FuseServer {
    private static final Logger LOG = LoggerFactory.getLogger(FuseServer.class);

    public static final int MAJOR = InitNegotiation.MAJOR;
    /** The protocol minor jvhost answers with (see {@link InitNegotiation#MINOR}). */
    public static final int MINOR = InitNegotiation.MINOR;
    /** Default largest WRITE (and READ) payload: 1 MiB, i.e. 256 pages. */
    public static final int DEFAULT_MAX_WRITE = 1 << 20;

    private static final int PAGE_SIZE = 4096;
    private static final int OUT = ReplyEncoder.OUT_HEADER_SIZE;
    /** The kernel treats errors outside (-512, 0] as -EIO anyway; say so ourselves. */
    private static final int MAX_ERRNO = 511;

    private final FileSystem fs;
    private final int maxWrite;
    private final AtomicReference<InitReply> session = new AtomicReference<>();
    private final AtomicLong unexpectedFailures = new AtomicLong();

    public FuseServer(FileSystem fs) {
        this(fs, DEFAULT_MAX_WRITE);
    }

    /** @param maxWrite largest WRITE payload offered in INIT: a multiple of 4096, 4 KiB to 64 MiB */
    public FuseServer(FileSystem fs, int maxWrite) {
        if (maxWrite < PAGE_SIZE || maxWrite > (1 << 26) || maxWrite % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("max_write must be a multiple of 4096 in [4 KiB, 64 MiB]: " + maxWrite);
        }
        this.fs = fs;
        this.maxWrite = maxWrite;
    }

    /** The INIT session in force, if INIT was answered and no DESTROY or reset came since. */
    public Optional<InitReply> session() {
        return Optional.ofNullable(session.get());
    }

    /** The file system requests go to. */
    public FileSystem fileSystem() {
        return fs;
    }

    /**
     * Installs a session negotiated elsewhere (the migration source's INIT): the guest goes on
     * without a new INIT. {@code null} means "no session" (the source had none yet).
     */
    public void restoreSession(InitReply restored) {
        session.set(restored);
    }

    /** Requests answered -EIO because an unchecked exception escaped (a bug; for health checks and tests). */
    public long unexpectedFailures() {
        return unexpectedFailures.get();
    }

    /** The device was reset: the file system forgets everything and the guest must INIT again. */
    public void reset() {
        session.set(null);
        fs.destroy();
    }

    /**
     * Handles one request chain; returns the used length (0 if there is no reply).
     *
     * <p>StackOverflowError and OutOfMemoryError are answered -EIO like a bug, and the queue goes
     * on: the stack has unwound and the failed allocation was this request's (the decoder bounds
     * what one request may allocate), so nothing outlives the request; every lock on the way
     * was released by its finally. Any other Error propagates: an InternalError means guest
     * memory faulted (the front-end shrank the file behind it), where writing an answer would
     * fault again, and the ring stops (see backend.Vring); a LinkageError or AssertionError
     * means the code itself is broken.
     */
    public long handle(DescriptorChain chain) {
        try {
            return decodeAndDispatch(chain);
        } catch (StackOverflowError | OutOfMemoryError e) {
            unexpectedFailures.incrementAndGet();
            LOG.error("FUSE request failed with {}; answered -EIO", e.toString());
            return answerFailed(chain);
        }
    }

    /** -EIO to a request whose decoding or handling died; its unique is re-read (it may not have been decoded). */
    private static long answerFailed(DescriptorChain chain) {
        try {
            InHeader h = RequestDecoder.header(chain, chain.reader());
            Opcode op = Opcode.of(h.opcode());
            return op != null && !op.hasReply() ? 0 : error(chain, h.unique(), Errno.EIO);
        } catch (MalformedRequestException e) {
            return 0;
        }
    }

    private long decodeAndDispatch(DescriptorChain chain) {
        ChainReader in = chain.reader();
        InHeader h;
        try {
            h = RequestDecoder.header(chain, in);
        } catch (MalformedRequestException e) {
            return malformed(chain, 0, e);
        }
        InitReply s = session.get();
        FuseRequest request;
        RequestContext ctx;
        try {
            long flags = s == null ? 0 : s.flags();
            request = RequestDecoder.body(h, chain, in, s == null ? MINOR : s.sessionMinor(), flags);
            RequestExtensions ext = RequestExtensions.decode(h, chain, flags);
            ctx = ext == RequestExtensions.NONE ? h.context() : ext.applyTo(h.context());
        } catch (MalformedRequestException e) {
            return malformed(chain, h.unique(), e);
        }
        boolean noReply = request instanceof Forget || request instanceof BatchForget;
        if (s == null && !(request instanceof Init)) {
            return noReply ? 0 : error(chain, h.unique(), Errno.EIO); // virtiofsd: INIT comes first
        }
        if (s != null && request instanceof Init) return error(chain, h.unique(), Errno.EIO);
        try {
            return dispatch(h, ctx, request, chain, s);
        } catch (FsException e) {
            return noReply ? 0 : error(chain, h.unique(), e.errno());
        } catch (RuntimeException e) {
            unexpectedFailures.incrementAndGet();
            LOG.warn(
                    "FUSE {} (unique {}) failed unexpectedly (a bug in the file system or the server): {}",
                    Opcode.of(h.opcode()),
                    h.unique(),
                    e.toString(),
                    e);
            return noReply ? 0 : error(chain, h.unique(), Errno.EIO);
        }
    }

    private long dispatch(InHeader h, RequestContext ctx, FuseRequest request, DescriptorChain chain, InitReply s)
            throws FsException {
        long node = h.nodeId(), unique = h.unique();
        int minor = s == null ? MINOR : s.sessionMinor();
        return switch (request) {
            case Init i -> init(i, chain, unique);
            case Destroy d -> {
                session.set(null);
                fs.destroy();
                yield reply(chain, unique, new byte[0]);
            }
            case Lookup l -> {
                room(chain, ReplyEncoder.entryOutSize(minor));
                yield entryReply(chain, unique, fs.lookup(ctx, node, l.name()), minor);
            }
            case Forget f -> {
                fs.forget(node, f.nlookup());
                yield 0;
            }
            case BatchForget b -> {
                for (ForgetOne one : b.items()) fs.forget(one.nodeId(), one.nlookup());
                yield 0;
            }
            case Getattr g -> {
                room(chain, ReplyEncoder.attrOutSize(minor));
                yield attrReply(chain, unique, fs.getattr(ctx, node, g.fh(), g.fhValid()), minor);
            }
            case Setattr a -> {
                room(chain, ReplyEncoder.attrOutSize(minor));
                yield attrReply(chain, unique, fs.setattr(ctx, node, a.attr()), minor);
            }
            case Readlink r -> {
                byte[] target = fs.readlink(ctx, node);
                if (target.length > chain.writableBytes() - OUT) throw new FsException(Errno.ENAMETOOLONG);
                yield reply(chain, unique, target);
            }
            case Symlink l -> {
                room(chain, ReplyEncoder.entryOutSize(minor));
                yield entryReply(chain, unique, fs.symlink(ctx, l.target(), node, l.name()), minor);
            }
            case Mknod m -> {
                room(chain, ReplyEncoder.entryOutSize(minor));
                Entry e = fs.mknod(ctx, node, m.name(), m.mode(), m.rdev(), m.umask());
                yield entryReply(chain, unique, e, minor);
            }
            case Mkdir m -> {
                room(chain, ReplyEncoder.entryOutSize(minor));
                yield entryReply(chain, unique, fs.mkdir(ctx, node, m.name(), m.mode(), m.umask()), minor);
            }
            case Unlink u -> {
                fs.unlink(ctx, node, u.name());
                yield reply(chain, unique, new byte[0]);
            }
            case Rmdir r -> {
                fs.rmdir(ctx, node, r.name());
                yield reply(chain, unique, new byte[0]);
            }
            case Rename r -> {
                fs.rename(ctx, node, r.oldName(), r.newDir(), r.newName(), r.flags());
                yield reply(chain, unique, new byte[0]);
            }
            case Link l -> {
                room(chain, ReplyEncoder.entryOutSize(minor));
                yield entryReply(chain, unique, fs.link(ctx, l.oldNodeId(), node, l.newName()), minor);
            }
            case Open o -> {
                room(chain, ReplyEncoder.OPEN_OUT_SIZE);
                yield reply(chain, unique, ReplyEncoder.openOut(fs.open(ctx, node, o.flags(), o.openFlags())));
            }
            case Read r -> read(ctx, node, r, chain, unique);
            case Write w -> {
                room(chain, ReplyEncoder.WRITE_OUT_SIZE);
                long n = fs.write(ctx, node, w.fh(), w.offset(), w.data(), w.writeFlags());
                yield reply(
                        chain, unique, ReplyEncoder.writeOut(clamp(n, w.data().size(), "WRITE")));
            }
            case Statfs st -> {
                room(chain, ReplyEncoder.statfsOutSize(minor));
                yield reply(chain, unique, ReplyEncoder.statfsOut(fs.statfs(ctx, node), minor));
            }
            case Release r -> {
                fs.release(ctx, node, r.fh(), r.flags());
                yield reply(chain, unique, new byte[0]);
            }
            case Fsync f -> {
                fs.fsync(ctx, node, f.fh(), (f.fsyncFlags() & 1) != 0);
                yield reply(chain, unique, new byte[0]);
            }
            case Setxattr x -> {
                fs.setxattr(ctx, node, x.name(), x.value(), x.flags(), x.setxattrFlags());
                yield reply(chain, unique, new byte[0]);
            }
            case Getxattr x -> xattrReply(chain, unique, x.size(), () -> fs.getxattr(ctx, node, x.name()));
            case Listxattr x -> xattrReply(chain, unique, x.size(), () -> fs.listxattr(ctx, node));
            case Removexattr x -> {
                fs.removexattr(ctx, node, x.name());
                yield reply(chain, unique, new byte[0]);
            }
            case Flush f -> {
                fs.flush(ctx, node, f.fh(), f.lockOwner());
                yield reply(chain, unique, new byte[0]);
            }
            case Opendir o -> {
                room(chain, ReplyEncoder.OPEN_OUT_SIZE);
                yield reply(chain, unique, ReplyEncoder.openOut(fs.opendir(ctx, node, o.flags())));
            }
            case Readdir r ->
                readdir(chain, unique, r.size(), false, minor, sink -> fs.readdir(ctx, node, r.fh(), r.offset(), sink));
            case Readdirplus r ->
                readdir(
                        chain,
                        unique,
                        r.size(),
                        true,
                        minor,
                        sink -> fs.readdirplus(ctx, node, r.fh(), r.offset(), sink));
            case Releasedir r -> {
                fs.releasedir(ctx, node, r.fh(), r.flags());
                yield reply(chain, unique, new byte[0]);
            }
            case Fsyncdir f -> {
                fs.fsyncdir(ctx, node, f.fh(), (f.fsyncFlags() & 1) != 0);
                yield reply(chain, unique, new byte[0]);
            }
            case Access a -> {
                fs.access(ctx, node, a.mask());
                yield reply(chain, unique, new byte[0]);
            }
            case Create c -> {
                room(chain, ReplyEncoder.entryOutSize(minor) + ReplyEncoder.OPEN_OUT_SIZE);
                Created created = fs.create(ctx, node, c.name(), c.mode(), c.flags(), c.umask(), c.openFlags());
                yield createReply(chain, unique, created.entry(), created.opened(), minor);
            }
            case Fallocate f -> {
                fs.fallocate(ctx, node, f.fh(), f.mode(), f.offset(), f.length());
                yield reply(chain, unique, new byte[0]);
            }
            case Lseek l -> {
                room(chain, ReplyEncoder.LSEEK_OUT_SIZE);
                yield reply(chain, unique, ReplyEncoder.lseekOut(fs.lseek(ctx, node, l.fh(), l.offset(), l.whence())));
            }
            case CopyFileRange c -> {
                room(chain, ReplyEncoder.WRITE_OUT_SIZE);
                if (c.flags() != 0) throw new FsException(Errno.EINVAL, "copy_file_range flags must be 0");
                long length = Math.min(c.length() < 0 ? Long.MAX_VALUE : c.length(), 0xFFFF_F000L); // fits write_out
                long n = fs.copyFileRange(
                        ctx, node, c.fhIn(), c.offsetIn(), c.nodeOut(), c.fhOut(), c.offsetOut(), length, 0);
                yield reply(chain, unique, ReplyEncoder.writeOut(clamp(n, length, "COPY_FILE_RANGE")));
            }
            case Syncfs x -> {
                fs.syncfs(ctx, node);
                yield reply(chain, unique, new byte[0]);
            }
            case Unsupported u -> error(chain, unique, Errno.ENOSYS);
        };
    }

    // ---------------------------------------------------------------- INIT

    private long init(Init i, DescriptorChain chain, long unique) throws FsException {
        return switch (InitNegotiation.negotiate(i, fs.supportedInitFlags(), maxWrite)) {
            case InitNegotiation.Refuse r -> {
                LOG.warn("FUSE INIT: guest speaks protocol {}.{}, jvhost needs {}.x", i.major(), i.minor(), MAJOR);
                yield error(chain, unique, Errno.EPROTO);
            }
            case InitNegotiation.AskForMajor7 a -> {
                room(chain, ReplyEncoder.COMPAT_INIT_OUT_SIZE);
                yield reply(chain, unique, ReplyEncoder.initOut(a.reply(), ReplyEncoder.COMPAT_INIT_OUT_SIZE));
            }
            case InitNegotiation.Accept a -> {
                room(chain, a.replySize());
                InitReply r = a.session();
                fs.init(r.flags());
                if (!session.compareAndSet(null, r)) yield error(chain, unique, Errno.EIO); // a racing INIT won
                LOG.info(
                        "FUSE session {}.{} (guest {}.{}), flags {}, max_write {}",
                        MAJOR,
                        r.sessionMinor(),
                        i.major(),
                        i.minor(),
                        InitFlags.describe(r.flags()),
                        r.maxWrite());
                yield reply(chain, unique, ReplyEncoder.initOut(r, a.replySize()));
            }
        };
    }

    // ---------------------------------------------------------------- READ / READDIR / xattrs

    private long read(RequestContext ctx, long node, Read r, DescriptorChain chain, long unique) throws FsException {
        room(chain, 0);
        long size = Math.min(r.size(), chain.writableBytes() - OUT); // clipped to the guest's buffers
        GuestReadSink sink = new GuestReadSink(writableAfterHeader(chain, size));
        long n = fs.read(ctx, node, r.fh(), r.offset(), (int) size, sink);
        if (n != sink.written()) {
            LOG.warn(
                    "FUSE READ: the file system reported {} bytes but placed {} in the guest's buffers; "
                            + "answering with what is there",
                    n,
                    sink.written());
        }
        long len = OUT + sink.written();
        writeHeader(chain, len, 0, unique);
        return len;
    }

    /** The writable buffers after the out header, up to {@code size} bytes. */
    private static List<LoggedSegment> writableAfterHeader(DescriptorChain chain, long size) {
        List<LoggedSegment> out = new ArrayList<>();
        long skip = OUT, left = size;
        for (int i = 0; i < chain.writableCount() && left > 0; i++) {
            LoggedSegment b = chain.writable(i);
            if (skip >= b.byteSize()) {
                skip -= b.byteSize();
                continue;
            }
            long n = Math.min(b.byteSize() - skip, left);
            out.add(b.slice(skip, n));
            left -= n;
            skip = 0;
        }
        return out;
    }

    @FunctionalInterface
    private interface DirFill {
        void fill(DirentSink sink) throws FsException;
    }

    private long readdir(DescriptorChain chain, long unique, int size, boolean plus, int minor, DirFill fill)
            throws FsException {
        room(chain, 0);
        ChainWriter w = chain.writer();
        try {
            w.skip(OUT);
        } catch (VirtqueueException e) {
            throw new IllegalStateException("room was checked", e);
        }
        DirentSink sink = new DirentSink(w, size, plus, minor);
        try {
            fill.fill(sink);
        } catch (FsException e) {
            // Entries already placed count lookups (READDIRPLUS): hand them over, as libfuse does.
            if (sink.written() == 0) throw e;
        }
        long len = OUT + sink.written();
        writeHeader(chain, len, 0, unique);
        return len;
    }

    @FunctionalInterface
    private interface XattrRead {
        byte[] read() throws FsException;
    }

    /** GETXATTR/LISTXATTR: size 0 asks for the length; a value longer than {@code size} is ERANGE. */
    private long xattrReply(DescriptorChain chain, long unique, int size, XattrRead read) throws FsException {
        room(chain, size == 0 ? ReplyEncoder.GETXATTR_OUT_SIZE : size);
        byte[] value = read.read();
        if (size == 0) return reply(chain, unique, ReplyEncoder.getxattrOut(value.length));
        if (value.length > size) throw new FsException(Errno.ERANGE);
        return reply(chain, unique, value);
    }

    // ---------------------------------------------------------------- replies

    /** Fails with EINVAL, before the file system acts, when the reply cannot fit the guest's buffers. */
    private static void room(DescriptorChain chain, long payload) throws FsException {
        if (chain.writableBytes() < OUT + payload) {
            throw new FsException(
                    Errno.EINVAL,
                    "reply of " + (OUT + payload) + " bytes does not fit " + chain.writableBytes() + " writable bytes");
        }
    }

    private static long clamp(long n, long max, String what) {
        if (n < 0 || n > max) {
            LOG.warn("FUSE {}: the file system reported {} bytes of {}", what, n, max);
            return Math.max(0, Math.min(n, max));
        }
        return n;
    }

    private static long reply(DescriptorChain chain, long unique, byte[] payload) {
        long len = OUT + payload.length;
        if (chain.writableBytes() < len) { // only variable replies get here unchecked
            return error(chain, unique, Errno.EINVAL);
        }
        try {
            ChainWriter w = chain.writer();
            putOutHeader(w, len, 0, unique);
            w.write(payload);
        } catch (VirtqueueException e) {
            throw new IllegalStateException("room was checked", e);
        }
        return len;
    }

    /** Out header and fuse_entry_out, whose room was checked ({@link #room}). */
    private static long entryReply(DescriptorChain chain, long unique, Entry e, int minor) {
        try {
            return ReplyEncoder.entryOut(chain.writer(), unique, e, minor);
        } catch (VirtqueueException x) {
            throw new IllegalStateException("room was checked", x);
        }
    }

    /** Out header and fuse_attr_out, whose room was checked ({@link #room}). */
    private static long attrReply(DescriptorChain chain, long unique, AttrReply a, int minor) {
        try {
            return ReplyEncoder.attrOut(chain.writer(), unique, a, minor);
        } catch (VirtqueueException x) {
            throw new IllegalStateException("room was checked", x);
        }
    }

    /** CREATE's out header, fuse_entry_out and fuse_open_out, whose room was checked ({@link #room}). */
    private static long createReply(DescriptorChain chain, long unique, Entry e, Opened o, int minor) {
        try {
            return ReplyEncoder.createOut(chain.writer(), unique, e, o, minor);
        } catch (VirtqueueException x) {
            throw new IllegalStateException("room was checked", x);
        }
    }

    private static long error(DescriptorChain chain, long unique, int errno) {
        if (chain.writableBytes() < OUT) return 0; // nowhere to answer: the chain goes back empty
        int e = errno > 0 && errno <= MAX_ERRNO ? errno : Errno.EIO;
        writeHeader(chain, OUT, -e, unique);
        return OUT;
    }

    private static void writeHeader(DescriptorChain chain, long len, int error, long unique) {
        try {
            putOutHeader(chain.writer(), len, error, unique);
        } catch (VirtqueueException e) {
            throw new IllegalStateException("room was checked", e);
        }
    }

    /**
     * fuse_out_header (len, error, unique; {@link ReplyEncoder#OUT_HEADER_SIZE} bytes) field by
     * field, straight into the guest's buffers: no array per reply; a field cut by a descriptor boundary is split there.
     */
    private static void putOutHeader(ChainWriter w, long len, int error, long unique) throws VirtqueueException {
        w.writeInt((int) len);
        w.writeInt(error);
        w.writeLong(unique);
    }

    private static long malformed(DescriptorChain chain, long unique, MalformedRequestException e) {
        // Debug only: a guest must not be able to flood the log.
        LOG.debug("malformed FUSE request: {}", e.getMessage());
        return error(chain, unique, Errno.EINVAL);
    }
}
