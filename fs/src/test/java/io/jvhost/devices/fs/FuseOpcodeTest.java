package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.nativeio.Errno;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every served FUSE opcode through the virtio-fs device, success and error paths. */
class FuseOpcodeTest {
    private static final int ENTRY = OUT_HEADER + 128, ATTR = OUT_HEADER + 104, OPEN_OUT = OUT_HEADER + 16;

    @TempDir
    Path dir;

    private FuseHarness h;
    private MemoryFs fs;

    @BeforeEach
    void start() throws Exception {
        fs = FuseHarness.defaultFs();
        h = FuseHarness.start(dir, fs);
        h.init().ok();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void assertError(int errno, Reply r) {
        assertEquals(-errno, r.error(), "expected -" + errno);
        assertEquals(OUT_HEADER, r.len(), "an error reply is just the out header");
    }

    private long lookup(String name) throws Exception {
        Reply r = h.call(LOOKUP, 1, args().name(name), ENTRY);
        r.ok();
        return nodeId(r);
    }

    private long open(long node, int flags) throws Exception {
        Reply r = h.call(OPEN, node, args().u32(flags).u32(0), OPEN_OUT);
        r.ok();
        return r.body().getLong(0);
    }

    @Test
    void lookupAnswersAnEntryAndCountsIt() throws Exception {
        long id = fs.addFile("hello.txt", utf8("hi"));
        Reply r = h.call(LOOKUP, 1, args().name("hello.txt"), ENTRY);
        r.ok();
        assertEquals(128, r.payload());
        assertEquals(id, nodeId(r));
        assertEquals(7, r.body().getLong(8), "generation");
        assertEquals(1, r.body().getLong(16), "entry_valid seconds");
        assertEquals(500_000_000, r.body().getInt(32), "entry_valid_nsec");
        assertEquals(1000 + id, r.body().getLong(40), "attr.ino");
        assertEquals(2, r.body().getLong(48), "attr.size");
        assertEquals(MemoryFs.S_IFREG | 0644, r.body().getInt(100), "attr.mode");
        assertEquals(4096, r.body().getInt(120), "attr.blksize");
        assertEquals(1, fs.lookups(id));
        assertError(Errno.ENOENT, h.call(LOOKUP, 1, args().name("missing"), ENTRY));
        assertError(Errno.ENOTDIR, h.call(LOOKUP, id, args().name("x"), ENTRY));
    }

    @Test
    void forgetOnTheHiprioQueueHasNoReplyAndGivesCountsBack() throws Exception {
        long id = fs.addFile("f", new byte[0]);
        lookup("f");
        lookup("f");
        assertEquals(2, fs.lookups(id));
        Reply r = h.send(0, request(FORGET, h.nextUnique(), id, args().u64(2).build()), 0);
        assertEquals(0, r.used(), "FORGET has no reply");
        assertEquals(0, fs.lookups(id));
        // Even with room for a reply, none is written.
        lookup("f");
        r = h.send(0, request(FORGET, h.nextUnique(), id, args().u64(1).build()), 64);
        assertEquals(0, r.used());
        assertEquals(0, fs.lookups(id));
    }

    @Test
    void batchForgetForgetsEveryItem() throws Exception {
        long a = fs.addFile("a", new byte[0]), b = fs.addFile("b", new byte[0]);
        lookup("a");
        lookup("b");
        lookup("b");
        byte[] body = args().u32(2).u32(0).u64(a).u64(1).u64(b).u64(2).build();
        assertEquals(
                0, h.send(0, request(BATCH_FORGET, h.nextUnique(), 0, body), 0).used());
        assertEquals(0, fs.lookups(a));
        assertEquals(0, fs.lookups(b));
        // A count larger than the data: nothing is forgotten, and EINVAL where there is room.
        lookup("a");
        body = args().u32(3).u32(0).u64(a).u64(1).build();
        assertEquals(
                0, h.send(0, request(BATCH_FORGET, h.nextUnique(), 0, body), 0).used());
        Reply r = h.send(0, request(BATCH_FORGET, 99, 0, body), 16);
        assertEquals(-Errno.EINVAL, r.error());
        assertEquals(1, fs.lookups(a), "a malformed BATCH_FORGET must not reach the file system");
    }

    @Test
    void getattrWithAndWithoutHandle() throws Exception {
        Reply r = h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR);
        r.ok();
        assertEquals(104, r.payload());
        assertEquals(1, r.body().getLong(0), "attr_valid seconds");
        assertEquals(500_000_000, r.body().getInt(8));
        assertEquals(MemoryFs.S_IFDIR | 0755, r.body().getInt(16 + 60));
        long id = fs.addFile("f", utf8("abc"));
        lookup("f");
        long fh = open(id, 0);
        r = h.call(GETATTR, id, args().u32(1).u32(0).u64(fh), ATTR);
        r.ok();
        assertEquals(3, r.body().getLong(16 + 8), "size");
        assertError(Errno.EBADF, h.call(GETATTR, id, args().u32(1).u32(0).u64(fh + 1000), ATTR));
        assertError(Errno.ENOENT, h.call(GETATTR, 12345, args().u32(0).u32(0).u64(0), ATTR));
    }

