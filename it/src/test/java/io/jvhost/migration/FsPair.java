package io.jvhost.migration;

import io.jvhost.backend.BackendServer;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
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
    private final List<BackendServer> servers = new ArrayList<>();
    private final List<PassthroughFs> fileSystems = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    public FsPair(Path dir) throws Exception {
        shared = Files.createDirectories(dir.resolve("shared"));
        socketA = serve(dir.resolve("a.sock"), "a");
        socketB = serve(dir.resolve("b.sock"), "b");
    }

    private Path serve(Path socket, String name) throws Exception {
        PassthroughFs fs = PassthroughFs.open(shared, PassthroughConfig.defaults(), MigrationConfig.defaults());
        fileSystems.add(fs);
        BackendServer server = BackendServer.listen(socket, new FsDevice("myfs", 1, new FuseServer(fs)));
        servers.add(server);
        threads.add(Thread.ofPlatform().daemon().name("fs-" + name).start(() -> {
            try {
                server.serve();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }));
        return socket;
    }

    /** The guest-driver model on A. */
    GuestDriver driverOnA() throws Exception {
        return GuestDriver.connect(socketA, GuestDriver.Options.defaults(QUEUES));
    }

    /** A destination front-end session on B: device handshake only, as QEMU before a load. */
    FrontendClient destinationOnB() throws Exception {
        FrontendClient b = FrontendClient.connect(socketB);
        GuestDriver.connectDevice(b, QUEUES);
        return b;
    }

    static FuseClient fuse(GuestDriver d) {
        return new FuseClient(d, T);
    }

    @Override
    public void close() {
        for (BackendServer s : servers) s.close(); // the servers first: their sessions use the file systems
        for (PassthroughFs fs : fileSystems) fs.close();
        try {
            for (Thread t : threads) t.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the server threads stopped", e);
        }
    }
}
