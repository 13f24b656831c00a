package io.jvhost.testing.qemu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A libvirt domain running the guest's {@code fs-tick} scenario (it keeps a file on the virtio-fs
 * share open and appends a numbered line to it every tick), and what its serial console shows:
 * for the libvirt tests, which check that every line survives a save, a restore or a migration.
 */
public final class FsTickDomain {
    /** A tick ({@code 1}: its number, {@code 2}: ok or WERR, {@code 3}: the line read back) or the guest's failure ({@code 4}). */
    private static final Pattern TICK =
            Pattern.compile("^(?:TICK (\\d+) up=\\S+ write=(\\S+) readback=\\[(.*)]|FS-FAIL (.*))");

    private FsTickDomain() {}

    /**
     * The domain: the test kernel and initramfs, 256 MiB of shared memfd memory (vhost-user needs
     * it), the share {@code shared} as tag {@code myfs} served by the back-end {@code binary}
     * describes (libvirt's {@code <binary>} element), the serial console appended to {@code serial}.
     */
    public static String xml(String name, String binary, Path shared, Path serial) {
        return """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>256</memory>
                  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
                  <vcpu>1</vcpu>
                  <os>
                    <type arch='x86_64' machine='pc'>hvm</type>
                    <kernel>%s</kernel>
                    <initrd>%s</initrd>
                    <cmdline>console=ttyS0 quiet panic=-1 scenario=fs-tick vfs_tag=myfs tick=0.3</cmdline>
                  </os>
                  <on_reboot>destroy</on_reboot>
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <filesystem type='mount' accessmode='passthrough'>
                      <driver type='virtiofs'/>
                      %s
                      <source dir='%s'/>
                      <target dir='myfs'/>
                    </filesystem>
                    <serial type='file'><source path='%s' append='on'/><target port='0'/></serial>
                  </devices>
                </domain>
                """.formatted(name, KernelImage.forBoot(), Initramfs.standard(), binary, shared, serial);
    }

    /**
     * The first tick numbered {@code atLeast} or more on the console from line {@code fromLine};
     * an AssertionError if the guest fails, the domain stops, or {@code timeout} passes first.
     */
    public static MatchResult awaitTick(
            SerialConsole console, int atLeast, int fromLine, Libvirt.Domain domain, Duration timeout) {
        int from = fromLine;
        while (true) {
            MatchResult m = console.await(TICK, timeout, from, stopped(domain), AssertionError::new);
            if (m.group(4) != null) throw new AssertionError("guest: FS-FAIL " + m.group(4));
            if (Integer.parseInt(m.group(1)) >= atLeast) return m;
            from = console.lines(false).lastIndexOf(m.group()) + 1;
        }
    }

    /** The number of the last tick on the console. */
    public static int lastTick(SerialConsole console) {
        List<String> lines = console.lines(true);
        for (int i = lines.size() - 1; i >= 0; i--) {
            Matcher m = TICK.matcher(lines.get(i));
            if (m.find() && m.group(1) != null) return Integer.parseInt(m.group(1));
        }
        throw new AssertionError("no TICK line on the console");
    }

    /** Asks libvirt at most every two seconds (each ask is a virsh process). */
    private static Supplier<Optional<String>> stopped(Libvirt.Domain domain) {
        long[] next = {0};
        return () -> {
            if (System.nanoTime() < next[0]) return Optional.empty();
            next[0] = System.nanoTime() + 2_000_000_000L;
            return domain.isRunning() ? Optional.empty() : Optional.of(domain + " stopped");
        };
    }
}
