package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.passthrough.InodeFileHandles;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state-path warm-up a daemon runs once listening: it saves and loads a state of the shared
 * directory's real entries (up to {@link FsDevice#WARM_UP_NODES}) with some of its regular files
 * open (up to {@link FsDevice#WARM_UP_FILES}), so a first migration's load does not reopen nodes
 * or handles with cold code, and it changes nothing: no file, and no descriptor left once its
 * file system is closed.
 */
class WarmUpStatePathTest {
    private static final int O_ACCMODE = 3; // of which O_RDONLY is 0

    @TempDir
    Path share;

    private static List<String> tree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.map(p -> {
                        try {
                            return root.relativize(p) + " "
                                    + Files.getLastModifiedTime(p).toMillis();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .sorted()
                    .toList();
        }
    }

    private PassthroughFs open() throws IOException {
        // One descriptor per node, so the descriptors count the nodes the warm-up holds.
        return PassthroughFs.open(
                share,
                PassthroughConfig.defaults().withInodeFileHandles(InodeFileHandles.NEVER),
                MigrationConfig.defaults());
    }

    @Test
    void savesAndLoadsUpToItsNodesOfTheShareAndChangesNothing() throws Exception {
        for (int d = 0; d < 30; d++) {
            Path dir = Files.createDirectories(share.resolve("d" + d));
            for (int f = 0; f < 50; f++) Files.writeString(dir.resolve("f" + f), "x");
        }
        List<String> before = tree(share);
        int fds = ProcessFds.count();
        PassthroughFs fs = open();
        try (FsDevice device = new FsDevice("warm", 1, new FuseServer(fs))) {
            assertEquals(FsDevice.WARM_UP_ROUNDS, device.warmUpStatePath(() -> false));
            assertEquals(FsDevice.WARM_UP_NODES + 1, fs.snapshot().inodes().size(), "its nodes and the root");
            assertEquals(FsDevice.WARM_UP_FILES, fs.snapshot().handles().size(), "its open files");
            assertTrue(
                    fs.snapshot().handles().stream().noneMatch(h -> h.directory() || (h.flags() & O_ACCMODE) != 0),
                    "regular files, read-only");
            // Each load replaced the nodes and handles by the same ones: only their own descriptors are open.
            assertEquals(
                    FsDevice.WARM_UP_NODES + FsDevice.WARM_UP_FILES,
                    ProcessFds.count() - fds - 1,
                    "descriptors beyond the nodes' and the files'");
        } finally {
            fs.close();
        }
        assertEquals(fds, ProcessFds.count(), "nothing left open");
        assertEquals(before, tree(share), "the share is as it was");
    }

    @Test
    void aSmallShareIsTakenWhole() throws Exception {
        Files.createDirectories(share.resolve("a/b"));
        Files.writeString(share.resolve("a/b/c"), "c");
        Files.writeString(share.resolve("top"), "t");
        try (PassthroughFs fs = open();
                FsDevice device = new FsDevice("warm", 1, new FuseServer(fs))) {
            device.warmUpStatePath(() -> false);
            assertEquals(5, fs.snapshot().inodes().size(), "root, a, a/b, a/b/c, top");
            assertEquals(2, fs.snapshot().handles().size(), "a/b/c and top open, not the directories");
        }
    }

    @Test
    void givesWayToAMigrationTheServedDeviceBegan() throws Exception {
        Files.writeString(share.resolve("f"), "x");
        try (PassthroughFs served = open();
                FsDevice device = new FsDevice("served", 1, new FuseServer(served));
                PassthroughFs fs = open();
                FsDevice warm = new FsDevice("warm", 1, new FuseServer(fs))) {
            assertFalse(device.migrating());
            device.migrationStarting(); // LOG_ALL from the served device's front-end
            assertTrue(device.migrating());
            assertEquals(0, warm.warmUpStatePath(device::migrating), "no round once the migration began");
            device.migrationCancelled();
        }
        try (PassthroughFs served = open();
                FsDevice device = new FsDevice("served", 1, new FuseServer(served));
                PassthroughFs other = open();
                FsDevice source = new FsDevice("source", 1, new FuseServer(other))) {
            // A state arriving to load begins a migration too (a destination gets no LOG_ALL)...
            boolean[] seen = new boolean[1];
            java.io.InputStream empty = new java.io.InputStream() {
                @Override
                public int read() {
                    seen[0] = device.migrating();
                    return -1;
                }
            };
            try {
                device.prepareLoad(empty);
            } catch (IOException | io.jvhost.backend.DeviceException expected) {
                // an empty state is refused
            }
            assertTrue(seen[0], "migrating while the state arrives");
            assertFalse(device.migrating(), "...and a refused one ends it");
            // ...which ends with the commit: a warm-up may run again after it.
            java.io.ByteArrayOutputStream saved = new java.io.ByteArrayOutputStream();
            source.captureState().writeTo(saved);
            var prepared = device.prepareLoad(new java.io.ByteArrayInputStream(saved.toByteArray()));
            assertTrue(device.migrating(), "prepared, not yet committed");
            prepared.commit();
            assertFalse(device.migrating(), "committed");
        }
    }
}
