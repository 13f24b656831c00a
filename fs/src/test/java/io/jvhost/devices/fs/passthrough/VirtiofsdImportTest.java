package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.MigratableFileSystem;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Location;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import io.jvhost.nativeio.Errno;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * virtiofsd's state (a golden blob virtiofsd 1.13 wrote) restored by jvhost's passthrough file
 * system in a copy of the directory it was taken in: the same node ids and handles work, the
 * error policy and confinement apply, and forged structures are refused before any file opens.
 */
class VirtiofsdImportTest extends FsTestBase {
    private static final String UNICODE = "grüße ☃.txt";
    private VirtiofsdState golden;

    @BeforeEach
    void layout() throws Exception {
        Files.writeString(share.resolve("file.txt"), "file");
        Files.createDirectories(share.resolve("sub"));
        Files.writeString(share.resolve("sub/nested.txt"), "nested");
        for (int i = 0; i < 40; i++) Files.writeString(share.resolve("sub/entry-" + i), "e" + i);
        Files.writeString(share.resolve("sub/moved.txt"), "moved");
        Files.writeString(share.resolve(UNICODE), "unicode");
        Files.writeString(share.resolve("new.txt"), "new");
        Files.writeString(tmp.resolve("secret"), "outside the share");
        try (InputStream in = getClass().getResourceAsStream("virtiofsd/open-files-v2.bin")) {
            golden = VirtiofsdStateCodec.decode(in.readAllBytes());
        }
    }

    private long node(String name) {
        return golden.inodes().stream()
                .filter(n ->
                        n.location() instanceof Location.Path p && p.filename().equals(name))
                .findFirst()
                .orElseThrow()
                .id();
    }

    private long handleOf(long node) {
        return golden.handles().stream()
                .filter(h -> h.inode() == node)
                .findFirst()
                .orElseThrow()
                .id();
    }

    private PassthroughFs destination(MigrationOnError onError) throws Exception {
        return PassthroughFs.open(
                share, PassthroughConfig.defaults(), new MigrationConfig(MigrationMode.FIND_PATHS, onError));
    }

