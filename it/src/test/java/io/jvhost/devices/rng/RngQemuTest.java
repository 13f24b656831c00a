package io.jvhost.devices.rng;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuGuest;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real peer: QEMU 10's vhost-user-rng-pci with a Linux guest reads from /dev/hwrng through
 * the `jvhost rng` daemon; afterwards the daemon serves the next front-end.
 */
@QemuTest
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class RngQemuTest {
    private static final Duration BOOT = Duration.ofSeconds(150);

    @Test
    void linuxGuestReadsOneMebibyteFromHwrngThroughJvhost(TestRun run) throws Exception {
        int bytes = 1 << 20;
        Path socket = run.socket("rng");
        ManagedProcess rng = JvhostDaemon.start(run, "jvhost-rng", socket, "rng");
        long t0 = System.nanoTime();
        QemuGuest vm = QemuGuest.builder(run, "vm")
                .scenario("rng")
                .kernelArg("rng_bytes", bytes)
                .vhostUser("vhost-user-rng-pci", socket)
                .traceVhostUser()
                .watch(rng)
                .start();
        vm.awaitReady(BOOT);
        MatchResult current = vm.awaitSerialLine("^RNG-CURRENT (\\S+)", Duration.ofSeconds(60));
        assertTrue(current.group(1).startsWith("virtio_rng"), () -> "rng_current=" + current.group(1));
        MatchResult result = vm.awaitSerialLine("^RNG-(OK|FAIL) (.*)", Duration.ofSeconds(240));
        assertEquals("OK", result.group(1), () -> "guest said: " + result.group());
        Matcher m = Pattern.compile("bytes=(\\d+) sha=([0-9a-f]{64})").matcher(result.group(2));
        assertTrue(m.find(), result.group());
        assertEquals(bytes, Integer.parseInt(m.group(1)));
        assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)), "QEMU exit code after the guest powered off");
        assertFalse(
                vm.qemuLog().contains(QemuGuest.UNWANTED_CONFIG_WARNING),
                () -> "rng has no config space, so no PROTOCOL_F_CONFIG: " + vm.qemuLogPath());
        double secs = (System.nanoTime() - t0) / 1e9;
        // QEMU really talked vhost-user to us: ring setup and kicks went through the protocol.
        String trace = vm.traceLog();
        assertTrue(
                trace.contains("vhost_user_write req:37 ") || trace.contains("vhost_user_write req:5 "),
                "QEMU sent guest memory (ADD_MEM_REG or SET_MEM_TABLE)");
        assertTrue(trace.contains("vhost_user_write req:12 "), "QEMU sent SET_VRING_KICK");

        assertTrue(rng.isAlive(), "the daemon outlives its front-end");
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            assertEquals(4096, d.request(0, List.of(), 4096, Duration.ofSeconds(10)).length);
        }
        run.note("vhost-user-rng: guest read %d bytes from /dev/hwrng; boot+read %.1f s", bytes, secs);
    }
}
