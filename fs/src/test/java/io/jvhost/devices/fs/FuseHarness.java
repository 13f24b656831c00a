package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * jvhost's virtio-fs device behind a real vhost-user socket, driven by the guest-driver model:
 * FUSE requests are built here as the Linux driver lays them out (in header + arguments in
 * device-readable buffers, room for the reply in device-writable ones) and replies are parsed.
 */
final class FuseHarness implements AutoCloseable {
    static final Duration T = Duration.ofSeconds(10);
    static final int IN_HEADER = 40, OUT_HEADER = 16;
    static final int LOOKUP = 1,
            FORGET = 2,
            GETATTR = 3,
            SETATTR = 4,
            READLINK = 5,
            SYMLINK = 6,
            MKNOD = 8,
            MKDIR = 9,
            UNLINK = 10,
            RMDIR = 11,
            RENAME = 12,
            LINK = 13,
            OPEN = 14,
            READ = 15,
            WRITE = 16,
            STATFS = 17,
            RELEASE = 18,
            FSYNC = 20,
            SETXATTR = 21,
            GETXATTR = 22,
            LISTXATTR = 23,
            REMOVEXATTR = 24,
            FLUSH = 25,
            INIT = 26,
            OPENDIR = 27,
            READDIR = 28,
            RELEASEDIR = 29,
            FSYNCDIR = 30,
            GETLK = 31,
            SETLK = 32,
            ACCESS = 34,
            CREATE = 35,
            INTERRUPT = 36,
            DESTROY = 38,
            IOCTL = 39,
            POLL = 40,
            BATCH_FORGET = 42,
            FALLOCATE = 43,
            READDIRPLUS = 44,
            RENAME2 = 45,
            LSEEK = 46,
            COPY_FILE_RANGE = 47,
            SETUPMAPPING = 48,
            SYNCFS = 50,
            TMPFILE = 51;
    /** What a Linux 6.x guest offers in INIT (flags and flags2 of fuse_init_in). */
    static final long LINUX_6_FLAGS = 0x7FFF_FFFFL & ~InitFlags.INIT_RESERVED
            | InitFlags.SECURITY_CTX
            | InitFlags.HAS_INODE_DAX
            | InitFlags.CREATE_SUPP_GROUP
            | InitFlags.HAS_EXPIRE_ONLY;

    final MemoryFs fs;
    final FsDevice device;
    final BackgroundServer server;
    final GuestDriver driver;
    private long unique = 1;

    private FuseHarness(MemoryFs fs, FsDevice device, BackgroundServer server, GuestDriver driver) {
        this.fs = fs;
        this.device = device;
        this.server = server;
        this.driver = driver;
    }

    static FuseHarness start(Path dir, MemoryFs fs) throws Exception {
        return start(dir, fs, new FsDevice("myfs", 1, new FuseServer(fs)), GuestDriver.Options.defaults(2));
    }

