package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * FUSE requests as a guest caller other than root sends them: the in header carries the
 * caller's uid/gid and, after the arguments, request extensions (fuse_ext_header +
 * fuse_supp_groups, counted in the header's total_extlen in 8-byte units), laid out as Linux's
 * fs/fuse/dir.c does, or deliberately not.
 */
final class CallerRequests {
    static final int ENTRY = OUT_HEADER + 128, OPEN_OUT = OUT_HEADER + 16, ATTR = OUT_HEADER + 104;
    static final int FUSE_EXT_GROUPS = 32;

    private final GuestDriver driver;
    private long unique = 1000;

    CallerRequests(GuestDriver driver) {
        this.driver = driver;
    }

    /** A request whose header counts {@code totalExtlen} 8-byte units of extensions ({@code ext} as given). */
    static byte[] request(
            int opcode, long unique, long node, int uid, int gid, byte[] args, byte[] ext, int totalExtlen) {
        int len = IN_HEADER + args.length + ext.length;
        return ByteBuffer.allocate(len)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(len)
                .putInt(opcode)
                .putLong(unique)
                .putLong(node)
                .putInt(uid)
                .putInt(gid)
                .putInt(4242)
                .putShort((short) totalExtlen)
                .putShort((short) 0)
                .put(args)
                .put(ext)
                .array();
    }

    /** A FUSE_EXT_GROUPS extension as Linux sends it: header, nr_groups, the groups, padded to 8 bytes. */
    static byte[] groupsExtension(int... groups) {
        int size = (8 + 4 + 4 * groups.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(size)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(size)
                .putInt(FUSE_EXT_GROUPS)
                .putInt(groups.length);
        for (int g : groups) b.putInt(g);
        return b.array();
    }

    /** fuse_create_in (flags, mode, umask, open_flags) and the name. */
    static byte[] createArgs(String name, int mode, int flags) {
        return args().u32(flags).u32(mode).u32(0).u32(0).name(name).build();
    }

    Reply send(byte[] request, int writable) throws Exception {
        try (Submission s = driver.submit(1, java.util.List.of(request), writable)) {
            UsedElement e = driver.awaitUsed(1, T);
            return Reply.parse(s.readWritten(e.length()), e.length());
        }
    }

    Reply call(int opcode, long node, int uid, int gid, byte[] args, byte[] ext, int writable) throws Exception {
        return send(request(opcode, unique++, node, uid, gid, args, ext, ext.length / 8), writable);
    }

    Reply call(int opcode, long node, byte[] args, int writable) throws Exception {
        return call(opcode, node, 0, 0, args, new byte[0], writable);
    }

    /** INIT as Linux 6.x sends it (7.41, INIT_EXT, CREATE_SUPP_GROUP among the flags). */
    Reply init() throws Exception {
        long flags = LINUX_6_FLAGS;
        return call(
                INIT,
                0,
                args().u32(7)
                        .u32(41)
                        .u32(128 * 1024)
                        .u32(flags & 0xFFFF_FFFFL)
                        .u32(flags >>> 32)
                        .bytes(new byte[44])
                        .build(),
                OUT_HEADER + 64);
    }

    /** The negotiated flags of an INIT reply (flags | flags2 << 32). */
    static long initFlags(Reply r) {
        ByteBuffer b = r.body();
        return Integer.toUnsignedLong(b.getInt(12)) | Integer.toUnsignedLong(b.getInt(32)) << 32;
    }

    long lookup(long parent, String name) throws Exception {
        Reply r = call(LOOKUP, parent, args().name(name).build(), ENTRY);
        r.ok();
        return nodeId(r);
    }
}
