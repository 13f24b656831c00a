package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.testing.qemu.FsTickDomain;
import io.jvhost.testing.qemu.Libvirt;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.SerialConsole;
import io.jvhost.testing.qemu.TestRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A live migration between two libvirt 11.3 daemons ({@code virsh migrate --live}), with the
 * virtio-fs back-end named in {@code <binary path>}: libvirt starts the back-end on both sides,
 * QEMU carries its device state in the migration stream, and the guest keeps appending to a file
 * it holds open, before, during and after. The second libvirt runs on this machine in a mount
 * namespace of its own ({@link Libvirt#startPeer}); both back-ends serve the same directory, as
 * two hosts sharing one file system would. jvhost-virtiofsd and virtiofsd, in the same run.
 */
@QemuTest
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LibvirtLiveMigrationTest {
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(90);

    @Test
    void anOpenFileKeepsEveryLineAcrossLiveMigrationWithJvhostAndWithVirtiofsd(TestRun run) throws Exception {
        Libvirt source = Libvirt.connect(run);
        Libvirt destination = Libvirt.startPeer(run, "destination");
        long jvhost = migrate(
                run, source, destination, "jvhost", run.deps().repoRoot().resolve("jvhost-virtiofsd"));
        long virtiofsd =
                migrate(run, source, destination, "virtiofsd", run.deps().virtiofsdExecutable(run.runDir()));
        run.note("libvirt live migration downtime: jvhost-virtiofsd %d ms, virtiofsd %d ms", jvhost, virtiofsd);
    }

    /** Boots on {@code source}, migrates to {@code destination}, checks the file; the downtime in ms. */
    private static long migrate(TestRun run, Libvirt source, Libvirt destination, String name, Path binary)
            throws Exception {
        Path shared = run.dir("shared-" + name);
        Path serial = run.logDir().resolve("serial-" + name + ".log");
        String domainName =
                "jvhost-live-" + name + "-" + ProcessHandle.current().pid();
        Libvirt.Domain here = source.create(
                domainName, FsTickDomain.xml(domainName, "<binary path='" + binary + "'/>", shared, serial));
        SerialConsole console = new SerialConsole(serial);

        MatchResult before = FsTickDomain.awaitTick(console, 5, 0, here, BOOT);
        Libvirt.Domain there = here.migrateLive(destination);
        assertFalse(here.isRunning(), "the domain still runs on the source after the migration");
        assertTrue(there.isRunning(), "the domain does not run on the destination");
        Libvirt.CompletedJob job = there.completedJob();
        long downtime = job.downtimeMs();
        int linesAtSwitch = console.lines(true).size();
        int written = FsTickDomain.lastTick(console);

        MatchResult after = FsTickDomain.awaitTick(console, written + 5, linesAtSwitch, there, STEP);
        assertEquals("ok", after.group(2), after.group());
        there.close();

        List<String> lines = Files.readAllLines(shared.resolve("counter.txt"), StandardCharsets.UTF_8);
        assertTrue(lines.size() >= written + 5, "the host file holds the ticks after the migration: " + lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).startsWith("count=" + (i + 1) + " "), "line " + (i + 1) + " is " + lines.get(i));
        }
        run.note(
                "%s, libvirt live migration: tick %s before, %d at the switch, tick %s after, %d lines on the host,"
                        + " downtime %d ms; RAM copied at %s in %s iterations, %s in all",
                name,
                before.group(1),
                written,
                after.group(1),
                lines.size(),
                downtime,
                job.get("Memory bandwidth"),
                job.get("Iteration"),
                job.get("Time elapsed"));
        return downtime;
    }
}
