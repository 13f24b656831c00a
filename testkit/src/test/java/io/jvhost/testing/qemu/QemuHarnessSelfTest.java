package io.jvhost.testing.qemu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
        QemuGuest vm =
                QemuGuest.builder(run, "bad").device("no-such-device-model").start();
        long t0 = System.nanoTime();
        AssertionError e = assertThrows(AssertionError.class, () -> vm.awaitReady(Duration.ofSeconds(60)));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(20).toNanos(), "failed fast");
        assertTrue(e.getMessage().contains("QEMU exited with code 1"), e.getMessage());
        assertTrue(
                e.getMessage().contains("no-such-device-model"), "QEMU's stderr is in the message: " + e.getMessage());
    }

    @Test
    @QemuTest
    void awaitSocketFailsFastWhenTheBackendDies(TestRun run) throws Exception {
        ManagedProcess p = run.start("dies", List.of("sh", "-c", "echo backend-broke >&2; exit 3"));
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> UnixSockets.awaitSocketFile(run.socket("never"), Duration.ofSeconds(30), p));
        assertTrue(
                e.getMessage().contains("exited with code 3") && e.getMessage().contains("backend-broke"),
                e.getMessage());
        assertTrue(Files.readString(run.logDir().resolve("commands.txt")).contains("backend-broke"));
    }

    @Test
    @QemuTest
    void startJavaRunsAMainFromTheTestClassPathAndStopsIt(TestRun run) {
        Path sock = run.socket("child");
        ManagedProcess child = run.processes()
                .startJava("child-jvm", SocketHolder.class.getName(), List.of("-Xmx32m"), List.of(sock.toString()));
        UnixSockets.awaitSocketFile(sock, Duration.ofSeconds(30), child);
        assertTrue(child.isAlive());
        child.awaitLogLine(java.util.regex.Pattern.compile("^listening on "), Duration.ofSeconds(10));
        int code = child.stop(Duration.ofSeconds(5));
        assertTrue(!child.isAlive() && code != 0, "stopped by SIGTERM: " + code);
    }

    /** A stand-in back-end daemon: listens on a unix socket until killed. */
    public static final class SocketHolder {
        public static void main(String[] args) throws Exception {
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(args[0]));
                System.out.println("listening on " + args[0]);
                Thread.sleep(Duration.ofMinutes(5));
            }
        }
    }
}
