package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.ProcessFds;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.FileHandles;
import io.jvhost.nativeio.Stat;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Inodes kept as file handles (--inode-file-handles prefer, the default, and mandatory): no
 * descriptor per inode, the one a request needs closed with it, FORGET dropping the node; the
 * mode falling back (prefer) or failing (mandatory) where the share has no handles; migration
 * both ways; and a handle a hostile blob carries never opening a file outside the share.
 */
class FileHandleInodesTest extends FsTestBase {
    private final List<PassthroughFs> others = new ArrayList<>();

    @AfterEach
    void closeOthers() {
        others.forEach(PassthroughFs::close);
    }

    private PassthroughFs open(InodeFileHandles mode, MigrationConfig mc) throws IOException {
        PassthroughFs f = PassthroughFs.open(share, PassthroughConfig.defaults().withInodeFileHandles(mode), mc);
        others.add(f);
        return f;
    }

    @Test
    void handleInodesHoldNoDescriptorAndForgetDropsThem() throws Exception {
        assertEquals(InodeFileHandles.PREFER, fs.inodeFileHandles());
        Files.createDirectories(share.resolve("d/e"));
        for (int i = 0; i < 200; i++) Files.writeString(share.resolve("d/e/f" + i), "x" + i);
        lookup("d/e/f0");
        int baseline = ProcessFds.count();
        List<Long> nodes = new ArrayList<>();
        long dir = lookup("d/e").nodeId();
        for (int i = 0; i < 200; i++) nodes.add(fs.lookup(ROOT, dir, b("f" + i)).nodeId());
        for (long n : nodes) fs.getattr(ROOT, n, 0, false);
        long fh = fs.open(ROOT, nodes.get(5), O_RDONLY).fh();
        assertEquals(baseline + 1, ProcessFds.count(), "only the open file has a descriptor");
        assertArrayEquals(b("x5"), readAll(nodes.get(5), fh, 10));
        fs.release(ROOT, nodes.get(5), fh, 0);
        assertEquals(baseline, ProcessFds.count());

        int before = fs.snapshot().inodes().size();
        for (long n : nodes) fs.forget(n, n == nodes.getFirst() ? 2 : 1); // f0 was looked up twice
        assertEquals(before - 200, fs.snapshot().inodes().size(), "FORGET drops every node");
        fails(Errno.ENOENT, () -> fs.getattr(ROOT, nodes.get(3), 0, false));
        assertEquals(baseline, ProcessFds.count());
    }

    @Test
    void aFileDeletedOnTheHostIsEnoentAndANewFileWithItsInodeNumberIsANewNode() throws Exception {
        Files.writeString(share.resolve("f"), "old");
        Entry old = lookup("f");
        Files.delete(share.resolve("f"));
        fails(Errno.ENOENT, () -> fs.getattr(ROOT, old.nodeId(), 0, false));
        // Whatever inode number the new file gets (ext4 often reuses the old one), it is a new node.
        Files.writeString(share.resolve("f"), "new");
        Entry fresh = lookup("f");
        assertTrue(fresh.nodeId() != old.nodeId(), "a new node for the new file");
        long fh = fs.open(ROOT, fresh.nodeId(), O_RDONLY).fh();
        assertArrayEquals(b("new"), readAll(fresh.nodeId(), fh, 10));
        fs.release(ROOT, fresh.nodeId(), fh, 0);
    }

    @Test
    void preferFallsBackToDescriptorsWhereTheShareHasNoHandlesAndMandatoryRefusesIt() throws Exception {
        // procfs has no file handles (no export operations).
        Path noHandles = Path.of("/proc/self/net");
        try (PassthroughFs f = PassthroughFs.open(
                noHandles,
                PassthroughConfig.defaults().withInodeFileHandles(InodeFileHandles.PREFER),
                MigrationConfig.defaults())) {
            assertEquals(InodeFileHandles.NEVER, f.inodeFileHandles(), "prefer: O_PATH descriptors after all");
            f.getattr(ROOT, ROOT_ID, 0, false);
        }
        IOException e = assertThrows(
                IOException.class,
                () -> PassthroughFs.open(
                        noHandles,
                        PassthroughConfig.defaults().withInodeFileHandles(InodeFileHandles.MANDATORY),
                        MigrationConfig.defaults()));
        assertTrue(e.getMessage().contains("mandatory"), e.getMessage());
    }

