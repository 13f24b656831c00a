package io.jvhost.bench.migration;

import io.jvhost.backend.BackendServer;
import io.jvhost.devices.synthetic.SyntheticStateDevice;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.NativeException;
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
    private final Served servedA;
    private final Served servedB;

    private record Served(BackendServer server, Thread thread, Path socket) {
        static Served start(Path socket, SyntheticStateDevice device) throws IOException {
            BackendServer server = BackendServer.listen(socket, device);
            Thread t = Thread.ofPlatform().daemon().name("bench-backend-" + socket.getFileName()).start(() -> {
                try {
                    server.serve();
                } catch (NativeException e) {
                    throw new IllegalStateException(e);
                }
            });
            return new Served(server, t, socket);
        }

        void stop() {
            server.close();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the bench's caller sees the interrupt; the daemon thread ends with the JVM
            }
        }
    }

    LocalBackends(long size, long seed) throws IOException {
        dir = Files.createTempDirectory("jvhost-bench-");
        a = new SyntheticStateDevice(size, seed);
        b = SyntheticStateDevice.empty();
        servedA = Served.start(dir.resolve("a.sock"), a);
        servedB = Served.start(dir.resolve("b.sock"), b);
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
        FrontendClient c = FrontendClient.connect(servedB.socket());
        try {
            GuestDriver.connectDevice(c, QUEUES);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        servedA.stop();
        servedB.stop();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
