package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.CallerRequests.*;
import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FUSE_CREATE_SUPP_GROUP through the whole device (virtqueue, FUSE decoding, PassthroughFs, in
 * this JVM, as root): the group a creating request carries in its FUSE_EXT_GROUPS extension is
 * the caller's for that call only, and an extension that is not laid out exactly as the
 * protocol says is refused before anything is created.
 */
class SupplementaryGroupWireTest {
    private static final int UID = 1000, GID = 1000, GROUP = 4242;

    @TempDir
    Path tmp;

    Path share;
    Path groupDir;
    PassthroughFs pfs;
    FuseHarness h;
    CallerRequests guest;

    @BeforeEach
    void start() throws Exception {
        assumeTrue("0".equals(id("-u")), "needs root: the caller's credentials are switched per request");
        share = Files.createDirectory(tmp.resolve("share"));
        groupDir = Files.createDirectory(share.resolve("grp"));
        Files.setAttribute(groupDir, "unix:gid", GROUP);
        Files.setPosixFilePermissions(groupDir, PosixFilePermissions.fromString("rwxrwx---"));
        pfs = PassthroughFs.open(share, PassthroughConfig.defaults());
        h = FuseHarness.start(tmp, null, new FsDevice("myfs", 1, new FuseServer(pfs)), GuestDriver.Options.defaults(2));
        guest = new CallerRequests(h.driver);
    }

    @AfterEach
    void stop() throws Exception {
        if (h != null) h.close();
        if (pfs != null) pfs.close();
    }

    @Test
    void theGroupOfTheExtensionIsTheCallersForThatCallOnly() throws Exception {
        Reply init = guest.init();
        init.ok();
        assertNotEquals(0, initFlags(init) & InitFlags.CREATE_SUPP_GROUP, "CREATE_SUPP_GROUP is offered");
        long dir = guest.lookup(1, "grp");
        String groupsBefore =
                threadGroups().get(Long.toString(ProcessHandle.current().pid()));

        assertEquals(
                -Errno.EACCES,
                guest.call(CREATE, dir, UID, GID, createArgs("without", 0644, 0101), new byte[0], ENTRY + OPEN_OUT)
                        .error(),
                "not in group " + GROUP + " without the extension");
        guest.call(CREATE, dir, UID, GID, createArgs("with", 0644, 0101), groupsExtension(GROUP), ENTRY + OPEN_OUT)
                .ok();
        assertEquals(UID, Files.getAttribute(groupDir.resolve("with"), "unix:uid"));
        assertEquals(GID, Files.getAttribute(groupDir.resolve("with"), "unix:gid"));
        guest.call(MKDIR, dir, UID, GID, args().u32(0755).u32(0).name("d").build(), groupsExtension(GROUP), ENTRY)
                .ok();
        assertEquals(
                -Errno.EACCES,
                guest.call(
                                MKDIR,
                                dir,
                                UID,
                                GID,
                                args().u32(0755).u32(0).name("e").build(),
                                new byte[0],
                                ENTRY)
                        .error(),
                "the group was given back after the call");
        for (Map.Entry<String, String> t : threadGroups().entrySet()) {
            assertEquals(groupsBefore, t.getValue(), "thread " + t.getKey() + " has its own groups back");
        }
    }

    @Test
    void malformedExtensionsAreRefusedAndCreateNothing() throws Exception {
        guest.init().ok();
        long dir = guest.lookup(1, "grp");
        byte[] valid = groupsExtension(GROUP);
        List<byte[]> bad = List.of(
                ext(0, FUSE_EXT_GROUPS, 1, GROUP), // size 0: a loop that never advances
                ext(12, FUSE_EXT_GROUPS, 1, GROUP), // size not a multiple of 8
                ext(24, FUSE_EXT_GROUPS, 1, GROUP), // size past the extension area
                ext(16, FUSE_EXT_GROUPS, 2, GROUP), // two groups announced, room for one
                ext(16, FUSE_EXT_GROUPS, 0, GROUP), // no group at all
                ext(16, FUSE_EXT_GROUPS, 0x7fff_ffff, GROUP), // a count to allocate for
                ext(16, 33, 1, GROUP), // an extension type nobody negotiated
                ext(16, 0, 1, GROUP), // a security context (SECURITY_CTX not granted)
                concat(valid, valid), // the groups twice
                ext(8, FUSE_EXT_GROUPS), // a header and nothing else
                groupsExtension(new int[40])); // more groups than any kernel sends
        int i = 0;
        for (byte[] e : bad) {
            String name = "bad" + i++;
            Reply r = guest.call(CREATE, dir, UID, GID, createArgs(name, 0644, 0101), e, ENTRY + OPEN_OUT);
            assertEquals(
                    -Errno.EINVAL,
                    r.error(),
                    name + ": " + java.util.HexFormat.of().formatHex(e));
            assertFalse(Files.exists(groupDir.resolve(name)), name + " was not created");
        }
        // total_extlen counting less than the extension (its tail then reads as part of the name).
        byte[] shortCount = request(CREATE, 77, dir, UID, GID, createArgs("short", 0644, 0101), valid, 1);
        assertEquals(-Errno.EINVAL, guest.send(shortCount, ENTRY + OPEN_OUT).error());
        assertFalse(Files.exists(groupDir.resolve("short")));
        guest.call(CREATE, dir, UID, GID, createArgs("good", 0644, 0101), valid, ENTRY + OPEN_OUT)
                .ok();
        assertEquals(0, h.device.server().unexpectedFailures());
    }

    @Test
    void anExtensionOutsideTheNegotiatedProtocolIsRefused() throws Exception {
        long flags = LINUX_6_FLAGS & ~InitFlags.CREATE_SUPP_GROUP;
        guest.call(
                        INIT,
                        0,
                        args().u32(7)
                                .u32(41)
                                .u32(128 * 1024)
                                .u32(flags & 0xFFFF_FFFFL)
                                .u32(flags >>> 32)
                                .bytes(new byte[44])
                                .build(),
                        OUT_HEADER + 64)
                .ok();
        long dir = guest.lookup(1, "grp");
        assertEquals(
                -Errno.EINVAL,
                guest.call(CREATE, dir, UID, GID, createArgs("x", 0644, 0101), groupsExtension(GROUP), ENTRY + OPEN_OUT)
                        .error());
        assertFalse(Files.exists(groupDir.resolve("x")));
    }

    /** An extension header of the given size and type, then the given 32-bit words (padded to 8 bytes). */
    private static byte[] ext(int size, int type, int... words) {
        int len = (8 + 4 * words.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(len)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(size)
                .putInt(type);
        for (int w : words) b.putInt(w);
        return b.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Every thread of this JVM: its Groups line of /proc/self/task/TID/status. */
    static Map<String, String> threadGroups() throws Exception {
        Map<String, String> out = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("Groups:"))
                            out.put(
                                    t.getFileName().toString(),
                                    line.substring(7).trim());
                    }
                } catch (java.io.IOException gone) { // ENOENT or ESRCH
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    private static String id(String flag) throws Exception {
        Process p = new ProcessBuilder("id", flag).start();
        return new String(p.getInputStream().readAllBytes()).trim();
    }
}
