package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QEMU 10 live migration of a guest with files held open on virtio-fs. */
@QemuTest
@Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
class FsMigrationQemuTest {
    /**
     * Both sides jvhost, there and back (A→B→A, A's daemon serving its second QEMU): every file
     * held open goes on, the unlinked one included (virtiofsd loses that one, see below).
     */
    @Test
    void jvhostToJvhostAndBack(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Path sa = run.socket("jvhost-a"), sb = run.socket("jvhost-b");
        // Both migration modes: A saves with file handles (there), B by paths (back). A handles
        // requests on a pool of 4 (they complete out of order and must all be done before its
        // rings stop), B on the queue threads.
        ManagedProcess a = JvhostDaemon.start(
                run,
                "jvhost-a",
                sa,
                "fs",
                "--shared-dir",
                shared.toString(),
                "--migration-mode",
                "file-handles",
                "--thread-pool-size",
                "4");
        QemuGuest first = FsMigration.boot(FsMigration.guest(run, "vm-a", sa, a, 2000));
        // B starts for the incoming migration, as libvirt starts a destination's daemon: on the
        // directory the guest has filled by now (its start-up warm-up works on those files).
        ManagedProcess b = JvhostDaemon.start(
                run, "jvhost-b", sb, "fs", "--shared-dir", shared.toString(), "--migration-mode", "find-paths");
        FsMigration.Hop there = FsMigration.hop(run, first, FsMigration.guest(run, "vm-b", sb, b, 2000), "mig-ab");
        FsMigration.Hop back =
                FsMigration.hop(run, there.guest(), FsMigration.guest(run, "vm-a2", sa, a, 2000), "mig-ba");
        FsMigration.Outcome o = FsMigration.finish(shared, back);
        for (String vm : List.of("vm-a", "vm-b")) {
            String trace = Files.readString(run.logDir().resolve("trace-" + vm + ".log"));
            assertTrue(trace.contains("vhost_user_write req:42 "), vm + " sent SET_DEVICE_STATE_FD");
            assertTrue(trace.contains("vhost_user_write req:43 "), vm + " sent CHECK_DEVICE_STATE");
        }
        run.note(
                "jvhost→jvhost→jvhost: QEMU downtime %d ms there, %d ms back; guest paused %d ms there, %d ms back; checks %s",
                there.result().downtimeMs(),
                back.result().downtimeMs(),
                there.pause().toMillis(),
                back.pause().toMillis(),
                o.checks());
        FsMigration.assertAllPassed(o);
    }

