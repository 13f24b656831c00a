package io.jvhost.devices.fs.fuse;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.FsCredentials;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * The guest kernel's side of a few FUSE requests, over the guest-driver model: enough to open
 * files and do I/O against any virtio-fs back-end (jvhost's or virtiofsd) without a VM, as
 * Linux lays the requests out (fuse_in_header and arguments readable, room for the reply
 * writable) on request queue 1. The caller's identity is this process's fsuid/fsgid.
 * Not thread-safe: one request at a time.
 */
public final class FuseClient {
    public static final long ROOT_ID = 1;
    private static final int IN_HEADER = 40, OUT_HEADER = 16, ENTRY_OUT = 128, OPEN_OUT = 16, INIT_OUT = 64;
    private static final int REQUEST_QUEUE = 1;

    private final GuestDriver driver;
    private final Duration timeout;
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
    public record OpenFile(long nodeId, long fh) {
    }

    /** INIT 7.38 with no optional flags; returns the back-end's minor version. */
    public int init() throws IOException {
        ByteBuffer in = args(64).putInt(7).putInt(38).putInt(128 * 1024).putInt(0);
        return call(Opcode.INIT, 0, in.array(), INIT_OUT).getInt(4);
    }

    /** LOOKUP of {@code name} in directory {@code parent}: the node id. */
    public long lookup(long parent, String name) throws IOException {
        return call(Opcode.LOOKUP, parent, cString(name), ENTRY_OUT).getLong(0);
    }

    /** CREATE (O_RDWR | O_CREAT | O_TRUNC, mode 0644) of {@code name} in {@code parent}. */
    public OpenFile create(long parent, String name) throws IOException {
        byte[] n = cString(name);
        ByteBuffer in = args(16 + n.length).putInt(0x2 | 0x40 | 0x200).putInt(0100644).putInt(022).putInt(0).put(n);
        ByteBuffer out = call(Opcode.CREATE, parent, in.array(), ENTRY_OUT + OPEN_OUT);
        return new OpenFile(out.getLong(0), out.getLong(ENTRY_OUT));
    }

    /** OPEN of {@code nodeId} read-write. */
    public OpenFile open(long nodeId) throws IOException {
        ByteBuffer out = call(Opcode.OPEN, nodeId, args(8).putInt(0x2).putInt(0).array(), OPEN_OUT);
        return new OpenFile(nodeId, out.getLong(0));
    }

    /** WRITE of {@code data} at {@code offset}: the number of bytes written. */
    public int write(OpenFile f, long offset, byte[] data) throws IOException {
        ByteBuffer in = args(40 + data.length).putLong(f.fh()).putLong(offset).putInt(data.length).putInt(0)
                .putLong(0).putInt(0x2).putInt(0).put(data);
        return call(Opcode.WRITE, f.nodeId(), in.array(), 8).getInt(0);
    }

    /** READ of up to {@code size} bytes at {@code offset}. */
    public byte[] read(OpenFile f, long offset, int size) throws IOException {
        ByteBuffer in = args(40).putLong(f.fh()).putLong(offset).putInt(size).putInt(0).putLong(0).putInt(0x2).putInt(0);
        ByteBuffer out = call(Opcode.READ, f.nodeId(), in.array(), size);
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    /** RELEASE of an open file. */
    public void release(OpenFile f) throws IOException {
        call(Opcode.RELEASE, f.nodeId(), args(24).putLong(f.fh()).putInt(0x2).putInt(0).putLong(0).array(), 0);
    }

    /** Sends one request; returns the reply's body (little-endian) after checking the out header. */
    private ByteBuffer call(Opcode op, long nodeId, byte[] args, int replyBody) throws IOException {
        long u = unique++;
        ByteBuffer req = ByteBuffer.allocate(IN_HEADER + args.length).order(ByteOrder.LITTLE_ENDIAN);
        req.putInt(IN_HEADER + args.length).putInt(op.code()).putLong(u).putLong(nodeId)
                .putInt(FsCredentials.fsuid()).putInt(FsCredentials.fsgid()).putInt((int) ProcessHandle.current().pid())
                .putShort((short) 0).putShort((short) 0).put(args);
        byte[] reply;
        try {
            reply = driver.request(REQUEST_QUEUE, List.of(req.array()), OUT_HEADER + replyBody, timeout);
        } catch (TimeoutException e) {
            throw new IOException("FUSE " + op + ": no reply within " + timeout, e);
        }
        if (reply.length < OUT_HEADER) throw new IOException("FUSE " + op + ": reply of " + reply.length + " bytes");
        ByteBuffer r = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        int len = r.getInt();
        int error = r.getInt();
        long echoed = r.getLong();
        if (len != reply.length) throw new IOException("FUSE " + op + ": out header says " + len + " bytes, used " + reply.length);
        if (echoed != u) throw new IOException("FUSE " + op + ": reply for unique " + echoed + ", sent " + u);
        if (error != 0) throw new FuseErrorException(op, -error);
        return r.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer args(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }
}
