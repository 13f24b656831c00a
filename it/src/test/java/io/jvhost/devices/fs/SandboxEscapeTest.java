package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sandbox as {@code ./jvhost-virtiofsd} makes it by default (and in chroot mode): from inside
 * the daemon, nothing of the host outside the shared directory exists, and only the shared
 * directory (and the socket's private directory) is writable. Checked both from outside, through
 * the daemon's /proc (its root, mounts, namespaces, seccomp), and by hostile FUSE requests over
 * vhost-user. Needs root and the launcher (tagged as the QEMU tests are; no guest is booted).
 */
@QemuTest
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SandboxEscapeTest {
    @ParameterizedTest(name = "--sandbox {0}")
    @ValueSource(strings = {"namespace", "chroot"})
    void nothingOutsideTheSharedDirectoryExistsForTheDaemon(String mode, TestRun run) throws Exception {
        Path shared = run.dir("shared-" + mode);
        Path outside = run.dir("outside-" + mode);
        Files.writeString(outside.resolve("secret.txt"), "host only\n");
        Files.writeString(shared.resolve("inside.txt"), "shared\n");
        Files.createSymbolicLink(shared.resolve("etc-link"), Path.of("/etc"));
        Files.createSymbolicLink(shared.resolve("up-link"), outside.resolve("secret.txt"));
        Path socket = run.socket("fs-" + mode);
        ManagedProcess launcher = run.start(
                "jvhost-virtiofsd-" + mode,
                List.of(
                        run.deps().repoRoot().resolve("jvhost-virtiofsd").toString(),
                        "--socket-path",
                        socket.toString(),
                        "--shared-dir",
                        shared.toString(),
                        "--sandbox",
                        mode,
                        "--log-level",
                        "debug"));
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(60), launcher);
        ProcessHandle daemon = launcher.handle()
                .descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no java under the launcher"));
        Path proc = Path.of("/proc", Long.toString(daemon.pid()));

        // What the daemon's root holds: the shared directory, read-only runtime, no host data.
        Path root = proc.resolve("root");
        assertTrue(Files.exists(root.resolve(shared.toString().substring(1)).resolve("inside.txt")));
        assertFalse(Files.exists(root.resolve(outside.toString().substring(1))), "the directory beside the share");
        for (String host : List.of("etc/shadow", "root", "home", "var", "tmp/" + outside.getFileName(), "sys", "run"))
            assertFalse(Files.exists(root.resolve(host)), host + " exists for the daemon");
        // The filter follows the listen by a few milliseconds.
        String status = Files.readString(proc.resolve("status"));
        for (int i = 0; i < 100 && !status.contains("Seccomp:\t2"); i++) {
            Thread.sleep(50);
            status = Files.readString(proc.resolve("status"));
        }
        assertTrue(status.contains("Seccomp:\t2"), "the filter is on (--seccomp kill by default): " + status);
        assertTrue(status.contains("NoNewPrivs:\t1"), status);
        for (String line : Files.readAllLines(proc.resolve("mountinfo"))) {
            String[] f = line.split(" ");
            String point = f[4], options = f[5];
            boolean writable = options.startsWith("rw");
            boolean allowed = point.equals(shared.toRealPath().toString())
                    || point.equals(socket.getParent().toRealPath().toString())
                    || point.startsWith("/dev/");
            assertFalse(writable && !allowed, "writable for the daemon: " + line);
        }
        boolean ownPidNamespace = !Files.readSymbolicLink(proc.resolve("ns/pid"))
                .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")));
        boolean ownNetNamespace = !Files.readSymbolicLink(proc.resolve("ns/net"))
                .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")));
        assertEquals(mode.equals("namespace"), ownPidNamespace, "pid namespace");
        assertEquals(mode.equals("namespace"), ownNetNamespace, "net namespace");

        // Hostile requests: ".." of the root, names with a slash, lookups through links out.
        GuestDriver driver = GuestDriver.connect(socket, new GuestDriver.Options(2, 256, 16L << 20, 0, false, false));
        try {
            FuseClient fuse = new FuseClient(driver, Duration.ofSeconds(30));
            fuse.init();
            long up = lookupOrRoot(fuse, FuseClient.ROOT_ID, "..");
            assertThrows(
                    FuseClient.FuseErrorException.class,
                    () -> fuse.lookup(up, outside.getFileName().toString()));
            assertThrows(
                    FuseClient.FuseErrorException.class, () -> fuse.lookup(FuseClient.ROOT_ID, "../outside-" + mode));
            long etc = fuse.lookup(FuseClient.ROOT_ID, "etc-link");
            assertThrows(FuseClient.FuseErrorException.class, () -> fuse.lookup(etc, "shadow"));
            long link = fuse.lookup(FuseClient.ROOT_ID, "up-link");
            assertThrows(FuseClient.FuseErrorException.class, () -> fuse.open(link), "opening a link out");
            long inside = fuse.lookup(FuseClient.ROOT_ID, "inside.txt");
            FuseClient.OpenFile f = fuse.open(inside);
            assertEquals("shared\n", new String(fuse.read(f, 0, 100)));
            fuse.release(f);
        } finally {
            driver.close();
        }
        assertTrue(launcher.awaitExit(Duration.ofSeconds(30)), "exits when its front-end disconnects");
        assertEquals(0, launcher.exitCode().getAsInt(), launcher.logTail(30));
        assertFalse(Files.exists(socket), "the launcher removed the socket's name");
        run.note(
                "--sandbox %s: daemon pid %d, root and mounts as expected, hostile lookups refused",
                mode, daemon.pid());
    }

    /** ".." of the root: the root itself (as the kernel's own lookups make it) or an error. */
    private static long lookupOrRoot(FuseClient fuse, long parent, String name) {
        try {
            return fuse.lookup(parent, name);
        } catch (java.io.IOException e) {
            return parent;
        }
    }
}
