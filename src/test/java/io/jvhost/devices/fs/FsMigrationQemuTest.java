package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QEMU 10 live migration of a guest with files held open on virtio-fs. */
@QemuTest
@Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
class FsMigrationQemuTest {
    @Test
    void virtiofsdToVirtiofsd(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        // virtiofsd cannot find a file unlinked while open by path; with guest-error that one
        // file fails in the guest and the rest migrates (its default, abort, fails the migration).
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd-src").sharedDir(shared).migrationMode("find-paths")
                .args("--migration-on-error", "guest-error").start();
        Virtiofsd b = Virtiofsd.builder(run, "virtiofsd-dst").sharedDir(shared).migrationMode("find-paths")
                .args("--migration-on-error", "guest-error").start();
        FsMigration.Outcome o = FsMigration.migrate(run, shared,
                FsMigration.guest(run, "src", a.socket(), a.process(), 2000),
                FsMigration.guest(run, "dst", b.socket(), b.process(), 2000));
        run.note("virtiofsd→virtiofsd: downtime %d ms, checks %s", o.migration().downtimeMs(), o.checks());
        List<String> failed = o.checks().stream().filter(c -> !c.matches("^MIG \\S+ ok.*")).toList();
        assertEquals(1, failed.size(), () -> "only the unlinked file fails on virtiofsd: " + o.checks());
        assertTrue(failed.getFirst().startsWith("MIG unlinked_held FAIL"), failed::toString);
    }
}
