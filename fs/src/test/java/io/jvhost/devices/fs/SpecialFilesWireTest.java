package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rows 1 and 2 of issue 14, as the hostile guest played them: a guest root MKNODs a device node
 * or a FIFO in the share and then CREATEs (or OPENs) it. The daemon must never open such a node
 * for I/O (a host device reachable from the guest; a FIFO blocking the ring worker until someone
 * on the host opens its other end): EBADF, as virtiofsd answers, and the daemon keeps serving.
 */
class SpecialFilesWireTest {
    private static final int ENTRY = OUT_HEADER + 128,
            ATTR = OUT_HEADER + 104,
            CREATED = ENTRY + 16,
            OPEN_OUT = OUT_HEADER + 16;
    private static final int S_IFCHR = 020000, S_IFBLK = 060000, S_IFIFO = 010000, S_IFREG = 0100000;
    private static final int O_RDONLY = 0, O_RDWR = 2, O_EXCL = 0200, O_TRUNC = 01000;

    @TempDir
    Path tmp;

    Path share;
    PassthroughFs pfs;
    FuseHarness h;

    @BeforeEach
    void start() throws Exception {
        share = Files.createDirectory(tmp.resolve("share"));
        pfs = PassthroughFs.open(share, PassthroughConfig.defaults());
        h = FuseHarness.start(tmp, null, new FsDevice("myfs", 1, new FuseServer(pfs)), GuestDriver.Options.defaults(2));
        h.init().ok();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
        pfs.close();
    }

    private static void assertError(int errno, Reply r) {
        assertEquals(-errno, r.error(), () -> "reply " + r);
    }

    /** FUSE's 32-bit device number (the kernel's new_encode_dev). */
    private static int dev(int major, int minor) {
        return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
    }

    private long mknod(String name, int mode, int rdev) throws Exception {
        Reply r = h.call(MKNOD, 1, args().u32(mode).u32(rdev).u32(0).u32(0).name(name), ENTRY);
        r.ok();
        return nodeId(r);
    }

    private Reply create(String name, int flags) throws Exception {
        return h.call(CREATE, 1, args().u32(flags).u32(0666).u32(0).u32(0).name(name), CREATED);
    }

    private void rootStillAnswers() throws Exception {
        h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR).ok();
    }

    @Test
    void deviceNodesAreNeverOpenedByCreateNorOpen() throws Exception {
        long zero = mknod("zero", S_IFCHR | 0666, dev(1, 5)); // /dev/zero: harmless if it were reached
        long loop = mknod("loop", S_IFBLK | 0600, dev(7, 0)); // a loop device: the host block device
        for (String name : List.of("zero", "loop")) {
            assertError(Errno.EBADF, create(name, O_RDWR));
            assertError(Errno.EBADF, create(name, O_RDONLY | O_TRUNC));
            assertError(Errno.EEXIST, create(name, O_RDWR | O_EXCL));
        }
        for (long node : List.of(zero, loop)) {
            assertError(Errno.EBADF, h.call(OPEN, node, args().u32(O_RDWR).u32(0), OPEN_OUT));
        }
        assertEquals(List.of(), ProcessFds.specialFilesOpenForIo(), "the daemon holds no device open");
        rootStillAnswers();
    }

    @Test
    void aFifoNeitherBlocksTheWorkerNorIsOpened() throws Exception {
        long fifo = mknod("fifo", S_IFIFO | 0666, 0);
        try {
            // Bounded: before the fix the worker sat in openat() until a writer came (the harness times out).
            Reply r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> create("fifo", O_RDONLY));
            assertError(Errno.EBADF, r);
            assertError(Errno.EBADF, create("fifo", O_RDWR));
            assertError(Errno.EBADF, h.call(OPEN, fifo, args().u32(O_RDONLY).u32(0), OPEN_OUT));
            rootStillAnswers();
            assertEquals(List.of(), ProcessFds.specialFilesOpenForIo(), "the daemon holds no FIFO open");
        } finally {
            unblockAReader(share.resolve("fifo"));
        }
    }

    @Test
    void existingNamesOtherThanFilesKeepTheirErrnoAndFilesStillOpen() throws Exception {
        h.call(MKDIR, 1, args().u32(0755).u32(0).name("dir"), ENTRY).ok();
        h.call(SYMLINK, 1, args().name("link").name("dir"), ENTRY).ok();
        assertError(Errno.EISDIR, create("dir", O_RDWR));
        assertError(Errno.ELOOP, create("link", O_RDWR));

        Files.writeString(share.resolve("file"), "contents");
        long looked = nodeId(h.call(LOOKUP, 1, args().name("file"), ENTRY));
        Reply r = create("file", O_RDWR);
        r.ok();
        assertEquals(looked, nodeId(r), "CREATE of an existing file opens that file's node");
        long fh = r.body().getLong(128);
        Reply read = h.call(
                READ,
                looked,
                args().u64(fh).u64(0).u32(100).u32(0).u64(0).u32(0).u32(0),
                OUT_HEADER + 100);
        read.ok();
        byte[] got = new byte[read.payload()];
        read.body().get(0, got);
        assertArrayEquals("contents".getBytes(StandardCharsets.UTF_8), got);
        create("file", O_RDWR | O_TRUNC).ok();
        assertEquals("", Files.readString(share.resolve("file")), "O_TRUNC of an existing file truncates it");

        Reply fresh = create("fresh", O_RDWR);
        fresh.ok();
        assertEquals(S_IFREG | 0666, fresh.body().getInt(100), "a new regular file, the guest's mode (umask 0)");
        rootStillAnswers();
    }

    /** Only needed when a worker is stuck in open(O_RDONLY) of the FIFO: O_RDWR never blocks and counts as a writer. */
    private static void unblockAReader(Path fifo) {
        try {
            FileCalls.openat(null, FileCalls.bytes(fifo.toString()), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0)
                    .close();
        } catch (NativeException e) {
            // nothing to unblock
        }
    }
}
