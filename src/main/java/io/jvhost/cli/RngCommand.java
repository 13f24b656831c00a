package io.jvhost.cli;

import io.jvhost.backend.BackendServer;
import io.jvhost.devices.rng.RngDevice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code jvhost rng}: the virtio-rng back-end for QEMU's vhost-user-rng-pci. */
@Command(name = "rng", mixinStandardHelpOptions = true,
        description = "Serve a virtio-rng device (QEMU: -device vhost-user-rng-pci).")
final class RngCommand implements Callable<Integer> {
    @Mixin
    DaemonOptions daemon = new DaemonOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        daemon.applyLogLevel();
        if (daemon.printCapabilities) {
            // Spec "Back-end program conventions": type plus the features array (none here).
            System.out.println("{\n  \"type\": \"rng\"\n}");
            return 0;
        }
        if (daemon.endpoint == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "one of --socket-path or --fd is required");
        }
        RngDevice device = new RngDevice();
        try (BackendServer server = daemon.endpoint.socketPath != null
                ? BackendServer.listen(daemon.endpoint.socketPath, device)
                : BackendServer.adopt(daemon.endpoint.fd, device)) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            server.serve();
        }
        return 0;
    }
}