    @Test
    void setattrChangesSizeModeAndTimes() throws Exception {
        long id = fs.addFile("f", utf8("abcdef"));
        lookup("f");
        int valid = SetAttrBits.SIZE | SetAttrBits.MODE | SetAttrBits.MTIME;
        byte[] body = args().u32(valid)
                .u32(0)
                .u64(0)
                .u64(3)
                .u64(0)
                .u64(0)
                .u64(1234)
                .u64(0)
                .u32(0)
                .u32(0)
                .u32(0)
                .u32(0600)
                .u32(0)
                .u32(0)
                .u32(0)
                .u32(0)
                .build();
        assertEquals(88, body.length);
        Reply r = h.call(SETATTR, id, body, ATTR);
        r.ok();
        assertEquals(3, r.body().getLong(16 + 8));
        assertEquals(1234, r.body().getLong(16 + 32), "mtime");
        assertEquals(MemoryFs.S_IFREG | 0600, r.body().getInt(16 + 60));
        assertArrayEquals(utf8("abc"), fs.contents(id));
        body[8 + 8] = 1; // size 1 on the root directory
        assertError(Errno.EISDIR, h.call(SETATTR, 1, body, ATTR));
        assertError(Errno.EINVAL, h.call(SETATTR, id, new byte[40], ATTR)); // a truncated fuse_setattr_in
    }

    /** FATTR_* bits (as in SetAttr) for building requests. */
    private static final class SetAttrBits {
        static final int MODE = SetAttr.MODE, SIZE = SetAttr.SIZE, MTIME = SetAttr.MTIME;
    }

    @Test
    void symlinkAndReadlink() throws Exception {
        Reply r = h.call(SYMLINK, 1, args().name("link").name("some/target"), ENTRY);
        r.ok();
        long id = nodeId(r);
        assertEquals(MemoryFs.S_IFLNK | 0777, r.body().getInt(100));
        r = h.call(READLINK, id, new byte[0], OUT_HEADER + 4096);
        r.ok();
        byte[] target = new byte[r.payload()];
        r.body().get(0, target);
        assertEquals("some/target", new String(target, StandardCharsets.UTF_8));
        assertError(Errno.ENAMETOOLONG, h.call(READLINK, id, new byte[0], OUT_HEADER + 4));
        assertError(Errno.EINVAL, h.call(READLINK, 1, new byte[0], OUT_HEADER + 4096));
        assertError(Errno.EEXIST, h.call(SYMLINK, 1, args().name("link").name("x"), ENTRY));
        assertError(Errno.EINVAL, h.call(SYMLINK, 1, args().name("only-one-name"), ENTRY));
    }

