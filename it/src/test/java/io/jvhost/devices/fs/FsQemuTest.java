package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.BackendServer;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real peer: a Linux guest in QEMU 10 mounts jvhost's virtio-fs device (vhost-user-fs-pci,
 * served in-process over the in-memory test file system), reads a host file, writes one, reads
 * it back, syncs and unmounts: the FUSE ABI as the kernel's virtio-fs driver speaks it.
 */
@QemuTest
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class FsQemuTest {
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(90);

    @Test
    void linuxGuestMountsReadsAndWritesThroughJvhost(TestRun run) throws Exception {
        long t0 = System.nanoTime();
        MemoryFs fs = FuseHarness.defaultFs();
        String hostText = "written by the host\nsecond line\n";
        fs.addFile("host.txt", hostText.getBytes(StandardCharsets.UTF_8));
        // No tag on our side, as `jvhost fs` without --tag (and virtiofsd): QEMU's vhost-user-fs-pci
        // builds the guest's config space from its own tag= property and never asks the back-end
        // (GET_CONFIG), so "myfs" mounts, and no PROTOCOL_F_CONFIG is offered for QEMU to warn about.
        FsDevice device = new FsDevice(Optional.empty(), 1, new FuseServer(fs), 0);
        Path socket = run.socket("fs");
        BackendServer server = run.register(BackendServer.listen(socket, device));
        Thread serving = Thread.ofPlatform().daemon().name("fs-backend").start(() -> {
            try {
                server.serveOne();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
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
        MatchResult read = vm.awaitSerialLine("^FS-(READ|FAIL) (.*)", STEP);
        assertEquals("READ", read.group(1), read::group);
        assertTrue(read.group(2).contains("bytes=" + hostText.length() + " sha=" + sha256(hostText)), read.group());
        MatchResult ok = vm.awaitSerialLine("^FS-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", ok.group(1), ok::group);
        assertEquals(0, vm.awaitExit(STEP), "QEMU exit code after the guest powered off");
        assertFalse(
                vm.qemuLog().contains(QemuGuest.UNWANTED_CONFIG_WARNING),
                () -> "QEMU builds the fs config itself: no PROTOCOL_F_CONFIG for it: " + vm.qemuLogPath());
        serving.join(10_000);

        String expected = "jvhost-guest token=" + token + " kernel="
                + run.deps().guestKernel().release() + "\n";
        MemoryFs.Node root = fs.node(FileSystem.ROOT_ID);
        Long written = root.children.get("guest-hello.txt");
        assertNotNull(written, "the guest's file exists in the file system: " + root.children.keySet());
        assertEquals(expected, new String(fs.contents(written), StandardCharsets.UTF_8));
        assertEquals(0, device.server().unexpectedFailures());
        TreeSet<String> ops = new TreeSet<>();
        for (String c : fs.calls) ops.add(c.replaceAll(":.*", ""));
        run.note(
                "virtio-fs: the guest mounted, read and wrote through jvhost in %s; file-system calls: %s",
                TestRun.secs(Duration.ofNanos(System.nanoTime() - t0)), ops);
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