    @Test
    void restoresNodesAndHandlesWithTheSourcesIds() throws Exception {
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            dst.prepare(golden, 123).commit();
            long file = node("file.txt"), nested = node("nested.txt"), moved = node("moved.txt");
            assertEquals("file", new String(read(dst, file, handleOf(file), 100), StandardCharsets.UTF_8));
            assertEquals("nested", new String(read(dst, nested, handleOf(nested), 100), StandardCharsets.UTF_8));
            assertEquals("moved", new String(read(dst, moved, handleOf(moved), 100), StandardCharsets.UTF_8));
            long unicode = node(UNICODE);
            assertEquals("unicode", new String(read(dst, unicode, handleOf(unicode), 100), StandardCharsets.UTF_8));
            assertEquals(file, dst.lookup(ROOT, ROOT_ID, b("file.txt")).nodeId(), "LOOKUP finds the same node");
            long sub = node("sub");
            ListSink list = new ListSink(100);
            dst.readdir(ROOT, sub, handleOf(sub), 0, list);
            assertTrue(list.items.stream().anyMatch(i -> i.name().equals("entry-39")));
            assertEquals(123, dst.snapshot().initFlags());
            assertEquals(golden.nextInode(), dst.snapshot().nextNodeId());
        }
    }

    @Test
    void virtiofsdsHandlesGoOnThroughJvhostsOwnFormat() throws Exception {
        long file = node("file.txt");
        assertEquals(0, handleOf(file), "virtiofsd's first fh is 0");
        try (PassthroughFs hop1 = destination(MigrationOnError.ABORT);
                PassthroughFs hop2 = destination(MigrationOnError.ABORT)) {
            hop1.prepare(golden, 0).commit();
            MigrationTest.load(hop2, MigrationTest.save(hop1)).commit();
            assertEquals("file", new String(read(hop2, file, 0, 100), StandardCharsets.UTF_8));
            assertEquals(
                    io.jvhost.nativeio.Stat.S_IFDIR,
                    hop2.snapshot().inode(node("sub")).fileType(),
                    "the type found on the first hop travels on");
        }
    }

    @Test
    void lookupsAreTheGuestsNotVirtiofsdsOwnReferences() throws Exception {
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            dst.prepare(golden, 0).commit();
            long sub = node("sub");
            // sub's refcount counts each child found by path; the guest looked it up once.
            assertTrue(golden.inodes().stream()
                            .filter(n -> n.id() == sub)
                            .findFirst()
                            .orElseThrow()
                            .refcount()
                    > 20);
            assertEquals(1, dst.snapshot().inode(sub).lookups());
            assertEquals(1, dst.snapshot().inode(node("nested.txt")).lookups());
        }
    }

    @Test
    void aMissingFileAbortsOrAnswersEioByThePolicy() throws Exception {
        Files.delete(share.resolve("sub/nested.txt"));
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            FsException e = assertThrows(FsException.class, () -> dst.prepare(golden, 0));
            assertTrue(e.getMessage().contains("nested.txt"), e.getMessage());
            assertEquals(1, dst.snapshot().inodes().size(), "nothing installed");
        }
        try (PassthroughFs dst = destination(MigrationOnError.GUEST_ERROR)) {
            dst.prepare(golden, 0).commit();
            long nested = node("nested.txt");
            fails(Errno.EIO, () -> dst.getattr(ROOT, nested, 0, false));
            long file = node("file.txt");
            assertEquals("file", new String(read(dst, file, handleOf(file), 100), StandardCharsets.UTF_8));
        }
    }

    @Test
    void lostAndFileHandleInodesFollowThePolicy() throws Exception {
        VirtiofsdState s = with(
                golden,
                n -> n.id() == node("file.txt")
                        ? new VirtiofsdState.Inode(n.id(), n.refcount(), new Location.Invalid(), null)
                        : n.id() == node("nested.txt")
                                ? new VirtiofsdState.Inode(
                                        n.id(),
                                        n.refcount(),
                                        new Location.ByFileHandle(new VirtiofsdState.FileHandle(1, 1, new byte[8])),
                                        null)
                                : n);
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            assertThrows(FsException.class, () -> dst.prepare(s, 0));
        }
        try (PassthroughFs dst = destination(MigrationOnError.GUEST_ERROR)) {
            dst.prepare(s, 0).commit();
            fails(Errno.EIO, () -> dst.getattr(ROOT, node("file.txt"), 0, false));
            fails(Errno.EIO, () -> dst.getattr(ROOT, node("nested.txt"), 0, false));
            long moved = node("moved.txt");
            assertEquals("moved", new String(read(dst, moved, handleOf(moved), 100), StandardCharsets.UTF_8));
        }
    }

    /** virtiofsd's file handle of {@code path} (its --migration-mode=file-handles location). */
    private static Location.ByFileHandle byHandle(java.nio.file.Path path) throws Exception {
        io.jvhost.nativeio.FileHandle h = io.jvhost.nativeio.FileHandles.nameToHandle(
                null, path.toString().getBytes(StandardCharsets.UTF_8), 0);
        return new Location.ByFileHandle(new VirtiofsdState.FileHandle(h.mountId(), h.type(), h.bytes()));
    }

    @Test
    void nodesByFileHandleAreReopenedByTheirHandleInsideTheShareOnly() throws Exception {
        long nested = node("nested.txt"), file = node("file.txt");
        Location.ByFileHandle nestedHandle = byHandle(share.resolve("sub/nested.txt"));
        Location.ByFileHandle outside = byHandle(tmp.resolve("secret"));
        VirtiofsdState s = with(
                golden,
                n -> n.id() == nested
                        ? new VirtiofsdState.Inode(n.id(), n.refcount(), nestedHandle, null)
                        : n.id() == file ? new VirtiofsdState.Inode(n.id(), n.refcount(), outside, null) : n);
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            FsException e = assertThrows(FsException.class, () -> dst.prepare(s, 0), "a handle outside the share");
            assertTrue(e.getMessage().contains("outside the shared directory"), e.getMessage());
        }
        try (PassthroughFs dst = destination(MigrationOnError.GUEST_ERROR)) {
            dst.prepare(s, 0).commit();
            assertEquals(
                    "nested",
                    new String(read(dst, nested, handleOf(nested), 100), StandardCharsets.UTF_8),
                    "reopened by its handle, with virtiofsd's fh");
            fails(Errno.EIO, () -> dst.getattr(ROOT, file, 0, false));
        }
    }

    /** --migration-verify-handles: a path that names another file than the handle beside it fails that node. */
    @Test
    void verifiedHandlesTellAFileReplacedAtItsPath() throws Exception {
        long nested = node("nested.txt"), file = node("file.txt");
        VirtiofsdState.FileHandle nestedHandle =
                byHandle(share.resolve("sub/nested.txt")).handle();
        VirtiofsdState.FileHandle fileHandle =
                byHandle(share.resolve("file.txt")).handle();
        Files.delete(share.resolve("file.txt"));
        Files.writeString(share.resolve("file.txt"), "another file at the same path");
        VirtiofsdState s = with(
                golden,
                n -> n.id() == nested
                        ? new VirtiofsdState.Inode(n.id(), n.refcount(), n.location(), nestedHandle)
                        : n.id() == file
                                ? new VirtiofsdState.Inode(n.id(), n.refcount(), n.location(), fileHandle)
                                : n);
        try (PassthroughFs dst = destination(MigrationOnError.GUEST_ERROR)) {
            dst.prepare(s, 0).commit();
            assertEquals("nested", new String(read(dst, nested, handleOf(nested), 100), StandardCharsets.UTF_8));
            fails(Errno.EIO, () -> dst.getattr(ROOT, file, 0, false));
        }
    }

    @Test
    void aSymlinkPlantedOnTheDestinationIsNotFollowed() throws Exception {
        Files.delete(share.resolve("sub/nested.txt"));
        Files.createSymbolicLink(share.resolve("sub/nested.txt"), tmp.resolve("secret"));
        try (PassthroughFs dst = destination(MigrationOnError.GUEST_ERROR)) {
            dst.prepare(golden, 0).commit();
            long nested = node("nested.txt");
            fails(Errno.EIO, () -> read(dst, nested, handleOf(nested), 100));
        }
    }

    @Test
    void forgedStructuresAreRefusedBeforeOpeningAnything() throws Exception {
        List<VirtiofsdState> forged = new ArrayList<>();
        for (String name : List.of("..", ".", "", "../secret", "a/b", "/etc", "x\0y"))
            forged.add(with(
                    golden,
                    n -> n.id() == node("nested.txt")
                            ? new VirtiofsdState.Inode(n.id(), n.refcount(), new Location.Path(node("sub"), name), null)
                            : n));
        forged.add(with(
                golden,
                n -> n.id() == node("file.txt")
                        ? new VirtiofsdState.Inode(n.id(), n.refcount(), new Location.FullPath("sub/nested.txt"), null)
                        : n));
        forged.add(with(
                golden, n -> n.id() == 1 ? new VirtiofsdState.Inode(1, 2, new Location.Path(1, "x"), null) : n));
        forged.add(with(
                golden,
                n -> n.id() == node("file.txt")
                        ? new VirtiofsdState.Inode(n.id(), n.refcount(), new Location.RootNode(), null)
                        : n));
        forged.add(with(
                golden,
                n -> n.id() == node("file.txt")
                        ? new VirtiofsdState.Inode(n.id(), n.refcount(), new Location.Path(9999, "file.txt"), null)
                        : n));
        forged.add(
                with(golden, n -> n.id() == node("sub") ? new VirtiofsdState.Inode(n.id(), 1, n.location(), null) : n));
        forged.add(with(
                golden,
                n -> n.id() == node("file.txt")
                        ? new VirtiofsdState.Inode(golden.nextInode(), n.refcount(), n.location(), null)
                        : n));
        forged.add(
                with(golden, n -> n.id() == node("file.txt") ? new VirtiofsdState.Inode(1, 1, n.location(), null) : n));
        forged.add(withHandles(golden, h -> new VirtiofsdState.Handle(h.id(), 9999, h.source())));
        forged.add(withHandles(golden, h -> new VirtiofsdState.Handle(golden.nextHandle(), h.inode(), h.source())));
        List<VirtiofsdState.Handle> twice = new ArrayList<>(golden.handles());
        twice.add(golden.handles().getFirst());
        forged.add(new VirtiofsdState(
                golden.version(),
                golden.inodes(),
                golden.nextInode(),
                twice,
                golden.nextHandle(),
                golden.negotiatedOpts(),
                golden.mountPaths()));
        for (VirtiofsdState s : forged) {
            try (PassthroughFs dst = destination(MigrationOnError.GUEST_ERROR)) {
                FsException e = assertThrows(FsException.class, () -> dst.prepare(s, 0), s.toString());
                assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
                assertTrue(e.getMessage().startsWith("inconsistent virtiofsd state"), e.getMessage());
            }
        }
    }

    @Test
    void aParentLoopFailsThePathsInIt() throws Exception {
        long sub = node("sub"), nested = node("nested.txt");
        VirtiofsdState s = with(
                golden,
                n -> n.id() == sub
                        ? new VirtiofsdState.Inode(sub, n.refcount(), new Location.Path(nested, "sub"), null)
                        : n);
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            FsException e = assertThrows(FsException.class, () -> dst.prepare(s, 0));
            assertTrue(e.getMessage().contains("loops"), e.getMessage());
        }
    }

    @Test
    void stateBeforeInitRestoresAnEmptyFileSystem() throws Exception {
        VirtiofsdState empty = new VirtiofsdState(
                VirtiofsdState.Version.V1,
                List.of(),
                2,
                List.of(),
                0,
                new VirtiofsdState.NegotiatedOpts(false, false, false, false),
                List.of());
        try (PassthroughFs dst = destination(MigrationOnError.ABORT)) {
            MigratableFileSystem.Prepared p = dst.prepare(empty, 0);
            p.commit();
            assertEquals(1, dst.snapshot().inodes().size());
        }
    }

    private static byte[] read(PassthroughFs f, long node, long fh, int size) throws FsException {
        return MigrationTest.read(f, node, fh, size);
    }

    private static VirtiofsdState with(VirtiofsdState s, UnaryOperator<VirtiofsdState.Inode> f) {
        return new VirtiofsdState(
                s.version(),
                s.inodes().stream().map(f).toList(),
                s.nextInode(),
                s.handles(),
                s.nextHandle(),
                s.negotiatedOpts(),
                s.mountPaths());
    }

    private static VirtiofsdState withHandles(VirtiofsdState s, UnaryOperator<VirtiofsdState.Handle> f) {
        List<VirtiofsdState.Handle> handles = new ArrayList<>(s.handles());
        handles.set(0, f.apply(handles.getFirst()));
        return new VirtiofsdState(
                s.version(), s.inodes(), s.nextInode(), handles, s.nextHandle(), s.negotiatedOpts(), s.mountPaths());
    }
}
