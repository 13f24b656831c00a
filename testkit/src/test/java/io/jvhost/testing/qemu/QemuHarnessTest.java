package io.jvhost.testing.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves the harness against real peers: QEMU's built-in virtio-rng, the reference virtiofsd, and
 * a live migration between two QEMUs each with its own virtiofsd.
 */
@QemuTest
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
class QemuHarnessTest {
    static final Duration BOOT = Duration.ofSeconds(150);
    static final Duration STEP = Duration.ofSeconds(60);

    @Test
    void builtinVirtioRngFeedsHwrng(TestRun run) throws Exception {
        long t0 = System.nanoTime();
        int bytes = 65536;
        QemuGuest vm = QemuGuest.builder(run, "vm")
                .scenario("rng")
                .kernelArg("rng_bytes", bytes)
                .device("virtio-rng-pci")
                .start();
        vm.awaitReady(BOOT);
        MatchResult current = vm.awaitSerialLine("^RNG-CURRENT (\\S+)", STEP);
        MatchResult result = vm.awaitSerialLine("^RNG-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", result.group(1), () -> "guest said: " + result.group());
        assertTrue(current.group(1).startsWith("virtio_rng"), () -> "rng_current=" + current.group(1));
        Matcher m = Pattern.compile("bytes=(\\d+) sha=([0-9a-f]{64})").matcher(result.group(2));
        assertTrue(m.find(), result.group());
        assertEquals(bytes, Integer.parseInt(m.group(1)));
        assertNotEquals(sha256(new byte[bytes]), m.group(2), "the guest read only zeros");
        assertEquals(0, vm.awaitExit(STEP), "QEMU exit code after the guest powered off");
        run.note("rng: %d bytes from virtio-rng-pci, test wall time %s", bytes, TestRun.secs(since(t0)));
    }

    @Test
    void virtiofsdSharesFilesBothWays(TestRun run) throws Exception {
        long t0 = System.nanoTime();
        Path shared = run.dir("shared");
        String hostText = "written by the host " + UUID.randomUUID() + "\nsecond line\n";
        Files.writeString(shared.resolve("host.txt"), hostText);
        String token = UUID.randomUUID().toString();

        Virtiofsd fsd = Virtiofsd.builder(run, "virtiofsd").sharedDir(shared).start();
        QemuGuest vm = QemuGuest.builder(run, "vm")
                .scenario("fs-mount")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("fs_token", token)
                .kernelArg("fs_read", "host.txt")
                .vhostUserFs(fsd.socket(), "myfs")
                .watch(fsd.process())
                .start();
        vm.awaitReady(BOOT);
        MatchResult mounted = vm.awaitSerialLine("^FS-(MOUNTED|FAIL) (.*)", STEP);
        assertEquals("MOUNTED", mounted.group(1), mounted::group);
        MatchResult read = vm.awaitSerialLine("^FS-READ file=host.txt bytes=(\\d+) sha=(\\S+)", STEP);
        assertEquals(hostText.length(), Integer.parseInt(read.group(1)));
        assertEquals(sha256(hostText.getBytes(StandardCharsets.UTF_8)), read.group(2));
        MatchResult ok = vm.awaitSerialLine("^FS-(OK|FAIL) (.*)", STEP);
        assertEquals("OK", ok.group(1), ok::group);
        assertEquals(0, vm.awaitExit(STEP));

        String expected = "jvhost-guest token=" + token + " kernel="
                + run.deps().guestKernel().release() + "\n";
        assertEquals(
                expected,
                Files.readString(shared.resolve("guest-hello.txt")),
                "the file the guest wrote, as the host sees it");
        assertTrue(fsd.process().awaitExit(Duration.ofSeconds(10)), "virtiofsd exits once QEMU disconnects");
        run.note(
                "fs-mount: virtiofsd exit code %d, test wall time %s",
                fsd.process().process().exitValue(), TestRun.secs(since(t0)));
    }

