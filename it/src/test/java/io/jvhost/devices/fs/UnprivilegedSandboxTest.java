package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ./jvhost-virtiofsd --sandbox namespace} run by an unprivileged user, as libvirt's session
 * mode runs it: the launcher places the daemon in a user namespace of its own (with the mount, pid
 * and net namespaces and the view of the root sandbox), mapped as --uid-map/--gid-map say or, by
 * default, the user's ids to themselves. A file the guest's root creates belongs to the user on
 * the host. The test runs as root and drops to a uid that owns the share (setpriv), so it needs
 * root and the launcher (tagged as the QEMU tests are; no guest is booted).
 */
@QemuTest
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class UnprivilegedSandboxTest {
    /** No user of this machine: nothing but the share and the socket's directory belongs to it. */
    private static final int USER = 4711;

    private static List<String> asUser(TestRun run, String... args) {
        List<String> argv = new ArrayList<>(List.of(
                "setpriv",
                "--reuid=" + USER,
                "--regid=" + USER,
                "--clear-groups",
                "--",
                run.deps().repoRoot().resolve("jvhost-virtiofsd").toString()));
        argv.addAll(List.of(args));
        return argv;
    }

    /** A directory the user owns, under the run's (kept) log directory, which it can reach. */
    private static Path owned(TestRun run, String name) throws Exception {
        Path d = run.dir(name);
        Files.setAttribute(d, "unix:uid", USER);
        Files.setAttribute(d, "unix:gid", USER);
        return d;
    }

    /** A directory for the socket the user owns, short enough for a socket path (the log directory's is not). */
    private static Path socketDir(TestRun run) throws Exception {
        Path d = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "jvu-");
        Files.setAttribute(d, "unix:uid", USER);
        Files.setAttribute(d, "unix:gid", USER);
        run.register(() -> {
            try (var files = Files.walk(d)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        });
        return d;
    }

    /** Built and its AOT cache recorded as root first: the user can write nothing in the checkout. */
    private static void buildAsRoot(TestRun run) throws Exception {
        ManagedProcess p = run.start(
                "build",
                List.of(run.deps().repoRoot().resolve("jvhost-virtiofsd").toString(), "--print-capabilities"));
        assertTrue(p.awaitExit(Duration.ofMinutes(2)), "the launcher builds");
        assertEquals(0, p.exitCode().getAsInt(), p.logTail(20));
    }

    @ParameterizedTest(name = "maps: {0}")
    @ValueSource(strings = {"root", "default"})
    void theDaemonRunsInItsOwnUserNamespaceAndCreatesAsTheUser(String maps, TestRun run) throws Exception {
        buildAsRoot(run);
        Path top = owned(run, "user-" + maps);
        Path shared = Files.createDirectory(top.resolve("share"));
        Path sockets = socketDir(run);
        for (Path p : List.of(shared, sockets)) {
            Files.setAttribute(p, "unix:uid", USER);
            Files.setAttribute(p, "unix:gid", USER);
        }
        Files.writeString(top.resolve("beside.txt"), "not shared\n");
        Path socket = sockets.resolve("vfs.sock");
        List<String> args = new ArrayList<>(List.of(
                "--socket-path", socket.toString(), "--shared-dir", shared.toString(), "--sandbox", "namespace"));
        if (maps.equals("root"))
            args.addAll(List.of("--uid-map=:0:" + USER + ":1:", "--gid-map", ":0:" + USER + ":1:"));
        ManagedProcess launcher = run.start("jvhost-virtiofsd-" + maps, asUser(run, args.toArray(String[]::new)));
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(60), launcher);
        ProcessHandle daemon = launcher.handle()
                .descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no java under the launcher"));
        Path proc = Path.of("/proc", Long.toString(daemon.pid()));

        // Its own user namespace, mapped as asked (as this, the initial namespace, sees it).
        assertNotEquals(
                Files.readSymbolicLink(Path.of("/proc/self/ns/user")), Files.readSymbolicLink(proc.resolve("ns/user")));
        String inside = maps.equals("root") ? "0" : Integer.toString(USER);
        for (String map : List.of("uid_map", "gid_map")) {
            List<String> lines = Files.readAllLines(proc.resolve(map));
            assertEquals(
                    List.of(inside + " " + USER + " 1"),
                    lines.stream()
                            .map(l -> String.join(" ", l.trim().split("\\s+")))
                            .toList(),
                    map);
        }
        String status = Files.readString(proc.resolve("status"));
        assertTrue(status.contains("\nUid:\t" + USER + "\t" + USER + "\t" + USER + "\t" + USER + "\n"), status);
        for (String ns : List.of("pid", "net", "mnt"))
            assertNotEquals(
                    Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)),
                    Files.readSymbolicLink(proc.resolve("ns/" + ns)),
                    ns + " namespace");
        Path root = proc.resolve("root");
        assertTrue(Files.isDirectory(root.resolve(shared.toString().substring(1))), "the share is in its view");
        assertFalse(
                Files.exists(root.resolve(top.resolve("beside.txt").toString().substring(1))), "beside the share");
        for (String host : List.of("etc/shadow", "root", "home", "var", "sys", "run"))
            assertFalse(Files.exists(root.resolve(host)), host + " exists for the daemon");
        // /tmp holds the socket's directory, and the way to the jars where the checkout itself is under /tmp.
        List<Path> inTmp = new ArrayList<>(List.of(sockets.getFileName()));
        Path repo = run.deps().repoRoot().toRealPath();
        if (repo.startsWith("/tmp") && repo.getNameCount() > 1) inTmp.add(repo.getName(1));
        try (var tmp = Files.list(root.resolve("tmp"))) {
            assertEquals(
                    inTmp.stream().sorted().toList(),
                    tmp.map(Path::getFileName).sorted().toList(),
                    "/tmp: the socket's only (and the checkout's)");
        }

        GuestDriver driver = GuestDriver.connect(socket, new GuestDriver.Options(2, 256, 16L << 20, 0, false, false));
        try {
            FuseClient fuse = new FuseClient(driver, Duration.ofSeconds(30));
            fuse.init();
            FuseClient.OpenFile f = fuse.create(FuseClient.ROOT_ID, "by-guest-root.txt");
            fuse.write(f, 0, "written by the guest\n".getBytes());
            fuse.release(f);
        } finally {
            driver.close();
        }
        Path made = shared.resolve("by-guest-root.txt");
        assertEquals("written by the guest\n", Files.readString(made));
        assertEquals(USER, Files.getAttribute(made, "unix:uid", LinkOption.NOFOLLOW_LINKS), "host owner");
        assertEquals(USER, Files.getAttribute(made, "unix:gid", LinkOption.NOFOLLOW_LINKS), "host group");
        assertTrue(launcher.awaitExit(Duration.ofSeconds(30)), "exits when its front-end disconnects");
        assertEquals(0, launcher.exitCode().getAsInt(), launcher.logTail(30));
        assertFalse(Files.exists(socket), "the launcher removed the socket's name");
        run.note(
                "unprivileged --sandbox namespace (%s maps): daemon pid %d in its own user namespace",
                maps, daemon.pid());
    }

    /**
     * SIGTERM to the launcher reaches the daemon (pid 1 of its namespace, whose handler exits with
     * 143), not only the launcher's SIGKILL fallback two seconds later (137): the launcher reads
     * the daemon's pid from unshare's /proc/PID/task/PID/children, which ends without a newline.
     */
    @ParameterizedTest(name = "as {0}")
    @ValueSource(strings = {"root", "user"})
    void sigtermToTheLauncherIsHandledByTheDaemon(String who, TestRun run) throws Exception {
        buildAsRoot(run);
        Path shared = Files.createDirectory(owned(run, "term-" + who).resolve("share"));
        Path sockets = socketDir(run);
        Files.setAttribute(shared, "unix:uid", USER);
        Path socket = sockets.resolve("t.sock");
        String[] args = {"--socket-path", socket.toString(), "--shared-dir", shared.toString()};
        List<String> argv = new ArrayList<>(asUser(run, args));
        if (who.equals("root")) argv = argv.subList(argv.indexOf("--") + 1, argv.size());
        ManagedProcess launcher = run.start("term-" + who, argv);
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(60), launcher);
        launcher.handle()
                .descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no java under the launcher"));
        Thread.sleep(300); // the JVM's handler is installed before it listens; this leaves it settled
        launcher.process().destroy(); // SIGTERM
        assertTrue(launcher.awaitExit(Duration.ofSeconds(30)));
        assertEquals(143, launcher.exitCode().getAsInt(), "the daemon's own exit on SIGTERM: " + launcher.logTail(10));
    }

    @Test
    void whatVirtiofsdRefusesAnUnprivilegedUserIsRefused(TestRun run) throws Exception {
        buildAsRoot(run);
        Path top = owned(run, "refusals");
        Path shared = Files.createDirectory(top.resolve("share"));
        Files.setAttribute(shared, "unix:uid", USER);
        String socket = socketDir(run).resolve("r.sock").toString();
        record Case(String name, List<String> args, String message) {}
        for (Case c : List.of(
                new Case("chroot", List.of("--sandbox", "chroot"), "sandbox mode 'chroot' can only be used by root"),
                new Case(
                        "uid-map-none",
                        List.of("--sandbox", "none", "--uid-map", ":0:" + USER + ":1:"),
                        "--uid-map: can only be used by an unprivileged user with --sandbox namespace"))) {
            List<String> args = new ArrayList<>(List.of("--socket-path", socket, "--shared-dir", shared.toString()));
            args.addAll(c.args);
            ManagedProcess p = run.start("refused-" + c.name, asUser(run, args.toArray(String[]::new)));
            assertTrue(p.awaitExit(Duration.ofSeconds(60)), c.name);
            assertEquals(2, p.exitCode().getAsInt(), p.logTail(10));
            assertTrue(p.logTail(10).contains(c.message), c.name + ": " + p.logTail(10));
        }
        // As root (no user namespace is made), the maps are refused too, as by virtiofsd.
        ManagedProcess p = run.start(
                "refused-root",
                List.of(
                        run.deps().repoRoot().resolve("jvhost-virtiofsd").toString(),
                        "--socket-path",
                        socket,
                        "--shared-dir",
                        shared.toString(),
                        "--gid-map=:0:0:1:"));
        assertTrue(p.awaitExit(Duration.ofSeconds(60)));
        assertEquals(2, p.exitCode().getAsInt(), p.logTail(10));
        assertTrue(p.logTail(10).contains("--gid-map: can only be used by an unprivileged user"), p.logTail(10));
    }
}
