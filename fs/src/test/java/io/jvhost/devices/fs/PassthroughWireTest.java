package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile FUSE requests crafted through the guest-driver model against the real passthrough
 * file system (the whole device: virtqueue, FUSE decoding, PassthroughFs): escapes through
 * "..", "/", symlinks and forged ids are refused with an errno, and thousands of mutated
 * requests neither crash the device nor touch anything outside the shared directory.
 */
class PassthroughWireTest {
    private static final int ENTRY = OUT_HEADER + 128, ATTR = OUT_HEADER + 104, OPEN_OUT = OUT_HEADER + 16;

    @TempDir
    Path tmp;

    Path share;
    PassthroughFs pfs;
    FuseHarness h;

    @BeforeEach
    void start() throws Exception {
        share = Files.createDirectory(tmp.resolve("share"));
        Files.writeString(tmp.resolve("secret"), "secret");
        Files.writeString(share.resolve("inside.txt"), "inside");
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

    @Test
    void escapesAreRefusedWithAnErrno() throws Exception {
        assertError(Errno.EINVAL, h.call(LOOKUP, 1, args().name(".."), ENTRY));
        assertError(Errno.EINVAL, h.call(LOOKUP, 1, args().name("../secret"), ENTRY));
        assertError(Errno.EINVAL, h.call(LOOKUP, 1, args().name("/etc"), ENTRY));
        assertError(Errno.EINVAL, h.call(MKDIR, 1, args().u32(0755).u32(0).name("a/b"), ENTRY));
        assertError(
                Errno.EINVAL, h.call(RENAME, 1, args().u64(1).name("inside.txt").name("../moved"), OUT_HEADER));
        // A symlink pointing out is only a symlink: the server never follows it.
        h.call(SYMLINK, 1, args().name("esc").name("../secret"), ENTRY).ok();
        long esc = nodeId(h.call(LOOKUP, 1, args().name("esc"), ENTRY));
        assertError(Errno.ELOOP, h.call(OPEN, esc, args().u32(0).u32(0), OPEN_OUT));
        assertError(Errno.ENOTDIR, h.call(LOOKUP, esc, args().name("secret"), ENTRY));
        Reply link = h.call(READLINK, esc, args(), OUT_HEADER + 64);
        link.ok();
        // Forged node ids and handles.
        assertError(Errno.ENOENT, h.call(GETATTR, 4242, args().u32(0).u32(0).u64(0), ATTR));
        long inside = nodeId(h.call(LOOKUP, 1, args().name("inside.txt"), ENTRY));
        assertError(
                Errno.EBADF,
                h.call(
                        READ,
                        inside,
                        args().u64(77).u64(0).u32(100).u32(0).u64(0).u32(0).u32(0),
                        OUT_HEADER + 100));
        assertEquals("secret", Files.readString(tmp.resolve("secret")));
        assertEquals(List.of("fs.sock", "secret", "share"), listing(tmp));
    }

    @Test
    void mutatedRequestsNeverCrashNorEscape() throws Exception {
        Random rnd = new Random(20261122);
        int[] ops = {
            LOOKUP,
            GETATTR,
            SETATTR,
            READLINK,
            SYMLINK,
            MKNOD,
            MKDIR,
            UNLINK,
            RMDIR,
            RENAME,
            LINK,
            OPEN,
            READ,
            WRITE,
            RELEASE,
            CREATE,
            OPENDIR,
            READDIR,
            READDIRPLUS,
            RELEASEDIR,
            RENAME2,
            SETXATTR,
            GETXATTR,
            FALLOCATE,
            LSEEK,
            COPY_FILE_RANGE,
            FORGET,
            BATCH_FORGET,
            ACCESS,
            STATFS
        };
        String[] names = {"..", ".", "../secret", "/", "x", "inside.txt", "a/b", "", "esc", "d"};
        for (int i = 0; i < 3000; i++) {
            Args a = args();
            int fields = rnd.nextInt(6);
            for (int f = 0; f < fields; f++) {
                switch (rnd.nextInt(4)) {
                    case 0 -> a.u32(rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(8));
                    case 1 -> a.u64(rnd.nextInt(4) == 0 ? rnd.nextLong() : rnd.nextInt(1, 6));
                    case 2 -> a.name(names[rnd.nextInt(names.length)]);
                    default -> {
                        byte[] junk = new byte[rnd.nextInt(64)];
                        rnd.nextBytes(junk);
                        a.bytes(junk);
                    }
                }
            }
            long node = rnd.nextInt(5) == 0 ? rnd.nextLong() : rnd.nextInt(1, 8);
            Reply r = h.send(
                    1,
                    request(ops[rnd.nextInt(ops.length)], h.nextUnique(), node, a.build()),
                    OUT_HEADER + rnd.nextInt(512));
            assertTrue(r.used() == 0 || r.error() <= 0, () -> "well-formed reply " + r);
        }
        assertEquals(0, h.device.server().unexpectedFailures(), "no request crashed the file system");
        assertEquals("secret", Files.readString(tmp.resolve("secret")));
        assertEquals(List.of("fs.sock", "secret", "share"), listing(tmp), "nothing appeared outside the share");
        assertNotEquals(0, h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR).used(), "the device still serves");
        h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR).ok();
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
