package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.fuse.InitReply;
import io.jvhost.nativeio.Errno;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FUSE INIT: negotiation with a 6.x guest and with older protocol minors, and the session's life. */
class FuseInitTest {
    @TempDir
    Path dir;

    private FuseHarness h;
    private MemoryFs fs;

    @BeforeEach
    void start() throws Exception {
        fs = FuseHarness.defaultFs();
        h = FuseHarness.start(dir, fs);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private Reply getattr(int minor) throws Exception {
        byte[] args = minor >= 9 ? args().u32(0).u32(0).u64(0).build() : new byte[0];
        return h.call(GETATTR, 1, args, OUT_HEADER + 104);
    }

    @Test
    void linux6InitNegotiatesFlagsAndFlags2() throws Exception {
        Reply r = h.init(7, 41, LINUX_6_FLAGS, 64);
        r.ok();
        assertEquals(64, r.payload(), "full fuse_init_out for a 7.23+ guest");
        assertEquals(7, r.body().getInt(0));
        assertEquals(FuseServer.MINOR, r.body().getInt(4));
        assertEquals(128 * 1024, r.body().getInt(8), "max_readahead as the guest asked");
        long expected = InitFlags.ASYNC_READ
                | InitFlags.BIG_WRITES
                | InitFlags.DO_READDIRPLUS
                | InitFlags.PARALLEL_DIROPS
                | InitFlags.MAX_PAGES
                | InitFlags.HANDLE_KILLPRIV_V2 // the file system's to offer (open_flags reach it)
                | InitFlags.SETXATTR_EXT
                | InitFlags.INIT_EXT
                | InitFlags.HAS_EXPIRE_ONLY;
        long flags = Integer.toUnsignedLong(r.body().getInt(12))
                | Integer.toUnsignedLong(r.body().getInt(32)) << 32;
        assertEquals(
                InitFlags.describe(expected),
                InitFlags.describe(flags),
                "guest ∩ file system, minus what the server cannot carry (POSIX_LOCKS)");
        assertEquals(1 << 20, r.body().getInt(20), "max_write");
        assertEquals(1, r.body().getInt(24), "time_gran");
        assertEquals(256, r.body().getShort(28), "max_pages");
        assertEquals(0, r.body().getShort(30), "map_alignment");
        assertEquals(expected, fs.initFlags, "the file system is told the negotiated flags");
        InitReply session = h.device.server().session().orElseThrow();
        assertEquals(expected, session.flags());
        assertEquals(FuseServer.MINOR, session.sessionMinor());
        getattr(41).ok();
    }

    @Test
    void withoutMaxPagesTheWriteSizeStaysWithinTheKernelDefault() throws Exception {
        Reply r = h.init(7, 41, InitFlags.BIG_WRITES | InitFlags.ASYNC_READ, 64);
        r.ok();
        assertEquals(
                InitFlags.BIG_WRITES | InitFlags.ASYNC_READ,
                Integer.toUnsignedLong(r.body().getInt(12)));
        assertEquals(32 * 4096, r.body().getInt(20));
        assertEquals(0, r.body().getShort(28));
        assertEquals(0, r.body().getInt(32), "no flags2 without INIT_EXT");
    }

    @Test
    void minor22GetsThe24ByteInitOut() throws Exception {
        Reply r = h.init(7, 22, InitFlags.ASYNC_READ | InitFlags.DO_READDIRPLUS | InitFlags.MAX_PAGES, 16);
        r.ok();
        assertEquals(24, r.payload(), "FUSE_COMPAT_22_INIT_OUT_SIZE");
        assertEquals(FuseServer.MINOR, r.body().getInt(4));
        assertEquals(22, h.device.server().session().orElseThrow().sessionMinor());
        Reply g = getattr(22);
        g.ok();
        assertEquals(104, g.payload());
    }

    @Test
    void minor8UsesCompatAttrAndEntrySizesAndShortStructs() throws Exception {
        h.init(7, 8, InitFlags.ASYNC_READ, 16).ok();
        Reply g = getattr(8); // no fuse_getattr_in before 7.9
        g.ok();
        assertEquals(96, g.payload(), "FUSE_COMPAT_ATTR_OUT_SIZE");
        long id = fs.addFile("f", "0123".getBytes());
        Reply l = h.call(LOOKUP, 1, args().name("f"), OUT_HEADER + 120);
        l.ok();
        assertEquals(120, l.payload(), "FUSE_COMPAT_ENTRY_OUT_SIZE");
        assertEquals(id, nodeId(l));
        long fh = h.call(OPEN, id, args().u32(2).u32(0), OUT_HEADER + 16).body().getLong(0);
        // 24-byte fuse_read_in / FUSE_COMPAT_WRITE_IN_SIZE
        h.call(WRITE, id, args().u64(fh).u64(4).u32(2).u32(0).bytes("ab".getBytes()), OUT_HEADER + 8)
                .ok();
        Reply r = h.call(READ, id, args().u64(fh).u64(2).u32(4).u32(0), OUT_HEADER + 4);
        byte[] data = new byte[r.payload()];
        r.body().get(0, data);
        assertEquals("23ab", new String(data));
    }

    @Test
    void minor3GetsTheShortestInitOutAndCompatStatfs() throws Exception {
        Reply r = h.init(7, 3, InitFlags.ASYNC_READ, 16);
        r.ok();
        assertEquals(8, r.payload(), "FUSE_COMPAT_INIT_OUT_SIZE");
        assertEquals(0, fs.initFlags, "an 8-byte fuse_init_out carries no flags, so none are in force");
        Reply s = h.call(STATFS, 1, new byte[0], OUT_HEADER + 80);
        s.ok();
        assertEquals(48, s.payload(), "FUSE_COMPAT_STATFS_SIZE");
    }

    @Test
    void aNewerMajorIsAskedToComeBackWith7() throws Exception {
        Reply r = h.init(8, 0, 0, 64);
        r.ok();
        assertEquals(8, r.payload());
        assertEquals(7, r.body().getInt(0));
        assertTrue(h.device.server().session().isEmpty(), "no session until a 7.x INIT");
        assertEquals(-Errno.EIO, getattr(41).error());
        h.init().ok();
    }

    @Test
    void anOlderMajorIsRefused() throws Exception {
        assertEquals(-Errno.EPROTO, h.init(6, 99, 0, 64).error());
        assertTrue(h.device.server().session().isEmpty());
    }

    @Test
    void requestsBeforeInitAreEioAndForgetsAreDropped() throws Exception {
        long id = fs.addFile("f", new byte[0]);
        assertEquals(-Errno.EIO, getattr(41).error());
        assertEquals(
                0, h.send(0, request(FORGET, 5, id, args().u64(1).build()), 0).used());
        assertTrue(fs.calls.isEmpty(), "nothing reaches the file system before INIT: " + fs.calls);
    }

    @Test
    void aSecondInitIsEioAndKeepsTheSession() throws Exception {
        h.init().ok();
        InitReply first = h.device.server().session().orElseThrow();
        assertEquals(-Errno.EIO, h.init(7, 22, 0, 16).error());
        assertSame(first, h.device.server().session().orElseThrow());
    }

    @Test
    void aTruncatedInitIsEinval() throws Exception {
        assertEquals(
                -Errno.EINVAL,
                h.call(INIT, 0, args().u32(7).build(), OUT_HEADER + 64).error());
        assertTrue(h.device.server().session().isEmpty());
    }

    @Test
    void aFailingFileSystemInitFailsTheInit() throws Exception {
        fs.failNext = new FsException(Errno.ENOMEM);
        assertEquals(-Errno.ENOMEM, h.init().error());
        assertTrue(h.device.server().session().isEmpty());
        h.init().ok();
    }

    @Test
    void deviceResetDestroysTheSession() throws Exception {
        h.init().ok();
        h.driver.client().resetDevice();
        assertEquals(1, fs.destroys, "RESET_DEVICE reaches FileSystem.destroy");
        assertTrue(h.device.server().session().isEmpty(), "the guest must INIT again");
    }
}
