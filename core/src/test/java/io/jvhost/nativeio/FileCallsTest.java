package io.jvhost.nativeio;

import static io.jvhost.nativeio.FileCalls.bytes;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCallsTest {
    @TempDir
    Path tmp;

    Fd dir;

    @BeforeEach
    void openDir() throws Exception {
        dir = FileCalls.openat(null, bytes(tmp.toString()), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
    }

    @AfterEach
    void closeDir() {
        dir.close();
    }

    static NativeException fails(int errno, String call, org.junit.jupiter.api.function.Executable e) {
        NativeException ex = assertThrows(NativeException.class, e);
        assertEquals(errno, ex.errno(), ex.getMessage());
        assertEquals(call, ex.call());
        return ex;
    }

    @Test
    void openPathDoesNotFollowAndStatSeesTheLinkItself() throws Exception {
        Files.writeString(tmp.resolve("f"), "hello");
        Files.createSymbolicLink(tmp.resolve("l"), Path.of("/etc/hostname"));
        try (Fd f = FileCalls.openPath(dir, bytes("f"));
                Fd l = FileCalls.openPath(dir, bytes("l"))) {
            Stat sf = FileCalls.fstat(f);
            assertTrue(sf.isRegularFile());
            assertEquals(5, sf.size());
            assertEquals(Files.getAttribute(tmp.resolve("f"), "unix:ino"), sf.ino());
            assertTrue(sf.mountId() != 0, "statx reports the mount id on this kernel");
            Stat sl = FileCalls.fstat(l);
            assertTrue(sl.isSymlink());
            assertArrayEquals(bytes("/etc/hostname"), FileCalls.readlinkat(l, new byte[0]));
            assertEquals(sf.dev(), sl.dev());
        }
    }

    @Test
    void openErrors() {
        fails(Errno.ENOENT, "openat", () -> FileCalls.openPath(dir, bytes("absent")));
        fails(Errno.ENOTDIR, "openat", () -> {
            Files.writeString(tmp.resolve("f"), "");
            FileCalls.openat(dir, bytes("f/x"), Libc.O_RDONLY, 0);
        });
        fails(Errno.ELOOP, "openat", () -> {
            Files.createSymbolicLink(tmp.resolve("l"), Path.of("f"));
            FileCalls.openat(dir, bytes("l"), Libc.O_RDONLY | Libc.O_NOFOLLOW, 0);
        });
        assertThrows(IllegalArgumentException.class, () -> FileCalls.openPath(dir, new byte[] {'a', 0, 'b'}));
    }

    @Test
    void statxFollowsOnlyWhenAsked() throws Exception {
        Files.writeString(tmp.resolve("t"), "12345678");
        Files.createSymbolicLink(tmp.resolve("l"), Path.of("t"));
        assertTrue(
                FileCalls.statx(dir, bytes("l"), FileCalls.AT_SYMLINK_NOFOLLOW).isSymlink());
        assertEquals(8, FileCalls.statx(dir, bytes("l"), 0).size());
        fails(Errno.ENOENT, "statx", () -> FileCalls.statx(dir, bytes("nope"), 0));
    }

    @Test
    void createNamesAndTheirErrors() throws Exception {
        FileCalls.mkdirat(dir, bytes("d"), 0750);
        assertTrue(Files.isDirectory(tmp.resolve("d")));
        fails(Errno.EEXIST, "mkdirat", () -> FileCalls.mkdirat(dir, bytes("d"), 0755));
        FileCalls.mknodat(dir, bytes("fifo"), Stat.S_IFIFO | 0600, 0);
        assertEquals(
                Stat.S_IFIFO,
                FileCalls.statx(dir, bytes("fifo"), FileCalls.AT_SYMLINK_NOFOLLOW)
                        .fileType());
        FileCalls.mknodat(dir, bytes("null"), Stat.S_IFCHR | 0600, Stat.makedev(1, 3));
        assertEquals(
                Stat.makedev(1, 3),
                FileCalls.statx(dir, bytes("null"), FileCalls.AT_SYMLINK_NOFOLLOW)
                        .rdev());
        fails(Errno.EEXIST, "mknodat", () -> FileCalls.mknodat(dir, bytes("fifo"), Stat.S_IFIFO | 0600, 0));
        FileCalls.symlinkat(bytes("../outside"), dir, bytes("s"));
        assertEquals(Path.of("../outside"), Files.readSymbolicLink(tmp.resolve("s")));
        fails(Errno.EEXIST, "symlinkat", () -> FileCalls.symlinkat(bytes("x"), dir, bytes("s")));
        fails(Errno.EINVAL, "readlinkat", () -> FileCalls.readlinkat(dir, bytes("d")));
    }

    @Test
    void unlinkRenameAndLink() throws Exception {
        Files.writeString(tmp.resolve("a"), "A");
        Files.writeString(tmp.resolve("b"), "B");
        Files.createDirectory(tmp.resolve("d"));
        Files.writeString(tmp.resolve("d/in"), "");
        fails(
                Errno.EEXIST,
                "renameat2",
                () -> FileCalls.renameat2(dir, bytes("a"), dir, bytes("b"), FileCalls.RENAME_NOREPLACE));
        FileCalls.renameat2(dir, bytes("a"), dir, bytes("b"), FileCalls.RENAME_EXCHANGE);
        assertEquals("B", Files.readString(tmp.resolve("a")));
        assertEquals("A", Files.readString(tmp.resolve("b")));
        FileCalls.renameat2(dir, bytes("a"), dir, bytes("c"), 0);
        assertFalse(Files.exists(tmp.resolve("a")));
        fails(Errno.ENOENT, "renameat2", () -> FileCalls.renameat2(dir, bytes("a"), dir, bytes("x"), 0));

        try (Fd c = FileCalls.openPath(dir, bytes("c"))) {
            FileCalls.linkInode(c, dir, bytes("c2"));
            assertEquals(2, FileCalls.fstat(c).nlink());
            fails(Errno.EEXIST, "linkat", () -> FileCalls.linkInode(c, dir, bytes("b")));
        }
        FileCalls.symlinkat(bytes("/etc/passwd"), dir, bytes("sym"));
        try (Fd s = FileCalls.openPath(dir, bytes("sym"))) {
            // The magic link ends at the symlink: the new name is a second link to the symlink, not to /etc/passwd.
            FileCalls.linkInode(s, dir, bytes("sym2"));
            assertTrue(Files.isSymbolicLink(tmp.resolve("sym2")));
        }

        fails(Errno.ENOTEMPTY, "unlinkat", () -> FileCalls.unlinkat(dir, bytes("d"), FileCalls.AT_REMOVEDIR));
        fails(Errno.EISDIR, "unlinkat", () -> FileCalls.unlinkat(dir, bytes("d"), 0));
        fails(Errno.ENOTDIR, "unlinkat", () -> FileCalls.unlinkat(dir, bytes("c"), FileCalls.AT_REMOVEDIR));
        FileCalls.unlinkat(dir, bytes("d/in"), 0);
        FileCalls.unlinkat(dir, bytes("d"), FileCalls.AT_REMOVEDIR);
        FileCalls.unlinkat(dir, bytes("c2"), 0);
        assertFalse(Files.exists(tmp.resolve("d")));
        fails(Errno.ENOENT, "unlinkat", () -> FileCalls.unlinkat(dir, bytes("c2"), 0));
    }

    @Test
    void attributesThroughProcSelfFdAndEmptyPath() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        try (Fd p = FileCalls.openPath(dir, bytes("f"))) {
            fails(Errno.EBADF, "fchmod", () -> FileCalls.fchmod(p, 0600));
            FileCalls.fchmodat(null, FileCalls.procSelfFd(p), 0640);
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            FileCalls.fchownat(p, new byte[0], 1234, 5678, FileCalls.AT_EMPTY_PATH | FileCalls.AT_SYMLINK_NOFOLLOW);
            assertEquals(1234, FileCalls.fstat(p).uid());
            assertEquals(5678, FileCalls.fstat(p).gid());
            FileCalls.utimensat(null, FileCalls.procSelfFd(p), 1000, 5, 2000, FileCalls.UTIME_OMIT, 0);
            Stat s = FileCalls.fstat(p);
            assertEquals(1000, s.atime());
            assertEquals(5, s.atimeNsec());
            assertNotEquals(2000, s.mtime());
        }
        try (Fd rw = FileCalls.openat(dir, bytes("f"), Libc.O_RDWR | Libc.O_CLOEXEC, 0)) {
            FileCalls.fchmod(rw, 0600);
            FileCalls.utimensat(rw, null, 0, FileCalls.UTIME_OMIT, 3000, 0, 0);
            assertEquals(3000, Files.getLastModifiedTime(f).to(TimeUnit.SECONDS));
        }
        Files.createSymbolicLink(tmp.resolve("l"), f);
        try (Fd l = FileCalls.openPath(dir, bytes("l"))) {
            FileCalls.utimensat(null, FileCalls.procSelfFd(l), 7, 0, 7, 0, 0);
            assertEquals(
                    FileTime.from(7, TimeUnit.SECONDS),
                    Files.getLastModifiedTime(tmp.resolve("l"), LinkOption.NOFOLLOW_LINKS));
            assertEquals(3000, Files.getLastModifiedTime(f).to(TimeUnit.SECONDS), "the target is untouched");
            fails(Errno.EOPNOTSUPP, "fchmodat", () -> FileCalls.fchmodat(null, FileCalls.procSelfFd(l), 0777));
        }
        fails(Errno.ENOENT, "fchownat", () -> FileCalls.fchownat(dir, bytes("gone"), 0, 0, 0));
        fails(Errno.EINVAL, "utimensat", () -> FileCalls.utimensat(dir, bytes("f"), 0, 2_000_000_000L, 0, 0, 0));
    }

    @Test
    void fileIoCalls() throws Exception {
        try (Fd f = FileCalls.openat(dir, bytes("data"), Libc.O_CREAT | Libc.O_RDWR | Libc.O_CLOEXEC, 0600);
                Fd g = FileCalls.openat(dir, bytes("copy"), Libc.O_CREAT | Libc.O_RDWR | Libc.O_CLOEXEC, 0600)) {
            FileIo.fallocate(f, 0, 0, 1 << 20);
            assertEquals(1 << 20, FileCalls.fstat(f).size());
            FileIo.fallocate(f, FileIo.FALLOC_FL_KEEP_SIZE, 0, 2 << 20);
            assertEquals(1 << 20, FileCalls.fstat(f).size());
            long allocated = FileCalls.fstat(f).blocks();
            FileIo.fallocate(f, FileIo.FALLOC_FL_PUNCH_HOLE | FileIo.FALLOC_FL_KEEP_SIZE, 0, 1 << 20);
            assertTrue(FileCalls.fstat(f).blocks() < allocated, "the hole gave blocks back");
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                Libc.pwrite(f, arena.allocate(4096), 4096, 1 << 19);
            }
            assertEquals(1 << 19, FileIo.lseek(f, 0, FileIo.SEEK_DATA));
            assertEquals(0, FileIo.lseek(f, 0, FileIo.SEEK_HOLE));
            assertEquals((1 << 19) + 4096, FileIo.lseek(f, 1 << 19, FileIo.SEEK_HOLE));
            fails(Errno.ENXIO, "lseek", () -> FileIo.lseek(f, 1 << 20, FileIo.SEEK_DATA));
            fails(Errno.EINVAL, "lseek", () -> FileIo.lseek(f, 0, 99));
            fails(Errno.EINVAL, "fallocate", () -> FileIo.fallocate(f, 0, 0, 0));
            byte[] payload = "copy me".getBytes(StandardCharsets.UTF_8);
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                var seg = arena.allocate(payload.length);
                seg.copyFrom(java.lang.foreign.MemorySegment.ofArray(payload));
                Libc.pwrite(f, seg, payload.length, 100);
            }
            assertEquals(payload.length, FileIo.copyFileRange(f, 100, g, 3, payload.length, 0));
            byte[] copied = Files.readAllBytes(tmp.resolve("copy"));
            assertEquals("copy me", new String(copied, 3, payload.length, StandardCharsets.UTF_8));
            fails(Errno.EINVAL, "copy_file_range", () -> FileIo.copyFileRange(f, 0, g, 0, 1, 99));
            FileIo.fsync(f);
            FileIo.fdatasync(f);
            FileIo.syncfs(f);
            FsStats s = FileIo.fstatfs(f);
            assertEquals(255, s.namelen());
            assertTrue(s.blocks() > 0 && s.bsize() > 0);
        }
        try (Fd p = FileCalls.openPath(dir, bytes("data"))) {
            assertTrue(FileIo.fstatfs(p).blocks() > 0, "fstatfs takes O_PATH descriptors");
            fails(Errno.EBADF, "fsync", () -> FileIo.fsync(p));
            fails(Errno.EBADF, "syncfs", () -> FileIo.syncfs(p));
        }
    }

    @Test
    void getdents64ListsEveryNameAndContinuesFromAnOffset() throws Exception {
        for (int i = 0; i < 200; i++) Files.writeString(tmp.resolve("file-with-a-longish-name-" + i), "");
        Files.createDirectory(tmp.resolve("sub"));
        try (Fd d = FileCalls.openat(dir, bytes("."), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0)) {
            var all = new java.util.ArrayList<DirEntry64>();
            for (var batch = DirEntries.read(d, 1024); !batch.isEmpty(); batch = DirEntries.read(d, 1024))
                all.addAll(batch);
            assertEquals(203, all.size());
            assertEquals(2, all.stream().filter(DirEntry64::isDotOrDotDot).count());
            DirEntry64 sub = all.stream()
                    .filter(e -> new String(e.name()).equals("sub"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(DirEntry64.DT_DIR, sub.type());
            assertEquals(Files.getAttribute(tmp.resolve("sub"), "unix:ino"), sub.ino());
            // Seek to the 100th entry's offset: the listing continues with the 101st.
            FileIo.lseek(d, all.get(99).offset(), FileIo.SEEK_SET);
            var rest = DirEntries.read(d, DirEntries.MIN_BUFFER);
            assertArrayEquals(all.get(100).name(), rest.get(0).name());
        }
        try (Fd p = FileCalls.openPath(dir, bytes("."))) {
            fails(Errno.EBADF, "getdents64", () -> DirEntries.read(p, 4096));
        }
        Files.writeString(tmp.resolve("plain"), "");
        try (Fd f = FileCalls.openat(dir, bytes("plain"), Libc.O_RDONLY | Libc.O_CLOEXEC, 0)) {
            fails(Errno.ENOTDIR, "getdents64", () -> DirEntries.read(f, 4096));
        }
    }
}
