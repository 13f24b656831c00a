package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Stat;
import io.jvhost.nativeio.Xattrs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The guest can never reach outside the shared directory: a "secret" file sits beside the
 * share and every attempt below must leave it unread, unchanged and unnamed.
 */
class ConfinementTest extends FsTestBase {
    static final String SECRET = "TOP SECRET";
    Path secret;
    long secretIno;
    FileTime secretMtime;

    @BeforeEach
    void plantSecret() throws Exception {
        secret = Files.writeString(tmp.resolve("secret"), SECRET);
        Xattrs.set(Xattrs.File.path(FileCalls.bytes(secret.toString())), b("user.secret"), b("s"), 0);
        Files.setLastModifiedTime(secret, FileTime.fromMillis(1_000_000));
        secretIno = (long) Files.getAttribute(secret, "unix:ino");
        secretMtime = Files.getLastModifiedTime(secret);
    }

    /** Checked after every attempt: the secret is as planted and has no node. */
    void secretUntouched() throws Exception {
        assertEquals(SECRET, Files.readString(secret));
        assertArrayEquals(b("s"), Xattrs.get(Xattrs.File.path(FileCalls.bytes(secret.toString())), b("user.secret")));
        assertEquals(secretMtime, Files.getLastModifiedTime(secret));
        assertEquals(0, Files.getAttribute(secret, "unix:uid"));
        assertEquals(1, Files.getAttribute(secret, "unix:nlink"));
        assertTrue(
                fs.snapshot().inodes().stream().noneMatch(i -> i.ino() == secretIno), "the secret never became a node");
        assertEquals(
                java.util.List.of(Path.of("secret"), Path.of("share")),
                Files.list(tmp).map(tmp::relativize).sorted().toList(),
                "nothing was created beside the share");
    }