    @Test
    void mknodAppliesUmask() throws Exception {
        Reply r = h.call(
                MKNOD,
                1,
                args().u32(MemoryFs.S_IFREG | 0666).u32(0).u32(022).u32(0).name("node"),
                ENTRY);
        r.ok();
        assertEquals(MemoryFs.S_IFREG | 0644, r.body().getInt(100));
        assertTrue(fs.exists(nodeId(r)));
        assertError(
                Errno.EPERM,
                h.call(
                        MKNOD,
                        1,
                        args().u32(0020000 | 0666).u32(0x0501).u32(0).u32(0).name("c"),
                        ENTRY));
    }

    @Test
    void mkdirAndExisting() throws Exception {
        Reply r = h.call(MKDIR, 1, args().u32(0777).u32(027).name("d"), ENTRY);
        r.ok();
        assertEquals(MemoryFs.S_IFDIR | 0750, r.body().getInt(100));
        assertEquals(1, fs.lookups(nodeId(r)));
        assertError(Errno.EEXIST, h.call(MKDIR, 1, args().u32(0777).u32(0).name("d"), ENTRY));
        assertError(Errno.EINVAL, h.call(MKDIR, 1, args().u32(0777).u32(0).bytes(utf8("no-nul")), ENTRY));
    }

    @Test
    void unlinkRemovesFilesNotDirectories() throws Exception {
        fs.addFile("f", new byte[0]);
        h.call(MKDIR, 1, args().u32(0755).u32(0).name("d"), ENTRY).ok();
        h.call(UNLINK, 1, args().name("f"), OUT_HEADER).ok();
        assertError(Errno.ENOENT, h.call(LOOKUP, 1, args().name("f"), ENTRY));
        assertError(Errno.EISDIR, h.call(UNLINK, 1, args().name("d"), OUT_HEADER));
        assertError(Errno.ENOENT, h.call(UNLINK, 1, args().name("f"), OUT_HEADER));
    }

    @Test
    void rmdirOnlyEmptyDirectories() throws Exception {
        long d = nodeId(h.call(MKDIR, 1, args().u32(0755).u32(0).name("d"), ENTRY));
        h.call(MKDIR, d, args().u32(0755).u32(0).name("inner"), ENTRY).ok();
        assertError(Errno.ENOTEMPTY, h.call(RMDIR, 1, args().name("d"), OUT_HEADER));
        h.call(RMDIR, d, args().name("inner"), OUT_HEADER).ok();
        h.call(RMDIR, 1, args().name("d"), OUT_HEADER).ok();
        assertError(Errno.ENOENT, h.call(LOOKUP, 1, args().name("d"), ENTRY));
    }

    @Test
    void renameAndRename2() throws Exception {
        long a = fs.addFile("a", new byte[0]);
        fs.addFile("b", new byte[0]);
        long d = nodeId(h.call(MKDIR, 1, args().u32(0755).u32(0).name("d"), ENTRY));
        h.call(RENAME, 1, args().u64(d).name("a").name("moved"), OUT_HEADER).ok();
        Reply r = h.call(LOOKUP, d, args().name("moved"), ENTRY);
        assertEquals(a, nodeId(r));
        // RENAME2 with RENAME_NOREPLACE onto an existing name
        h.call(RENAME, 1, args().u64(1).name("b").name("c"), OUT_HEADER).ok();
        fs.addFile("b", new byte[0]);
        assertError(
                Errno.EEXIST,
                h.call(RENAME2, 1, args().u64(1).u32(1).u32(0).name("b").name("c"), OUT_HEADER));
        h.call(RENAME2, 1, args().u64(1).u32(2).u32(0).name("b").name("c"), OUT_HEADER)
                .ok(); // EXCHANGE
        assertTrue(fs.calls.contains("rename2:2"), "flags reach the file system: " + fs.calls);
        assertError(Errno.ENOENT, h.call(RENAME, 1, args().u64(1).name("nope").name("x"), OUT_HEADER));
    }

    @Test
    void linkAddsAName() throws Exception {
        long a = fs.addFile("a", new byte[0]);
        Reply r = h.call(LINK, 1, args().u64(a).name("alias"), ENTRY);
        r.ok();
        assertEquals(a, nodeId(r));
        assertEquals(2, r.body().getInt(104), "nlink");
        assertError(Errno.EPERM, h.call(LINK, 1, args().u64(1).name("rootlink"), ENTRY));
    }

