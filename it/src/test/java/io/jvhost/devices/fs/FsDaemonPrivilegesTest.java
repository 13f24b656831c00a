package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.CallerRequests.*;
import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Errno;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The daemons as their own processes, started as root with supplementary group 0 as a service
 * manager may start them (issue 14, row 9 and the capability measurements): a guest caller of
 * uid 1000 gets nothing through the daemon's groups, and every thread of the daemon runs with
 * no supplementary group, only the capabilities it needs and no_new_privs; an inherited
 * listening socket (--fd) still serves afterwards.
 */
class FsDaemonPrivilegesTest {
    private static final Duration T = Duration.ofSeconds(30);
    private static final int UID = 1000, GID = 1000;
    /** CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, SETGID, SETUID, MKNOD, SETFCAP. */
    private static final long FS_CAPS = 0x8800_00dfL;

    @BeforeEach
    void root() throws Exception {
        assumeTrue(ProcessHandle.current().info().user().map("root"::equals).orElse(false), "needs root");
    }

    @Test
    void aGuestCallerGetsNothingThroughTheDaemonsGroups() throws Exception {
        try (TestRun run = TestRun.create("FsDaemonPrivilegesTest.groups")) {
            Path shared = run.dir("shared");
            Path rootOnly = Files.createDirectory(shared.resolve("rootonly"));
            chmod("0770", rootOnly);
            Path setgidDir = Files.createDirectory(shared.resolve("sgid"));
            chmod("2777", setgidDir);
            Files.writeString(shared.resolve("plain"), "x");
            Path socket = run.socket("fs");
            List<String> argv = withGroup0(JvhostDaemon.argv(
                    "fs", "--shared-dir", shared.toString(), "--xattr", "--socket-path", socket.toString()));
            ManagedProcess daemon = run.start("fs", argv);
            UnixSockets.awaitSocketFile(socket, T, daemon);
            try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
                CallerRequests guest = new CallerRequests(d);
                guest.init().ok();

                long ro = guest.lookup(1, "rootonly");
                assertEquals(
                        -Errno.EACCES,
                        guest.call(CREATE, ro, UID, GID, createArgs("f", 0644, 0101), new byte[0], ENTRY + OPEN_OUT)
                                .error(),
                        "uid 1000 is not in group 0");
                assertFalse(Files.exists(rootOnly.resolve("f")));

                long sg = guest.lookup(1, "sgid");
                guest.call(CREATE, sg, UID, GID, createArgs("tool", 02755, 0101), new byte[0], ENTRY + OPEN_OUT)
                        .ok();
                Path tool = setgidDir.resolve("tool");
                assertEquals(0, Files.getAttribute(tool, "unix:gid"), "the setgid directory's group");
                assertEquals(
                        0,
                        (int) Files.getAttribute(tool, "unix:mode") & 02000,
                        "a caller outside group 0 makes no set-group-ID file of group 0");

                long plain = guest.lookup(1, "plain");
                assertEquals(
                        -Errno.EPERM,
                        guest.call(
                                        SETXATTR,
                                        plain,
                                        args().u32(1)
                                                .u32(0)
                                                .name("trusted.jvhost")
                                                .bytes(new byte[] {1})
                                                .build(),
                                        OUT_HEADER)
                                .error(),
                        "trusted.* needs CAP_SYS_ADMIN");
            }
            assertReduced(daemon, FS_CAPS);
        }
    }

    @Test
    void anInheritedSocketServesAfterThePrivilegesAreDropped() throws Exception {
        Path activate = Stream.of("/usr/bin/systemd-socket-activate", "/bin/systemd-socket-activate")
                .map(Path::of)
                .filter(Files::isExecutable)
                .findFirst()
                .orElse(null);
        assumeTrue(activate != null, "systemd-socket-activate passes a listening socket as fd 3");
        try (TestRun run = TestRun.create("FsDaemonPrivilegesTest.fd")) {
            Path shared = run.dir("shared");
            Path socket = run.socket("fs");
            List<String> argv = new ArrayList<>(List.of(activate.toString(), "-l", socket.toString()));
            argv.addAll(JvhostDaemon.argv("fs", "--shared-dir", shared.toString(), "--fd", "3"));
            ManagedProcess daemon = run.start("fs", withGroup0(argv));
            UnixSockets.awaitSocketFile(socket, T, daemon);
            try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
                CallerRequests guest = new CallerRequests(d);
                guest.init().ok();
                guest.call(MKDIR, 1, args().u32(0755).u32(0).name("made").build(), ENTRY)
                        .ok();
            }
            assertTrue(Files.isDirectory(shared.resolve("made")));
            assertReduced(daemon, FS_CAPS);
        }
    }

    @Test
    void denyPrivilegedFilesReachesTheFileSystem() throws Exception {
        try (TestRun run = TestRun.create("FsDaemonPrivilegesTest.deny")) {
            Path shared = run.dir("shared");
            Path socket = run.socket("fs");
            ManagedProcess daemon = run.start(
                    "fs",
                    JvhostDaemon.argv(
                            "fs",
                            "--shared-dir",
                            shared.toString(),
                            "--deny-privileged-files",
                            "--socket-path",
                            socket.toString()));
            UnixSockets.awaitSocketFile(socket, T, daemon);
            try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
                CallerRequests guest = new CallerRequests(d);
                guest.init().ok();
                guest.call(CREATE, 1, 0, 0, createArgs("tool", 04755, 0101), new byte[0], ENTRY + OPEN_OUT)
                        .ok();
            }
            assertEquals(0755, (int) Files.getAttribute(shared.resolve("tool"), "unix:mode") & 07777);
        }
    }

    @Test
    void theRngDaemonKeepsNoCapability() throws Exception {
        try (TestRun run = TestRun.create("FsDaemonPrivilegesTest.rng")) {
            Path socket = run.socket("rng");
            ManagedProcess daemon =
                    run.start("rng", withGroup0(JvhostDaemon.argv("rng", "--socket-path", socket.toString())));
            UnixSockets.awaitSocketFile(socket, T, daemon);
            assertReduced(daemon, 0);
        }
    }

    /** Every thread of {@code daemon}: no supplementary group, exactly {@code caps}, no_new_privs. */
    private static void assertReduced(ManagedProcess daemon, long caps) throws Exception {
        daemon.assertAlive();
        Map<String, Map<String, String>> tasks = new LinkedHashMap<>();
        tasks.put("process", status(Path.of("/proc/" + daemon.pid() + "/status")));
        try (Stream<Path> list = Files.list(Path.of("/proc/" + daemon.pid() + "/task"))) {
            for (Path t : list.toList()) tasks.put("task " + t.getFileName(), status(t.resolve("status")));
        }
        assertTrue(tasks.size() > 3, "the JVM's threads are there: " + tasks.keySet());
        // What the daemon can have at most: this JVM's own (a container may hold fewer than all).
        long own = Long.parseUnsignedLong(status(Path.of("/proc/self/status")).get("CapPrm"), 16);
        String hex = String.format("%016x", caps & own);
        for (Map.Entry<String, Map<String, String>> t : tasks.entrySet()) {
            Map<String, String> s = t.getValue();
            if (s.isEmpty()) continue; // ended meanwhile
            String who = t.getKey() + " (" + s.get("Name") + ")";
            assertEquals("", s.get("Groups"), who + " Groups");
            assertEquals(hex, s.get("CapEff"), who + " CapEff");
            assertEquals(hex, s.get("CapPrm"), who + " CapPrm");
            assertEquals(hex, s.get("CapBnd"), who + " CapBnd");
            assertEquals("0000000000000000", s.get("CapInh"), who + " CapInh");
            assertEquals("0000000000000000", s.get("CapAmb"), who + " CapAmb");
            assertEquals("1", s.get("NoNewPrivs"), who + " NoNewPrivs");
        }
    }

    private static Map<String, String> status(Path file) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0)
                    out.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        } catch (java.io.IOException gone) {
            // ENOENT or ESRCH: a thread that ended meanwhile
        }
        return out;
    }

    /** {@code argv} started with supplementary group 0 (setpriv execs it: the pid stays the daemon's). */
    private static List<String> withGroup0(List<String> argv) {
        List<String> out = new ArrayList<>(List.of("setpriv", "--groups", "0", "--"));
        out.addAll(argv);
        return out;
    }

    private static void chmod(String mode, Path p) throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("chmod", mode, p.toString())
                        .inheritIO()
                        .start()
                        .waitFor());
    }
}