    @Test
    void liveMigrationWithVirtiofsdOnBothSides(TestRun run) throws Exception {
        long t0 = System.nanoTime();
        Path shared = run.dir("shared");
        int preTicks = 5;
        int postTicks = 8;
        Virtiofsd srcFsd = Virtiofsd.builder(run, "virtiofsd-src")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
        Virtiofsd dstFsd =
                Virtiofsd.builder(run, "virtiofsd-dst").sharedDir(shared).start();
        Path migration = run.socket("migration");
        QemuGuest src = guestForMigration(run, "src", srcFsd).start();
        QemuGuest dst = guestForMigration(run, "dst", dstFsd)
                .incoming("unix:" + migration)
                .start();
        UnixSockets.awaitSocketFile(migration, STEP, dst.process());

        src.awaitReady(BOOT);
        src.awaitSerialLine("^TICK " + preTicks + " ", STEP);
        assertEquals("inmigrate", dst.qmp().queryStatus());
        Qmp.MigrationResult result =
                src.qmp().migrate("unix:" + migration, STEP).requireCompleted();
        dst.qmp().awaitStatus("running", Duration.ofSeconds(20));
        assertEquals("postmigrate", src.qmp().queryStatus());
        int srcLast = lastTick(src.serialLines());
        src.qmp().quit();
        src.awaitExit(Duration.ofSeconds(20));

        dst.awaitSerialLine("^TICK " + (srcLast + postTicks) + " ", STEP);
        // The destination's console continues the source's byte stream (a line may even be split
        // across the switch-over), so the two logs joined must read as one gap-free tick sequence.
        List<Tick> all = ticks(List.of((src.serialLog() + dst.serialLog()).split("\n")));
        for (int i = 0; i < all.size(); i++) {
            Tick t = all.get(i);
            assertEquals(i + 1, t.n(), () -> "ticks continue across the migration: " + t);
            assertEquals("ok", t.write(), t::toString);
            assertTrue(t.readback().startsWith("count=" + t.n() + " "), () -> "read-back " + t);
        }
        assertTrue(ticks(dst.serialLines()).getFirst().n() <= srcLast + 2, "the destination picks up the count");
        String counter = Files.readString(shared.resolve("counter.txt"));
        List<Integer> counts = new ArrayList<>();
        Matcher cm = Pattern.compile("(?m)^count=(\\d+) ").matcher(counter);
        while (cm.find()) counts.add(Integer.parseInt(cm.group(1)));
        for (int i = 0; i < counts.size(); i++)
            assertEquals(i + 1, counts.get(i), "gap-free counter in the shared file");
        assertTrue(counts.size() >= srcLast + postTicks, "the destination kept writing: " + counts.size());
        for (QemuGuest g : List.of(src, dst)) {
            String trace = g.traceLog();
            assertTrue(trace.contains("vhost_user_write req:42 "), g.name() + " sent SET_DEVICE_STATE_FD");
            assertTrue(trace.contains("vhost_user_write req:43 "), g.name() + " sent CHECK_DEVICE_STATE");
        }
        run.note(
                "migration: total-time %d ms, downtime %d ms, %d bytes RAM, QMP wall %s; source last tick %d; "
                        + "test wall time %s",
                result.totalTimeMs(),
                result.downtimeMs(),
                result.ramTransferredBytes(),
                TestRun.secs(result.wallTime()),
                srcLast,
                TestRun.secs(since(t0)));
    }

    private static QemuGuest.Builder guestForMigration(TestRun run, String name, Virtiofsd fsd) {
        return QemuGuest.builder(run, name)
                .scenario("fs-tick")
                .kernelArg("vfs_tag", "myfs")
                .kernelArg("tick", "0.2")
                .vhostUserFs(fsd.socket(), "myfs")
                .traceVhostUser()
                .watch(fsd.process());
    }

    record Tick(int n, String write, String readback) {}

    private static final Pattern TICK = Pattern.compile("^TICK (\\d+) up=\\S+ write=(\\S+) readback=\\[(.*)]$");

    static List<Tick> ticks(List<String> lines) {
        List<Tick> out = new ArrayList<>();
        for (String l : lines) {
            Matcher m = TICK.matcher(l);
            if (m.matches()) out.add(new Tick(Integer.parseInt(m.group(1)), m.group(2), m.group(3)));
        }
        return out;
    }

    static int lastTick(List<String> lines) {
        List<Tick> t = ticks(lines);
        return t.isEmpty() ? 0 : t.getLast().n();
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static Duration since(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }
}
