package io.jvhost.bench.migration;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.backend.DeviceStateOptions;
import io.jvhost.devices.synthetic.SyntheticStateDevice;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Two in-process vhost-user back-ends on Unix sockets in a private temp directory: A holds a
 * synthetic state of the given size, B starts empty. Real back-ends, real sessions, real pipes:
 * only the process boundary is missing.
 */
final class LocalBackends implements AutoCloseable {
    static final int QUEUES = 1;

    final SyntheticStateDevice a;
    final SyntheticStateDevice b;
    private final Path dir;
    private final BackgroundServer servedA;
    private final BackgroundServer servedB;

    LocalBackends(long size, long seed) throws IOException {
        this(size, seed, DeviceStateOptions.defaults());
    }

    /** With {@code options} on both back-ends, e.g. their own channel (a save then vmsplices into A's pipe). */
    LocalBackends(long size, long seed, DeviceStateOptions options) throws IOException {
        dir = Files.createTempDirectory("jvhost-bench-");
        a = new SyntheticStateDevice(size, seed);
        b = SyntheticStateDevice.empty();
        servedA = BackgroundServer.start(dir.resolve("a.sock"), a, options);
        servedB = BackgroundServer.start(dir.resolve("b.sock"), b, options);
    }

    /** A front-end session on A with no rings: enough for a save (see {@code DeviceMigration.openStateSession}). */
    FrontendClient connectA() throws IOException {
        return FrontendClient.connect(servedA.socket());
    }

    /** The guest-driver model on A: memory shared, rings running. */
    GuestDriver driverOnA() throws IOException {
        return GuestDriver.connect(servedA.socket(), GuestDriver.Options.defaults(QUEUES));
    }

    /** A destination session on B: device handshake only, as a VMM before a load. */
    FrontendClient destinationOnB() throws IOException {
        return GuestDriver.connectDevice(servedB.socket(), QUEUES);
    }

    @Override
    public void close() throws IOException {
        try (servedA;
                servedB) {
            // closing both (B first): either one failing to stop or having failed is reported
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
