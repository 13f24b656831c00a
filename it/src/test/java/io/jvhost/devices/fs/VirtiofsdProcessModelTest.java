package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.CallerRequests.*;
import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code jvhost virtiofsd} as its own process, with the process model of virtiofsd: it serves one
 * front-end and exits (status 0, "front-end disconnected, shutting down") when that one goes
 * away, where {@code jvhost fs} waits for the next front-end; and SIGTERM with a front-end
 * connected ends it with a clean shutdown (the time it takes is noted, not asserted).
 */
class VirtiofsdProcessModelTest {
    private static final Duration T = Duration.ofSeconds(30);

    @Test
    void exitsWhenItsFrontEndDisconnects() throws Exception {
        try (TestRun run = TestRun.create("VirtiofsdProcessModelTest.disconnect")) {
            Path shared = run.dir("shared");
            Path socket = run.socket("fs");
            ManagedProcess daemon = run.start(
                    "virtiofsd",
                    JvhostDaemon.argv(
                            "virtiofsd",
                            "--socket-path=" + socket,
                            "-o",
                            "source=" + shared + ",cache=always,no_xattr",
                            "--sandbox",
                            "none",
                            "--seccomp=none",
                            "--thread-pool-size=2",
                            "--rlimit-nofile=4096",
                            "--socket-group",
                            "daemon"));
            UnixSockets.awaitSocketFile(socket, T, daemon);
            awaitGroupAndMode(socket, "daemon", "rwxrwx---");
            try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
                CallerRequests guest = new CallerRequests(d);
                guest.init().ok();
                guest.call(MKDIR, 1, args().u32(0755).u32(0).name("made").build(), ENTRY)
                        .ok();
            }
            assertTrue(daemon.awaitExit(T), () -> "still running after its front-end left:\n" + daemon.logTail(20));
            assertEquals(0, daemon.exitCode().getAsInt(), () -> daemon.logTail(20));
            daemon.awaitLogLine(Pattern.compile("front-end disconnected, shutting down"), T);
            assertTrue(Files.isDirectory(shared.resolve("made")));
            assertFalse(Files.exists(socket), "the socket file is removed");
        }
    }

    /**
     * The group, then the mode, are given right after the socket file appears (in that order, so
     * the group never has a wider mode than meant; a look between the two sees the group alone).
     */
    private static void awaitGroupAndMode(Path socket, String group, String mode) throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        while (true) {
            PosixFileAttributes a = Files.readAttributes(socket, PosixFileAttributes.class);
            String seen = a.group().getName() + " " + PosixFilePermissions.toString(a.permissions());
            if (seen.equals(group + " " + mode)) return;
            assertTrue(System.nanoTime() < deadline, () -> socket + " is " + seen + ", never " + group + " " + mode);
            Thread.sleep(20);
        }
    }

    @Test
    void jvhostFsServesTheNextFrontEnd() throws Exception {
        try (TestRun run = TestRun.create("VirtiofsdProcessModelTest.next")) {
            Path socket = run.socket("fs");
            ManagedProcess daemon = JvhostDaemon.start(
                    run, "fs", socket, "fs", "--shared-dir", run.dir("shared").toString());
            for (int i = 0; i < 2; i++) {
                try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
                    new CallerRequests(d).init().ok();
                }
            }
            daemon.assertAlive();
        }
    }

    /**
     * SIGTERM while a front-end is connected, as libvirt stops the daemon: the socket file is
     * removed and the process exits with 143 at once (cli.SignalExit), as virtiofsd's handler. Rounds of it, the median and spread noted (not asserted).
     */
    @Test
    void sigtermWithAFrontEndConnectedShutsDownCleanly() throws Exception {
        try (TestRun run = TestRun.create("VirtiofsdProcessModelTest.sigterm")) {
            java.util.List<Long> millis = new java.util.ArrayList<>();
            for (int round = 0; round < 5; round++) {
                Path socket = run.socket("fs" + round);
                ManagedProcess daemon = run.start(
                        "virtiofsd" + round,
                        JvhostDaemon.argv(
                                "virtiofsd",
                                "--socket-path",
                                socket.toString(),
                                "--shared-dir",
                                run.dir("shared").toString(),
                                "--sandbox=none",
                                "--seccomp=none"));
                UnixSockets.awaitSocketFile(socket, T, daemon);
                try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
                    new CallerRequests(d).init().ok();
                    long t0 = System.nanoTime();
                    daemon.handle().destroy(); // SIGTERM
                    assertTrue(daemon.awaitExit(T), () -> daemon.logTail(20));
                    millis.add(Duration.ofNanos(System.nanoTime() - t0).toMillis());
                    assertEquals(143, daemon.exitCode().getAsInt(), "ended by its SIGTERM (128 + 15)");
                    assertFalse(Files.exists(socket), "the shutdown removed the socket file");
                }
            }
            java.util.List<Long> sorted = millis.stream().sorted().toList();
            run.note(
                    "jvhost virtiofsd: SIGTERM to exit, front-end connected: median %d ms (min %d, max %d; rounds %s)",
                    sorted.get(sorted.size() / 2), sorted.getFirst(), sorted.getLast(), millis);
        }
    }
}
