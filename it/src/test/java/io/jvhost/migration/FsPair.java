package io.jvhost.migration;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Two jvhost virtio-fs back-ends in this JVM, A and B, serving the same shared directory on
 * their own vhost-user sockets, as the source and destination of a migration.
 */
public final class FsPair implements AutoCloseable {
    static final int QUEUES = 2; // hiprio + one request queue
    static final Duration T = Duration.ofSeconds(10);

    public final Path shared;
    public final Path socketA;
    public final Path socketB;
    private final List<Closeable> resources = new ArrayList<>();

    public FsPair(Path dir) throws Exception {
        shared = Files.createDirectories(dir.resolve("shared"));
        socketA = serve(dir.resolve("a.sock"));
        socketB = serve(dir.resolve("b.sock"));
    }

    private Path serve(Path socket) throws Exception {
        PassthroughFs fs = PassthroughFs.open(shared, PassthroughConfig.defaults(), MigrationConfig.defaults());
        resources.add(fs::close);
        resources.add(0, BackgroundServer.start(socket, new FsDevice("myfs", 1, new FuseServer(fs)))::close);
        return socket;
    }

    /** The guest-driver model on A. */
    GuestDriver driverOnA() throws Exception {
        return GuestDriver.connect(socketA, GuestDriver.Options.defaults(QUEUES));
    }

    /** A destination front-end session on B: device handshake only, as QEMU before a load. */
    FrontendClient destinationOnB() throws Exception {
        return GuestDriver.connectDevice(socketB, QUEUES);
    }

    static FuseClient fuse(GuestDriver d) {
        return new FuseClient(d, T);
    }

    @Override
    public void close() throws IOException {
        for (Closeable r : resources) r.close(); // servers first: closing one waits for its thread
    }
}
