package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.FaultyFsDaemon;
import io.jvhost.testing.StateFault;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.Qmp;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Broken migrations with real peers: the source jvhost sends a corrupted, a truncated and a
 * "from the future" state, and a destination jvhost is killed in the middle of loading (both are
 * {@link FaultyFsDaemon}s: jvhost fs with a fault-injecting decorator around its device). Each
 * time the destination refuses (CHECK_DEVICE_STATE fails, or its back-end is gone), QEMU
 * reports the migration failed (return path on, so the source hears of the destination's
 * failure), the source VM runs on and its files held open keep working.
 */
@QemuTest
@Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
class FsMigrationFaultQemuTest {
    static final Duration STEP = Duration.ofSeconds(120);

    @Test
    void failedMigrationsLeaveTheSourceWorking(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Path sourceFault = run.dir("faults").resolve("source");
        Files.writeString(sourceFault, "");
        Path sa = run.socket("jvhost-src");
        ManagedProcess a = FaultyFsDaemon.start(run, "jvhost-src", sa, sourceFault, "--shared-dir", shared.toString());
        QemuGuest src = FsMigration.boot(FsMigration.guest(run, "vm-src", sa, a, 200));
        src.qmp().setMigrationCapabilities(Map.of("return-path", true));
        List<String> notes = new ArrayList<>();

        for (StateFault fault : List.of(StateFault.CORRUPT, StateFault.TRUNCATE, StateFault.FUTURE_VERSION)) {
            Files.writeString(sourceFault, fault.name());
            String name = fault.name().toLowerCase();
            Path sb = run.socket("jvhost-" + name);
            ManagedProcess b = JvhostDaemon.start(run, "jvhost-" + name, sb, "fs", "--shared-dir", shared.toString());
            Qmp.MigrationResult r =
                    attempt(run, src, FsMigration.guest(run, "vm-" + name, sb, b, 200), "mig-" + name, null);
            String log = Files.readString(b.log());
            String refusal = log.lines()
                    .filter(l -> l.contains("CHECK_DEVICE_STATE refused"))
                    .findFirst()
                    .orElse(null);
            assertTrue(refusal != null, () -> "the destination back-end's CHECK must fail: " + log);
            notes.add(fault + ": QEMU " + r.status() + "; destination: " + refusal.substring(refusal.indexOf("CHECK")));
        }
        Files.writeString(sourceFault, "");

        // The destination back-end dies while it loads (it stalls on purpose, then is killed).
        Path stall = run.dir("faults").resolve("destination");
        Files.writeString(stall, StateFault.STALL_LOAD.name());
        Path sk = run.socket("jvhost-killed");
        ManagedProcess killed =
                FaultyFsDaemon.start(run, "jvhost-killed", sk, stall, "--shared-dir", shared.toString());
        Qmp.MigrationResult r =
                attempt(run, src, FsMigration.guest(run, "vm-killed", sk, killed, 200), "mig-killed", killed);
        notes.add("destination killed mid-load: " + r.status() + " (" + r.errorDesc() + ")");

        FsMigration.Outcome o = FsMigration.finish(shared, src, r, java.util.Optional.empty(), 0);
        run.note("faults: %s; the source's checks afterwards: %s", notes, o.checks());
        FsMigration.assertAllPassed(o);
        assertTrue(
                a.isAlive() || Files.readString(a.log()).contains("device state save"),
                "the source back-end served on");
    }

    /** One migration that must fail; the source must be running again and still ticking afterwards. */
    private static Qmp.MigrationResult attempt(
            TestRun run, QemuGuest src, QemuGuest.Builder destination, String sock, ManagedProcess killDuringLoad)
            throws Exception {
        Path migration = run.socket(sock);
        QemuGuest dst = destination.incoming("unix:" + migration).start();
        UnixSockets.awaitSocketFile(migration, STEP, dst.process());
        dst.qmp().setMigrationCapabilities(Map.of("return-path", true));
        int last = lastTick(src);
        CompletableFuture<Qmp.MigrationResult> result =
                CompletableFuture.supplyAsync(() -> src.qmp().migrate("unix:" + migration, STEP));
        if (killDuringLoad != null) {
            Path trace = run.logDir().resolve("trace-" + dst.name() + ".log");
            long deadline = System.nanoTime() + STEP.toNanos();
            while (!(Files.exists(trace) && Files.readString(trace).contains("vhost_user_write req:42 "))) {
                assertTrue(System.nanoTime() < deadline, "the destination never started loading");
                Thread.sleep(20);
            }
            killDuringLoad.process().destroyForcibly().waitFor();
        }
        Qmp.MigrationResult r = result.get();
        assertFalse(r.completed(), () -> "the migration must fail: " + r.info());
        assertEquals("failed", r.status(), r::toString);
        src.qmp().awaitStatus("running", Duration.ofSeconds(30));
        assertTrue(dst.awaitExit(Duration.ofSeconds(60)) != 0, "the destination QEMU gives up");
        src.awaitSerialLine("^MTICK " + (last + 3) + " write=ok", STEP);
        return r;
    }

    private static int lastTick(QemuGuest g) {
        return g.serialLines().stream()
                .filter(l -> l.startsWith("MTICK "))
                .mapToInt(l -> Integer.parseInt(l.split(" ")[1]))
                .max()
                .orElse(0);
    }
}
