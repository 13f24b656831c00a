package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandles;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Stat;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The state a migration will carry: nodes with how to find them again, handles, counters, INIT flags. */
class SnapshotTest extends FsTestBase {

    static Location at(long parent, String name) {
        return new Location(parent, b(name));
    }

    @Test
    void lookupsRecordLocationCountsAndFileHandle() throws Exception {
        Files.createDirectories(share.resolve("d"));
        Files.writeString(share.resolve("d/f"), "x");
        Entry d = lookup("d");
        Entry f = lookup("d/f");
        lookup("d/f");
        FsSnapshot s = fs.snapshot();
        assertEquals(FsSnapshot.InodeState.class, s.inodes().getFirst().getClass());
        assertEquals(ROOT_ID, s.inodes().getFirst().nodeId());
        assertNull(s.inode(ROOT_ID).location());
        FsSnapshot.InodeState fs1 = s.inode(f.nodeId());
        assertEquals(at(d.nodeId(), "f"), fs1.location());
        assertEquals(2, fs1.lookups());
        assertEquals(at(ROOT_ID, "d"), s.inode(d.nodeId()).location());
        assertEquals(Stat.S_IFREG, fs1.fileType());
        assertEquals(f.attr().ino(), fs1.ino());
        assertEquals(f.nodeId() + 1, s.nextNodeId());
        assertNotNull(fs1.fileHandle(), "ext4 gives file handles");
        try (Fd mount = FileCalls.openat(
                        null, FileCalls.bytes(share.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
                Fd again = FileHandles.open(mount, fs1.fileHandle(), Libc.O_PATH | Libc.O_CLOEXEC)) {
            assertEquals(fs1.ino(), FileCalls.fstat(again).ino(), "the recorded handle finds the same file");
            assertEquals(fs1.mountId(), FileCalls.fstat(again).mountId());
        }
    }

    @Test
    void renamesMoveLocationsAndExchangesSwapThem() throws Exception {
        Files.createDirectories(share.resolve("d"));
        Files.createDirectories(share.resolve("e"));
        Files.writeString(share.resolve("d/f"), "f");
        Files.writeString(share.resolve("e/g"), "g");
        long d = lookup("d").nodeId(), e = lookup("e").nodeId();
        long f = lookup("d/f").nodeId(), g = lookup("e/g").nodeId();
        fs.rename(ROOT, d, b("f"), e, b("moved"), 0);
        assertEquals(at(e, "moved"), fs.snapshot().inode(f).location());
        fs.rename(ROOT, e, b("moved"), e, b("g"), FileCalls.RENAME_EXCHANGE);
        assertEquals(at(e, "g"), fs.snapshot().inode(f).location());
        assertEquals(at(e, "moved"), fs.snapshot().inode(g).location());
        fs.rename(ROOT, e, b("g"), e, b("moved"), 0); // f replaces g's name: g is unlinked
        assertEquals(at(e, "moved"), fs.snapshot().inode(f).location());
        assertNull(fs.snapshot().inode(g).location(), "overwritten by the rename");
        assertEquals(1, fs.snapshot().inode(g).lookups(), "still known to the guest");
        fs.rename(ROOT, ROOT_ID, b("e"), d, b("e2"), 0);
        assertEquals(at(d, "e2"), fs.snapshot().inode(e).location());
        assertEquals(at(e, "moved"), fs.snapshot().inode(f).location(), "children keep their directory's node");
    }

    @Test
    void unlinkDropsTheLocationAndForgetDropsTheNode() throws Exception {
        Files.createDirectories(share.resolve("d"));
        Files.writeString(share.resolve("d/f"), "f");
        long d = lookup("d").nodeId(), f = lookup("d/f").nodeId(); // d looked up twice
        assertEquals(2, fs.snapshot().inode(d).lookups());
        fs.forget(d, 2);
        assertNotNull(fs.snapshot().inode(d), "kept while a known child is located in it");
        assertEquals(0, fs.snapshot().inode(d).lookups());
        fs.link(ROOT, f, ROOT_ID, b("other"));
        fs.unlink(ROOT, d, b("f"));
        assertNull(fs.snapshot().inode(f).location(), "its recorded name is gone");
        assertNull(fs.snapshot().inode(d), "nothing holds d any more");
        assertEquals(2, fs.snapshot().inode(f).lookups());
        lookup("other");
        assertEquals(
                at(ROOT_ID, "other"), fs.snapshot().inode(f).location(), "a later lookup records the surviving name");
        fs.unlink(ROOT, ROOT_ID, b("other"));
        fs.forget(f, 3);
        assertNull(fs.snapshot().inode(f));
        assertEquals(1, fs.snapshot().inodes().size());
    }

    @Test
    void handlesCountersAndInitFlags() throws Exception {
        Files.writeString(share.resolve("f"), "f");
        long f = lookup("f").nodeId();
        long fh1 = fs.open(ROOT, f, O_RDWR | O_APPEND).fh();
        long fh2 = fs.opendir(ROOT, ROOT_ID, 0).fh();
        fs.init(PassthroughFs.FUSE_DO_READDIRPLUS | PassthroughFs.FUSE_ASYNC_READ);
        FsSnapshot s = fs.snapshot();
        assertEquals(fh2 + 1, s.nextFh());
        assertEquals(2, s.handles().size());
        FsSnapshot.HandleState h1 = s.handles().get(0);
        assertEquals(fh1, h1.fh());
        assertEquals(f, h1.nodeId());
        assertEquals(O_RDWR | O_APPEND, h1.flags() & (O_RDWR | O_APPEND));
        assertFalse(h1.directory());
        assertTrue(s.handles().get(1).directory());
        assertEquals(PassthroughFs.FUSE_DO_READDIRPLUS | PassthroughFs.FUSE_ASYNC_READ, s.initFlags());
        fs.forget(f, 1);
        assertNotNull(fs.snapshot().inode(f), "an open handle keeps its node");
        fs.release(ROOT, f, fh1, 0);
        assertNull(fs.snapshot().inode(f));
        assertEquals(fh2 + 1, fs.snapshot().nextFh(), "fh numbers are never reused");
    }
}
