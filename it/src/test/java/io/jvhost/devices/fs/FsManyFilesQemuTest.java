package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Linux guest under QEMU 10 creates and holds three times as many files as the daemon may
 * open descriptors (jvhost fs run under prlimit, soft and hard limit alike: the JVM raises a
 * soft limit to the hard one at start), then looks each up again and reads it back (the fs-many
 * scenario). With the default --inode-file-handles (prefer) every inode is a file handle and the
 * guest sees all of them; with never, one O_PATH descriptor per inode, the same guest runs out
 * (the check that the limit bites).
 */
@QemuTest
@Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
class FsManyFilesQemuTest {
    static final int FD_LIMIT = 1024;
    static final int FILES = 3 * FD_LIMIT;
    static final Duration BOOT = Duration.ofSeconds(150), RUN = Duration.ofMinutes(4);

    private static ManagedProcess daemon(TestRun run, String name, Path shared, Path socket, String... extra) {
        List<String> args = new ArrayList<>(List.of("fs", "--shared-dir", shared.toString()));
        args.addAll(List.of(extra));
        args.addAll(List.of("--socket-path", socket.toString()));
        List<String> argv = new ArrayList<>(List.of("prlimit", "--nofile=" + FD_LIMIT + ":" + FD_LIMIT, "--"));
        argv.addAll(JvhostDaemon.argv(args.toArray(String[]::new)));
        ManagedProcess p = run.start(name, argv);
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(30), p);
        return p;
    }

    /** Boots the fs-many guest on {@code socket}; returns its MANY-OK or MANY-FAIL line, after the guest powered off. */
    private static String guest(TestRun run, String name, Path socket, ManagedProcess backend) throws Exception {
        QemuGuest vm = QemuGuest.builder(run, name)
                .scenario("fs-many")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("many_files", FILES)
                .memory("512M")
                .vhostUserFs(socket, "myfs")
                .watch(backend)
                .start();
        vm.awaitReady(BOOT);
        MatchResult created = vm.awaitSerialLine("^MANY-(CREATED|FAIL) (.*)", RUN);
        run.note("%s: %s", name, created.group());
        MatchResult done = vm.awaitSerialLine("^MANY-(OK|FAIL) (.*)", RUN);
        assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)), "QEMU exit code after the guest powered off");
        return done.group();
    }

    private static long hostFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void theGuestSeesMoreFilesThanTheDaemonsFdLimit(TestRun run) throws Exception {
        Path shared = run.dir("shared-prefer");
        Path sock = run.socket("jvhost-fs-prefer");
        ManagedProcess jvhost = daemon(run, "jvhost-fs-prefer", shared, sock);
        long t0 = System.nanoTime();
        String result = guest(run, "vm-prefer", sock, jvhost);
        run.note("prefer, fd limit %d: %s in %.1f s", FD_LIMIT, result, (System.nanoTime() - t0) / 1e9);
        assertTrue(result.startsWith("MANY-OK n=" + FILES + " listed=" + FILES), result);
        assertEquals(FILES, hostFiles(shared.resolve("many")), "every file is on the host");
        assertTrue(jvhost.isAlive(), "the daemon serves on");

        Path old = run.dir("shared-never");
        Path oldSock = run.socket("jvhost-fs-never");
        ManagedProcess never = daemon(run, "jvhost-fs-never", old, oldSock, "--inode-file-handles", "never");
        String failed = guest(run, "vm-never", oldSock, never);
        run.note("never, fd limit %d: %s", FD_LIMIT, failed);
        assertTrue(failed.startsWith("MANY-FAIL created-failed="), "one descriptor per inode runs out: " + failed);
    }
}
