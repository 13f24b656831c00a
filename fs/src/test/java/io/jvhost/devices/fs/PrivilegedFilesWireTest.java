package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.CallerRequests.*;
import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.devices.fs.passthrough.CachePolicy;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PassthroughConfig.denyPrivilegedFiles (jvhost fs --deny-privileged-files) through the whole
 * device: the guest, whoever its caller claims to be, makes no set-user-ID or set-group-ID
 * file, hands none to root and sets no file capability; directories keep their set-group-ID
 * inheritance. Without the option the same requests succeed, as in virtiofsd.
 */
class PrivilegedFilesWireTest {
    private static final int FATTR_MODE = 1, FATTR_UID = 2, FATTR_SIZE = 8;
    private static final int UID = 1000, GID = 1000;

    @TempDir
    Path tmp;

    Path share;
    PassthroughFs pfs;
    FuseHarness h;
    CallerRequests guest;

    private void start(boolean deny) throws Exception {
        assumeTrue(ProcessHandle.current().info().user().map("root"::equals).orElse(false), "needs root");
        share = Files.createDirectory(tmp.resolve("share"));
        chmod(share, 0777);
        pfs = PassthroughFs.open(share, new PassthroughConfig(CachePolicy.AUTO, true, true, deny));
        h = FuseHarness.start(tmp, null, new FsDevice("myfs", 1, new FuseServer(pfs)), GuestDriver.Options.defaults(2));
        guest = new CallerRequests(h.driver);
        guest.init().ok();
    }

    @AfterEach
    void stop() throws Exception {
        if (h != null) h.close();
        if (pfs != null) pfs.close();
    }

    @Test
    void newFilesGetNoSetIdBits() throws Exception {
        start(true);
        guest.call(CREATE, 1, UID, GID, createArgs("tool", 06755, 0101), new byte[0], ENTRY + OPEN_OUT)
                .ok();
        assertEquals(0755, mode(share.resolve("tool")));
        guest.call(CREATE, 1, 0, 0, createArgs("roottool", 04755, 0101), new byte[0], ENTRY + OPEN_OUT)
                .ok();
        assertEquals(0755, mode(share.resolve("roottool")), "the guest's root alike");
        guest.call(
                        MKNOD,
                        1,
                        UID,
                        GID,
                        args().u32(0100000 | 06755)
                                .u32(0)
                                .u32(0)
                                .u32(0)
                                .name("node")
                                .build(),
                        new byte[0],
                        ENTRY)
                .ok();
        assertEquals(0755, mode(share.resolve("node")));
        // A directory's set-group-ID only passes its group on; the host kernel gives it to subdirectories.
        Path project = Files.createDirectory(share.resolve("project"));
        chmod(project, 02777);
        long p = guest.lookup(1, "project");
        guest.call(MKDIR, p, UID, GID, args().u32(02755).u32(0).name("sub").build(), new byte[0], ENTRY)
                .ok();
        assertEquals(02755, mode(project.resolve("sub")));
    }

    @Test
    void chmodThatAddsASetIdBitIsRefused() throws Exception {
        start(true);
        Path f = Files.writeString(share.resolve("f"), "x");
        chmod(f, 0755);
        long node = guest.lookup(1, "f");
        assertEquals(-Errno.EPERM, setattr(node, FATTR_MODE, 0104755, 0).error());
        assertEquals(-Errno.EPERM, setattr(node, FATTR_MODE, 0102755, 0).error());
        assertEquals(0755, mode(f));
        setattr(node, FATTR_MODE, 0100700, 0).ok();
        assertEquals(0700, mode(f));
        // A bit the host put there is not the guest's doing: changing other bits keeps it.
        chmod(f, 02755);
        setattr(node, FATTR_MODE, 0102775, 0).ok();
        assertEquals(02775, mode(f));
        Path d = Files.createDirectory(share.resolve("d"));
        long dir = guest.lookup(1, "d");
        setattr(dir, FATTR_MODE, 042775, 0).ok();
        assertEquals(02775, mode(d), "directories may be set-group-ID");
    }

