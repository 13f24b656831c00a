package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.GuestPause;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.Qmp;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.MatchResult;

/**
 * Drives the "fs-migrate" guest scenario across one QEMU live migration: a source guest on one
 * vhost-user-fs back-end, a destination QEMU on another, files held open over the switch-over.
 * Which back-ends serve the two sides is the caller's choice (virtiofsd, jvhost).
 */
final class FsMigration {
    static final Duration BOOT = Duration.ofSeconds(150);
    static final Duration STEP = Duration.ofSeconds(120);
    static final String DIR = "mig";

    /** The outcome: QMP's numbers, the guest's pause, the destination's check lines. */
    record Outcome(
            Qmp.MigrationResult migration,
            Optional<Duration> pause,
            List<String> checks,
            String doneLine,
            int ticksBefore) {
        /** "QEMU downtime N ms, guest paused M ms". */
        String times() {
            return "QEMU downtime " + migration.downtimeMs() + " ms"
                    + pause.map(p -> ", guest paused " + p.toMillis() + " ms").orElse("");
        }
    }

    private FsMigration() {}

    static QemuGuest.Builder guest(TestRun run, String name, Path socket, ManagedProcess backend, int entries) {
        return QemuGuest.builder(run, name)
                .scenario("fs-migrate")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("mig_dir", DIR)
                .kernelArg("tick", "0.2")
                .kernelArg("mig_entries", entries)
                .vhostUserFs(socket, "myfs")
                .traceVhostUser()
                .traceDowntime()
                .watch(backend);
    }

    /**
     * Boots the source, waits until the guest holds its files open and ticks a few times,
     * migrates to the destination, drops the marker file and collects the destination's checks.
     */
    static Outcome migrate(TestRun run, Path shared, QemuGuest.Builder source, QemuGuest.Builder destination)
            throws Exception {
        QemuGuest src = boot(source);
        Hop hop = hop(run, src, destination, "migration");
        return finish(shared, hop);
    }

    /**
     * One migration: the running guest moved onto a new QEMU (its source QEMU quits); {@code
     * pause} is how long the guest stood still ({@link GuestPause}), the destination's load
     * included, which QEMU's downtime is not.
     */
    record Hop(QemuGuest guest, Qmp.MigrationResult result, Duration pause, int ticksBefore) {}

    static QemuGuest boot(QemuGuest.Builder source) throws Exception {
        QemuGuest src = source.start();
        src.awaitReady(BOOT);
        src.awaitSerialLine("^MIG-READY ", STEP);
        src.awaitSerialLine("^MTICK 3 ", STEP);
        return src;
    }

    static Hop hop(TestRun run, QemuGuest src, QemuGuest.Builder destination, String socketName) throws Exception {
        Hop hop = move(run, src, destination, socketName);
        // A few ticks on the destination before anything else happens to it.
        hop.guest().awaitSerialLine("^MTICK " + (hop.ticksBefore() + 3) + " ", STEP);
        return hop;
    }

    /** {@link #hop} up to the source QEMU's exit: the destination runs, nothing more is known of it. */
    static Hop move(TestRun run, QemuGuest src, QemuGuest.Builder destination, String socketName) throws Exception {
        Path migration = run.socket(socketName);
        QemuGuest dst = destination.incoming("unix:" + migration).start();
        UnixSockets.awaitSocketFile(migration, STEP, dst.process());
        Qmp.MigrationResult result =
                src.qmp().migrate("unix:" + migration, STEP).requireCompleted();
        dst.qmp().awaitStatus("running", Duration.ofSeconds(30));
        assertEquals("postmigrate", src.qmp().queryStatus());
        Duration pause = GuestPause.between(src, dst, Duration.ofSeconds(10));
        int before = src.serialLines().stream()
                .filter(l -> l.startsWith("MTICK "))
                .mapToInt(l -> Integer.parseInt(l.split(" ")[1]))
                .max()
                .orElse(0);
        src.qmp().quit();
        src.awaitExit(Duration.ofSeconds(30));
        return new Hop(dst, result, pause, before);
    }

    static Outcome finish(Path shared, Hop hop) throws Exception {
        return finish(shared, hop.guest(), hop.result(), Optional.of(hop.pause()), hop.ticksBefore());
    }

    /** The checks of a guest that went on after {@code result} ({@code pause}: how long it stood still, if it moved). */
    static Outcome finish(Path shared, QemuGuest dst, Qmp.MigrationResult result, Optional<Duration> pause, int before)
            throws Exception {
        Files.writeString(shared.resolve(DIR).resolve("migrated"), "");
        dst.awaitSerialLine("^MIG-SEEN ", STEP);
        MatchResult done = dst.awaitSerialLine("^MIG-DONE pass=(\\d+) fail=(\\d+)", STEP);
        List<String> checks =
                dst.serialLines().stream().filter(l -> l.startsWith("MIG ")).toList();
        assertEquals(0, dst.awaitExit(Duration.ofSeconds(60)), "destination QEMU exit code");
        return new Outcome(result, pause, checks, done.group(), before);
    }

    static void assertAllPassed(Outcome o) {
        List<String> failed =
                o.checks().stream().filter(s -> !s.matches("^MIG \\S+ ok.*")).toList();
        assertTrue(failed.isEmpty(), () -> "failed checks after migration: " + failed);
        assertTrue(o.doneLine().contains("fail=0"), o::doneLine);
        assertTrue(o.checks().size() >= 7, () -> "checks: " + o.checks());
    }
}
