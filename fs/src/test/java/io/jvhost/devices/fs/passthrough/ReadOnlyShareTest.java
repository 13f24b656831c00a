package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.api.Created;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.nativeio.Errno;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * --readonly (virtiofsd's): the guest reads everything it could read, and every change answers
 * EROFS, leaving the shared directory as it was.
 */
class ReadOnlyShareTest extends FsTestBase {
    @Override
    PassthroughConfig config() {
        return new PassthroughConfig(
                CachePolicy.AUTO, true, true, false, InodeFileHandles.PREFER, true, false, false, false, true);
    }

    @Test
    void readsWork() throws Exception {
        Files.writeString(share.resolve("f"), "data");
        Files.createDirectory(share.resolve("d"));
        Entry f = lookup("f");
        long fh = fs.open(ROOT, f.nodeId(), O_RDONLY).fh();
        assertArrayEquals(b("data"), readAll(f.nodeId(), fh, 16));
        fs.release(ROOT, f.nodeId(), fh, 0);
        fs.getattr(ROOT, lookup("d").nodeId(), 0, false);
        fs.access(ROOT, f.nodeId(), 4);
        fs.opendir(ROOT, ROOT_ID, 0);
    }

    @Test
    void everyChangeAnswersErofsAndChangesNothing() throws Exception {
        Files.writeString(share.resolve("f"), "data");
        Files.createDirectory(share.resolve("d"));
        long f = lookup("f").nodeId();
        long d = lookup("d").nodeId();
        List<String> before = listing();
        fails(Errno.EROFS, () -> fs.open(ROOT, f, O_WRONLY));
        fails(Errno.EROFS, () -> fs.open(ROOT, f, O_RDWR));
        fails(Errno.EROFS, () -> fs.open(ROOT, f, O_RDONLY | O_TRUNC));
        fails(Errno.EROFS, () -> fs.create(ROOT, ROOT_ID, b("new"), 0644, O_CREAT | O_WRONLY, 0));
        fails(Errno.EROFS, () -> fs.create(ROOT, ROOT_ID, b("new"), 0644, O_CREAT | O_RDONLY, 0));
        fails(Errno.EROFS, () -> fs.create(ROOT, ROOT_ID, b("f"), 0644, O_CREAT | O_EXCL | O_RDONLY, 0));
        fails(Errno.EROFS, () -> fs.mkdir(ROOT, ROOT_ID, b("e"), 0755, 0));
        fails(Errno.EROFS, () -> fs.mknod(ROOT, ROOT_ID, b("n"), 0100644, 0, 0));
        fails(Errno.EROFS, () -> fs.symlink(ROOT, b("f"), ROOT_ID, b("l")));
        fails(Errno.EROFS, () -> fs.link(ROOT, f, ROOT_ID, b("h")));
        fails(Errno.EROFS, () -> fs.unlink(ROOT, ROOT_ID, b("f")));
        fails(Errno.EROFS, () -> fs.rmdir(ROOT, ROOT_ID, b("d")));
        fails(Errno.EROFS, () -> fs.rename(ROOT, ROOT_ID, b("f"), d, b("f"), 0));
        fails(Errno.EROFS, () -> fs.setattr(ROOT, f, new SetAttr(SetAttr.SIZE, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        fails(Errno.EROFS, () -> fs.setxattr(ROOT, f, b("user.x"), b("1"), 0));
        fails(Errno.EROFS, () -> fs.removexattr(ROOT, f, b("user.x")));
        fails(Errno.EROFS, () -> fs.access(ROOT, f, 2));
        long fh = fs.open(ROOT, f, O_RDONLY).fh();
        fails(Errno.EROFS, () -> fs.fallocate(ROOT, f, fh, 0, 0, 4096));
        fails(Errno.EROFS, () -> fs.copyFileRange(ROOT, f, fh, 0, f, fh, 8, 4, 0));
        assertEquals(before, listing());
        assertEquals("data", Files.readString(share.resolve("f")));
    }

    @Test
    void createOfANameThatExistsOpensItForReading() throws Exception {
        Files.writeString(share.resolve("f"), "data");
        Created c = fs.create(ROOT, ROOT_ID, b("f"), 0644, O_CREAT | O_RDONLY, 0);
        assertArrayEquals(b("data"), readAll(c.entry().nodeId(), c.opened().fh(), 16));
        fails(Errno.EROFS, () -> fs.create(ROOT, ROOT_ID, b("f"), 0644, O_CREAT | O_RDWR, 0));
    }

    /**
     * A read-write source's handle open for writing, loaded by this read-only side: reopening it
     * as saved would write to a read-only share, so it is treated as a file that cannot be
     * reopened: the whole load fails (abort, nothing left open) or that handle alone answers EIO
     * (guest-error), while a read-only handle of the same file reads on.
     */
    @ParameterizedTest
    @EnumSource(MigrationOnError.class)
    void aHandleOpenForWritingOnTheSourceIsOneThisSideCannotReopen(MigrationOnError onError) throws Exception {
        Files.writeString(share.resolve("f"), "data");
        byte[] blob;
        long node, writer, reader;
        try (PassthroughFs src = PassthroughFs.open(share, PassthroughConfig.defaults())) {
            node = src.lookup(ROOT, ROOT_ID, b("f")).nodeId();
            writer = src.open(ROOT, node, O_RDWR).fh();
            reader = src.open(ROOT, node, O_RDONLY).fh();
            blob = MigrationTest.save(src);
        }
        try (PassthroughFs dst =
                PassthroughFs.open(share, config(), new MigrationConfig(MigrationMode.FIND_PATHS, onError))) {
            int fds = openFds();
            if (onError == MigrationOnError.ABORT) {
                FsException e = assertThrows(FsException.class, () -> MigrationTest.load(dst, blob));
                assertEquals(Errno.EIO, e.errno(), e.getMessage());
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
                assertEquals(fds, openFds(), "nothing the load opened stays open");
                assertEquals(1, dst.snapshot().inodes().size(), "nothing was installed");
            } else {
                MigrationTest.load(dst, blob).commit();
                assertArrayEquals(b("data"), MigrationTest.read(dst, node, reader, 16));
                fails(Errno.EIO, () -> MigrationTest.read(dst, node, writer, 16));
            }
        }
        assertEquals("data", Files.readString(share.resolve("f")));
    }

    private static int openFds() throws Exception {
        try (var s = Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    private List<String> listing() throws Exception {
        try (var s = Files.walk(share)) {
            return s.map(p -> share.relativize(p).toString()).sorted().toList();
        }
    }
}
