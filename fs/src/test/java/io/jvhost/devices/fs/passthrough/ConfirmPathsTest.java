package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.state.LoadedState;
import io.jvhost.state.StateReader;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * --migration-confirm-paths: files renamed, replaced or moved on the host behind the daemon's back
 * between the preparation (or the lookups) and the stop are saved where they are now, or without
 * a path where no directory the guest knows holds them; without the flag the stale names are
 * saved and the destination cannot find (or finds another) file. Inodes are kept as descriptors
 * with no file handle recorded, so a stale path has no handle to fall back on.
 */
class ConfirmPathsTest extends FsTestBase {
    private static final PassthroughConfig PATHS_ONLY =
            new PassthroughConfig(CachePolicy.AUTO, true, false).withInodeFileHandles(InodeFileHandles.NEVER);

    private record Nodes(long dir, long renamed, long replaced, long movedToKnown, long movedToUnknown, long fh) {}

    private PassthroughFs source(boolean confirm) throws Exception {
        return PassthroughFs.open(
                share, PATHS_ONLY, new MigrationConfig(MigrationMode.FIND_PATHS, MigrationOnError.ABORT, confirm));
    }

    /** Looks the files up (and opens one), then (after {@code prepare}, if set) changes them on the host. */
    private Nodes lookUpThenChangeOnTheHost(PassthroughFs src, boolean prepare) throws Exception {
        Path d = Files.createDirectories(share.resolve("d"));
        Files.createDirectories(share.resolve("known"));
        Files.createDirectories(share.resolve("unknown"));
        for (String f : new String[] {"a", "b", "c", "e"}) Files.writeString(d.resolve(f), f + "-data");
        long dir = src.lookup(ROOT, ROOT_ID, b("d")).nodeId();
        src.lookup(ROOT, ROOT_ID, b("known"));
        long a = src.lookup(ROOT, dir, b("a")).nodeId();
        long bb = src.lookup(ROOT, dir, b("b")).nodeId();
        long c = src.lookup(ROOT, dir, b("c")).nodeId();
        long e = src.lookup(ROOT, dir, b("e")).nodeId();
        long fh = src.open(ROOT, a, O_RDONLY).fh();
        if (prepare) src.prepareMigration();
        Files.move(d.resolve("a"), d.resolve("a2")); // renamed
        Files.move(d.resolve("b"), d.resolve("b-old")); // replaced by a new file of the same name
        Files.writeString(d.resolve("b"), "impostor");
        Files.move(d.resolve("c"), share.resolve("known/c")); // into a directory the guest knows
        Files.move(d.resolve("e"), share.resolve("unknown/e")); // into one it never looked up
        return new Nodes(dir, a, bb, c, e, fh);
    }

    private static SavedFs saved(byte[] blob) throws Exception {
        StateReader.Builder r = StateReader.forDevice("virtio-fs");
        PassthroughFs.registerStateSections(r);
        LoadedState st = r.build().readAll(new ByteArrayInputStream(blob));
        return PassthroughFs.savedState(st);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pathsChangedOnTheHostAreSavedWhereTheFilesAreNow(boolean prepared) throws Exception {
        try (PassthroughFs src = source(true)) {
            Nodes n = lookUpThenChangeOnTheHost(src, prepared);
            long known = src.lookup(ROOT, ROOT_ID, b("known")).nodeId();
            byte[] blob = MigrationTest.save(src);
            FsSnapshot s = saved(blob).snapshot();
            assertEquals(new Location(n.dir(), b("a2")), s.inode(n.renamed()).location());
            assertEquals(
                    new Location(n.dir(), b("b-old")), s.inode(n.replaced()).location());
            assertEquals(new Location(known, b("c")), s.inode(n.movedToKnown()).location());
            assertNull(s.inode(n.movedToUnknown()).location(), "no directory the guest knows holds it");
            try (PassthroughFs dst = PassthroughFs.open(
                    share, PATHS_ONLY, new MigrationConfig(MigrationMode.FIND_PATHS, MigrationOnError.GUEST_ERROR))) {
                MigrationTest.load(dst, blob).commit();
                assertArrayEquals(b("a-data"), MigrationTest.read(dst, n.renamed(), n.fh(), 16));
                assertEquals(
                        (long) Files.getAttribute(share.resolve("d/b-old"), "unix:ino"),
                        dst.getattr(ROOT, n.replaced(), 0, false).attr().ino(),
                        "the replaced file's node is the old file, not the impostor");
                assertEquals(
                        (long) Files.getAttribute(share.resolve("known/c"), "unix:ino"),
                        dst.getattr(ROOT, n.movedToKnown(), 0, false).attr().ino());
                fails(Errno.EIO, () -> dst.getattr(ROOT, n.movedToUnknown(), 0, false));
            }
        }
    }

    @Test
    void withoutTheFlagTheStaleNamesAreSavedAndTheLoadFails() throws Exception {
        try (PassthroughFs src = source(false)) {
            Nodes n = lookUpThenChangeOnTheHost(src, true);
            byte[] blob = MigrationTest.save(src);
            assertEquals(
                    new Location(n.dir(), b("a")),
                    saved(blob).snapshot().inode(n.renamed()).location());
            try (PassthroughFs dst = PassthroughFs.open(share, PATHS_ONLY)) {
                FsException e = assertThrows(FsException.class, () -> MigrationTest.load(dst, blob));
                assertEquals(Errno.EIO, e.errno(), e.getMessage());
            }
        }
    }

    @Test
    void onlyTheFindPathsModeConfirmsPaths() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new MigrationConfig(MigrationMode.FILE_HANDLES, MigrationOnError.ABORT, true));
    }
}