    static FuseHarness start(Path dir, MemoryFs fs, FsDevice device, GuestDriver.Options options) throws Exception {
        Path socket = dir.resolve("fs.sock");
        BackgroundServer server = BackgroundServer.start(socket, device);
        try {
            return new FuseHarness(fs, device, server, GuestDriver.connect(socket, options));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** The 6.x default supported by MemoryFs in most tests. */
    static MemoryFs defaultFs() {
        return new MemoryFs(InitFlags.ASYNC_READ
                | InitFlags.BIG_WRITES
                | InitFlags.DO_READDIRPLUS
                | InitFlags.PARALLEL_DIROPS
                | InitFlags.POSIX_LOCKS
                | InitFlags.MAX_PAGES
                | InitFlags.SETXATTR_EXT
                | InitFlags.HAS_EXPIRE_ONLY
                | InitFlags.HANDLE_KILLPRIV_V2);
    }

    // ------------------------------------------------------------ building requests

    /** Little-endian argument bytes. */
    static final class Args {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Args u32(long v) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v);
            out.writeBytes(b.array());
            return this;
        }

        Args u64(long v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
            out.writeBytes(b.array());
            return this;
        }

        Args name(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        Args bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        byte[] build() {
            return out.toByteArray();
        }
    }

    static Args args() {
        return new Args();
    }

    long nextUnique() {
        return unique++;
    }

    static byte[] inHeader(long len, int opcode, long unique, long nodeId, int uid, int gid, int pid) {
        return ByteBuffer.allocate(IN_HEADER)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt((int) len)
                .putInt(opcode)
                .putLong(unique)
                .putLong(nodeId)
                .putInt(uid)
                .putInt(gid)
                .putInt(pid)
                .putInt(0)
                .array();
    }

    static byte[] request(int opcode, long unique, long nodeId, byte[] args) {
        ByteBuffer b = ByteBuffer.allocate(IN_HEADER + args.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(inHeader(IN_HEADER + args.length, opcode, unique, nodeId, 0, 0, 42))
                .put(args);
        return b.array();
    }

    // ------------------------------------------------------------ replies

    /** A parsed reply: the out header and its payload, plus the used length the device reported. */
    record Reply(int used, int len, int error, long unique, ByteBuffer body) {
        static Reply parse(byte[] written, int used) {
            if (used == 0) return new Reply(0, 0, 0, 0, ByteBuffer.allocate(0));
            assertTrue(used >= OUT_HEADER, "used length " + used + " shorter than an out header");
            ByteBuffer b = ByteBuffer.wrap(written).order(ByteOrder.LITTLE_ENDIAN);
            Reply r = new Reply(
                    used, b.getInt(), b.getInt(), b.getLong(), b.slice().order(ByteOrder.LITTLE_ENDIAN));
            assertEquals(used, r.len, "fuse_out_header.len must equal the used length");
            return r;
        }

        void ok() {
            assertEquals(0, error, "FUSE error " + error);
        }

        int payload() {
            return len - OUT_HEADER;
        }
    }

    /** Sends {@code request} on {@code queue} with one writable buffer of {@code writable} bytes. */
    Reply send(int queue, byte[] request, int writable) throws Exception {
        try (Submission s = writable > 0
                ? driver.submit(queue, List.of(request), writable)
                : driver.submit(queue, List.of(request))) {
            UsedElement e = driver.awaitUsed(queue, T);
            assertEquals(s.head(), e.head(), "completion for another chain");
            return Reply.parse(s.readWritten(e.length()), e.length());
        }
    }

    /** Sends a request with parts split over several readable and writable buffers. */
    Reply sendSplit(int queue, List<byte[]> readable, int... writable) throws Exception {
        try (Submission s = driver.submit(queue, readable, writable)) {
            UsedElement e = driver.awaitUsed(queue, T);
            assertEquals(s.head(), e.head());
            return Reply.parse(s.readWritten(e.length()), e.length());
        }
    }

    /** A request on request queue 1 with a reply buffer of {@code writable} bytes; checks unique is echoed. */
    Reply call(int opcode, long nodeId, byte[] args, int writable) throws Exception {
        long u = nextUnique();
        Reply r = send(1, request(opcode, u, nodeId, args), writable);
        if (r.used() > 0) assertEquals(u, r.unique(), "unique echoed");
        return r;
    }

    Reply call(int opcode, long nodeId, Args args, int writable) throws Exception {
        return call(opcode, nodeId, args.build(), writable);
    }

    /** INIT as Linux 6.x sends it: 7.41, 64-byte fuse_init_in with INIT_EXT and flags2. */
    Reply init() throws Exception {
        return init(7, 41, LINUX_6_FLAGS, 64);
    }

    Reply init(int major, int minor, long flags, int initInSize) throws Exception {
        Args a = args().u32(major).u32(minor).u32(128 * 1024).u32(flags & 0xFFFF_FFFFL);
        if (initInSize >= 20) a.u32(flags >>> 32);
        byte[] body = java.util.Arrays.copyOf(a.build(), initInSize);
        return call(INIT, 0, body, OUT_HEADER + 64);
    }

    /** The node id in a fuse_entry_out payload. */
    static long nodeId(Reply r) {
        return r.body().getLong(0);
    }

    /** Directory entries of a READDIR (plus == false) or READDIRPLUS reply: name -> node id (0 for READDIR). */
    static List<String[]> dirents(Reply r, boolean plus) {
        List<String[]> out = new ArrayList<>();
        ByteBuffer b = r.body();
        int at = 0;
        while (at < r.payload()) {
            long node = 0;
            if (plus) {
                node = b.getLong(at);
                at += 128;
            }
            long off = b.getLong(at + 8);
            int namelen = b.getInt(at + 16);
            byte[] name = new byte[namelen];
            b.get(at + 24, name);
            out.add(new String[] {new String(name, StandardCharsets.UTF_8), Long.toString(off), Long.toString(node)});
            at += (24 + namelen + 7) & ~7;
        }
        assertEquals(r.payload(), at, "dirents end exactly at the reply's end");
        return out;
    }

    @Override
    public void close() throws IOException {
        driver.close();
        server.close(); // fails if the server thread did not stop
    }
}