    @Test
    void virtiofsdToVirtiofsd(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        // virtiofsd cannot find a file unlinked while open by path; with guest-error that one
        // file fails in the guest and the rest migrates (its default, abort, fails the migration).
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd-src")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        Virtiofsd b = Virtiofsd.builder(run, "virtiofsd-dst")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        FsMigration.Outcome o = FsMigration.migrate(
                run,
                shared,
                FsMigration.guest(run, "src", a.socket(), a.process(), 2000),
                FsMigration.guest(run, "dst", b.socket(), b.process(), 2000));
        run.note("virtiofsd→virtiofsd: %s, checks %s", o.times(), o.checks());
        List<String> failed =
                o.checks().stream().filter(c -> !c.matches("^MIG \\S+ ok.*")).toList();
        assertEquals(1, failed.size(), () -> "only the unlinked file fails on virtiofsd: " + o.checks());
        assertTrue(failed.getFirst().startsWith("MIG unlinked_held FAIL"), failed::toString);
    }

    /**
     * virtiofsd to jvhost (issue 13): jvhost's destination loads virtiofsd's own state (postcard,
     * no jvhost magic) and the guest goes on with its FUSE session, nodes and open files. As
     * between two virtiofsd, the file unlinked while open is lost at the source (find-paths mode
     * cannot name it: virtiofsd sends it as Invalid), so under guest-error that one check fails.
     */
    @Test
    void virtiofsdToJvhost(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd-src")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        Path sb = run.socket("jvhost-dst");
        ManagedProcess b = JvhostDaemon.start(
                run, "jvhost-dst", sb, "fs", "--shared-dir", shared.toString(), "--migration-on-error", "guest-error");
        FsMigration.Outcome o = FsMigration.migrate(
                run,
                shared,
                FsMigration.guest(run, "src", a.socket(), a.process(), 2000),
                FsMigration.guest(run, "dst", sb, b, 2000));
        run.note("virtiofsd→jvhost: %s, checks %s", o.times(), o.checks());
        String log = Files.readString(b.log());
        List<String> failed =
                o.checks().stream().filter(c -> !c.matches("^MIG \\S+ ok.*")).toList();
        assertEquals(1, failed.size(), () -> "only the file virtiofsd lost fails: " + o.checks() + "\n" + log);
        assertTrue(failed.getFirst().startsWith("MIG unlinked_held FAIL"), failed::toString);
    }

    /**
     * jvhost to virtiofsd: the source saves in virtiofsd's format ({@code --migration-state-format
     * virtiofsd}). The file unlinked while open has no path virtiofsd can use (jvhost would have
     * reopened it by file handle): it goes as Invalid and, under guest-error, that check fails.
     */
    @Test
    void jvhostToVirtiofsd(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Path sa = run.socket("jvhost-src");
        ManagedProcess a = JvhostDaemon.start(
                run,
                "jvhost-src",
                sa,
                "fs",
                "--shared-dir",
                shared.toString(),
                "--migration-state-format",
                "virtiofsd");
        Virtiofsd b = Virtiofsd.builder(run, "virtiofsd-dst")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        FsMigration.Outcome o = FsMigration.migrate(
                run,
                shared,
                FsMigration.guest(run, "src", sa, a, 2000),
                FsMigration.guest(run, "dst", b.socket(), b.process(), 2000));
        run.note("jvhost→virtiofsd: %s, checks %s", o.times(), o.checks());
        assertOnlyUnlinkedHeldFails(o);
    }

    /** virtiofsd → jvhost → virtiofsd, one guest: every hop keeps the guest's session and files. */
    @Test
    void virtiofsdToJvhostToVirtiofsd(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd-a")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        Path sb = run.socket("jvhost-b");
        ManagedProcess b = JvhostDaemon.start(
                run,
                "jvhost-b",
                sb,
                "fs",
                "--shared-dir",
                shared.toString(),
                "--migration-on-error",
                "guest-error",
                "--migration-state-format",
                "virtiofsd");
        Virtiofsd c = Virtiofsd.builder(run, "virtiofsd-c")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        QemuGuest first = FsMigration.boot(FsMigration.guest(run, "vm-a", a.socket(), a.process(), 2000));
        FsMigration.Hop there = FsMigration.hop(run, first, FsMigration.guest(run, "vm-b", sb, b, 2000), "mig-ab");
        FsMigration.Hop back = FsMigration.hop(
                run, there.guest(), FsMigration.guest(run, "vm-c", c.socket(), c.process(), 2000), "mig-bc");
        FsMigration.Outcome o = FsMigration.finish(shared, back);
        run.note(
                "virtiofsd→jvhost→virtiofsd: QEMU downtime %d ms, %d ms; guest paused %d ms, %d ms; checks %s",
                there.result().downtimeMs(),
                back.result().downtimeMs(),
                there.pause().toMillis(),
                back.pause().toMillis(),
                o.checks());
        assertOnlyUnlinkedHeldFails(o);
    }

    private static void assertOnlyUnlinkedHeldFails(FsMigration.Outcome o) {
        List<String> failed =
                o.checks().stream().filter(c -> !c.matches("^MIG \\S+ ok.*")).toList();
        assertEquals(1, failed.size(), () -> "only the file unlinked while open fails: " + o.checks());
        assertTrue(failed.getFirst().startsWith("MIG unlinked_held FAIL"), failed::toString);
        assertTrue(o.checks().size() >= 7, () -> "checks: " + o.checks());
    }
}
