package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Xattrs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * --xattrmap over a real directory (virtiofsd's example 2: the guest's trusted.* kept as
 * user.virtiofs.trusted.* on the host, the host's own trusted.* hidden, the target out of the
 * guest's reach, everything else as it is), and guest-sized names and values bounded.
 */
class XattrMapShareTest extends FsTestBase {
    @Override
    PassthroughConfig config() {
        return PassthroughConfig.defaults()
                .withXattrOptions(
                        false,
                        false,
                        XattrMap.parse("/prefix/all/trusted./user.virtiofs./ /bad/server//trusted./"
                                + " /bad/client/user.virtiofs.// /ok/all///"));
    }

    @Test
    void namesAreMappedBothWays() throws Exception {
        Path f = Files.writeString(share.resolve("f"), "x");
        long node = lookup("f").nodeId();
        fs.setxattr(ROOT, node, b("trusted.overlay"), b("y"), 0);
        assertArrayEquals(b("y"), host(f, "user.virtiofs.trusted.overlay"), "stored under the prefix");
        assertEquals(null, hostOrNull(f, "trusted.overlay"), "never under the guest's name");
        assertArrayEquals(b("y"), fs.getxattr(ROOT, node, b("trusted.overlay")));
        fs.setxattr(ROOT, node, b("user.plain"), b("p"), 0);
        assertArrayEquals(b("p"), host(f, "user.plain"), "other names as they are");
        Xattrs.set(Xattrs.File.path(b(f.toString())), b("trusted.hosts"), b("h"), 0);

        assertEquals("trusted.overlay user.plain ", names(fs.listxattr(ROOT, node)), "stripped; the host's hidden");

        fails(Errno.EPERM, () -> fs.setxattr(ROOT, node, b("user.virtiofs.trusted.overlay"), b("z"), 0));
        fails(Errno.ENODATA, () -> fs.getxattr(ROOT, node, b("user.virtiofs.trusted.overlay")));
        fails(Errno.EPERM, () -> fs.removexattr(ROOT, node, b("user.virtiofs.trusted.overlay")));
        assertArrayEquals(b("y"), host(f, "user.virtiofs.trusted.overlay"), "unchanged");

        fs.removexattr(ROOT, node, b("trusted.overlay"));
        assertEquals(null, hostOrNull(f, "user.virtiofs.trusted.overlay"));
        assertArrayEquals(b("h"), host(f, "trusted.hosts"), "the host's own left alone");
    }

    @Test
    void guestSizedNamesAndValuesAreBounded() throws Exception {
        Path f = Files.writeString(share.resolve("f"), "x");
        long node = lookup("f").nodeId();
        fails(Errno.ERANGE, () -> fs.setxattr(ROOT, node, b("user." + "n".repeat(251)), b("v"), 0));
        fails(Errno.ERANGE, () -> fs.getxattr(ROOT, node, b("trusted." + "n".repeat(248))));
        // Within XATTR_NAME_MAX for the guest, past it once prefixed: the host refuses it.
        fails(Errno.ERANGE, () -> fs.setxattr(ROOT, node, b("trusted." + "n".repeat(240)), b("v"), 0));
        fails(Errno.E2BIG, () -> fs.setxattr(ROOT, node, b("trusted.big"), new byte[65_537], 0));
        fails(Errno.EINVAL, () -> fs.setxattr(ROOT, node, new byte[0], b("v"), 0));
        assertEquals("", names(fs.listxattr(ROOT, node)), "nothing was set");
        assertFalse(names(Xattrs.list(Xattrs.File.path(b(f.toString())))).contains("user."));
    }

    private static byte[] host(Path p, String name) throws Exception {
        return Xattrs.get(Xattrs.File.link(b(p.toString())), b(name));
    }

    private static byte[] hostOrNull(Path p, String name) throws Exception {
        try {
            return host(p, name);
        } catch (NativeException e) {
            if (e.errno() == Errno.ENODATA) return null;
            throw e;
        }
    }

    private static String names(byte[] list) {
        return new String(list, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ');
    }
}
