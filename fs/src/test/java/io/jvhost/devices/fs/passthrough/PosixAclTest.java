package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.api.Created;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Xattrs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * --posix-acl (virtiofsd's) over a real directory: the ACL xattrs reach the host only with it
 * and a guest that agreed to POSIX_ACL, a parent's default ACL wins over the guest's umask, and
 * SETXATTR_ACL_KILL_SGID clears set-group-ID.
 */
class PosixAclTest extends FsTestBase {
    static final long POSIX_ACL = 1L << 20, DONT_MASK = 1L << 6, SETXATTR_EXT = 1L << 29;
    private static final int USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, MASK = 0x10, OTHER = 0x20, NONE = -1;

    @Override
    PassthroughConfig config() {
        return PassthroughConfig.defaults().withXattrOptions(true, false, null);
    }

    @BeforeEach
    void agree() throws Exception {
        assertEquals(POSIX_ACL | SETXATTR_EXT, fs.supportedInitFlags() & (POSIX_ACL | SETXATTR_EXT), "offered");
        fs.init(POSIX_ACL | DONT_MASK | SETXATTR_EXT);
    }

    @Test
    void aclXattrsAreServed() throws Exception {
        Files.writeString(share.resolve("f"), "x");
        long f = lookup("f").nodeId();
        byte[] acl = acl(USER_OBJ, 6, NONE, USER, 6, 1000, GROUP_OBJ, 4, NONE, MASK, 6, NONE, OTHER, 0, NONE);
        fs.setxattr(ROOT, f, XattrNames.ACL_ACCESS, acl, 0);
        assertArrayEquals(acl, hostXattr(share.resolve("f"), XattrNames.ACL_ACCESS), "the host file has the ACL");
        assertEquals("rw-rw----", perms(share.resolve("f")), "the mask shows as the group bits");
        assertArrayEquals(acl, fs.getxattr(ROOT, f, XattrNames.ACL_ACCESS));
        assertTrue(names(fs.listxattr(ROOT, f)).contains("system.posix_acl_access"));
        fs.removexattr(ROOT, f, XattrNames.ACL_ACCESS);
        fails(Errno.ENODATA, () -> fs.getxattr(ROOT, f, XattrNames.ACL_ACCESS));
    }

    @Test
    void withoutAclsTheAclNamesAreRefusedAndHidden() throws Exception {
        Files.writeString(share.resolve("f"), "x");
        byte[] acl = acl(USER_OBJ, 6, NONE, USER, 6, 1000, GROUP_OBJ, 4, NONE, MASK, 6, NONE, OTHER, 0, NONE);
        Xattrs.set(Xattrs.File.path(b(share.resolve("f").toString())), XattrNames.ACL_ACCESS, acl, 0);
        for (PassthroughConfig plain : new PassthroughConfig[] {PassthroughConfig.defaults(), config()}) {
            try (PassthroughFs other = PassthroughFs.open(share, plain)) {
                other.init(DONT_MASK); // --posix-acl asked for, the guest did not agree: EPROTO below
                long f = other.lookup(ROOT, ROOT_ID, b("f")).nodeId();
                fails(Errno.EOPNOTSUPP, () -> other.getxattr(ROOT, f, XattrNames.ACL_ACCESS));
                fails(Errno.EOPNOTSUPP, () -> other.setxattr(ROOT, f, XattrNames.ACL_DEFAULT, acl, 0));
                fails(Errno.EOPNOTSUPP, () -> other.removexattr(ROOT, f, XattrNames.ACL_ACCESS));
                assertFalse(names(other.listxattr(ROOT, f)).contains("system.posix_acl_access"));
            } catch (io.jvhost.devices.fs.api.FsException e) {
                assertEquals(Errno.EPROTO, e.errno(), "a guest without POSIX_ACL cannot mount with --posix-acl");
                assertTrue(plain.posixAcl());
            }
        }
        assertArrayEquals(acl, hostXattr(share.resolve("f"), XattrNames.ACL_ACCESS), "untouched");
    }

    @Test
    void aParentsDefaultAclWinsOverTheUmask() throws Exception {
        Path inherit = Files.createDirectory(share.resolve("inherit"));
        Files.createDirectory(share.resolve("plain"));
        byte[] def = acl(USER_OBJ, 7, NONE, USER, 7, 1000, GROUP_OBJ, 5, NONE, MASK, 7, NONE, OTHER, 0, NONE);
        Xattrs.set(Xattrs.File.path(b(inherit.toString())), XattrNames.ACL_DEFAULT, def, 0);
        long in = lookup("inherit").nodeId(), plain = lookup("plain").nodeId();

        Created c = fs.create(ROOT, in, b("f"), 0666, O_CREAT | O_WRONLY, 077);
        fs.release(ROOT, c.entry().nodeId(), c.opened().fh(), 0);
        assertEquals("rw-rw----", perms(inherit.resolve("f")), "mode from the default ACL, umask 077 ignored");
        assertTrue(hostXattr(inherit.resolve("f"), XattrNames.ACL_ACCESS).length > 0, "the file got the ACL");
        fs.mkdir(ROOT, in, b("d"), 0777, 077);
        assertArrayEquals(def, hostXattr(inherit.resolve("d"), XattrNames.ACL_DEFAULT), "a directory inherits it");
        assertEquals("rwxrwx---", perms(inherit.resolve("d")));
        fs.mknod(ROOT, in, b("n"), 0100666, 0, 077);
        assertEquals("rw-rw----", perms(inherit.resolve("n")));

        Created p = fs.create(ROOT, plain, b("f"), 0666, O_CREAT | O_WRONLY, 027);
        fs.release(ROOT, p.entry().nodeId(), p.opened().fh(), 0);
        assertEquals("rw-r-----", perms(share.resolve("plain/f")), "no default ACL: the umask applies");
        fs.mkdir(ROOT, plain, b("d"), 0777, 022);
        assertEquals("rwxr-xr-x", perms(share.resolve("plain/d")));
    }

    @Test
    void killSgidClearsSetGroupIdWithTheAccessAcl() throws Exception {
        Path dir = Files.createDirectory(share.resolve("sgid"));
        setMode(dir, 02775);
        Path file = Files.writeString(share.resolve("g"), "x");
        setMode(file, 02770);
        byte[] acl = acl(USER_OBJ, 7, NONE, USER, 7, 1000, GROUP_OBJ, 7, NONE, MASK, 7, NONE, OTHER, 5, NONE);
        long d = lookup("sgid").nodeId(), f = lookup("g").nodeId();

        fs.setxattr(ROOT, d, XattrNames.ACL_ACCESS, acl, 0, 0);
        assertNotEquals(0, mode(dir) & 02000, "kept without SETXATTR_ACL_KILL_SGID");
        fs.setxattr(ROOT, f, XattrNames.ACL_ACCESS, acl, 0, 1);
        assertEquals(0, mode(file) & 02000, "cleared with SETXATTR_ACL_KILL_SGID");
        assertArrayEquals(acl, hostXattr(file, XattrNames.ACL_ACCESS), "and the ACL is set");
        setMode(file, 02770);
        fs.setxattr(ROOT, f, b("user.x"), b("1"), 0, 1);
        assertNotEquals(0, mode(file) & 02000, "only the access ACL clears it");
    }

    /** posix_acl_xattr: version 2, then (tag, perm, id) triples. */
    static byte[] acl(int... entries) {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * (entries.length / 3)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int i = 0; i < entries.length; i += 3) {
            b.putShort((short) entries[i]).putShort((short) entries[i + 1]).putInt(entries[i + 2]);
        }
        return b.array();
    }

    static byte[] hostXattr(Path p, byte[] name) throws Exception {
        return Xattrs.get(Xattrs.File.link(b(p.toString())), name);
    }

    static String names(byte[] list) {
        return new String(list, StandardCharsets.UTF_8).replace('\0', ' ');
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode");
    }

    private static void setMode(Path p, int mode) throws Exception {
        io.jvhost.nativeio.FileCalls.fchmodat(null, b(p.toString()), mode);
    }
}
