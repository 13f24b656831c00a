package io.jvhost.cli;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.migration.DestinationConfig;
import io.jvhost.migration.MigrationDestination;
import io.jvhost.migration.Progress;
import io.jvhost.migration.ProgressListener;
import io.jvhost.migration.VirtioDeviceState;
import io.jvhost.migration.device.DeviceMigration;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jvhost migrate send|receive}: moves a vhost-user back-end's state between two hosts,
 * each side acting as the front-end of its back-end's socket for the transfer.
 *
 * <p>What it can move: the state of the session it opens. The vhost-user protocol ties a
 * back-end's state to its front-end connection, and this command opens a new one: jvhost's
 * back-ends reset the device when a front-end disconnects (a jvhost fs back-end then drops its
 * FUSE session, inodes and open files) and virtiofsd exits, so the state of a guest's session
 * is not reachable from here, and what B loaded ends with this command's session too. The
 * command therefore transfers and verifies (stream checksums, B's parse and CHECK) the state of
 * a fresh session across hosts; moving a running guest's state is the job of the process that
 * owns its rings, through {@link DeviceMigration}.
 */
@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = "Move a vhost-user back-end's device state to another host (DEVICE_STATE over N TCP channels).",
        subcommands = {MigrateCommand.Send.class, MigrateCommand.Receive.class})
final class MigrateCommand {
    static final class HostPort implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            int colon = value.lastIndexOf(':');
            if (colon <= 0) throw new IllegalArgumentException("expected HOST:PORT, got " + value);
            String host = value.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            return new InetSocketAddress(host, Integer.parseInt(value.substring(colon + 1)));
        }
    }

    @Command(
            name = "send",
            mixinStandardHelpOptions = true,
            description = "Save the back-end's state (SET_DEVICE_STATE_FD save) and stream it to a receiver.")
    static final class Send implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--socket",
                required = true,
                paramLabel = "PATH",
                description = "Back-end A's vhost-user socket.")
        Path socket;

        @Option(
                names = "--to",
                required = true,
                paramLabel = "HOST:PORT",
                converter = HostPort.class,
                description = "Where `jvhost migrate receive` listens.")
        InetSocketAddress to;

        @Option(
                names = "--channels",
                defaultValue = "2",
                description = "Parallel state channels (default: ${DEFAULT-VALUE}).")
        int channels;

        @Option(
                names = "--queues",
                defaultValue = "2",
                description = "Virtqueues of the device (default: ${DEFAULT-VALUE}).")
        int queues;

        @Option(
                names = "--device-type",
                defaultValue = "virtio-fs",
                description = "Device type announced (default: ${DEFAULT-VALUE}).")
        String deviceType;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (FrontendClient a = FrontendClient.connect(socket)) {
                VirtioDeviceState virtio = DeviceMigration.openStateSession(a, queues);
                out.printf("source: %s on %s, sending to %s over %d channel(s)%n", deviceType, socket, to, channels);
                ProgressBar bar = ProgressBar.forTerminal(out, "sent");
                DeviceMigration.Sent sent = DeviceMigration.send(
                        a,
                        virtio,
                        deviceType,
                        to,
                        DeviceMigration.sourceConfig(channels).withProgress(bar, Duration.ofMillis(200)));
                bar.done();
                out.println("destination loaded the state and its CHECK passed");
                out.println(sent.report(Duration.ZERO).format());
                out.flush();
            }
            return 0;
        }
    }

    @Command(
            name = "receive",
            mixinStandardHelpOptions = true,
            description = "Accept one stream and load it into the back-end (SET_DEVICE_STATE_FD load), then CHECK.")
    static final class Receive implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--socket",
                required = true,
                paramLabel = "PATH",
                description = "Back-end B's vhost-user socket.")
        Path socket;

        @Option(
                names = "--listen",
                required = true,
                paramLabel = "HOST:PORT",
                converter = HostPort.class,
                description = "Address to accept the sender on (port 0: any free port, printed).")
        InetSocketAddress listen;

        @Option(
                names = "--queues",
                defaultValue = "2",
                description = "Virtqueues of the device (default: ${DEFAULT-VALUE}).")
        int queues;

        @Option(
                names = "--device-type",
                defaultValue = "virtio-fs",
                description = "Device type accepted (default: ${DEFAULT-VALUE}).")
        String deviceType;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            FrontendClient b = FrontendClient.connect(socket);
            try {
                DeviceMigration.openStateSession(b, queues);
                ProgressBar bar = ProgressBar.forTerminal(out, "received");
                DestinationConfig config = DestinationConfig.forDevice(deviceType, b.getFeatures())
                        .withProgress(bar, Duration.ofMillis(200));
                try (MigrationDestination dest = MigrationDestination.listen(listen, config)) {
                    out.printf("destination: %s on %s, listening on %s%n", deviceType, socket, dest.address());
                    out.flush();
                    DeviceMigration.Received r = DeviceMigration.receive(b, dest);
                    bar.done();
                    out.printf(
                            "loaded %d bytes of state over %d channel(s) (packets per channel %s), CRC32C %08x%n",
                            r.stream().stateBytes(),
                            r.stream().packetsPerChannel().size(),
                            r.stream().packetsPerChannel(),
                            r.stream().crc32c());
                    out.printf(
                            "load %.2f ms, CHECK on B passed in %.2f ms, stream %.2f ms%n",
                            r.load().toNanos() / 1e6,
                            r.check().toNanos() / 1e6,
                            r.stream().elapsed().toNanos() / 1e6);
                    out.println("virtio state: " + r.stream().virtio());
                    out.flush();
                }
            } finally {
                b.close();
            }
            return 0;
        }
    }

    /** One line redrawn in place while stdout is a terminal; silent otherwise (logs, pipes). */
    static final class ProgressBar implements ProgressListener {
        private final PrintWriter out;
        private final String verb;
        private final boolean enabled;
        private boolean drawn;

        private ProgressBar(PrintWriter out, String verb, boolean enabled) {
            this.out = out;
            this.verb = verb;
            this.enabled = enabled;
        }

        static ProgressBar forTerminal(PrintWriter out, String verb) {
            return new ProgressBar(
                    out, verb, System.console() != null && System.console().isTerminal());
        }

        @Override
        public synchronized void onProgress(Progress p) {
            if (!enabled) return;
            out.print("\r" + line(p) + "   ");
            out.flush();
            drawn = true;
        }

        synchronized void done() {
            if (drawn) out.println();
        }

        String line(Progress p) {
            String bar = p.fraction()
                    .map(f -> {
                        int filled = (int) Math.round(f * 30);
                        return "[" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + Math.round(f * 100) + "% ";
                    })
                    .orElse("");
            String eta = p.eta()
                    .map(d -> String.format("ETA %.1f s", d.toMillis() / 1000.0))
                    .orElse(p.finished() ? "done" : "ETA unknown (size not announced)");
            return String.format("%s%s %s at %s/s, %s", bar, verb, human(p.bytes()), human(p.bytesPerSecond()), eta);
        }

        static String human(double bytes) {
            if (bytes >= 1 << 30) return String.format("%.1f GiB", bytes / (1 << 30));
            if (bytes >= 1 << 20) return String.format("%.1f MiB", bytes / (1 << 20));
            if (bytes >= 1 << 10) return String.format("%.1f KiB", bytes / (1 << 10));
            return String.format("%.0f B", bytes);
        }
    }
}