    @Test
    void openReadWriteFlushFsyncRelease() throws Exception {
        long id = fs.addFile("f", utf8("0123456789"));
        long fh = open(id, 2);
        Reply r = h.call(OPEN, id, args().u32(0).u32(0), OPEN_OUT);
        assertEquals(2, r.body().getInt(8), "FOPEN_KEEP_CACHE");
        r = h.call(READ, id, args().u64(fh).u64(3).u32(4).u32(0).u64(0).u32(0).u32(0), OUT_HEADER + 4);
        r.ok();
        byte[] got = new byte[r.payload()];
        r.body().get(0, got);
        assertEquals("3456", new String(got, StandardCharsets.UTF_8));
        // Reading past the end answers short; at EOF empty.
        r = h.call(READ, id, args().u64(fh).u64(8).u32(100).u32(0).u64(0).u32(0).u32(0), OUT_HEADER + 100);
        assertEquals(2, r.payload());
        assertEquals(
                0,
                h.call(
                                READ,
                                id,
                                args().u64(fh)
                                        .u64(10)
                                        .u32(100)
                                        .u32(0)
                                        .u64(0)
                                        .u32(0)
                                        .u32(0),
                                OUT_HEADER + 100)
                        .payload());
        r = h.call(
                WRITE,
                id,
                args().u64(fh).u64(10).u32(3).u32(0).u64(0).u32(0).u32(0).bytes(utf8("abc")),
                OUT_HEADER + 8);
        r.ok();
        assertEquals(3, r.body().getInt(0));
        assertArrayEquals(utf8("0123456789abc"), fs.contents(id));
        h.call(FLUSH, id, args().u64(fh).u32(0).u32(0).u64(77), OUT_HEADER).ok();
        assertTrue(fs.calls.contains("flush:77"));
        h.call(FSYNC, id, args().u64(fh).u32(1).u32(0), OUT_HEADER).ok();
        assertTrue(fs.calls.contains("fsync:true"), "FUSE_FSYNC_FDATASYNC is data-only");
        h.call(RELEASE, id, args().u64(fh).u32(0).u32(0).u64(0), OUT_HEADER).ok();
        assertError(
                Errno.EBADF,
                h.call(
                        READ,
                        id,
                        args().u64(fh).u64(0).u32(1).u32(0).u64(0).u32(0).u32(0),
                        OUT_HEADER + 1));
        assertError(
                Errno.EBADF, h.call(RELEASE, id, args().u64(fh).u32(0).u32(0).u64(0), OUT_HEADER));
        assertError(Errno.EISDIR, h.call(OPEN, 1, args().u32(0).u32(0), OPEN_OUT));
    }

    @Test
    void statfsAnswersKstatfs() throws Exception {
        Reply r = h.call(STATFS, 1, new byte[0], OUT_HEADER + 80);
        r.ok();
        assertEquals(80, r.payload());
        assertEquals(1000, r.body().getLong(0));
        assertEquals(800, r.body().getLong(16));
        assertEquals(4096, r.body().getInt(40));
        assertEquals(255, r.body().getInt(44));
        assertEquals(4096, r.body().getInt(48));
        assertError(Errno.ENOENT, h.call(STATFS, 999, new byte[0], OUT_HEADER + 80));
    }

