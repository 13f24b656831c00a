package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code jvhost virtiofsd} (what {@code ./jvhost-virtiofsd} runs) as libvirt starts virtiofsd:
 * a listening socket inherited as {@code --fd=3} and the flags a domain's XML gives, serving a
 * Linux guest under QEMU 10; it exits by itself when QEMU disconnects, and SIGTERM while a guest
 * writes through it ends it about as fast as virtiofsd (noted, measured against virtiofsd in
 * the same run).
 */
@QemuTest
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class VirtiofsdDropInQemuTest {
    private static final int ROUNDS = 3;
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(90);

    @Test
    void servesAGuestStartedAsLibvirtStartsVirtiofsdAndExitsWithQemu(TestRun run) throws Exception {
        Path activate = Stream.of("/usr/bin/systemd-socket-activate", "/bin/systemd-socket-activate")
                .map(Path::of)
                .filter(Files::isExecutable)
                .findFirst()
                .orElse(null);
        assumeTrue(activate != null, "systemd-socket-activate passes a listening socket as fd 3, as libvirt does");
        Path shared = run.dir("shared");
        String hostText = "written by the host\n";
        Files.writeString(shared.resolve("host.txt"), hostText);
        Path socket = run.socket("fs");
        List<String> argv = new ArrayList<>(List.of(activate.toString(), "-l", socket.toString()));
        argv.addAll(JvhostDaemon.argv(
                "virtiofsd",
                "--fd=3",
                "--shared-dir",
                shared.toString(),
                "--cache",
                "always",
                "--xattr",
                "--thread-pool-size=4",
                "--rlimit-nofile=4096",
                "--sandbox",
                "none",
                "--seccomp=none",
                "--log-level",
                "debug"));
        ManagedProcess daemon = run.start("jvhost-virtiofsd", argv);
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(30), daemon);
        String token = UUID.randomUUID().toString();
        QemuGuest vm = QemuGuest.builder(run, "vm")
                .scenario("fs-mount")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("fs_token", token)
                .kernelArg("fs_read", "host.txt")
                .vhostUserFs(socket, "myfs")
                .start();
        vm.awaitReady(BOOT);
        MatchResult mounted = vm.awaitSerialLine("^FS-(MOUNTED|FAIL) (.*)", STEP);
        assertEquals("MOUNTED", mounted.group(1), mounted::group);
        String limits = Files.readString(Path.of("/proc/" + daemon.pid() + "/limits"));
        assertTrue(
                limits.lines().anyMatch(l -> l.matches("Max open files\\s+4096\\s+4096\\s+files\\s*")),
                () -> "--rlimit-nofile=4096 sets both limits:\n" + limits);
        MatchResult read = vm.awaitSerialLine("^FS-(READ|FAIL) (.*)", STEP);
        assertEquals("READ", read.group(1), read::group);
        assertTrue(read.group(2).contains("bytes=" + hostText.length()), read.group());
        MatchResult ok = vm.awaitSerialLine("^FS-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", ok.group(1), ok::group);
        assertEquals(0, vm.awaitExit(STEP), "QEMU exit code after the guest powered off");
        assertTrue(
                daemon.awaitExit(Duration.ofSeconds(30)),
                () -> "still running after QEMU left:\n" + daemon.logTail(20));
        assertEquals(0, daemon.exitCode().getAsInt(), () -> daemon.logTail(20));
        daemon.awaitLogLine(Pattern.compile("front-end disconnected, shutting down"), STEP);
        assertEquals(
                "jvhost-guest token=" + token + " kernel="
                        + run.deps().guestKernel().release() + "\n",
                Files.readString(shared.resolve("guest-hello.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void sigtermWhileAGuestWritesEndsItAsFastAsVirtiofsd(TestRun run) throws Exception {
        List<Long> ours = new ArrayList<>(), theirs = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Path mine = run.socket("jvhost" + round);
            ManagedProcess jvhost = JvhostDaemon.start(
                    run,
                    "jvhost-virtiofsd" + round,
                    mine,
                    "virtiofsd",
                    "--shared-dir",
                    run.dir("shared-jvhost").toString(),
                    "--sandbox=none",
                    "--seccomp=none");
            ours.add(sigtermWhileTicking(run, "vm-jvhost" + round, mine, jvhost));
            Virtiofsd reference = Virtiofsd.builder(run, "virtiofsd" + round)
                    .sharedDir(run.dir("shared-virtiofsd"))
                    .start();
            theirs.add(sigtermWhileTicking(run, "vm-virtiofsd" + round, reference.socket(), reference.process()));
        }
        run.note(
                "SIGTERM to exit while a guest writes (ms, %d rounds): jvhost virtiofsd median %d %s, virtiofsd median %d %s",
                ROUNDS, median(ours), ours, median(theirs), theirs);
    }

    private static long median(List<Long> xs) {
        return xs.stream().sorted().toList().get(xs.size() / 2);
    }

    /** Boots a guest appending to a file through {@code socket}, SIGTERMs the back-end after a few writes: ms to its exit. */
    private static long sigtermWhileTicking(TestRun run, String name, Path socket, ManagedProcess backend) {
        try (QemuGuest vm = QemuGuest.builder(run, name)
                .scenario("fs-tick")
                .kernelArg("vfs_tag", "myfs")
                .vhostUserFs(socket, "myfs")
                .start()) {
            vm.awaitReady(BOOT);
            vm.awaitSerialLine("^TICK 3 .*write=ok", STEP);
            long t0 = System.nanoTime();
            backend.handle().destroy(); // SIGTERM, as libvirt stops virtiofsd
            assertTrue(backend.awaitExit(Duration.ofSeconds(30)), () -> backend.logTail(20));
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
    }
}
