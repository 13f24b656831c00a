package io.jvhost.cli;

import io.jvhost.devices.rng.RngDevice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code jvhost rng}: the virtio-rng back-end for QEMU's vhost-user-rng-pci. */
@Command(
        name = "rng",
        mixinStandardHelpOptions = true,
        description = "Serve a virtio-rng device (QEMU: -device vhost-user-rng-pci).")
final class RngCommand implements Callable<Integer> {
    @Mixin
    DaemonOptions daemon = new DaemonOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Random bytes need no privilege at all. */
    static final java.util.Set<io.jvhost.nativeio.Capability> CAPABILITIES = java.util.Set.of();

    @Override
    public Integer call() throws Exception {
        daemon.applyLogLevel();
        if (daemon.printCapabilities) {
            // Spec "Back-end program conventions": type plus the features array (none here).
            System.out.println("{\n  \"type\": \"rng\"\n}");
            return 0;
        }
        daemon.reducePrivileges(CAPABILITIES, spec);
        daemon.serve(new RngDevice(), spec);
        return 0;
    }
}