    @Test
    void xattrsSetGetListRemoveWithSizeQueriesAndErange() throws Exception {
        long id = fs.addFile("f", new byte[0]);
        // SETXATTR_EXT was negotiated: 16-byte fuse_setxattr_in.
        h.call(SETXATTR, id, args().u32(5).u32(0).u32(0).u32(0).name("user.a").bytes(utf8("hello")), OUT_HEADER)
                .ok();
        h.call(SETXATTR, id, args().u32(2).u32(0).u32(0).u32(0).name("user.b").bytes(utf8("xy")), OUT_HEADER)
                .ok();
        assertError(
                Errno.EEXIST,
                h.call(
                        SETXATTR,
                        id,
                        args().u32(1).u32(1).u32(0).u32(0).name("user.a").bytes(utf8("z")),
                        OUT_HEADER));
        assertError(
                Errno.EINVAL,
                h.call(
                        SETXATTR,
                        id,
                        args().u32(50).u32(0).u32(0).u32(0).name("user.c").bytes(utf8("short")),
                        OUT_HEADER));

        Reply r = h.call(GETXATTR, id, args().u32(0).u32(0).name("user.a"), OUT_HEADER + 8);
        r.ok();
        assertEquals(5, r.body().getInt(0), "size query");
        r = h.call(GETXATTR, id, args().u32(64).u32(0).name("user.a"), OUT_HEADER + 64);
        byte[] v = new byte[r.payload()];
        r.body().get(0, v);
        assertEquals("hello", new String(v, StandardCharsets.UTF_8));
        assertError(Errno.ERANGE, h.call(GETXATTR, id, args().u32(3).u32(0).name("user.a"), OUT_HEADER + 3));
        assertError(Errno.ENODATA, h.call(GETXATTR, id, args().u32(0).u32(0).name("user.zz"), OUT_HEADER + 8));

        r = h.call(LISTXATTR, id, args().u32(0).u32(0), OUT_HEADER + 8);
        assertEquals(14, r.body().getInt(0));
        r = h.call(LISTXATTR, id, args().u32(14).u32(0), OUT_HEADER + 14);
        byte[] names = new byte[r.payload()];
        r.body().get(0, names);
        assertEquals("user.a\0user.b\0", new String(names, StandardCharsets.UTF_8));
        assertError(Errno.ERANGE, h.call(LISTXATTR, id, args().u32(13).u32(0), OUT_HEADER + 13));

        h.call(REMOVEXATTR, id, args().name("user.a"), OUT_HEADER).ok();
        assertError(Errno.ENODATA, h.call(REMOVEXATTR, id, args().name("user.a"), OUT_HEADER));
    }

    @Test
    void opendirReaddirFsyncdirReleasedir() throws Exception {
        fs.addFile("b", new byte[0]);
        long a = fs.addFile("a", new byte[0]);
        Reply r = h.call(OPENDIR, 1, args().u32(0).u32(0), OPEN_OUT);
        r.ok();
        long fh = r.body().getLong(0);
        r = h.call(
                READDIR, 1, args().u64(fh).u64(0).u32(4096).u32(0).u64(0).u32(0).u32(0), OUT_HEADER + 4096);
        r.ok();
        List<String[]> entries = dirents(r, false);
        assertEquals(
                List.of(".", "..", "a", "b"), entries.stream().map(e -> e[0]).toList());
        assertEquals("3", entries.get(2)[1], "offset of the next entry");
        assertEquals(1000 + a, r.body().getLong(32 + 32 + 0), "ino of 'a' (third record, 32 bytes each)");
        // Continue from an offset, in a buffer that holds one record.
        r = h.call(
                READDIR, 1, args().u64(fh).u64(3).u32(32).u32(0).u64(0).u32(0).u32(0), OUT_HEADER + 4096);
        assertEquals(List.of("b"), dirents(r, false).stream().map(e -> e[0]).toList());
        h.call(FSYNCDIR, 1, args().u64(fh).u32(0).u32(0), OUT_HEADER).ok();
        assertTrue(fs.calls.contains("fsyncdir:false"));
        h.call(RELEASEDIR, 1, args().u64(fh).u32(0).u32(0).u64(0), OUT_HEADER).ok();
        assertError(
                Errno.EBADF,
                h.call(
                        READDIR,
                        1,
                        args().u64(fh).u64(0).u32(4096).u32(0).u64(0).u32(0).u32(0),
                        OUT_HEADER + 4096));
        assertError(Errno.ENOTDIR, h.call(OPENDIR, a, args().u32(0).u32(0), OPEN_OUT));
    }

