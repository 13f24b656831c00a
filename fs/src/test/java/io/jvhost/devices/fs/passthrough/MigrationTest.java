package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.MigratableFileSystem;
import io.jvhost.nativeio.Errno;
import io.jvhost.state.LoadedState;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Moving a PassthroughFs's guest-visible state to a second instance over the same directory, as
 * a live migration does between two back-end processes: node ids, lookup counts and open
 * handles survive, including files renamed or unlinked while open and a directory handle in the
 * middle of a listing; what cannot be found fails the load (abort) or only that node
 * (guest-error); forged state never reaches outside the share.
 */
class MigrationTest extends FsTestBase {
    private final List<PassthroughFs> others = new ArrayList<>();

    @AfterEach
    void closeOthers() {
        others.forEach(PassthroughFs::close);
    }

    PassthroughFs destination(MigrationConfig mc) throws Exception {
        PassthroughFs d = PassthroughFs.open(share, PassthroughConfig.defaults(), mc);
        others.add(d);
        return d;
    }

    static byte[] save(MigratableFileSystem src) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        src.capture().writeTo(w);
        w.finish();
        return out.toByteArray();
    }

    static MigratableFileSystem.Prepared load(MigratableFileSystem dst, byte[] blob) throws Exception {
        StateReader.Builder b = StateReader.forDevice("virtio-fs");
        dst.registerLoaders(b);
        LoadedState st = b.build().readAll(new ByteArrayInputStream(blob));
        return dst.prepare(st);
    }

    static byte[] read(PassthroughFs f, long node, long fh, int size) throws FsException {
        MemorySink sink = new MemorySink(size);
        f.read(ROOT, node, fh, 0, size, sink);
        return sink.bytes();
    }

    @Test
    void nodesAndOpenHandlesContinueOnTheDestination() throws Exception {
        for (MigrationMode mode : MigrationMode.values()) {
            Path dir = Files.createDirectories(share.resolve(mode.name()));
            Files.writeString(dir.resolve("held.txt"), "before;");
            Files.writeString(dir.resolve("ren.txt"), "ren;");
            Files.writeString(dir.resolve("gone.txt"), "gone;");
            for (int i = 0; i < 50; i++) Files.writeString(dir.resolve("e" + i), "");
            PassthroughFs src = PassthroughFs.open(
                    share, PassthroughConfig.defaults(), new MigrationConfig(mode, MigrationOnError.ABORT));
            others.add(src);
            long d = src.lookup(ROOT, ROOT_ID, b(mode.name())).nodeId();
            Entry held = src.lookup(ROOT, d, b("held.txt"));
            long heldFh = src.open(ROOT, held.nodeId(), O_RDWR | O_APPEND).fh();
            Entry ren = src.lookup(ROOT, d, b("ren.txt"));
            long renFh = src.open(ROOT, ren.nodeId(), O_RDWR).fh();
            src.rename(ROOT, d, b("ren.txt"), ROOT_ID, b("renamed-" + mode.name()), 0);
            Entry gone = src.lookup(ROOT, d, b("gone.txt"));
            long goneFh = src.open(ROOT, gone.nodeId(), O_RDWR).fh();
            src.unlink(ROOT, d, b("gone.txt"));
            long dirFh = src.opendir(ROOT, d, O_RDONLY).fh();
            ListSink first = new ListSink(10);
            src.readdir(ROOT, d, dirFh, 0, first);
            long resumeAt = first.items.getLast().entry().nextOffset();
            FsSnapshot before = src.snapshot();

            byte[] blob = save(src);
            PassthroughFs dst = destination(MigrationConfig.defaults());
            load(dst, blob).commit();

            assertEquals(before.inodes(), dst.snapshot().inodes(), mode + ": same nodes, counts, locations");
            assertEquals(before.handles(), dst.snapshot().handles(), mode + ": same handles");
            dst.write(ROOT, held.nodeId(), heldFh, 0, new MemorySource(b("after")), 0);
            assertEquals("before;after", Files.readString(dir.resolve("held.txt")));
            assertArrayEquals(b("ren;"), read(dst, ren.nodeId(), renFh, 100), "renamed while open");
            dst.write(ROOT, gone.nodeId(), goneFh, 5, new MemorySource(b("still")), 0);
            assertArrayEquals(b("gone;still"), read(dst, gone.nodeId(), goneFh, 100), "unlinked while open");
            ListSink rest = new ListSink(1000);
            dst.readdir(ROOT, d, dirFh, resumeAt, rest);
            List<String> all = new ArrayList<>(first.names());
            all.addAll(rest.names());
            assertEquals(50 + 2 + 1, all.size(), mode + ": the listing goes on where it stopped: " + all);
            assertEquals(before.nextNodeId(), dst.snapshot().nextNodeId());
            long newFh = dst.open(ROOT, held.nodeId(), O_RDONLY).fh();
            assertEquals(before.nextFh(), newFh, "fh numbers continue, never reused");
            dst.forget(held.nodeId(), 1);
            dst.release(ROOT, held.nodeId(), heldFh, 0);
            dst.release(ROOT, held.nodeId(), newFh, 0);
            fails(Errno.ENOENT, () -> dst.getattr(ROOT, held.nodeId(), 0, false));
        }
    }

    @Test
    void aListingOfTheSharedDirectoryItselfContinues() throws Exception {
        for (int i = 0; i < 20; i++) Files.writeString(share.resolve("e" + i), "");
        long rootFh = fs.opendir(ROOT, ROOT_ID, O_RDONLY).fh();
        ListSink first = new ListSink(5);
        fs.readdir(ROOT, ROOT_ID, rootFh, 0, first);
        byte[] blob = save(fs);
        PassthroughFs dst = destination(MigrationConfig.defaults());
        load(dst, blob).commit();
        ListSink rest = new ListSink(1000);
        dst.readdir(ROOT, ROOT_ID, rootFh, first.items.getLast().entry().nextOffset(), rest);
        assertEquals(
                20 + 2, first.names().size() + rest.names().size(), "a handle on the root is a handle like any other");
        dst.releasedir(ROOT, ROOT_ID, rootFh, 0);
    }

    @Test
    void aFailedPrepareChangesNothingAndAbortNamesTheNode() throws Exception {
        PassthroughFs src = PassthroughFs.open(
                share, new PassthroughConfig(CachePolicy.AUTO, true, false), MigrationConfig.defaults());
        others.add(src);
        Files.writeString(share.resolve("a"), "a");
        Files.writeString(share.resolve("b"), "b");
        Entry a = src.lookup(ROOT, ROOT_ID, b("a"));
        Entry bb = src.lookup(ROOT, ROOT_ID, b("b"));
        long fhB = src.open(ROOT, bb.nodeId(), O_RDONLY).fh();
        byte[] blob = save(src);
        Files.delete(share.resolve("a")); // no file handle (disabled) and no path: unfindable

        PassthroughFs dst = destination(MigrationConfig.defaults());
        Entry mine = dst.lookup(ROOT, ROOT_ID, b("b"));
        FsException e = assertThrows(FsException.class, () -> load(dst, blob));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(e.getMessage().contains("node " + a.nodeId()), e.getMessage());
        assertEquals(1, dst.snapshot().inode(mine.nodeId()).lookups(), "the destination's own state is untouched");

        PassthroughFs lenient =
                destination(new MigrationConfig(MigrationMode.FIND_PATHS, MigrationOnError.GUEST_ERROR));
        load(lenient, blob).commit();
        fails(Errno.EIO, () -> lenient.getattr(ROOT, a.nodeId(), 0, false));
        assertArrayEquals(b("b"), read(lenient, bb.nodeId(), fhB, 10), "the rest works");
        lenient.forget(a.nodeId(), 1);
        fails(Errno.ENOENT, () -> lenient.getattr(ROOT, a.nodeId(), 0, false));
    }

    @Test
    void aDifferentFileAtTheSamePathIsNotTakenForTheOriginal() throws Exception {
        Files.writeString(share.resolve("f"), "original");
        // Without file handles: with one, the destination would find the original by handle.
        PassthroughFs src = PassthroughFs.open(
                share, new PassthroughConfig(CachePolicy.AUTO, true, false), MigrationConfig.defaults());
        others.add(src);
        Entry f = src.lookup(ROOT, ROOT_ID, b("f"));
        byte[] blob = save(src);
        Files.delete(share.resolve("f"));
        Files.writeString(share.resolve("f"), "impostor");
        // src still holds the original's O_PATH descriptor, so its inode number is not reused.
        FsException e = assertThrows(FsException.class, () -> load(destination(MigrationConfig.defaults()), blob));
        assertTrue(
                e.getMessage().contains("node " + f.nodeId()) && e.getMessage().contains("inode"), e.getMessage());
    }

    @Test
    void aFileReplacedBehindTheGuestsBackIsFoundByHandle() throws Exception {
        Files.writeString(share.resolve("f"), "original");
        Entry f = fs.lookup(ROOT, ROOT_ID, b("f"));
        long fh = fs.open(ROOT, f.nodeId(), O_RDONLY).fh();
        byte[] blob = save(fs);
        Files.delete(share.resolve("f"));
        Files.writeString(share.resolve("f"), "impostor");
        PassthroughFs dst = destination(MigrationConfig.defaults());
        load(dst, blob).commit();
        assertArrayEquals(
                b("original"), read(dst, f.nodeId(), fh, 100), "the guest's file, not the new one at its path");
    }

    @Test
    void aNodeCarryingAnotherFilesHandleIsRefusedEvenWithItsPathAndInode() throws Exception {
        Files.writeString(share.resolve("a"), "a");
        Files.writeString(share.resolve("b"), "b");
        Entry a = fs.lookup(ROOT, ROOT_ID, b("a"));
        Entry other = fs.lookup(ROOT, ROOT_ID, b("b"));
        FsSnapshot honest = fs.snapshot();
        FsSnapshot.InodeState in = honest.inode(a.nodeId());
        // a's path, inode and type, b's handle: only the handle comparison tells them apart.
        FsSnapshot.InodeState forged = new FsSnapshot.InodeState(
                in.nodeId(),
                1,
                in.dev(),
                in.ino(),
                in.mountId(),
                in.fileType(),
                in.location(),
                honest.inode(other.nodeId()).fileHandle());
        byte[] blob = blob(
                new FsSnapshot(honest.nextNodeId(), 1, 0, List.of(honest.inode(ROOT_ID), forged), List.of()),
                MigrationMode.FIND_PATHS);
        FsException e = assertThrows(FsException.class, () -> load(destination(MigrationConfig.defaults()), blob));
        assertTrue(e.getMessage().contains("its file handle differs"), e.getMessage());
    }

    @Test
    void forgedStateNeverReachesOutsideTheShare() throws Exception {
        Files.writeString(tmp.resolve("secret"), "secret");
        Files.writeString(share.resolve("inside"), "x");
        PassthroughFs outsider = PassthroughFs.open(tmp, PassthroughConfig.defaults(), MigrationConfig.defaults());
        others.add(outsider);
        Entry secret = outsider.lookup(ROOT, ROOT_ID, b("secret"));
        FsSnapshot.InodeState leaked = outsider.snapshot().inode(secret.nodeId());
        FsSnapshot s = fs.snapshot();
        Entry inside = fs.lookup(ROOT, ROOT_ID, b("inside"));
        FsSnapshot honest = fs.snapshot();
        FsSnapshot.InodeState in = honest.inode(inside.nodeId());
        // The node keeps its id and kind but carries the secret's handle and no path.
        FsSnapshot.InodeState forged = new FsSnapshot.InodeState(
                in.nodeId(), 1, leaked.dev(), leaked.ino(), leaked.mountId(), in.fileType(), null, leaked.fileHandle());
        List<FsSnapshot.InodeState> nodes = new ArrayList<>(List.of(honest.inode(ROOT_ID), forged));
        byte[] blob = blob(
                new FsSnapshot(honest.nextNodeId(), honest.nextFh(), 0, nodes, List.of()), MigrationMode.FILE_HANDLES);
        FsException e = assertThrows(FsException.class, () -> load(destination(MigrationConfig.defaults()), blob));
        assertTrue(e.getMessage().contains("outside the shared directory"), e.getMessage());

        // A path through a name that is not one component is refused while parsing.
        FsSnapshot.InodeState dotdot = new FsSnapshot.InodeState(
                in.nodeId(), 1, in.dev(), in.ino(), in.mountId(), in.fileType(), new Location(ROOT_ID, b("..")), null);
        byte[] bad = blob(
                new FsSnapshot(honest.nextNodeId(), 1, 0, List.of(honest.inode(ROOT_ID), dotdot), List.of()),
                MigrationMode.FIND_PATHS);
        assertThrows(java.io.IOException.class, () -> load(destination(MigrationConfig.defaults()), bad));
    }

    @Test
    void inconsistentStructureIsRejected() throws Exception {
        Files.writeString(share.resolve("f"), "f");
        Entry f = fs.lookup(ROOT, ROOT_ID, b("f"));
        FsSnapshot s = fs.snapshot();
        FsSnapshot.InodeState root = s.inode(ROOT_ID), node = s.inode(f.nodeId());
        List<FsSnapshot> bad = List.of(
                new FsSnapshot(s.nextNodeId(), 1, 0, List.of(node), List.of()), // no root
                new FsSnapshot(f.nodeId(), 1, 0, List.of(root, node), List.of()), // id ≥ next
                new FsSnapshot(
                        s.nextNodeId(),
                        5,
                        0,
                        List.of(root, node),
                        List.of(new FsSnapshot.HandleState(3, 99, 0, false))), // unknown node
                new FsSnapshot(
                        s.nextNodeId(),
                        5,
                        0,
                        List.of(root, node),
                        List.of(new FsSnapshot.HandleState(3, f.nodeId(), 0, true))), // wrong kind
                new FsSnapshot(
                        s.nextNodeId(),
                        5,
                        0,
                        List.of(
                                root,
                                new FsSnapshot.InodeState(
                                        node.nodeId(),
                                        1,
                                        node.dev(),
                                        node.ino(),
                                        node.mountId(),
                                        node.fileType(),
                                        new Location(node.nodeId(), b("x")),
                                        null)),
                        List.of())); // parent not a dir
        List<byte[]> blobs = new java.util.ArrayList<>();
        for (FsSnapshot snap : bad) blobs.add(blob(snap, MigrationMode.FIND_PATHS));
        // A node twice: a v3 section cannot hold it (ids ascend), a v2 one from an older source can.
        blobs.add(OlderInodeLayouts.blob(
                new FsSnapshot(s.nextNodeId(), 1, 0, List.of(root, node, node), List.of()),
                2,
                ((Number) Files.getAttribute(share, "unix:dev")).longValue(),
                ((Number) Files.getAttribute(share, "unix:ino")).longValue()));
        for (int i = 0; i < blobs.size(); i++) {
            byte[] blob = blobs.get(i);
            FsException e = assertThrows(
                    FsException.class, () -> load(destination(MigrationConfig.defaults()), blob), "case " + i);
            assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
        }
    }

    private byte[] blob(FsSnapshot snap, MigrationMode mode) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        FsStateCodec.write(
                new SavedFs(
                        snap,
                        mode,
                        ((Number) Files.getAttribute(share, "unix:dev")).longValue(),
                        ((Number) Files.getAttribute(share, "unix:ino")).longValue()),
                w);
        w.finish();
        return out.toByteArray();
    }
}
