package io.jvhost.devices.fs.client;

import io.jvhost.devices.fs.fuse.Opcode;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.FsCredentials;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The guest kernel's side of a few FUSE requests, over the guest-driver model: enough to open
 * files and do I/O against any virtio-fs back-end (jvhost's or virtiofsd) without a VM, as
 * Linux lays the requests out (fuse_in_header and arguments readable, room for the reply
 * writable) on request queue 1. The caller's identity is this process's fsuid/fsgid.
 *
 * <p>Two ways to use it: the blocking methods ({@link #lookup}, {@link #read}, ...) send one
 * request and wait for it; {@link #submit}, {@link #kick} and {@link #next} keep several in
 * flight (as the guest kernel does), the replies coming back in whatever order the back-end
 * completes them. Do not mix the two while requests are in flight. Not thread-safe.
 */
public final class FuseClient {
    public static final long ROOT_ID = 1;
    private static final int IN_HEADER = 40,
            OUT_HEADER = 16,
            ENTRY_OUT = 128,
            ATTR_OUT = 104,
            OPEN_OUT = 16,
            INIT_OUT = 64;
    private static final int HIPRIO_QUEUE = 0, REQUEST_QUEUE = 1;

    private static final ValueLayout.OfInt I32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final GuestDriver driver;
    private final Duration timeout;
    private final Map<Integer, Pending> inFlight = new HashMap<>();
    private final int uid = FsCredentials.fsuid(),
            gid = FsCredentials.fsgid(),
            pid = (int) ProcessHandle.current().pid();
    private long unique = 1;

    public FuseClient(GuestDriver driver, Duration timeout) {
        this.driver = driver;
        this.timeout = timeout;
    }

    /** A FUSE error reply: {@code errno} as the back-end sent it (positive). */
    public static final class FuseErrorException extends IOException {
        private final int errno;

        FuseErrorException(Opcode op, int errno) {
            super("FUSE " + op + " failed: errno " + errno);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    /** An opened file: its node id and the back-end's file handle. */
    public record OpenFile(long nodeId, long fh) {}

    /** INIT 7.38 with no optional flags; returns the back-end's minor version. */
    public int init() throws IOException {
        return init(0).minor();
    }

    /** What INIT settled: the back-end's minor, the flags it granted, its max_write. */
    public record Session(int minor, long flags, int maxWrite) {}

    /** INIT 7.38 offering {@code flags} ({@link InitFlags}; without MAX_PAGES max_write stays at 32 pages). */
    public Session init(long flags) throws IOException {
        ByteBuffer in = args(64).putInt(7)
                .putInt(38)
                .putInt(128 * 1024)
                .putInt((int) flags)
                .putInt((int) (flags >>> 32))
                .put(new byte[44]);
        ByteBuffer out = call(Opcode.INIT, 0, in.array(), INIT_OUT);
        long granted = Integer.toUnsignedLong(out.getInt(12)) | (long) out.getInt(36) << 32;
        return new Session(out.getInt(4), granted, out.getInt(20));
    }

    /** LOOKUP of {@code name} in directory {@code parent}: the node id. */
    public long lookup(long parent, String name) throws IOException {
        return call(Opcode.LOOKUP, parent, cString(name), ENTRY_OUT).getLong(0);
    }

    /** GETATTR of {@code nodeId} (no file handle): st_size. */
    public long getattrSize(long nodeId) throws IOException {
        return call(Opcode.GETATTR, nodeId, getattrArgs(), ATTR_OUT).getLong(16 + 16);
    }

    /** CREATE (O_RDWR | O_CREAT | O_TRUNC, mode 0644) of {@code name} in {@code parent}. */
    public OpenFile create(long parent, String name) throws IOException {
        ByteBuffer out = call(Opcode.CREATE, parent, createArgs(name), ENTRY_OUT + OPEN_OUT);
        return new OpenFile(out.getLong(0), out.getLong(ENTRY_OUT));
    }

    /** OPEN of {@code nodeId} read-write. */
    public OpenFile open(long nodeId) throws IOException {
        ByteBuffer out = call(Opcode.OPEN, nodeId, args(8).putInt(0x2).putInt(0).array(), OPEN_OUT);
        return new OpenFile(nodeId, out.getLong(0));
    }

    /** OPENDIR of {@code nodeId}. */
    public OpenFile opendir(long nodeId) throws IOException {
        ByteBuffer out =
                call(Opcode.OPENDIR, nodeId, args(8).putInt(0).putInt(0).array(), OPEN_OUT);
        return new OpenFile(nodeId, out.getLong(0));
    }

    /** WRITE of {@code data} at {@code offset}: the number of bytes written. */
    public int write(OpenFile f, long offset, byte[] data) throws IOException {
        byte[] in = writeArgs(f, offset, data.length);
        byte[] all = new byte[in.length + data.length];
        System.arraycopy(in, 0, all, 0, in.length);
        System.arraycopy(data, 0, all, in.length, data.length);
        return call(Opcode.WRITE, f.nodeId(), all, 8).getInt(0);
    }

    /** READ of up to {@code size} bytes at {@code offset}. */
    public byte[] read(OpenFile f, long offset, int size) throws IOException {
        ByteBuffer out = call(Opcode.READ, f.nodeId(), readArgs(f, offset, size), size);
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    /** RELEASE of an open file. */
    public void release(OpenFile f) throws IOException {
        call(Opcode.RELEASE, f.nodeId(), releaseArgs(f), 0);
    }

    /** RELEASEDIR of an open directory. */
    public void releasedir(OpenFile d) throws IOException {
        call(Opcode.RELEASEDIR, d.nodeId(), releaseArgs(d), 0);
    }

    // ---------------------------------------------------------------- request arguments, as Linux sends them

    public static byte[] getattrArgs() {
        return args(16).putInt(0).putInt(0).putLong(0).array();
    }

    public static byte[] createArgs(String name) {
        byte[] n = cString(name);
        return args(16 + n.length)
                .putInt(0x2 | 0x40 | 0x200)
                .putInt(0100644)
                .putInt(022)
                .putInt(0)
                .put(n)
                .array();
    }

    /** fuse_write_in; the data goes in the next part of the chain. */
    public static byte[] writeArgs(OpenFile f, long offset, int size) {
        return args(40).putLong(f.fh())
                .putLong(offset)
                .putInt(size)
                .putInt(0)
                .putLong(0)
                .putInt(0x2)
                .putInt(0)
                .array();
    }

    public static byte[] readArgs(OpenFile f, long offset, int size) {
        return args(40).putLong(f.fh())
                .putLong(offset)
                .putInt(size)
                .putInt(0)
                .putLong(0)
                .putInt(0x2)
                .putInt(0)
                .array();
    }

    public static byte[] releaseArgs(OpenFile f) {
        return args(24).putLong(f.fh()).putInt(0x2).putInt(0).putLong(0).array();
    }

    public static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    /** Room for fuse_entry_out (LOOKUP, CREATE adds fuse_open_out), fuse_attr_out, fuse_write_out. */
    public static final int ENTRY_OUT_SIZE = ENTRY_OUT,
            ATTR_OUT_SIZE = ATTR_OUT,
            OPEN_OUT_SIZE = OPEN_OUT,
            WRITE_OUT_SIZE = 8;

    /** One fuse_direntplus of a READDIRPLUS reply. */
    public record DirentPlus(long nodeId, long offset, String name) {}

    /** Submits READDIRPLUS of up to {@code size} bytes from {@code offset} of an open directory. */
    public Pending submitReaddirplus(OpenFile dir, long offset, int size, Object tag) {
        return submit(Opcode.READDIRPLUS, dir.nodeId(), List.of(readArgs(dir, offset, size)), size, tag);
    }

    /** The entries of a READDIRPLUS reply (fuse_entry_out then fuse_dirent, each padded to 8 bytes). */
    public static List<DirentPlus> direntplus(Reply r) throws IOException {
        List<DirentPlus> out = new ArrayList<>();
        MemorySegment b = r.body();
        long at = 0;
        while (at < b.byteSize()) {
            if (b.byteSize() - at < ENTRY_OUT + 24) throw new IOException("READDIRPLUS: truncated entry at " + at);
            long node = b.get(I64, at);
            long off = b.get(I64, at + ENTRY_OUT + 8);
            int nameLen = b.get(I32, at + ENTRY_OUT + 16);
            long nameAt = at + ENTRY_OUT + 24;
            if (nameLen <= 0 || nameAt + nameLen > b.byteSize())
                throw new IOException("READDIRPLUS: bad name length " + nameLen);
            String name = new String(b.asSlice(nameAt, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            out.add(new DirentPlus(node, off, name));
            at = (nameAt + nameLen + 7) & ~7L;
        }
        return out;
    }

    /** Sends one request and waits for it; returns the reply's body (little-endian). */
    private ByteBuffer call(Opcode op, long nodeId, byte[] args, int replyBody) throws IOException {
        if (!inFlight.isEmpty()) throw new IllegalStateException(inFlight.size() + " pipelined requests in flight");
        submit(op, nodeId, List.of(args), replyBody, null);
        kick();
        try (Reply r = next()) {
            if (r.error() != 0) throw new FuseErrorException(op, r.error());
            return ByteBuffer.wrap(r.body().toArray(ValueLayout.JAVA_BYTE)).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    // ---------------------------------------------------------------- several requests in flight

    /** A request on its way: what was sent, and the caller's {@code tag} to recognise it by. */
    public record Pending(Opcode op, long unique, long nodeId, Submission submission, Object tag) {}

    /**
     * A checked reply (out header's length and unique match the request): {@code error} is the
     * positive errno or 0, {@code body} the bytes after the out header, in guest memory until
     * {@link #close()} gives the buffers back.
     */
    public record Reply(Pending request, int error, MemorySegment body) implements AutoCloseable {
        public int i32(long offset) {
            return body.get(I32, offset);
        }

        public long i64(long offset) {
            return body.get(I64, offset);
        }

        /** Throws the error reply as an exception. */
        public Reply orThrow() throws FuseErrorException {
            if (error != 0) throw new FuseErrorException(request.op(), error);
            return this;
        }

        @Override
        public void close() {
            request.submission().close();
        }
    }

    /**
     * Posts a request without kicking: {@code args} (the parts after fuse_in_header, e.g. a
     * WRITE's fuse_write_in and its data as two parts) readable, room for the out header plus
     * {@code replyBody} bytes writable. Call {@link #kick()} after a batch.
     */
    public Pending submit(Opcode op, long nodeId, List<byte[]> args, int replyBody, Object tag) {
        long u = unique++;
        int argBytes = 0;
        for (byte[] a : args) argBytes += a.length;
        ByteBuffer h = ByteBuffer.allocate(IN_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(IN_HEADER + argBytes)
                .putInt(op.code())
                .putLong(u)
                .putLong(nodeId)
                .putInt(uid)
                .putInt(gid)
                .putInt(pid)
                .putShort((short) 0)
                .putShort((short) 0);
        List<byte[]> readable = new ArrayList<>(args.size() + 1);
        readable.add(h.array());
        for (byte[] a : args) if (a.length > 0) readable.add(a);
        Submission s = driver.post(REQUEST_QUEUE, readable, OUT_HEADER + replyBody);
        Pending p = new Pending(op, u, nodeId, s, tag);
        inFlight.put(s.head(), p);
        return p;
    }

    /**
     * FORGET of {@code nlookup} lookups of {@code nodeId} on the hiprio queue, as the guest sends
     * it when it evicts an inode: no reply, nothing to wait for (completed FORGETs are reaped
     * here, on the next call).
     */
    public void forget(long nodeId, long nlookup) throws IOException {
        for (UsedElement e; (e = driver.pollUsed(HIPRIO_QUEUE)) != null; )
            e.submission().close();
        if (driver.queue(HIPRIO_QUEUE).freeDescriptors() == 0) { // the back-end is behind: wait for one
            try {
                driver.awaitUsed(HIPRIO_QUEUE, timeout).submission().close();
            } catch (TimeoutException e) {
                throw new IOException("FUSE FORGET: the hiprio queue stayed full for " + timeout, e);
            }
        }
        ByteBuffer h = ByteBuffer.allocate(IN_HEADER + 8).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(IN_HEADER + 8)
                .putInt(Opcode.FORGET.code())
                .putLong(unique++)
                .putLong(nodeId)
                .putInt(uid)
                .putInt(gid)
                .putInt(pid)
                .putInt(0)
                .putLong(nlookup);
        driver.post(HIPRIO_QUEUE, List.of(h.array()));
        driver.kickIfNeeded(HIPRIO_QUEUE);
    }

    /** Notifies the back-end of what was submitted, if it asked to be notified. */
    public void kick() throws IOException {
        driver.kickIfNeeded(REQUEST_QUEUE);
    }

    /** Requests submitted and not yet returned by {@link #next}/{@link #poll}. */
    public int inFlight() {
        return inFlight.size();
    }

    /** Waits for the next reply (any request in flight). */
    public Reply next() throws IOException {
        if (inFlight.isEmpty()) throw new IllegalStateException("no request in flight");
        try {
            return check(driver.awaitUsed(REQUEST_QUEUE, timeout));
        } catch (TimeoutException e) {
            throw new IOException("FUSE: no reply within " + timeout + " (" + inFlight.size() + " in flight)", e);
        }
    }

    /** The next reply if one is there, else null. */
    public Reply poll() throws IOException {
        UsedElement e = driver.pollUsed(REQUEST_QUEUE);
        return e == null ? null : check(e);
    }

    private Reply check(UsedElement e) throws IOException {
        Pending p = inFlight.remove(e.head());
        if (p == null) throw new IOException("FUSE: completion for head " + e.head() + ", which is not in flight");
        try {
            if (e.length() < OUT_HEADER)
                throw new IOException("FUSE " + p.op() + ": reply of " + e.length() + " bytes");
            MemorySegment w = p.submission().writable().getFirst().segment(); // one buffer per request
            int len = w.get(I32, 0), error = w.get(I32, 4);
            long echoed = w.get(I64, 8);
            if (len != e.length())
                throw new IOException("FUSE " + p.op() + ": out header says " + len + " bytes, used " + e.length());
            if (echoed != p.unique())
                throw new IOException("FUSE " + p.op() + ": reply for unique " + echoed + ", sent " + p.unique());
            return new Reply(p, -error, w.asSlice(OUT_HEADER, len - OUT_HEADER));
        } catch (IOException | RuntimeException x) {
            p.submission().close();
            throw x;
        }
    }

    private static ByteBuffer args(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