    @Test
    void readdirplusCountsLookupsOnlyForEntriesThatFit() throws Exception {
        long a = fs.addFile("a", new byte[0]);
        long b = fs.addFile("b", new byte[0]);
        long fh = h.call(OPENDIR, 1, args().u32(0).u32(0), OPEN_OUT).body().getLong(0);
        // ".", ".." and "a" are 152 bytes each: room for three, not four.
        Reply r = h.call(
                READDIRPLUS,
                1,
                args().u64(fh).u64(0).u32(3 * 152 + 100).u32(0).u64(0).u32(0).u32(0),
                OUT_HEADER + 4096);
        r.ok();
        List<String[]> entries = dirents(r, true);
        assertEquals(List.of(".", "..", "a"), entries.stream().map(e -> e[0]).toList());
        assertEquals("0", entries.get(0)[2], "'.' carries no node (no lookup)");
        assertEquals(Long.toString(a), entries.get(2)[2]);
        assertEquals(1, fs.lookups(a));
        assertEquals(0, fs.lookups(b), "the refused entry's lookup was given back by the file system");
        assertTrue(fs.calls.contains("readdirplus"));
        r = h.call(
                READDIRPLUS,
                1,
                args().u64(fh).u64(3).u32(4096).u32(0).u64(0).u32(0).u32(0),
                OUT_HEADER + 4096);
        assertEquals(List.of("b"), dirents(r, true).stream().map(e -> e[0]).toList());
        assertEquals(1, fs.lookups(b));
    }

    @Test
    void accessChecksTheMask() throws Exception {
        long id = fs.addFile("f", new byte[0]);
        fs.node(id).uid = 1000;
        byte[] asUser = request(ACCESS, 5, id, args().u32(4).u32(0).build());
        asUser[24] = (byte) 0xe8; // uid 1000 in fuse_in_header
        asUser[25] = 0x03;
        Reply r = h.send(1, asUser, OUT_HEADER);
        r.ok(); // owner may read 0644
        asUser = request(ACCESS, 6, id, args().u32(1).u32(0).build());
        asUser[24] = (byte) 0xe8;
        asUser[25] = 0x03;
        assertError(Errno.EACCES, h.send(1, asUser, OUT_HEADER)); // nobody may execute it
        assertTrue(fs.calls.contains("access:1"));
    }

    @Test
    void createAnswersEntryAndHandle() throws Exception {
        Reply r = h.call(CREATE, 1, args().u32(2).u32(0666).u32(022).u32(0).name("new"), ENTRY + 16);
        r.ok();
        assertEquals(128 + 16, r.payload());
        long id = nodeId(r);
        long fh = r.body().getLong(128);
        assertEquals(MemoryFs.S_IFREG | 0644, r.body().getInt(100));
        h.call(
                        WRITE,
                        id,
                        args().u64(fh).u64(0).u32(2).u32(0).u64(0).u32(0).u32(0).bytes(utf8("ok")),
                        OUT_HEADER + 8)
                .ok();
        assertArrayEquals(utf8("ok"), fs.contents(id));
        assertError(
                Errno.EEXIST,
                h.call(CREATE, 1, args().u32(2).u32(0666).u32(0).u32(0).name("new"), ENTRY + 16));
    }

    @Test
    void fallocateExtends() throws Exception {
        long id = fs.addFile("f", utf8("x"));
        long fh = open(id, 2);
        h.call(FALLOCATE, id, args().u64(fh).u64(0).u64(8192).u32(0).u32(0), OUT_HEADER)
                .ok();
        assertEquals(8192, fs.node(id).size);
        assertError(
                Errno.EOPNOTSUPP,
                h.call(FALLOCATE, id, args().u64(fh).u64(0).u64(1).u32(3).u32(0), OUT_HEADER));
    }