    @Test
    void dotDotAndDotAreNeverLookedUp() throws Exception {
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, b("..")));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, b(".")));
        Files.createDirectory(share.resolve("d"));
        long d = lookup("d").nodeId();
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, d, b("..")));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, b("../secret")));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, b("/etc")));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, b("secret\0")));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, new byte[0]));
        fails(Errno.ENAMETOOLONG, () -> fs.lookup(ROOT, ROOT_ID, b("x".repeat(256))));
        secretUntouched();
    }

    @Test
    void symlinkToTheSecretIsOnlyASymlink() throws Exception {
        Entry esc = fs.symlink(ROOT, b("../secret"), ROOT_ID, b("esc"));
        Entry viaLookup = lookup("esc");
        assertEquals(esc.nodeId(), viaLookup.nodeId());
        assertEquals(Stat.S_IFLNK, viaLookup.attr().mode() & Stat.S_IFMT);
        assertNotEquals(secretIno, viaLookup.attr().ino());
        assertEquals("../secret".length(), viaLookup.attr().size(), "the link's own size, not the secret's");
        assertArrayEquals(b("../secret"), fs.readlink(ROOT, esc.nodeId()), "READLINK just tells the target");
        long n = esc.nodeId();
        fails(Errno.ELOOP, () -> fs.open(ROOT, n, O_RDONLY));
        fails(Errno.ELOOP, () -> fs.open(ROOT, n, O_RDWR | O_TRUNC));
        fails(Errno.ENOTDIR, () -> fs.opendir(ROOT, n, 0));
        fails(Errno.ENOTDIR, () -> fs.lookup(ROOT, n, b("anything")));
        fails(Errno.ENOTDIR, () -> fs.mkdir(ROOT, n, b("x"), 0755, 0));
        fails(Errno.EINVAL, () -> fs.setattr(ROOT, n, new SetAttr(SetAttr.SIZE, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        fails(Errno.EOPNOTSUPP, () -> fs.setattr(ROOT, n, new SetAttr(SetAttr.MODE, 0, 0, 0, 0, 0, 0, 0777, 0, 0)));
        fs.setattr(ROOT, n, new SetAttr(SetAttr.MTIME | SetAttr.UID, 0, 0, 0, 0, 5, 0, 0, 4242, 0));
        assertEquals(
                4242, Files.getAttribute(share.resolve("esc"), "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
        fails(Errno.ENODATA, () -> fs.getxattr(ROOT, n, b("user.secret")));
        assertArrayEquals(new byte[0], fs.listxattr(ROOT, n), "the link's xattrs, not the secret's");
        fails(Errno.EPERM, () -> fs.setxattr(ROOT, n, b("user.x"), b("1"), 0));
        fails(Errno.EPERM, () -> fs.removexattr(ROOT, n, b("user.secret")));
        Entry hard = fs.link(ROOT, n, ROOT_ID, b("esc2"));
        assertEquals(n, hard.nodeId(), "LINK of the symlink links the symlink");
        assertTrue(Files.isSymbolicLink(share.resolve("esc2")));
        secretUntouched();
    }

    @Test
    void createAndMknodThroughADanglingSymlinkCreateNothingOutside() throws Exception {
        fs.symlink(ROOT, b("../planted"), ROOT_ID, b("dangling"));
        fails(Errno.ELOOP, () -> fs.create(ROOT, ROOT_ID, b("dangling"), 0644, O_WRONLY, 0));
        fails(Errno.EEXIST, () -> fs.create(ROOT, ROOT_ID, b("dangling"), 0644, O_WRONLY | O_EXCL, 0));
        fails(Errno.EEXIST, () -> fs.mknod(ROOT, ROOT_ID, b("dangling"), Stat.S_IFREG | 0644, 0, 0));
        fails(Errno.EEXIST, () -> fs.mkdir(ROOT, ROOT_ID, b("dangling"), 0755, 0));
        fs.symlink(ROOT, b("../secret"), ROOT_ID, b("tosecret"));
        fails(Errno.ELOOP, () -> fs.create(ROOT, ROOT_ID, b("tosecret"), 0644, O_WRONLY | O_TRUNC, 0));
        assertFalse(Files.exists(tmp.resolve("planted")));
        secretUntouched();
    }

    @Test
    void symlinkToTheHostRootLeadsNowhere() throws Exception {
        Entry root = fs.symlink(ROOT, b("/"), ROOT_ID, b("hostroot"));
        fails(Errno.ENOTDIR, () -> fs.lookup(ROOT, root.nodeId(), b("etc")));
        fails(Errno.ENOTDIR, () -> fs.opendir(ROOT, root.nodeId(), 0));
        fails(Errno.ENOTDIR, () -> fs.create(ROOT, root.nodeId(), b("x"), 0644, O_WRONLY, 0));
        fails(Errno.ENOTDIR, () -> fs.rename(ROOT, root.nodeId(), b("etc"), ROOT_ID, b("stolen"), 0));
        // A symlink to the outside put there by the host is no different.
        Files.createSymbolicLink(share.resolve("outdir"), tmp);
        long outdir = lookup("outdir").nodeId();
        fails(Errno.ENOTDIR, () -> fs.lookup(ROOT, outdir, b("secret")));
        fails(Errno.ENOTDIR, () -> fs.unlink(ROOT, outdir, b("secret")));
        fails(Errno.ENOTDIR, () -> fs.link(ROOT, outdir, outdir, b("x")));
        secretUntouched();
    }

    @Test
    void newNamesWithSlashesOrDotsAreRefused() throws Exception {
        Files.writeString(share.resolve("f"), "f");
        long f = lookup("f").nodeId();
        fails(Errno.EINVAL, () -> fs.rename(ROOT, ROOT_ID, b("f"), ROOT_ID, b("../x"), 0));
        fails(Errno.EINVAL, () -> fs.rename(ROOT, ROOT_ID, b("../secret"), ROOT_ID, b("mine"), 0));
        fails(Errno.EINVAL, () -> fs.rename(ROOT, ROOT_ID, b("f"), ROOT_ID, b(".."), 0));
        fails(Errno.EINVAL, () -> fs.mkdir(ROOT, ROOT_ID, b("a/b"), 0755, 0));
        fails(Errno.EINVAL, () -> fs.mkdir(ROOT, ROOT_ID, b("../up"), 0755, 0));
        fails(Errno.EINVAL, () -> fs.mknod(ROOT, ROOT_ID, b("a/b"), Stat.S_IFIFO | 0600, 0, 0));
        fails(Errno.EINVAL, () -> fs.mknod(ROOT, ROOT_ID, b("."), Stat.S_IFIFO | 0600, 0, 0));
        fails(Errno.EINVAL, () -> fs.symlink(ROOT, b("x"), ROOT_ID, b("../s")));
        fails(Errno.EINVAL, () -> fs.create(ROOT, ROOT_ID, b("../planted"), 0644, O_WRONLY, 0));
        fails(Errno.EINVAL, () -> fs.link(ROOT, f, ROOT_ID, b("../planted")));
        fails(Errno.EINVAL, () -> fs.unlink(ROOT, ROOT_ID, b("../secret")));
        fails(Errno.EINVAL, () -> fs.rmdir(ROOT, ROOT_ID, b("..")));
        fails(Errno.ENAMETOOLONG, () -> fs.mkdir(ROOT, ROOT_ID, b("y".repeat(300)), 0755, 0));
        fails(Errno.EINVAL, () -> fs.mkdir(ROOT, ROOT_ID, b("nul\0byte"), 0755, 0));
        assertEquals(1, Files.list(share).count());
        secretUntouched();
    }

    @Test
    void aHardLinkToAnOutsideFileCannotBeAskedFor() throws Exception {
        // LINK names its source by node id only, and nothing outside ever gets one: forged ids are unknown.
        for (long forged : new long[] {0, 2, 3, 1000, -1, Long.MAX_VALUE}) {
            fails(Errno.ENOENT, () -> fs.link(ROOT, forged, ROOT_ID, b("stolen")));
        }
        secretUntouched();
    }

    @Test
    void forgedNodeIdsAreUnknown() throws Exception {
        for (long forged : new long[] {0, 2, 77, -1, Long.MAX_VALUE}) {
            fails(Errno.ENOENT, () -> fs.lookup(ROOT, forged, b("secret")));
            fails(Errno.ENOENT, () -> fs.getattr(ROOT, forged, 0, false));
            fails(Errno.ENOENT, () -> fs.open(ROOT, forged, O_RDONLY));
            fails(Errno.ENOENT, () -> fs.opendir(ROOT, forged, 0));
            fails(Errno.ENOENT, () -> fs.readlink(ROOT, forged));
            fails(Errno.ENOENT, () -> fs.mkdir(ROOT, forged, b("x"), 0755, 0));
            fails(Errno.ENOENT, () -> fs.statfs(ROOT, forged));
            fails(Errno.ENOENT, () -> fs.getxattr(ROOT, forged, b("user.secret")));
            fs.forget(forged, 1); // ignored, never fails
        }
        secretUntouched();
    }

    @Test
    void forgedAndMismatchedHandlesAreRefused() throws Exception {
        Files.writeString(share.resolve("a"), "aaa");
        Files.writeString(share.resolve("b"), "bbb");
        long a = lookup("a").nodeId(), b = lookup("b").nodeId();
        long fa = fs.open(ROOT, a, O_RDWR).fh();
        long dir = fs.opendir(ROOT, ROOT_ID, 0).fh();
        fails(Errno.EBADF, () -> fs.read(ROOT, a, fa + 100, 0, 3, new MemorySink(3)));
        fails(Errno.EBADF, () -> fs.read(ROOT, b, fa, 0, 3, new MemorySink(3)));
        fails(Errno.EBADF, () -> fs.write(ROOT, b, fa, 0, new MemorySource(b("x")), 0));
        fails(Errno.EBADF, () -> fs.read(ROOT, ROOT_ID, dir, 0, 3, new MemorySink(3)));
        fails(Errno.EBADF, () -> fs.readdir(ROOT, a, fa, 0, new ListSink(10)));
        fails(Errno.EBADF, () -> fs.readdirplus(ROOT, ROOT_ID, fa, 0, new ListSink(10)));
        fails(
                Errno.EBADF,
                () -> fs.setattr(ROOT, b, new SetAttr(SetAttr.SIZE | SetAttr.FH, fa, 0, 0, 0, 0, 0, 0, 0, 0)));
        fails(Errno.EBADF, () -> fs.copyFileRange(ROOT, a, fa, 0, b, fa, 0, 3, 0));
        fails(Errno.EBADF, () -> fs.flush(ROOT, b, fa, 0));
        fails(Errno.EBADF, () -> fs.release(ROOT, b, fa, 0));
        fails(Errno.EBADF, () -> fs.lseek(ROOT, a, -5, 0, 0));
        fails(Errno.EBADF, () -> fs.fallocate(ROOT, a, dir, 0, 0, 10));
        assertEquals("bbb", Files.readString(share.resolve("b")));
        assertEquals(3, fs.read(ROOT, a, fa, 0, 3, new MemorySink(3)), "the real handle still works");
        secretUntouched();
    }

    @Test
    void readdirplusListsOnlyTheShare() throws Exception {
        Files.createDirectory(share.resolve("d"));
        Files.writeString(share.resolve("d/inner"), "");
        Files.createSymbolicLink(share.resolve("d/up"), Path.of("../../secret"));
        long d = lookup("d").nodeId();
        long dfh = fs.opendir(ROOT, d, 0).fh();
        ListSink sink = new ListSink(100);
        fs.readdirplus(ROOT, d, dfh, 0, sink);
        assertEquals(java.util.Set.of(".", "..", "inner", "up"), java.util.Set.copyOf(sink.names()));
        for (ListSink.Item i : sink.items) {
            if (i.name().equals("..")) assertEquals(0, i.node().nodeId(), "\"..\" gets no node: it may be outside");
            if (i.name().equals("up"))
                assertEquals(Stat.S_IFLNK, i.node().attr().mode() & Stat.S_IFMT);
            assertNotEquals(secretIno, i.node().attr().ino());
        }
        long rootDir = fs.opendir(ROOT, ROOT_ID, 0).fh();
        ListSink top = new ListSink(100);
        fs.readdirplus(ROOT, ROOT_ID, rootDir, 0, top);
        assertEquals(java.util.Set.of(".", "..", "d"), java.util.Set.copyOf(top.names()));
        secretUntouched();
    }
}
