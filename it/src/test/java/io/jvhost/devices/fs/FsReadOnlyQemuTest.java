package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code jvhost-virtiofsd --readonly} serving a Linux guest under QEMU 10 (the fs-readonly
 * scenario): the guest reads the host's file, and each change it tries (create, append, mkdir,
 * rm, mv, link, symlink, touch, chmod, truncate, mknod) fails with "Read-only file system",
 * leaving the share as it was; virtiofsd 1.13 --readonly, the reference, in the same run.
 */
@QemuTest
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FsReadOnlyQemuTest {
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(90);

    @Test
    void aReadOnlyShareRefusesEveryChangeAsVirtiofsdDoes(TestRun run) throws Exception {
        Path mine = share(run, "shared-jvhost");
        Path socket = run.socket("jvhost-ro");
        ManagedProcess jvhost = JvhostDaemon.start(
                run,
                "jvhost-virtiofsd-ro",
                socket,
                "virtiofsd",
                "--shared-dir",
                mine.toString(),
                "--readonly",
                "--sandbox=none",
                "--seccomp=none");
        String ours = guest(run, "vm-jvhost", socket, jvhost);
        assertEquals(List.of("host.txt"), listing(mine));

        Path theirs = share(run, "shared-virtiofsd");
        Virtiofsd reference = Virtiofsd.builder(run, "virtiofsd-ro")
                .sharedDir(theirs)
                .args("--readonly")
                .start();
        String virtiofsd = guest(run, "vm-virtiofsd", reference.socket(), reference.process());
        run.note("jvhost: %s; virtiofsd: %s", ours, virtiofsd);
        assertEquals(virtiofsd.replaceAll(" up=.*", ""), ours.replaceAll(" up=.*", ""), "as virtiofsd");
    }

    private static Path share(TestRun run, String name) throws Exception {
        Path dir = run.dir(name);
        Files.writeString(dir.resolve("host.txt"), "written by the host\n");
        return dir;
    }

    /** Boots the fs-readonly guest; its RO-OK line, after the guest powered off. */
    private static String guest(TestRun run, String name, Path socket, ManagedProcess backend) throws Exception {
        QemuGuest vm = QemuGuest.builder(run, name)
                .scenario("fs-readonly")
                .kernelArg("vfs_tag", "myfs")
                .vhostUserFs(socket, "myfs")
                .watch(backend)
                .start();
        vm.awaitReady(BOOT);
        MatchResult read = vm.awaitSerialLine("^RO-(READ|FAIL) (.*)", STEP);
        assertEquals("READ", read.group(1), read::group);
        MatchResult done = vm.awaitSerialLine("^RO-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", done.group(1), done::group);
        assertEquals(0, vm.awaitExit(STEP), "QEMU exit code after the guest powered off");
        return done.group();
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
