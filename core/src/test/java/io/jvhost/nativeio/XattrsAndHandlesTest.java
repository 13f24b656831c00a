package io.jvhost.nativeio;

import static io.jvhost.nativeio.FileCalls.bytes;
import static io.jvhost.nativeio.FileCallsTest.fails;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XattrsAndHandlesTest {
    @TempDir
    Path tmp;

    @Test
    void xattrsOnAnOPathDescriptorThroughProcSelfFd() throws Exception {
        Files.writeString(tmp.resolve("f"), "");
        try (Fd p = FileCalls.openat(null, bytes(tmp.resolve("f").toString()), Libc.O_PATH | Libc.O_CLOEXEC, 0)) {
            Xattrs.File inode = Xattrs.File.inode(p);
            Xattrs.set(inode, bytes("user.one"), bytes("1"), Xattrs.XATTR_CREATE);
            Xattrs.set(inode, bytes("user.two"), new byte[0], 0);
            fails(
                    Errno.EEXIST,
                    "setxattr",
                    () -> Xattrs.set(inode, bytes("user.one"), bytes("x"), Xattrs.XATTR_CREATE));
            fails(
                    Errno.ENODATA,
                    "setxattr",
                    () -> Xattrs.set(inode, bytes("user.zzz"), bytes("x"), Xattrs.XATTR_REPLACE));
            assertArrayEquals(bytes("1"), Xattrs.get(inode, bytes("user.one")));
            assertArrayEquals(new byte[0], Xattrs.get(inode, bytes("user.two")));
            assertArrayEquals(bytes("user.one\0user.two\0"), Xattrs.list(inode));
            Xattrs.remove(inode, bytes("user.one"));
            fails(Errno.ENODATA, "getxattr", () -> Xattrs.get(inode, bytes("user.one")));
            fails(Errno.ENODATA, "removexattr", () -> Xattrs.remove(inode, bytes("user.one")));
            fails(Errno.EBADF, "getxattr", () -> Xattrs.get(Xattrs.File.fd(p), bytes("user.two")));
            fails(Errno.EOPNOTSUPP, "setxattr", () -> Xattrs.set(inode, bytes("bogus.ns"), bytes("x"), 0));
        }
        try (Fd rw = FileCalls.openat(null, bytes(tmp.resolve("f").toString()), Libc.O_RDWR | Libc.O_CLOEXEC, 0)) {
            Xattrs.set(Xattrs.File.fd(rw), bytes("user.big"), new byte[3000], 0);
            assertEquals(3000, Xattrs.get(Xattrs.File.fd(rw), bytes("user.big")).length);
            assertArrayEquals(bytes("user.two\0user.big\0"), Xattrs.list(Xattrs.File.fd(rw)));
        }
        Files.createSymbolicLink(tmp.resolve("l"), tmp.resolve("f"));
        Xattrs.File link = Xattrs.File.link(bytes(tmp.resolve("l").toString()));
        assertArrayEquals(new byte[0], Xattrs.list(link), "the symlink itself has no user xattrs");
        fails(Errno.EPERM, "setxattr", () -> Xattrs.set(link, bytes("user.x"), bytes("1"), 0));
        assertArrayEquals(
                bytes("user.two\0user.big\0"),
                Xattrs.list(Xattrs.File.path(bytes(tmp.resolve("l").toString()))));
    }

    @Test
    @SuppressWarnings("try") // closes the file early: a handle to a deleted, closed file is under test
    void fileHandlesSurviveRenameAndReopen() throws Exception {
        Files.writeString(tmp.resolve("f"), "content");
        try (Fd p = FileCalls.openat(null, bytes(tmp.resolve("f").toString()), Libc.O_PATH | Libc.O_CLOEXEC, 0);
                Fd root = FileCalls.openat(
                        null, bytes(tmp.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0)) {
            FileHandle h = FileHandles.of(p);
            assertTrue(h.bytes().length > 0);
            assertEquals(FileCalls.fstat(p).mountId(), h.mountId());
            assertEquals(h, FileHandles.nameToHandle(root, bytes("f"), 0));
            Files.move(tmp.resolve("f"), tmp.resolve("g"));
            try (Fd reopened = FileHandles.open(root, h, Libc.O_RDONLY | Libc.O_CLOEXEC)) {
                assertEquals(FileCalls.fstat(p).ino(), FileCalls.fstat(reopened).ino());
            }
            Files.delete(tmp.resolve("g"));
            p.close();
            fails(Errno.ESTALE, "open_by_handle_at", () -> FileHandles.open(root, h, Libc.O_RDONLY | Libc.O_CLOEXEC));
            try (Fd opath = FileCalls.openPath(root, bytes("."))) {
                fails(Errno.EBADF, "open_by_handle_at", () -> FileHandles.open(opath, h, Libc.O_RDONLY));
            }
            fails(Errno.ENOENT, "name_to_handle_at", () -> FileHandles.nameToHandle(root, bytes("absent"), 0));
        }
    }

    @Test
    void aHandleMatchesByTypeAndBytesWhateverItsMountIdAndIsNeverSharedOut() {
        byte[] b = {1, 2, 3, 4};
        FileHandle h = new FileHandle(7, 1, b);
        assertTrue(h.sameTypeAndBytes(new FileHandle(9, 1, b.clone())), "another process's mount id");
        assertFalse(h.sameTypeAndBytes(new FileHandle(7, 2, b)), "another type");
        assertFalse(h.sameTypeAndBytes(new FileHandle(7, 1, new byte[] {1, 2, 3, 5})), "other bytes");
        assertFalse(h.sameTypeAndBytes(new FileHandle(7, 1, new byte[] {1, 2, 3})), "fewer bytes");
        b[0] = 9;
        h.bytes()[1] = 9;
        assertArrayEquals(new byte[] {1, 2, 3, 4}, h.bytes(), "the record's bytes are its own");
    }

    @Test
    void fsuidIsPerThreadAndDecidesPermissions() throws Exception {
        Path secret = Files.writeString(tmp.resolve("secret"), "s");
        Files.setPosixFilePermissions(secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assumeRoot();
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            int old = FsCredentials.setfsuid(65534);
            try {
                seen.set(assertThrows(
                                NativeException.class,
                                () -> FileCalls.openat(
                                        null, bytes(secret.toString()), Libc.O_RDONLY | Libc.O_CLOEXEC, 0))
                        .errno());
            } finally {
                FsCredentials.setfsuid(old);
            }
        });
        t.join();
        assertEquals(Errno.EACCES, seen.get());
        assertEquals(0, FsCredentials.fsuid(), "the other thread's switch did not touch this one");
        FileCalls.openat(null, bytes(secret.toString()), Libc.O_RDONLY | Libc.O_CLOEXEC, 0)
                .close();
    }

    @Test
    void umaskBecomesPerThreadAfterUnshare() throws Exception {
        int processMask = FsCredentials.umask(022);
        FsCredentials.umask(processMask);
        AtomicReference<Integer> mode = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                FsCredentials.unshareFsAttributes();
                FsCredentials.umask(077);
                FileCalls.mkdirat(null, bytes(tmp.resolve("d").toString()), 0777);
                mode.set(FileCalls.statx(null, bytes(tmp.resolve("d").toString()), 0)
                                .mode()
                        & 0777);
            } catch (NativeException e) {
                throw new AssertionError(e);
            }
        });
        t.join();
        assertEquals(0700, mode.get());
        assertEquals(processMask, FsCredentials.umask(processMask), "the process umask is unchanged");
    }

    static void assumeRoot() {
        org.junit.jupiter.api.Assumptions.assumeTrue(FsCredentials.geteuid() == 0, "needs root to switch fsuid");
    }
}
