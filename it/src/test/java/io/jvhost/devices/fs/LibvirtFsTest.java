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
 * virtio-fs as libvirt 11.3 runs it: the domain XML names the back-end program in {@code <binary
 * path>}, libvirt runs it with {@code --print-capabilities} and then with {@code --fd=N
 * --shared-dir DIR} plus the options the XML asks for, and {@code virsh save} / {@code virsh
 * restore} carry the back-end's device state through QEMU. The guest keeps appending to a file it
 * holds open, across the save and the restore; the host file must hold every line, in order.
 */
@QemuTest
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class LibvirtFsTest {
    private static final Duration BOOT = Duration.ofSeconds(150), STEP = Duration.ofSeconds(60);

    /** The usual options of a libvirt user, as the issue lists them. */
    private static final String BINARY_OPTIONS = """
                    <cache mode='always'/>
                    <sandbox mode='chroot'/>
                    <thread_pool size='4'/>
                    <openfiles max='4096'/>
            """;

    @Test
    void virtiofsdKeepsAnOpenFileAcrossSaveAndRestore(TestRun run) throws Exception {
        Path virtiofsd = run.deps().virtiofsdExecutable(run.runDir());
        saveAndRestoreKeepEveryLine(run, "virtiofsd", virtiofsd, BINARY_OPTIONS);
    }

    /** The same domain with jvhost's drop-in named in {@code <binary path>}. */
    @Test
    void jvhostVirtiofsdKeepsAnOpenFileAcrossSaveAndRestore(TestRun run) throws Exception {
        Path binary = run.deps().repoRoot().resolve("jvhost-virtiofsd");
        saveAndRestoreKeepEveryLine(run, "jvhost", binary, BINARY_OPTIONS);
    }

    /** libvirt's default virtio-fs XML: only {@code <binary path>} (both then sandbox themselves in namespaces). */
    @Test
    void theDefaultXmlWorksWithVirtiofsdAndWithJvhost(TestRun run) throws Exception {
        saveAndRestoreKeepEveryLine(run, "virtiofsd-default", run.deps().virtiofsdExecutable(run.runDir()), "");
        saveAndRestoreKeepEveryLine(run, "jvhost-default", run.deps().repoRoot().resolve("jvhost-virtiofsd"), "");
    }

    private static void saveAndRestoreKeepEveryLine(TestRun run, String name, Path binary, String options)
            throws Exception {
        Libvirt libvirt = Libvirt.connect(run);
        Path shared = run.dir("shared-" + name);
        Path serial = run.logDir().resolve("serial-" + name + ".log");
        String domainName =
                "jvhost-test-" + name + "-" + ProcessHandle.current().pid();
        Libvirt.Domain domain = libvirt.create(
                domainName,
                FsTickDomain.xml(
                        domainName,
                        "<binary path='" + binary + "' xattr='on'>\n" + options + "</binary>",
                        shared,
                        serial));
        SerialConsole console = new SerialConsole(serial);

        MatchResult before = FsTickDomain.awaitTick(console, 5, 0, domain, BOOT);
        if (name.startsWith("jvhost")) assertSandboxed(shared, options.contains("chroot") ? "chroot" : "namespace");
        Path saved = run.runDir().resolve(name + ".save");
        domain.save(saved);
        assertFalse(domain.isRunning(), "the domain still runs after virsh save");
        int linesAtSave = console.lines(true).size();
        int written = FsTickDomain.lastTick(console);

        domain.restore(saved);
        MatchResult after = FsTickDomain.awaitTick(console, written + 5, linesAtSave, domain, STEP);
        assertEquals("ok", after.group(2), after.group());
        domain.close();

        List<String> lines = Files.readAllLines(shared.resolve("counter.txt"), StandardCharsets.UTF_8);
        assertTrue(lines.size() >= written + 5, "the host file holds the ticks after the restore: " + lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).startsWith("count=" + (i + 1) + " "), "line " + (i + 1) + " is " + lines.get(i));
        }
        run.note(
                "%s under libvirt: tick %s before save, %d written at save, tick %s after restore, %d lines on the host",
                name, before.group(1), written, after.group(1), lines.size());
    }

    /**
     * The jvhost daemon libvirt started runs in its sandbox: its root is the launcher's read-only
     * view, the shared directory is there at its path, and the seccomp filter is on.
     */
    private static void assertSandboxed(Path shared, String mode) throws Exception {
        ProcessHandle daemon = ProcessHandle.allProcesses()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .filter(h -> h.info()
                        .arguments()
                        .map(a -> List.of(a).stream().anyMatch(w -> w.endsWith(shared.toString())))
                        .orElse(false))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no jvhost daemon serving " + shared));
        Path proc = Path.of("/proc", Long.toString(daemon.pid()));
        String status = Files.readString(proc.resolve("status"));
        assertTrue(status.contains("Seccomp:\t2"), status);
        String mounts = Files.readString(proc.resolve("mountinfo"));
        assertTrue(mounts.lines().findFirst().orElseThrow().contains(" / / ro,"), mounts);
        assertTrue(mounts.contains(" " + shared.toRealPath() + " rw,"), mounts);
        assertFalse(Files.exists(proc.resolve("root/var")), "the daemon sees no /var");
        boolean ownPidNamespace = !Files.readSymbolicLink(proc.resolve("ns/pid"))
                .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")));
        assertEquals(mode.equals("namespace"), ownPidNamespace, "a pid namespace of its own in " + mode + " mode");
    }
}
