package io.jvhost.cli;

import io.jvhost.backend.BackendServer;
import io.jvhost.devices.rng.RngDevice;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jvhost demo} (the default): a virtio-rng back-end served on a temp socket, driven by
 * jvhost's own front-end and guest-driver model through the whole lifecycle: negotiate, share
 * memory, start rings, I/O, stop rings (GET_VRING_BASE), disconnect, and a second front-end
 * that reconnects and resumes from the reported ring indices.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a back-end and drive it with jvhost's front-end (no arguments needed).")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--bytes", defaultValue = "1048576", description = "Entropy to read per front-end (default: ${DEFAULT-VALUE}).")
    long bytes;

    @Option(names = "--request-size", defaultValue = "4096", description = "Bytes per virtio-rng request (default: ${DEFAULT-VALUE}).")
    int requestSize;

    @Override
    public Integer call() throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        PrintStream out = System.out;
        Path dir = Files.createTempDirectory("jvhost-demo");
        Path socket = dir.resolve("rng.sock");
        try (BackendServer server = BackendServer.listen(socket, new RngDevice())) {
            Thread serving = Thread.ofPlatform().name("demo-backend").daemon().start(() -> {
                try {
                    server.serve();
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            out.println("jvhost demo: virtio-rng back-end on " + socket);
            int[] bases;
            try (GuestDriver driver = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
                out.println("  negotiated features: " + VirtioFeatures.describe(driver.features()));
                out.println("  protocol features:   " + ProtocolFeature.describe(driver.protocolFeatures()));
                read(driver, out, "front-end 1");
                bases = driver.stopRings();
                out.printf("  rings stopped (GET_VRING_BASE): next avail index %d%n", bases[0]);
            }
            try (GuestDriver driver = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
                out.println("  front-end 2 reconnected after front-end 1 left");
                read(driver, out, "front-end 2");
                driver.stopRings();
            }
            server.close();
            serving.join(5000);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
        out.println("demo done");
        return 0;
    }

    private void read(GuestDriver driver, PrintStream out, String who) throws Exception {
        long[] histogram = new long[256];
        long got = 0;
        long t0 = System.nanoTime();
        int requests = 0;
        while (got < bytes) {
            byte[] data = driver.request(0, List.of(), (int) Math.min(requestSize, bytes - got), Duration.ofSeconds(10));
            for (byte b : data) histogram[b & 0xff]++;
            got += data.length;
            requests++;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        // Chi-square over byte values: about 255 for uniform data, far larger for a broken source.
        double expected = got / 256.0, chi = 0;
        for (long h : histogram) chi += (h - expected) * (h - expected) / expected;
        out.printf("  %s: read %d bytes in %d requests, %.1f MiB/s, byte chi-square %.0f (uniform ~255)%n",
                who, got, requests, got / secs / (1 << 20), chi);
    }
}
