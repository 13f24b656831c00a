package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.CallerRequests.*;
import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.devices.fs.passthrough.XattrMap;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Xattrs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --security-label through the whole device (virtqueue, FUSE decoding, PassthroughFs, as root):
 * the security context a CREATE, MKDIR, MKNOD or SYMLINK carries (laid out as Linux's
 * fs/fuse/dir.c get_security_context does) is set on the new inode before the reply; a label
 * that cannot be set leaves no file behind; a context not laid out exactly so is refused
 * before anything is created.
 */
class SecurityLabelWireTest {
    private static final String LABEL = "system_u:object_r:container_file_t:s0\0";

    @TempDir
    Path tmp;

    Path share;
    PassthroughFs pfs;
    FuseHarness h;
    CallerRequests guest;

    void start(PassthroughConfig config) throws Exception {
        assumeTrue(io.jvhost.nativeio.FsCredentials.geteuid() == 0, "security.* xattrs need CAP_SYS_ADMIN");
        share = Files.createDirectory(tmp.resolve("share"));
        pfs = PassthroughFs.open(share, config);
        h = FuseHarness.start(tmp, null, new FsDevice("myfs", 1, new FuseServer(pfs)), GuestDriver.Options.defaults(2));
        guest = new CallerRequests(h.driver);
    }

    @AfterEach
    void stop() throws Exception {
        if (h != null) h.close();
        if (pfs != null) pfs.close();
    }

    private static PassthroughConfig labels(XattrMap map) {
        return PassthroughConfig.defaults().withXattrOptions(false, true, map);
    }

    @Test
    void everyCreatingRequestLabelsItsNode() throws Exception {
        start(labels(null));
        Reply init = guest.init();
        init.ok();
        assertNotEquals(0, initFlags(init) & InitFlags.SECURITY_CTX, "SECURITY_CTX granted");
        byte[] ctx = secctx("security.selinux", LABEL);
        guest.call(CREATE, 1, 0, 0, createArgs("f", 0644, 0101), ctx, ENTRY + OPEN_OUT)
                .ok();
        guest.call(MKDIR, 1, 0, 0, args().u32(0755).u32(0).name("d").build(), ctx, ENTRY)
                .ok();
        guest.call(
                        MKNOD,
                        1,
                        0,
                        0,
                        args().u32(0010644).u32(0).u32(0).u32(0).name("p").build(),
                        ctx,
                        ENTRY)
                .ok();
        guest.call(SYMLINK, 1, 0, 0, args().name("l").name("f").build(), ctx, ENTRY)
                .ok();
        for (String n : List.of("f", "d", "p", "l")) {
            assertEquals(LABEL, label(share.resolve(n), "security.selinux"), n + " is labeled");
        }
        assertTrue(Files.isSymbolicLink(share.resolve("l")), "the link itself, not its target");
        // nr_secctx 0 (no LSM had a label): created, unlabeled.
        guest.call(CREATE, 1, 0, 0, createArgs("plain", 0644, 0101), ext(8, 0), ENTRY + OPEN_OUT)
                .ok();
        assertNull(label(share.resolve("plain"), "security.selinux"));
        // With the groups extension too, in either order.
        byte[] both = concat(groupsExtension(0), ctx);
        guest.call(CREATE, 1, 0, 0, createArgs("both", 0644, 0101), both, ENTRY + OPEN_OUT)
                .ok();
        assertEquals(LABEL, label(share.resolve("both"), "security.selinux"));
        assertEquals(0, h.device.server().unexpectedFailures());
    }

    @Test
    void theLabelFollowsTheXattrMap() throws Exception {
        start(labels(XattrMap.parse(":map::user.virtiofs.:")));
        guest.init().ok();
        guest.call(CREATE, 1, 0, 0, createArgs("f", 0644, 0101), secctx("security.selinux", LABEL), ENTRY + OPEN_OUT)
                .ok();
        assertEquals(LABEL, label(share.resolve("f"), "user.virtiofs.security.selinux"));
        assertNull(label(share.resolve("f"), "security.selinux"), "never under the guest's own name");
    }

    @Test
    void aLabelThatCannotBeSetLeavesNothingBehind() throws Exception {
        start(labels(XattrMap.parse(":bad:client:security.:::ok:all:::")));
        guest.init().ok();
        byte[] ctx = secctx("security.selinux", LABEL);
        assertEquals(
                -Errno.EPERM,
                guest.call(CREATE, 1, 0, 0, createArgs("f", 0644, 0101), ctx, ENTRY + OPEN_OUT)
                        .error());
        assertEquals(
                -Errno.EPERM,
                guest.call(MKDIR, 1, 0, 0, args().u32(0755).u32(0).name("d").build(), ctx, ENTRY)
                        .error());
        assertEquals(
                -Errno.EPERM,
                guest.call(SYMLINK, 1, 0, 0, args().name("l").name("f").build(), ctx, ENTRY)
                        .error());
        // A label the host file system cannot hold (ext4/tmpfs keep at most a block or so).
        byte[] huge = secctx("security.selinux", "x".repeat(60_000));
        Reply r = guest.call(
                MKNOD,
                1,
                0,
                0,
                args().u32(0010644).u32(0).u32(0).u32(0).name("p").build(),
                huge,
                ENTRY);
        assertTrue(r.error() < 0, "refused by the host: " + r.error());
        try (var s = Files.list(share)) {
            assertEquals(List.of(), s.toList(), "no unlabeled node is left");
        }
        assertEquals(0, h.device.server().unexpectedFailures());
    }

