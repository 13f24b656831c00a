package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Attr;
import io.jvhost.devices.fs.api.Created;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.Opened;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.api.StatFs;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FsCredentials;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class PassthroughFsTest extends FsTestBase {
    static final RequestContext USER = new RequestContext(1000, 1000, 42);

    static void assumeRoot() {
        Assumptions.assumeTrue(FsCredentials.geteuid() == 0, "needs root");
    }

    @Test
    void lookupGivesOneNodeIdPerFileAndCountsEveryAnswer() throws Exception {
        Files.writeString(share.resolve("f"), "x");
        Files.createLink(share.resolve("g"), share.resolve("f"));
        Entry a = fs.lookup(ROOT, ROOT_ID, b("f"));
        Entry again = fs.lookup(ROOT, ROOT_ID, b("f"));
        Entry viaLink = fs.lookup(ROOT, ROOT_ID, b("g"));
        assertEquals(a.nodeId(), again.nodeId());
        assertEquals(a.nodeId(), viaLink.nodeId());
        assertNotEquals(ROOT_ID, a.nodeId());
        assertEquals(
                Files.getAttribute(share.resolve("f"), "unix:ino"), a.attr().ino());
        assertEquals(TimeUnit.SECONDS.toNanos(1), a.entryTimeoutNanos());
        assertEquals(3, fs.snapshot().inode(a.nodeId()).lookups());
        fs.forget(a.nodeId(), 2);
        assertEquals(1, fs.snapshot().inode(a.nodeId()).lookups());
        fs.getattr(ROOT, a.nodeId(), 0, false);
        fs.forget(a.nodeId(), 5);
        assertNull(fs.snapshot().inode(a.nodeId()));
        fails(Errno.ENOENT, () -> fs.getattr(ROOT, a.nodeId(), 0, false));
        assertNotEquals(a.nodeId(), fs.lookup(ROOT, ROOT_ID, b("f")).nodeId(), "node ids are never reused");
        fs.forget(ROOT_ID, 100);
        assertNotNull(fs.snapshot().inode(ROOT_ID), "the root is never dropped");
    }

    @Test
    void lookupErrors() throws Exception {
        Files.writeString(share.resolve("file"), "");
        fails(Errno.ENOENT, () -> fs.lookup(ROOT, ROOT_ID, b("absent")));
        long file = lookup("file").nodeId();
        fails(Errno.ENOTDIR, () -> fs.lookup(ROOT, file, b("x")));
        fails(Errno.ENAMETOOLONG, () -> fs.lookup(ROOT, ROOT_ID, b("n".repeat(256))));
        fails(Errno.ENOENT, () -> fs.lookup(ROOT, ROOT_ID, b("n".repeat(255))));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, new byte[0]));
        fails(Errno.EINVAL, () -> fs.lookup(ROOT, ROOT_ID, b("a\0b")));
        fails(Errno.ENOENT, () -> fs.lookup(ROOT, 999, b("file")));
    }

    @Test
    void aFailedCallsErrorKeepsTheNativeFailureAsItsCause() {
        FsException e = assertThrows(FsException.class, () -> fs.lookup(ROOT, ROOT_ID, b("absent")));
        NativeException cause = assertInstanceOf(NativeException.class, e.getCause(), e::getMessage);
        assertEquals(Errno.ENOENT, cause.errno());
        assertEquals(cause.getMessage(), e.getMessage(), "the message names the call, as before");
    }

    @Test
    void getattrReportsTheHostAttributesWithTheCacheTimeout() throws Exception {
        Path f = Files.writeString(share.resolve("f"), "hello");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Entry e = lookup("f");
        Attr a = fs.getattr(ROOT, e.nodeId(), 0, false).attr();
        assertEquals(5, a.size());
        assertEquals(Stat.S_IFREG | 0640, a.mode());
        assertEquals(1, a.nlink());
        assertEquals(Files.getLastModifiedTime(f).toMillis() / 1000, a.mtime());
        Attr root = fs.getattr(ROOT, ROOT_ID, 0, false).attr();
        assertEquals(Stat.S_IFDIR, root.mode() & Stat.S_IFMT);
        fails(Errno.EBADF, () -> fs.getattr(ROOT, e.nodeId(), 77, true));
    }

    @Test
    void cachePoliciesSetTimeoutsAndOpenFlags() throws Exception {
        Files.writeString(share.resolve("f"), "");
        for (CachePolicy p : CachePolicy.values()) {
            try (PassthroughFs other = PassthroughFs.open(share, new PassthroughConfig(p, true, true))) {
                Entry e = other.lookup(ROOT, ROOT_ID, b("f"));
                assertEquals(p.timeoutNanos(), e.entryTimeoutNanos());
                assertEquals(
                        p.timeoutNanos(),
                        other.getattr(ROOT, e.nodeId(), 0, false).attrTimeoutNanos());
                int flags = other.open(ROOT, e.nodeId(), O_RDONLY).openFlags();
                int dirFlags = other.opendir(ROOT, ROOT_ID, 0).openFlags();
                switch (p) {
                    case NEVER -> assertEquals(Opened.FOPEN_DIRECT_IO, flags);
                    case AUTO -> assertEquals(0, flags);
                    case ALWAYS -> {
                        assertEquals(Opened.FOPEN_KEEP_CACHE, flags);
                        assertTrue((dirFlags & Opened.FOPEN_CACHE_DIR) != 0);
                    }
                    case METADATA -> {
                        assertEquals(Opened.FOPEN_DIRECT_IO, flags, "file data uncached");
                        assertEquals(Opened.FOPEN_CACHE_DIR | Opened.FOPEN_KEEP_CACHE, dirFlags, "listings cached");
                    }
                }
            }
        }
        assertEquals(1000L * 1000 * 1000 * 86400, CachePolicy.ALWAYS.timeoutNanos());
    }

    @Test
    void mkdirMknodSymlinkReadlink() throws Exception {
        Entry d = fs.mkdir(ROOT, ROOT_ID, b("d"), 0777, 022);
        assertEquals(Stat.S_IFDIR | 0755, d.attr().mode(), "the request's umask applies");
        fails(Errno.EEXIST, () -> fs.mkdir(ROOT, ROOT_ID, b("d"), 0755, 0));
        Entry fifo = fs.mknod(ROOT, d.nodeId(), b("fifo"), Stat.S_IFIFO | 0666, 0, 0);
        assertEquals(Stat.S_IFIFO | 0666, fifo.attr().mode());
        Entry chr = fs.mknod(ROOT, d.nodeId(), b("null"), Stat.S_IFCHR | 0600, (1 << 8) | 3, 0);
        assertEquals((1 << 8) | 3, chr.attr().rdev(), "FUSE's device encoding survives the round trip");
        assertEquals(
                Stat.makedev(1, 3),
                FileCalls.statx(
                                null,
                                FileCalls.bytes(share.resolve("d/null").toString()),
                                FileCalls.AT_SYMLINK_NOFOLLOW)
                        .rdev());
        fails(Errno.EEXIST, () -> fs.mknod(ROOT, d.nodeId(), b("fifo"), Stat.S_IFIFO | 0600, 0, 0));
        Entry s = fs.symlink(ROOT, b("some/where"), d.nodeId(), b("s"));
        assertEquals(Stat.S_IFLNK, s.attr().mode() & Stat.S_IFMT);
        assertArrayEquals(b("some/where"), fs.readlink(ROOT, s.nodeId()));
        fails(Errno.EINVAL, () -> fs.readlink(ROOT, d.nodeId()));
        fails(Errno.EEXIST, () -> fs.symlink(ROOT, b("x"), d.nodeId(), b("s")));
        fails(Errno.ENOENT, () -> fs.symlink(ROOT, new byte[0], d.nodeId(), b("t")));
        fails(Errno.ENAMETOOLONG, () -> fs.symlink(ROOT, new byte[4096], d.nodeId(), b("t")));
        fails(Errno.ENOENT, () -> fs.mkdir(ROOT, 12345, b("x"), 0755, 0));
        fails(Errno.ENOTDIR, () -> fs.mkdir(ROOT, fifo.nodeId(), b("x"), 0755, 0));
    }

    @Test
    void creatingCallsRunAsTheCaller() throws Exception {
        assumeRoot();
        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwxrwxrwx"));
        Entry d = fs.mkdir(USER, ROOT_ID, b("mine"), 0700, 0);
        assertEquals(1000, d.attr().uid());
        assertEquals(1000, d.attr().gid());
        Created c = fs.create(USER, d.nodeId(), b("f"), 0644, O_RDWR, 022);
        assertEquals(1000, c.entry().attr().uid());
        assertEquals(1000, fs.symlink(USER, b("t"), d.nodeId(), b("l")).attr().uid());
        assertEquals(0, FsCredentials.fsuid(), "the thread is root again afterwards");

        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwxr-xr-x"));
        fails(Errno.EACCES, () -> fs.mkdir(USER, ROOT_ID, b("denied"), 0755, 0));
        fails(Errno.EACCES, () -> fs.create(USER, ROOT_ID, b("denied"), 0644, O_WRONLY, 0));
        fails(Errno.EACCES, () -> fs.mknod(USER, ROOT_ID, b("denied"), Stat.S_IFIFO | 0600, 0, 0));
        fails(Errno.EACCES, () -> fs.symlink(USER, b("x"), ROOT_ID, b("denied")));
        assertFalse(Files.exists(share.resolve("denied")));
    }

    @Test
    void unlinkAndRmdir() throws Exception {
        Files.createDirectories(share.resolve("d/sub"));
        Files.writeString(share.resolve("f"), "");
        long d = lookup("d").nodeId();
        fails(Errno.ENOTEMPTY, () -> fs.rmdir(ROOT, ROOT_ID, b("d")));
        fails(Errno.EISDIR, () -> fs.unlink(ROOT, ROOT_ID, b("d")));
        fails(Errno.ENOTDIR, () -> fs.rmdir(ROOT, ROOT_ID, b("f")));
        fs.rmdir(ROOT, d, b("sub"));
        fs.rmdir(ROOT, ROOT_ID, b("d"));
        fs.unlink(ROOT, ROOT_ID, b("f"));
        fails(Errno.ENOENT, () -> fs.unlink(ROOT, ROOT_ID, b("f")));
        assertEquals(0, Files.list(share).count());
        fails(Errno.ENOENT, () -> fs.lookup(ROOT, d, b("anything")));
    }

    @Test
    void renameWithFlags() throws Exception {
        Files.writeString(share.resolve("a"), "A");
        Files.writeString(share.resolve("b"), "B");
        Files.createDirectory(share.resolve("d"));
        long d = lookup("d").nodeId();
        fails(Errno.EEXIST, () -> fs.rename(ROOT, ROOT_ID, b("a"), ROOT_ID, b("b"), FileCalls.RENAME_NOREPLACE));
        fs.rename(ROOT, ROOT_ID, b("a"), ROOT_ID, b("b"), FileCalls.RENAME_EXCHANGE);
        assertEquals("B", Files.readString(share.resolve("a")));
        fs.rename(ROOT, ROOT_ID, b("a"), d, b("moved"), 0);
        assertEquals("B", Files.readString(share.resolve("d/moved")));
        fs.rename(ROOT, d, b("moved"), ROOT_ID, b("b"), 0);
        assertEquals("B", Files.readString(share.resolve("b")));
        fails(Errno.ENOENT, () -> fs.rename(ROOT, ROOT_ID, b("a"), ROOT_ID, b("c"), 0));
        fails(Errno.EINVAL, () -> fs.rename(ROOT, ROOT_ID, b("b"), ROOT_ID, b("c"), 8));
        fails(Errno.ENOENT, () -> fs.rename(ROOT, ROOT_ID, b("b"), 4242, b("c"), 0));
        fails(Errno.EINVAL, () -> fs.rename(ROOT, ROOT_ID, b("d"), d, b("inside"), 0));
    }

    @Test
    void linkGivesTheSameNode() throws Exception {
        Files.writeString(share.resolve("f"), "");
        Files.createDirectory(share.resolve("d"));
        Entry f = lookup("f");
        Entry l = fs.link(ROOT, f.nodeId(), ROOT_ID, b("g"));
        assertEquals(f.nodeId(), l.nodeId());
        assertEquals(2, l.attr().nlink());
        assertTrue(Files.isSameFile(share.resolve("f"), share.resolve("g")));
        fails(Errno.EEXIST, () -> fs.link(ROOT, f.nodeId(), ROOT_ID, b("g")));
        fails(Errno.EPERM, () -> fs.link(ROOT, lookup("d").nodeId(), ROOT_ID, b("dirlink")));
        fails(Errno.ENOENT, () -> fs.link(ROOT, 999, ROOT_ID, b("h")));
    }

    @Test
    void openReadWriteFlushRelease() throws Exception {
        Files.writeString(share.resolve("f"), "0123456789");
        long f = lookup("f").nodeId();
        long rw = fs.open(ROOT, f, O_RDWR).fh();
        assertEquals(4, fs.write(ROOT, f, rw, 2, new MemorySource(b("abcd")), 0));
        assertEquals("01abcd6789", new String(readAll(f, rw, 100), StandardCharsets.UTF_8));
        MemorySink small = new MemorySink(3);
        assertEquals(2, fs.read(ROOT, f, rw, 8, 100, small), "short at the end of the file");
        assertArrayEquals(b("89"), small.bytes());
        MemorySink tiny = new MemorySink(3);
        assertEquals(3, fs.read(ROOT, f, rw, 0, 100, tiny), "never more than the buffer holds");
        assertEquals(0, fs.read(ROOT, f, rw, 50, 10, new MemorySink(10)), "EOF");
        fs.flush(ROOT, f, rw, 0);
        fs.release(ROOT, f, rw, 0);
        fails(Errno.EBADF, () -> fs.read(ROOT, f, rw, 0, 1, new MemorySink(1)));
        fails(Errno.EBADF, () -> fs.release(ROOT, f, rw, 0));

        long wo = fs.open(ROOT, f, O_WRONLY | O_TRUNC).fh();
        assertEquals(0, Files.size(share.resolve("f")));
        fails(Errno.EBADF, () -> fs.read(ROOT, f, wo, 0, 1, new MemorySink(1)));
        long app = fs.open(ROOT, f, O_WRONLY | O_APPEND).fh();
        fs.write(ROOT, f, app, 0, new MemorySource(b("one")), 0);
        fs.write(ROOT, f, app, 0, new MemorySource(b("two")), 0);
        assertEquals("onetwo", Files.readString(share.resolve("f")));
        long ro = fs.open(ROOT, f, O_RDONLY).fh();
        fails(Errno.EBADF, () -> fs.write(ROOT, f, ro, 0, new MemorySource(b("x")), 0));
        fails(Errno.EINVAL, () -> fs.read(ROOT, f, ro, -1, 1, new MemorySink(1)));
        assertEquals(3, fs.snapshot().handles().size());
    }

    @Test
    void openRefusesDirectoriesSymlinksAndSpecialFiles() throws Exception {
        Files.createDirectory(share.resolve("d"));
        Files.createSymbolicLink(share.resolve("l"), Path.of("d"));
        FileCalls.mknodat(null, FileCalls.bytes(share.resolve("fifo").toString()), Stat.S_IFIFO | 0666, 0);
        FileCalls.mknodat(
                null, FileCalls.bytes(share.resolve("zero").toString()), Stat.S_IFCHR | 0666, Stat.makedev(1, 5));
        fails(Errno.EISDIR, () -> fs.open(ROOT, lookup("d").nodeId(), O_RDONLY));
        fails(Errno.ELOOP, () -> fs.open(ROOT, lookup("l").nodeId(), O_RDONLY));
        // EBADF, as virtiofsd answers, and as CREATE of an existing special file answers.
        fails(Errno.EBADF, () -> fs.open(ROOT, lookup("fifo").nodeId(), O_RDONLY));
        fails(Errno.EBADF, () -> fs.open(ROOT, lookup("zero").nodeId(), O_RDWR));
        fails(Errno.ENOTDIR, () -> fs.opendir(ROOT, lookup("zero").nodeId(), 0));
        fails(Errno.ENOENT, () -> fs.open(ROOT, 31337, O_RDONLY));
    }

    @Test
    void createHonoursExclusiveAndTruncate() throws Exception {
        Created c = fs.create(ROOT, ROOT_ID, b("new"), 0666, O_RDWR | O_EXCL, 027);
        assertEquals(Stat.S_IFREG | 0640, c.entry().attr().mode());
        assertEquals(c.entry().nodeId(), lookup("new").nodeId());
        fs.write(ROOT, c.entry().nodeId(), c.opened().fh(), 0, new MemorySource(b("data")), 0);
        fails(Errno.EEXIST, () -> fs.create(ROOT, ROOT_ID, b("new"), 0644, O_RDWR | O_EXCL, 0));
        Created again = fs.create(ROOT, ROOT_ID, b("new"), 0644, O_RDWR, 0);
        assertEquals(c.entry().nodeId(), again.entry().nodeId());
        assertEquals(
                "data",
                new String(readAll(again.entry().nodeId(), again.opened().fh(), 10), StandardCharsets.UTF_8));
        fs.create(ROOT, ROOT_ID, b("new"), 0644, O_WRONLY | O_TRUNC, 0);
        assertEquals(0, Files.size(share.resolve("new")));
        Files.createDirectory(share.resolve("dir"));
        fails(Errno.EISDIR, () -> fs.create(ROOT, ROOT_ID, b("dir"), 0644, O_WRONLY, 0));
        fails(Errno.EINVAL, () -> fs.create(ROOT, ROOT_ID, b(".."), 0644, O_WRONLY, 0));
        FsSnapshot.HandleState h = fs.snapshot().handles().getFirst();
        assertEquals(O_RDWR, h.flags() & 3);
        assertEquals(c.entry().nodeId(), h.nodeId());
    }

    @Test
    void setattrModeOwnerSizeTimes() throws Exception {
        Path p = Files.writeString(share.resolve("f"), "0123456789");
        long f = lookup("f").nodeId();
        SetAttr mode = new SetAttr(SetAttr.MODE, 0, 0, 0, 0, 0, 0, 0600, 0, 0);
        assertEquals(Stat.S_IFREG | 0600, fs.setattr(ROOT, f, mode).attr().mode());
        SetAttr owner = new SetAttr(SetAttr.UID | SetAttr.GID, 0, 0, 0, 0, 0, 0, 0, 1234, 4321);
        Attr a = fs.setattr(ROOT, f, owner).attr();
        assertEquals(1234, a.uid());
        assertEquals(4321, a.gid());
        assertEquals(
                4,
                fs.setattr(ROOT, f, new SetAttr(SetAttr.SIZE, 0, 4, 0, 0, 0, 0, 0, 0, 0))
                        .attr()
                        .size());
        long fh = fs.open(ROOT, f, O_RDWR).fh();
        assertEquals(
                2,
                fs.setattr(ROOT, f, new SetAttr(SetAttr.SIZE | SetAttr.FH, fh, 2, 0, 0, 0, 0, 0, 0, 0))
                        .attr()
                        .size());
        assertEquals("01", Files.readString(p));
        SetAttr times = new SetAttr(SetAttr.ATIME | SetAttr.MTIME, 0, 0, 1000, 7, 2000, 9, 0, 0, 0);
        a = fs.setattr(ROOT, f, times).attr();
        assertEquals(1000, a.atime());
        assertEquals(7, a.atimeNsec());
        assertEquals(2000, a.mtime());
        assertEquals(9, a.mtimeNsec());
        long before = System.currentTimeMillis() / 1000 - 5;
        a = fs.setattr(ROOT, f, new SetAttr(SetAttr.MTIME | SetAttr.MTIME_NOW | SetAttr.FH, fh, 0, 0, 0, 0, 0, 0, 0, 0))
                .attr();
        assertTrue(a.mtime() >= before);
        assertEquals(1000, a.atime(), "atime untouched");
        fs.setattr(ROOT, f, new SetAttr(SetAttr.MODE | SetAttr.FH, fh, 0, 0, 0, 0, 0, 0644, 0, 0));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));

        Files.createSymbolicLink(share.resolve("l"), Path.of("f"));
        long l = lookup("l").nodeId();
        fails(Errno.EOPNOTSUPP, () -> fs.setattr(ROOT, l, mode));
        fs.setattr(ROOT, l, new SetAttr(SetAttr.MTIME, 0, 0, 0, 0, 77, 0, 0, 0, 0));
        assertEquals(
                77,
                Files.getLastModifiedTime(share.resolve("l"), LinkOption.NOFOLLOW_LINKS)
                                .toMillis()
                        / 1000);
        assertNotEquals(77, Files.getLastModifiedTime(p).toMillis() / 1000, "the symlink's target is untouched");
        Files.createDirectory(share.resolve("d"));
        fails(
                Errno.EISDIR,
                () -> fs.setattr(ROOT, lookup("d").nodeId(), new SetAttr(SetAttr.SIZE, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        fails(
                Errno.EBADF,
                () -> fs.setattr(ROOT, l, new SetAttr(SetAttr.SIZE | SetAttr.FH, fh, 0, 0, 0, 0, 0, 0, 0, 0)));
        fails(Errno.EINVAL, () -> fs.setattr(ROOT, f, new SetAttr(SetAttr.SIZE, 0, -1, 0, 0, 0, 0, 0, 0, 0)));
    }

    @Test
    void extendedAttributes() throws Exception {
        Files.writeString(share.resolve("f"), "");
        long f = lookup("f").nodeId();
        fs.setxattr(ROOT, f, b("user.k"), b("v"), 0);
        fs.setxattr(ROOT, ROOT_ID, b("user.onroot"), b("r"), 0);
        assertArrayEquals(b("v"), fs.getxattr(ROOT, f, b("user.k")));
        assertArrayEquals(b("user.k\0"), fs.listxattr(ROOT, f));
        fails(Errno.EEXIST, () -> fs.setxattr(ROOT, f, b("user.k"), b("w"), 1));
        fs.removexattr(ROOT, f, b("user.k"));
        fails(Errno.ENODATA, () -> fs.getxattr(ROOT, f, b("user.k")));
        fails(Errno.ENODATA, () -> fs.removexattr(ROOT, f, b("user.k")));
        fails(Errno.ERANGE, () -> fs.getxattr(ROOT, f, b("user." + "x".repeat(300))));
        fails(Errno.EINVAL, () -> fs.getxattr(ROOT, f, new byte[0]));
        fails(Errno.E2BIG, () -> fs.setxattr(ROOT, f, b("user.big"), new byte[70_000], 0));
        assertArrayEquals(b("r"), fs.getxattr(ROOT, ROOT_ID, b("user.onroot")));
        try (PassthroughFs noXattr = PassthroughFs.open(share, new PassthroughConfig(CachePolicy.AUTO, false, false))) {
            fails(Errno.ENOSYS, () -> noXattr.getxattr(ROOT, ROOT_ID, b("user.onroot")));
            fails(Errno.ENOSYS, () -> noXattr.listxattr(ROOT, ROOT_ID));
        }
    }

    @Test
    void accessFromModeBits() throws Exception {
        Path p = Files.writeString(share.resolve("f"), "");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r-----"));
        long f = lookup("f").nodeId();
        fs.access(ROOT, f, 0);
        fs.access(ROOT, f, 4 | 2);
        fails(Errno.EACCES, () -> fs.access(ROOT, f, 1));
        fs.access(ROOT, ROOT_ID, 1);
        fs.setattr(ROOT, f, new SetAttr(SetAttr.UID | SetAttr.GID, 0, 0, 0, 0, 0, 0, 0, 1000, 2000));
        fs.access(USER, f, 4 | 2);
        fails(Errno.EACCES, () -> fs.access(USER, f, 1));
        fs.access(new RequestContext(5, 2000, 1), f, 4);
        fails(Errno.EACCES, () -> fs.access(new RequestContext(5, 2000, 1), f, 2));
        fails(Errno.EACCES, () -> fs.access(new RequestContext(5, 5, 1), f, 4));
        fs.access(new RequestContext(5, 5, 1), f, 0);
        fails(Errno.EINVAL, () -> fs.access(ROOT, f, 8));
    }

    @Test
    void statfsSyncAndSpaceCalls() throws Exception {
        StatFs s = fs.statfs(ROOT, ROOT_ID);
        assertEquals(255, s.namelen());
        assertTrue(s.blocks() > 0);
        Created c = fs.create(ROOT, ROOT_ID, b("f"), 0644, O_RDWR, 0);
        long f = c.entry().nodeId(), fh = c.opened().fh();
        fs.fallocate(ROOT, f, fh, 0, 0, 8192);
        assertEquals(8192, Files.size(share.resolve("f")));
        fs.write(ROOT, f, fh, 100_000, new MemorySource(b("data")), 0);
        assertEquals(98_304, fs.lseek(ROOT, f, fh, 8192, 3), "SEEK_DATA finds the written block");
        assertEquals(0, fs.lseek(ROOT, f, fh, 0, 4), "SEEK_HOLE: fallocated space reads as a hole");
        fails(Errno.ENXIO, () -> fs.lseek(ROOT, f, fh, 200_000, 3));
        fails(Errno.EINVAL, () -> fs.fallocate(ROOT, f, fh, 0, 0, 0));
        Created g = fs.create(ROOT, ROOT_ID, b("g"), 0644, O_RDWR, 0);
        assertEquals(
                4,
                fs.copyFileRange(
                        ROOT, f, fh, 100_000, g.entry().nodeId(), g.opened().fh(), 1, 4, 0));
        assertEquals("\0data", Files.readString(share.resolve("g")));
        fails(Errno.EBADF, () -> fs.copyFileRange(ROOT, f, fh, 0, f, 999, 0, 1, 0));
        fs.fsync(ROOT, f, fh, false);
        fs.fsync(ROOT, f, fh, true);
        long dfh = fs.opendir(ROOT, ROOT_ID, 0).fh();
        fs.fsyncdir(ROOT, ROOT_ID, dfh, false);
        fails(Errno.EBADF, () -> fs.fsync(ROOT, ROOT_ID, dfh, false));
        fails(Errno.EBADF, () -> fs.fsyncdir(ROOT, f, fh, false));
        fs.syncfs(ROOT, ROOT_ID);
        fs.syncfs(ROOT, f);
        fails(Errno.ENOENT, () -> fs.statfs(ROOT, 555));
    }

    @Test
    void readdirContinuesFromOffsetsAcrossCalls() throws Exception {
        for (int i = 0; i < 50; i++) Files.writeString(share.resolve("f" + i), "");
        long dfh = fs.opendir(ROOT, ROOT_ID, 0).fh();
        java.util.List<String> seen = new java.util.ArrayList<>();
        long offset = 0;
        int calls = 0;
        while (true) {
            ListSink sink = new ListSink(7);
            fs.readdir(ROOT, ROOT_ID, dfh, offset, sink);
            if (sink.items.isEmpty()) break;
            seen.addAll(sink.names());
            offset = sink.lastOffset();
            calls++;
            assertTrue(sink.items.stream().allMatch(i -> i.node() == null));
        }
        assertEquals(8, calls);
        assertEquals(52, seen.size());
        assertEquals(52, new java.util.HashSet<>(seen).size(), "no entry twice, none skipped");
        assertTrue(seen.containsAll(java.util.List.of(".", "..", "f0", "f49")));
        ListSink again = new ListSink(1000);
        fs.readdir(ROOT, ROOT_ID, dfh, 0, again);
        assertEquals(52, again.items.size(), "offset 0 restarts the listing");
        fs.releasedir(ROOT, ROOT_ID, dfh, 0);
        fails(Errno.EBADF, () -> fs.readdir(ROOT, ROOT_ID, dfh, 0, new ListSink(1)));
        fails(Errno.EBADF, () -> fs.releasedir(ROOT, ROOT_ID, dfh, 0));
    }

    @Test
    void readdirplusCountsLookupsAndUndoesRefusedOnes() throws Exception {
        Files.createDirectory(share.resolve("d"));
        for (String n : new String[] {"a", "b", "c", "e"}) Files.writeString(share.resolve("d/" + n), n);
        long d = lookup("d").nodeId();
        long dfh = fs.opendir(ROOT, d, 0).fh();
        ListSink first = new ListSink(3);
        fs.readdirplus(ROOT, d, dfh, 0, first);
        assertEquals(1, first.refused);
        ListSink rest = new ListSink(100);
        fs.readdirplus(ROOT, d, dfh, first.lastOffset(), rest);
        java.util.List<ListSink.Item> all = new java.util.ArrayList<>(first.items);
        all.addAll(rest.items);
        assertEquals(6, all.size());
        for (ListSink.Item i : all) {
            if (i.name().equals(".") || i.name().equals("..")) {
                assertEquals(0, i.node().nodeId());
            } else {
                assertEquals(1, fs.snapshot().inode(i.node().nodeId()).lookups(), i.name() + " counted exactly once");
                assertEquals(i.entry().ino(), i.node().attr().ino());
                assertEquals(i.name().length(), i.node().attr().size());
            }
        }
        assertEquals(
                1 + 1 + 4, fs.snapshot().inodes().size(), "root, d and the four files; the refused lookup was undone");
        long file = lookup("d/a").nodeId();
        long fh = fs.open(ROOT, file, O_RDONLY).fh();
        fails(Errno.EBADF, () -> fs.readdir(ROOT, file, fh, 0, new ListSink(10)));
        fails(Errno.EBADF, () -> fs.read(ROOT, d, dfh, 0, 10, new MemorySink(10)));
        fails(Errno.EBADF, () -> fs.releasedir(ROOT, file, fh, 0));
        fails(Errno.EBADF, () -> fs.release(ROOT, d, dfh, 0));
    }

    @Test
    void destroyDropsEverythingButTheRoot() throws Exception {
        Files.writeString(share.resolve("f"), "");
        long f = lookup("f").nodeId();
        long fh = fs.open(ROOT, f, O_RDONLY).fh();
        fs.init(0x1234);
        assertEquals(0x1234, fs.snapshot().initFlags());
        fs.destroy();
        FsSnapshot s = fs.snapshot();
        assertEquals(1, s.inodes().size());
        assertEquals(0, s.handles().size());
        assertEquals(0, s.initFlags());
        fails(Errno.ENOENT, () -> fs.getattr(ROOT, f, 0, false));
        fails(Errno.EBADF, () -> fs.read(ROOT, f, fh, 0, 1, new MemorySink(1)));
        assertNotNull(lookup("f"));
    }

    @Test
    void initFlagsOfferNoWritebackNorExport() {
        long flags = fs.supportedInitFlags();
        assertEquals(0, flags & (1L << 16), "writeback cache stays off");
        assertEquals(0, flags & (1L << 4), "no export support: lookups of \"..\" are refused");
        assertNotEquals(0, flags & PassthroughFs.FUSE_DO_READDIRPLUS);
    }
}
