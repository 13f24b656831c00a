package io.jvhost.testing.qemu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fast checks of the harness's failure behaviour (no guest boots). */
class QemuHarnessSelfTest {
    @Test
    void missingDependenciesFailWithTheInstallHint(@TempDir Path empty) {
        TestDeps deps = TestDeps.at(TestDeps.get().repoRoot(), empty);
        for (Runnable r : new Runnable[] {deps::guestKernel, deps::virtiofsdArgv}) {
            MissingTestDependencyException e = assertThrows(MissingTestDependencyException.class, r::run);
            assertTrue(e.getMessage().contains("scripts/install-test-deps.sh"), e.getMessage());
            assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        }
    }

    @Test
    @QemuTest
    void awaitSerialLineFailsFastWithQemuOutputWhenQemuDies(TestRun run) {
        QemuGuest vm = QemuGuest.builder(run, "bad").device("no-such-device-model").start();
        long t0 = System.nanoTime();
        AssertionError e = assertThrows(AssertionError.class, () -> vm.awaitReady(Duration.ofSeconds(60)));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(20).toNanos(), "failed fast");
        assertTrue(e.getMessage().contains("QEMU exited with code 1"), e.getMessage());
        assertTrue(e.getMessage().contains("no-such-device-model"), "QEMU's stderr is in the message: " + e.getMessage());
    }

    @Test
    @QemuTest
    void awaitSocketFailsFastWhenTheBackendDies(TestRun run) throws Exception {
        ManagedProcess p = run.start("dies", java.util.List.of("sh", "-c", "echo backend-broke >&2; exit 3"));
        AssertionError e = assertThrows(AssertionError.class,
                () -> UnixSockets.awaitSocketFile(run.socket("never"), Duration.ofSeconds(30), p));
        assertTrue(e.getMessage().contains("exited with code 3") && e.getMessage().contains("backend-broke"), e.getMessage());
        assertTrue(Files.readString(run.logDir().resolve("commands.txt")).contains("backend-broke"));
    }
}