    @Test
    void malformedSecurityContextsAreRefusedAndCreateNothing() throws Exception {
        start(labels(null));
        guest.init().ok();
        byte[] good = secctx("security.selinux", LABEL);
        List<byte[]> bad = new ArrayList<>(List.of(
                ext(16, 0, 0, 0), // nr_secctx 0 with a body
                ext(8, 2), // two contexts announced
                ext(8, 31), // 31 contexts (the highest secctx type)
                ext(8, 1), // one announced, no fuse_secctx
                withWord(good, 8, 0), // a label of 0 bytes
                withWord(good, 8, 0x7fff_ffff), // a label size to allocate for
                withWord(good, 8, LABEL.length() + 8), // a label longer than what is there
                withWord(good, 8, LABEL.length() - 7), // shorter by more than the padding: the layout no longer adds up
                withWord(good, 0, good.length + 8), // size past the extension area
                withWord(good, 0, 12), // size not a multiple of 8
                secctx("", LABEL), // an empty name
                secctx("user.selinux", LABEL), // not a security.* name
                secctx("security.", LABEL), // nothing after the prefix
                secctx("security." + "x".repeat(300), LABEL), // a name past XATTR_NAME_MAX
                noNul(secctx("security.selinux", LABEL)), // no NUL after the name
                concat(good, good))); // two contexts in two extensions
        int i = 0;
        for (byte[] e : bad) {
            String name = "bad" + i++;
            Reply r = guest.call(CREATE, 1, 0, 0, createArgs(name, 0644, 0101), e, ENTRY + OPEN_OUT);
            assertEquals(
                    -Errno.EINVAL,
                    r.error(),
                    name + ": " + java.util.HexFormat.of().formatHex(e));
            assertFalse(Files.exists(share.resolve(name), LinkOption.NOFOLLOW_LINKS), name + " was not created");
        }
        guest.call(CREATE, 1, 0, 0, createArgs("good", 0644, 0101), good, ENTRY + OPEN_OUT)
                .ok();
        assertEquals(0, h.device.server().unexpectedFailures());
    }

    @Test
    void withoutTheFlagAContextIsRefused() throws Exception {
        start(PassthroughConfig.defaults());
        Reply init = guest.init();
        init.ok();
        assertEquals(0, initFlags(init) & InitFlags.SECURITY_CTX, "not offered without --security-label");
        assertEquals(
                -Errno.EINVAL,
                guest.call(
                                CREATE,
                                1,
                                0,
                                0,
                                createArgs("f", 0644, 0101),
                                secctx("security.selinux", LABEL),
                                ENTRY + OPEN_OUT)
                        .error());
        assertFalse(Files.exists(share.resolve("f")));
    }

    @Test
    void aGuestWithoutSecurityContextsCannotMount() throws Exception {
        start(labels(null));
        long flags = LINUX_6_FLAGS & ~InitFlags.SECURITY_CTX;
        Reply r = guest.call(
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
        assertEquals(-Errno.EPROTO, r.error(), "as virtiofsd: --security-label needs FUSE_SECURITY_CTX");
    }

    /** fuse_secctx_header (size, nr_secctx 1), fuse_secctx (size, padding), name, NUL, label, padded to 8. */
    static byte[] secctx(String name, String label) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8), v = label.getBytes(StandardCharsets.UTF_8);
        int size = 8 + ((8 + n.length + 1 + v.length + 7) & ~7);
        return ByteBuffer.allocate(size)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(size)
                .putInt(1)
                .putInt(v.length)
                .putInt(0)
                .put(n)
                .put((byte) 0)
                .put(v)
                .array();
    }

    /** The label's name with its NUL replaced, so the name runs into the label and the padding. */
    private static byte[] noNul(byte[] ext) {
        byte[] out = ext.clone();
        for (int i = 16; i < out.length; i++) {
            if (out[i] == 0) {
                out[i] = 'x';
                break;
            }
        }
        for (int i = 16; i < out.length; i++) if (out[i] == 0) out[i] = 'y';
        return out;
    }

    private static byte[] withWord(byte[] ext, int offset, int value) {
        byte[] out = ext.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return out;
    }

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

    /** The host's xattr {@code name} of {@code p} itself (a symlink not followed), or null if it has none. */
    private static String label(Path p, String name) throws Exception {
        try {
            return new String(
                    Xattrs.get(
                            Xattrs.File.link(p.toString().getBytes(StandardCharsets.UTF_8)),
                            name.getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8);
        } catch (NativeException e) {
            if (e.errno() == Errno.ENODATA) return null;
            throw e;
        }
    }
}