    @Test
    void lseekDataAndHole() throws Exception {
        long id = fs.addFile("f", new byte[100]);
        long fh = open(id, 0);
        Reply r = h.call(LSEEK, id, args().u64(fh).u64(10).u32(4).u32(0), OUT_HEADER + 8);
        r.ok();
        assertEquals(100, r.body().getLong(0), "SEEK_HOLE");
        assertEquals(
                10,
                h.call(LSEEK, id, args().u64(fh).u64(10).u32(3).u32(0), OUT_HEADER + 8)
                        .body()
                        .getLong(0));
        assertError(
                Errno.ENXIO, h.call(LSEEK, id, args().u64(fh).u64(200).u32(3).u32(0), OUT_HEADER + 8));
    }

    @Test
    void copyFileRangeCopies() throws Exception {
        long src = fs.addFile("src", utf8("abcdefgh"));
        long dst = fs.addFile("dst", new byte[0]);
        long fhIn = open(src, 0), fhOut = open(dst, 2);
        Reply r = h.call(
                COPY_FILE_RANGE,
                src,
                args().u64(fhIn).u64(2).u64(dst).u64(fhOut).u64(1).u64(4).u64(0),
                OUT_HEADER + 8);
        r.ok();
        assertEquals(4, r.body().getInt(0));
        assertArrayEquals(new byte[] {0, 'c', 'd', 'e', 'f'}, fs.contents(dst));
        assertError(
                Errno.EBADF,
                h.call(
                        COPY_FILE_RANGE,
                        src,
                        args().u64(fhIn).u64(0).u64(dst).u64(999).u64(0).u64(4).u64(0),
                        OUT_HEADER + 8));
        assertError(
                Errno.EINVAL,
                h.call(
                        COPY_FILE_RANGE,
                        src,
                        args().u64(fhIn)
                                .u64(0)
                                .u64(dst)
                                .u64(fhOut)
                                .u64(0)
                                .u64(4)
                                .u64(1),
                        OUT_HEADER + 8));
    }

    @Test
    void syncfsReachesTheFileSystem() throws Exception {
        h.call(SYNCFS, 1, args().u64(0), OUT_HEADER).ok();
        assertTrue(fs.calls.contains("syncfs"));
        fs.failNext = new FsException(Errno.EIO);
        assertError(Errno.EIO, h.call(SYNCFS, 1, args().u64(0), OUT_HEADER));
    }

    @Test
    void destroyEndsTheSessionUntilTheNextInit() throws Exception {
        h.call(DESTROY, 0, new byte[0], OUT_HEADER).ok();
        assertEquals(1, fs.destroys);
        assertTrue(h.device.server().session().isEmpty());
        assertError(Errno.EIO, h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR));
        h.init().ok();
        h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR).ok();
    }

    @Test
    void unsupportedOpcodesAreEnosys() throws Exception {
        for (int op : new int[] {GETLK, SETLK, INTERRUPT, IOCTL, POLL, SETUPMAPPING, TMPFILE, 7, 999, -1}) {
            assertError(Errno.ENOSYS, h.call(op, 1, new byte[32], OUT_HEADER + 64));
        }
        h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR).ok();
    }

    @Test
    void aCrashInsideTheFileSystemIsEioAndServingGoesOn() throws Exception {
        fs.crashNext = new IllegalStateException("bug in the file system (expected by the test)");
        assertError(Errno.EIO, h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR));
        assertEquals(1, h.device.server().unexpectedFailures());
        h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), ATTR).ok();
    }

    @Test
    void aReplyThatCannotFitIsEinvalBeforeTheFileSystemActs() throws Exception {
        long id = fs.addFile("f", new byte[0]);
        int before = fs.calls.size();
        assertError(Errno.EINVAL, h.call(LOOKUP, 1, args().name("f"), ENTRY - 1));
        assertEquals(0, fs.lookups(id), "no lookup may be counted for an entry the guest cannot receive");
        assertError(
                Errno.EINVAL,
                h.call(CREATE, 1, args().u32(2).u32(0644).u32(0).u32(0).name("g"), ENTRY));
        assertEquals(before, fs.calls.size(), "the file system was not called: " + fs.calls);
        assertEquals(
                0,
                h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), 8).used(),
                "no room for an out header: the chain comes back empty");
    }
}