    @Test
    void handleInodesMigrateInBothModes() throws Exception {
        for (MigrationMode mode : MigrationMode.values()) {
            Path dir = Files.createDirectories(share.resolve(mode.name()));
            for (int i = 0; i < 100; i++) Files.writeString(dir.resolve("f" + i), mode + " " + i);
            PassthroughFs src = open(InodeFileHandles.MANDATORY, new MigrationConfig(mode, MigrationOnError.ABORT));
            long d = src.lookup(ROOT, ROOT_ID, b(mode.name())).nodeId();
            List<Long> nodes = new ArrayList<>();
            for (int i = 0; i < 100; i++)
                nodes.add(src.lookup(ROOT, d, b("f" + i)).nodeId());
            long fh = src.open(ROOT, nodes.get(9), O_RDONLY).fh();
            long dfh = src.opendir(ROOT, d, 0).fh();
            byte[] blob = MigrationTest.save(src);
            // Renamed behind the guest's back: found by handle (first, or once its old path fails).
            Files.move(dir.resolve("f1"), dir.resolve("moved"));

            PassthroughFs dst =
                    open(InodeFileHandles.MANDATORY, new MigrationConfig(mode, MigrationOnError.GUEST_ERROR));
            int baseline = ProcessFds.count();
            MigrationTest.load(dst, blob).commit();
            assertEquals(baseline + 2, ProcessFds.count(), "the two open handles, and no descriptor per node");
            assertArrayEquals(b(mode + " 9"), MigrationTest.read(dst, nodes.get(9), fh, 100));
            dst.getattr(ROOT, nodes.get(42), 0, false);
            assertEquals(Stat.S_IFREG, dst.snapshot().inode(nodes.get(42)).fileType());
            dst.getattr(ROOT, nodes.get(1), 0, false);
            dst.releasedir(ROOT, d, dfh, 0);
            dst.release(ROOT, nodes.get(9), fh, 0);
            assertEquals(baseline, ProcessFds.count());
        }
    }

    private byte[] blob(FsSnapshot snap) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        FsStateCodec.write(
                new SavedFs(
                        snap,
                        MigrationMode.FILE_HANDLES,
                        ((Number) Files.getAttribute(share, "unix:dev")).longValue(),
                        ((Number) Files.getAttribute(share, "unix:ino")).longValue()),
                w);
        w.finish();
        return out.toByteArray();
    }

    /** A handle made on the host for a file outside the share, carried by a hostile blob, opens nothing. */
    @Test
    void aHostMadeHandleOfAFileOutsideTheShareIsRefused() throws Exception {
        Files.writeString(tmp.resolve("secret"), "secret");
        Files.writeString(share.resolve("inside"), "x");
        Entry inside = lookup("inside");
        FsSnapshot honest = fs.snapshot();
        FsSnapshot.InodeState in = honest.inode(inside.nodeId());
        for (String outside : List.of("secret", "")) { // a file beside the share, and the share's parent directory
            FileHandle h = FileHandles.nameToHandle(
                    null, FileCalls.bytes(tmp.resolve(outside).toString()), 0);
            Stat st = FileCalls.statx(null, FileCalls.bytes(tmp.resolve(outside).toString()), 0);
            // Everything else the blob says matches the outside file: only confinement can refuse it.
            FsSnapshot.InodeState forged =
                    new FsSnapshot.InodeState(in.nodeId(), 1, st.dev(), st.ino(), st.mountId(), st.fileType(), null, h);
            List<FsSnapshot.HandleState> handles =
                    st.isDirectory() ? List.of() : List.of(new FsSnapshot.HandleState(1, in.nodeId(), O_RDONLY, false));
            byte[] blob =
                    blob(new FsSnapshot(honest.nextNodeId(), 2, 0, List.of(honest.inode(ROOT_ID), forged), handles));
            for (InodeFileHandles mode : InodeFileHandles.values()) {
                PassthroughFs strict =
                        open(mode, new MigrationConfig(MigrationMode.FILE_HANDLES, MigrationOnError.ABORT));
                FsException e = assertThrows(FsException.class, () -> MigrationTest.load(strict, blob));
                assertTrue(e.getMessage().contains("outside the shared directory"), mode + ": " + e.getMessage());

                PassthroughFs lenient =
                        open(mode, new MigrationConfig(MigrationMode.FILE_HANDLES, MigrationOnError.GUEST_ERROR));
                MigrationTest.load(lenient, blob).commit();
                fails(Errno.EIO, () -> lenient.getattr(ROOT, in.nodeId(), 0, false));
                fails(Errno.EIO, () -> lenient.open(ROOT, in.nodeId(), O_RDONLY));
                if (!handles.isEmpty()) {
                    fails(Errno.EIO, () -> lenient.read(ROOT, in.nodeId(), 1, 0, 10, new MemorySink(10)));
                }
            }
        }
    }
}
