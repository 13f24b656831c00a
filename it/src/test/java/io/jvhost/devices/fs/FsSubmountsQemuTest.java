package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./jvhost-virtiofsd --writeback}, otherwise with virtiofsd's defaults (submounts
 * announced, namespace sandbox, seccomp kill), serving a Linux guest under QEMU 10 (the
 * fs-submounts scenario) a shared directory with a tmpfs mounted inside it on the host: the guest
 * sees the mount point as a mount of its own (a /proc/mounts line, another st_dev) and reads and
 * writes in it; with the writeback cache a file written through a write-only descriptor and one
 * appended to (O_APPEND) end up right on the host. virtiofsd 1.13 with the same flags, the
 * reference, in the same run.
 */
@QemuTest
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class FsSubmountsQemuTest {
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(90);

    @Test
    void aHostMountInsideTheShareIsTheGuestsSubmountAndWritebackWritesRight(TestRun run) throws Exception {
        List<Path> mounts = new ArrayList<>();
        try {
            Path mine = share(run, "shared-jvhost", mounts);
            Path socket = run.socket("jvhost-sub");
            ManagedProcess jvhost = run.start(
                    "jvhost-virtiofsd-sub",
                    List.of(
                            run.deps().repoRoot().resolve("jvhost-virtiofsd").toString(),
                            "--socket-path",
                            socket.toString(),
                            "--shared-dir",
                            mine.toString(),
                            "--writeback"));
            UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(60), jvhost);
            String ours = guest(run, "vm-jvhost", socket, jvhost);
            check(mine);

            Path theirs = share(run, "shared-virtiofsd", mounts);
            Virtiofsd reference = Virtiofsd.builder(run, "virtiofsd-sub")
                    .sharedDir(theirs)
                    .args("--writeback")
                    .start();
            String virtiofsd = guest(run, "vm-virtiofsd", reference.socket(), reference.process());
            check(theirs);
            run.note("jvhost: %s; virtiofsd: %s", ours, virtiofsd);
            assertEquals(virtiofsd, ours, "as virtiofsd");
        } finally {
            for (Path m : mounts) run(List.of("umount", "-l", m.toString()));
        }
    }

    /** A share with host.txt, wo.txt, app.txt and a tmpfs at sub holding inner.txt. */
    private static Path share(TestRun run, String name, List<Path> mounts) throws Exception {
        Path dir = run.dir(name);
        Files.writeString(dir.resolve("wo.txt"), "0123456789");
        Files.writeString(dir.resolve("app.txt"), "line1\n");
        Path sub = Files.createDirectory(dir.resolve("sub"));
        run(List.of("mount", "-t", "tmpfs", "-o", "size=4m", "fsflags-" + name, sub.toString()));
        mounts.add(sub);
        Files.writeString(sub.resolve("inner.txt"), "on the host's tmpfs\n");
        return dir;
    }

    /** What the guest left on the host: its file on the tmpfs, the write-only and appended files. */
    private static void check(Path share) throws Exception {
        assertEquals("written by the guest\n", Files.readString(share.resolve("sub/guest.txt")));
        assertEquals("0123456789".replace("23", "XY"), Files.readString(share.resolve("wo.txt")));
        assertEquals("line1\nline2\nline3\n", Files.readString(share.resolve("app.txt")));
        assertEquals(
                List.of(),
                listingOf(share.resolve("sub")).stream()
                        .filter(n -> !List.of("inner.txt", "guest.txt").contains(n))
                        .toList());
    }

    /**
     * Boots the fs-submounts guest; what it saw (the device numbers themselves left out: they
     * are the guest's own), after it powered off.
     */
    private static String guest(TestRun run, String name, Path socket, ManagedProcess backend) throws Exception {
        QemuGuest vm = QemuGuest.builder(run, name)
                .scenario("fs-submounts")
                .kernelArg("vfs_tag", "myfs")
                .vhostUserFs(socket, "myfs")
                .watch(backend)
                .start();
        vm.awaitReady(BOOT);
        MatchResult seen = vm.awaitSerialLine("^(SUB-SEEN dev=(\\d+) subdev=(\\d+) .*|SUB-FAIL .*)", STEP);
        MatchResult sub = vm.awaitSerialLine("^SUB-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", sub.group(1), seen.group() + " / " + sub.group());
        assertNotEquals(seen.group(2), seen.group(3), "the submount has a device number of its own");
        MatchResult wb = vm.awaitSerialLine("^WB-(DONE|FAIL) (.*)", STEP);
        assertEquals("DONE", wb.group(1), wb::group);
        assertEquals(0, vm.awaitExit(STEP), "QEMU exit code after the guest powered off");
        return sub.group() + "; " + wb.group().replaceAll(" up=.*", "");
    }

    private static List<String> listingOf(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }
}
