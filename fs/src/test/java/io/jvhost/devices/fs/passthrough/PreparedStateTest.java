package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The state a migration prepares while the guest runs (from {@link PassthroughFs#prepareMigration}
 * on) and keeps current as nodes and handles change must save byte for byte what a save from
 * scratch at the same moment writes; a cancelled preparation leaves no thread, no descriptor and
 * no state behind, and the next migration prepares afresh.
 */
class PreparedStateTest extends FsTestBase {
    private static final String PREPARER = "jvhost-fs-state-prepare";
    private final List<PassthroughFs> others = new ArrayList<>();

    @AfterEach
    void closeOthers() {
        others.forEach(PassthroughFs::close);
    }

    /** The preparer threads alive now. */
    private static List<Thread> preparers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(PREPARER) && t.isAlive())
                .toList();
    }

    /** Waits until the preparation has gone through every node (its thread ends then). */
    private static void awaitPrepared() throws InterruptedException {
        for (Thread t : preparers()) t.join(10_000);
        assertTrue(preparers().isEmpty(), "the preparer finished");
    }

    private static int openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    /** A tree of directories and files the guest looked up, some open. */
    private Map<Long, Entry> populate(int dirs, int files) throws Exception {
        Map<Long, Entry> nodes = new HashMap<>();
        for (int d = 0; d < dirs; d++) {
            Path dir = Files.createDirectories(share.resolve("d" + d));
            for (int f = 0; f < files; f++) Files.writeString(dir.resolve("f" + f), "file " + d + "/" + f + "\n");
        }
        for (int d = 0; d < dirs; d++) {
            Entry dir = fs.lookup(ROOT, ROOT_ID, b("d" + d));
            nodes.put(dir.nodeId(), dir);
            for (int f = 0; f < files; f++) {
                Entry e = fs.lookup(ROOT, dir.nodeId(), b("f" + f));
                nodes.put(e.nodeId(), e);
                if (f % 3 == 0) fs.open(ROOT, e.nodeId(), O_RDWR);
            }
        }
        return nodes;
    }

    /**
     * Random changes after the preparation (waited for, or racing it): new lookups, forgets (batch
     * ones too), renames over existing names, unlinks, creates, opens and releases, opendirs.
     */
    private void randomChanges(Random rnd, int steps) throws Exception {
        List<long[]> opened = new ArrayList<>(); // {node, fh, dir?}
        for (int i = 0; i < steps; i++) {
            int d = rnd.nextInt(4), f = rnd.nextInt(12);
            long dir = fs.lookup(ROOT, ROOT_ID, b("d" + d)).nodeId();
            String name = "f" + f;
            try {
                switch (rnd.nextInt(9)) {
                    case 0, 1 -> fs.lookup(ROOT, dir, b(name));
                    case 2 -> fs.forget(fs.lookup(ROOT, dir, b(name)).nodeId(), 1 + rnd.nextInt(3));
                    case 3 ->
                        fs.rename(
                                ROOT,
                                dir,
                                b(name),
                                fs.lookup(ROOT, ROOT_ID, b("d" + rnd.nextInt(4)))
                                        .nodeId(),
                                b("f" + rnd.nextInt(12)),
                                0);
                    case 4 -> fs.unlink(ROOT, dir, b(name));
                    case 5 -> {
                        var c = fs.create(ROOT, dir, b("new" + i), 0644, O_RDWR, 022);
                        opened.add(new long[] {c.entry().nodeId(), c.opened().fh(), 0});
                    }
                    case 6 -> {
                        long n = fs.lookup(ROOT, dir, b(name)).nodeId();
                        opened.add(new long[] {n, fs.open(ROOT, n, O_RDONLY).fh(), 0});
                    }
                    case 7 ->
                        opened.add(new long[] {dir, fs.opendir(ROOT, dir, 0).fh(), 1});
                    default -> {
                        if (!opened.isEmpty()) {
                            long[] h = opened.remove(rnd.nextInt(opened.size()));
                            if (h[2] == 1) fs.releasedir(ROOT, h[0], h[1], 0);
                            else fs.release(ROOT, h[0], h[1], 0);
                        }
                    }
                }
            } catch (FsException e) {
                // ENOENT for a name renamed or unlinked before: part of the sequence
            }
            if (rnd.nextInt(8) == 0) fs.forget(dir, 1);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void preparedThenChangedSavesWhatAFreshSaveWrites(long seed) throws Exception {
        Random rnd = new Random(seed);
        populate(4, 10);
        fs.prepareMigration();
        if (seed % 2 == 0) awaitPrepared(); // odd seeds: the changes race the preparer
        randomChanges(rnd, 150);
        byte[] prepared = MigrationTest.save(fs); // takes the preparation, ends it
        assertTrue(preparers().isEmpty(), "the save ended the preparation");
        byte[] fresh = MigrationTest.save(fs); // nothing prepared any more: from scratch
        assertArrayEquals(fresh, prepared, "seed " + seed + ": the prepared save equals a fresh one");
    }

    @Test
    void changesOfEveryKindBetweenPreparationAndSave() throws Exception {
        populate(2, 6);
        fs.prepareMigration();
        awaitPrepared();
        long d0 = lookup("d0").nodeId(), d1 = lookup("d1").nodeId();
        fs.rename(ROOT, d0, b("f1"), d1, b("moved"), 0);
        long f2 = fs.lookup(ROOT, d0, b("f2")).nodeId();
        fs.unlink(ROOT, d0, b("f2"));
        fs.forget(f2, 2); // as the guest does once the name is gone and nothing holds it open
        fs.forget(fs.lookup(ROOT, d0, b("f4")).nodeId(), 2); // the last of its lookups
        Files.writeString(share.resolve("d1/late"), "late\n");
        long late = fs.lookup(ROOT, d1, b("late")).nodeId();
        long fh = fs.open(ROOT, late, O_RDONLY).fh();
        Entry f0 = fs.lookup(ROOT, d0, b("f0"));
        fs.release(ROOT, f0.nodeId(), 1, 0); // fh 1: d0/f0's, opened first
        var created = fs.create(ROOT, d1, b("created"), 0644, O_RDWR, 022);
        long dfh = fs.opendir(ROOT, d1, 0).fh();
        byte[] prepared = MigrationTest.save(fs);
        byte[] fresh = MigrationTest.save(fs);
        assertArrayEquals(fresh, prepared);

        // The prepared save loads on a fresh back-end, which serves the same files.
        PassthroughFs dst = PassthroughFs.open(share, PassthroughConfig.defaults());
        others.add(dst);
        MigrationTest.load(dst, prepared).commit();
        assertEquals("late\n", new String(MigrationTest.read(dst, late, fh, 64)));
        assertEquals(
                fs.lookup(ROOT, d1, b("moved")).nodeId(),
                dst.lookup(ROOT, d1, b("moved")).nodeId(),
                "the renamed node keeps its id");
        dst.write(ROOT, created.entry().nodeId(), created.opened().fh(), 0, new MemorySource(b("x")), 0);
        assertEquals("x", Files.readString(share.resolve("d1/created")));
        dst.releasedir(ROOT, d1, dfh, 0);
        fails(io.jvhost.nativeio.Errno.EBADF, () -> dst.release(ROOT, f0.nodeId(), 1, 0));
        assertEquals(fs.snapshot().inodes().size(), dst.snapshot().inodes().size());
    }

    @Test
    void aCancelledPreparationLeavesNothingBehind() throws Exception {
        populate(3, 8);
        int fds = openFds();
        fs.prepareMigration();
        fs.lookup(ROOT, lookup("d0").nodeId(), b("f1"));
        fs.cancelMigration();
        assertTrue(preparers().isEmpty(), "no preparer thread");
        assertEquals(fds, openFds(), "no descriptor held");
        // The next migration prepares afresh: changes made while nothing was prepared count.
        fs.unlink(ROOT, lookup("d1").nodeId(), b("f3"));
        fs.rename(ROOT, lookup("d2").nodeId(), b("f0"), lookup("d0").nodeId(), b("r"), 0);
        fs.prepareMigration();
        fs.forget(lookup("d2").nodeId(), 1);
        byte[] prepared = MigrationTest.save(fs);
        assertArrayEquals(MigrationTest.save(fs), prepared);
    }

    /**
     * A device reset (the front-end's RESET_DEVICE, or a new session) while the state is being
     * prepared ends the preparation as a cancelled migration does: the thread is gone once reset
     * returns. Many nodes, so that the preparer is still at work when the reset comes.
     */
    @Test
    void aDeviceResetCancelsThePreparation() throws Exception {
        populate(10, 500);
        io.jvhost.devices.fs.FsDevice device =
                new io.jvhost.devices.fs.FsDevice("tag", 1, new io.jvhost.devices.fs.FuseServer(fs));
        device.migrationStarting();
        device.reset();
        assertTrue(preparers().isEmpty(), "no preparer thread after the reset");
    }

    @Test
    void aResetOrADestroyDuringThePreparationIsSavedAsItIs() throws Exception {
        populate(2, 4);
        fs.prepareMigration();
        awaitPrepared();
        fs.destroy(); // the guest unmounted: every node but the root is gone
        Files.writeString(share.resolve("after"), "");
        fs.lookup(ROOT, ROOT_ID, b("after"));
        byte[] prepared = MigrationTest.save(fs);
        assertArrayEquals(MigrationTest.save(fs), prepared);
    }

    @Test
    void aSecondPreparationReplacesTheFirst() throws Exception {
        populate(2, 4);
        fs.prepareMigration();
        fs.prepareMigration(); // LOG_ALL set again after a reset, say: one preparer at most
        awaitPrepared();
        fs.unlink(ROOT, lookup("d0").nodeId(), b("f0"));
        byte[] prepared = MigrationTest.save(fs);
        assertArrayEquals(MigrationTest.save(fs), prepared);
    }
}