    @Test
    void aSetIdFileIsNotHandedToRoot() throws Exception {
        start(true);
        Path f = Files.writeString(share.resolve("suid"), "x");
        Files.setAttribute(f, "unix:uid", UID);
        chmod(f, 04755);
        long node = guest.lookup(1, "suid");
        assertEquals(-Errno.EPERM, setattr(node, FATTR_UID, 0, 0).error());
        assertEquals(UID, Files.getAttribute(f, "unix:uid"));
        assertEquals(04755, mode(f));
        Path plain = Files.writeString(share.resolve("plain"), "x");
        Files.setAttribute(plain, "unix:uid", UID);
        setattr(guest.lookup(1, "plain"), FATTR_UID, 0, 0).ok();
        assertEquals(0, Files.getAttribute(plain, "unix:uid"));
    }

    @Test
    void fileCapabilitiesAreRefused() throws Exception {
        start(true);
        Files.writeString(share.resolve("f"), "x");
        long node = guest.lookup(1, "f");
        assertEquals(
                -Errno.EPERM, setxattr(node, "security.capability", fileCaps()).error());
        setxattr(node, "user.note", new byte[] {1}).ok();
    }

    @Test
    void anExistingSetIdFileIsNotOpenedForWriting() throws Exception {
        start(true);
        Path f = Files.writeString(share.resolve("suid"), "original");
        chmod(f, 04755);
        long node = guest.lookup(1, "suid");
        assertEquals(-Errno.EPERM, open(node, 01).error(), "O_WRONLY");
        assertEquals(-Errno.EPERM, open(node, 02).error(), "O_RDWR");
        assertEquals(-Errno.EPERM, open(node, 01000).error(), "O_RDONLY|O_TRUNC");
        assertEquals(
                -Errno.EPERM,
                guest.call(CREATE, 1, 0, 0, createArgs("suid", 0644, 01), new byte[0], ENTRY + OPEN_OUT)
                        .error(),
                "CREATE of the existing name");
        assertEquals(-Errno.EPERM, setattr(node, FATTR_SIZE, 0, 0).error(), "truncate without a handle");
        open(node, 0).ok();
        assertEquals("original", Files.readString(f));
        assertEquals(04755, mode(f));
        Path sgid = Files.writeString(share.resolve("sgid"), "x");
        chmod(sgid, 02755);
        assertEquals(-Errno.EPERM, open(guest.lookup(1, "sgid"), 02).error());
        Path plain = Files.writeString(share.resolve("plain"), "x");
        chmod(plain, 0755);
        open(guest.lookup(1, "plain"), 02).ok();
    }

    @Test
    void withoutTheOptionTheGuestMayDoAllOfIt() throws Exception {
        start(false);
        guest.call(CREATE, 1, UID, GID, createArgs("tool", 06755, 0101), new byte[0], ENTRY + OPEN_OUT)
                .ok();
        assertEquals(06755, mode(share.resolve("tool")));
        Path f = Files.writeString(share.resolve("f"), "x");
        long node = guest.lookup(1, "f");
        setattr(node, FATTR_MODE, 0104755, 0).ok();
        assertEquals(04755, mode(f));
        setxattr(node, "security.capability", fileCaps()).ok();
        open(node, 02).ok();
    }

    private Reply open(long node, int flags) throws Exception {
        return guest.call(OPEN, node, 0, 0, args().u32(flags).u32(0).build(), new byte[0], OPEN_OUT);
    }

    /** fuse_setattr_in with {@code valid}, mode and uid. */
    private Reply setattr(long node, int valid, int mode, int uid) throws Exception {
        byte[] a = ByteBuffer.allocate(88)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, valid)
                .putInt(68, mode)
                .putInt(76, uid)
                .array();
        return guest.call(SETATTR, node, a, ATTR);
    }

    private Reply setxattr(long node, String name, byte[] value) throws Exception {
        return guest.call(
                SETXATTR,
                node,
                args().u32(value.length).u32(0).name(name).bytes(value).build(),
                OUT_HEADER);
    }

    /** struct vfs_cap_data, revision 2: CAP_NET_RAW permitted and effective. */
    private static byte[] fileCaps() {
        return ByteBuffer.allocate(20)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0x0200_0001)
                .putInt(1 << 13)
                .putInt(0)
                .putInt(0)
                .putInt(0)
                .array();
    }

    private static int mode(Path p) throws Exception {
        return (int) Files.getAttribute(p, "unix:mode") & 07777;
    }

    private static void chmod(Path p, int mode) throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("chmod", Integer.toOctalString(mode), p.toString())
                        .inheritIO()
                        .start()
                        .waitFor());
    }
}
