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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * QEMU 10 live migration of a guest holding many looked-up files and a few open handles (the
 * fs-migrate scenario with {@link #ENTRIES} files), jvhost → jvhost, then the same guest
 * virtiofsd → virtiofsd in the same run: the guest goes on after both (files readable, the held
 * handles append and read), and QEMU's downtimes are noted side by side with the breakdown the
 * jvhost daemons log (issue 10). jvhost's source prepares its state when QEMU sets LOG_ALL, and
 * the stop-time save takes what was prepared plus the changes since. No timing is asserted.
 */
@QemuTest
@Timeout(value = 12, unit = java.util.concurrent.TimeUnit.MINUTES)
class FsMigrationDowntimeQemuTest {
    static final int ENTRIES = 5000;
    private static final java.time.Duration VIRTIOFSD_GOES_ON = java.time.Duration.ofSeconds(60);

    @Test
    void manyLookedUpFilesMigrateJvhostNextToVirtiofsd(TestRun run) throws Exception {
        Path shared = run.dir("shared-jvhost");
        Path sa = run.socket("jvhost-a"), sb = run.socket("jvhost-b");
        ManagedProcess a = JvhostDaemon.start(run, "jvhost-a", sa, "fs", "--shared-dir", shared.toString());
        QemuGuest ja = FsMigration.boot(FsMigration.guest(run, "vm-jvhost-a", sa, a, ENTRIES));
        // The destination's daemon starts for the incoming migration, as libvirt starts it: on a
        // shared directory that already holds the guest's files.
        ManagedProcess b = JvhostDaemon.start(run, "jvhost-b", sb, "fs", "--shared-dir", shared.toString());
        FsMigration.Outcome j = FsMigration.finish(
                shared, FsMigration.hop(run, ja, FsMigration.guest(run, "vm-jvhost-b", sb, b, ENTRIES), "mig-jvhost"));
        FsMigration.assertAllPassed(j);
        String source = Files.readString(a.log()), destination = Files.readString(b.log());
        assertTrue(source.contains("migration: preparing the state of"), "LOG_ALL started the preparation");
        assertTrue(source.contains("; the prepared state took"), "the save took the prepared state");
        assertTrue(destination.contains("device state load checked"), "the destination loaded the state");

        Path vshared = run.dir("shared-virtiofsd");
        // As FsMigrationQemuTest: virtiofsd finds by path, and loses the one file unlinked while open.
        Virtiofsd va = Virtiofsd.builder(run, "virtiofsd-a")
                .sharedDir(vshared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        QemuGuest vma = FsMigration.boot(FsMigration.guest(run, "vm-virtiofsd-a", va.socket(), va.process(), ENTRIES));
        Virtiofsd vb = Virtiofsd.builder(run, "virtiofsd-b")
                .sharedDir(vshared)
                .migrationMode("find-paths")
                .args("--migration-on-error", "guest-error")
                .start();
        FsMigration.Hop vhop = FsMigration.move(
                run,
                vma,
                FsMigration.guest(run, "vm-virtiofsd-b", vb.socket(), vb.process(), ENTRIES),
                "mig-virtiofsd");
        String vtimes = "QEMU downtime " + vhop.result().downtimeMs() + " ms, guest paused "
                + vhop.pause().toMillis() + " ms";
        // virtiofsd is the reference here, not the subject: a guest that stays silent after its
        // switch-over to virtiofsd 1.13.2 (seen in 2 of 20 runs on a loaded machine, virtiofsd
        // alive) is noted, and its downtime still counts; jvhost's guest must go on.
        try {
            vhop.guest().awaitSerialLine("^MTICK " + (vhop.ticksBefore() + 3) + " ", VIRTIOFSD_GOES_ON);
            FsMigration.Outcome v = FsMigration.finish(vshared, vhop);
            List<String> failed = v.checks().stream()
                    .filter(c -> !c.matches("^MIG \\S+ ok.*"))
                    .toList();
            assertEquals(1, failed.size(), () -> "virtiofsd: only the file unlinked while open fails: " + v.checks());
        } catch (AssertionError e) {
            if (!e.getMessage().contains("timed out")) throw e;
            vtimes += " (its guest did not go on within " + VIRTIOFSD_GOES_ON.toSeconds() + " s: a virtiofsd failure)";
        }

        run.note("%d looked-up files: jvhost→jvhost %s; virtiofsd→virtiofsd %s", ENTRIES, j.times(), vtimes);
        run.note(
                "jvhost source: %s",
                lines(source, "migration: (preparing|prepared|the prepared|captured)|save timeline"));
        run.note("jvhost destination: %s", lines(destination, "migration: checked|load timeline"));
    }

    /** The log lines matching {@code regex}, without their time stamps, one per line. */
    private static String lines(String log, String regex) {
        Pattern p = Pattern.compile(regex);
        StringBuilder b = new StringBuilder();
        for (String l : log.split("\n")) {
            Matcher m = p.matcher(l);
            if (m.find()) b.append("\n  ").append(l.replaceFirst("^\\S+ \\[[^]]*] ", ""));
        }
        return b.toString();
    }
}
