package io.jvhost.devices.fs;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * jvhost's virtio-fs device over the real passthrough file system behind a vhost-user socket,
 * as {@code jvhost fs} runs it, in this JVM. Closing gives up after a timeout instead of
 * waiting forever on a session that a hostile guest wedged: {@link #close()} says whether it
 * stopped.
 */
final class FsDaemon {
    final PassthroughFs fs;
    final FsDevice device;
    final Path socket;
    private final BackgroundServer server;

    private FsDaemon(PassthroughFs fs, FsDevice device, BackgroundServer server) {
        this.fs = fs;
        this.device = device;
        this.server = server;
        this.socket = server.socket();
    }

    /** @param pool 0: each ring's requests on its worker; N: a request executor of N threads */
    static FsDaemon start(Path share, Path socket, int pool) throws IOException {
        PassthroughFs fs = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults());
        try {
            FsDevice device = new FsDevice("fuzz", 1, new FuseServer(fs), pool);
            return new FsDaemon(fs, device, BackgroundServer.start(socket, device));
        } catch (IOException | RuntimeException e) {
            fs.close();
            throw e;
        }
    }

    /** Requests that failed unexpectedly, plus one if serving itself failed (serve() must not fail). */
    long unexpectedFailures() {
        return device.server().unexpectedFailures() + (server.failure().isPresent() ? 1 : 0);
    }

    /** Stops serving within {@code millis}; false if the server thread is still stuck (a hang). */
    boolean close(long millis) throws InterruptedException {
        // In a thread of its own: a wedged session must not wedge the caller too.
        AtomicBoolean serverStopped = new AtomicBoolean();
        Thread closer = Thread.ofPlatform().daemon().name("fuzz-close").start(() -> {
            try {
                serverStopped.set(server.stop(Duration.ofMillis(Math.max(1, millis))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        closer.join(2 * Math.max(1, millis));
        boolean stopped = !closer.isAlive() && serverStopped.get();
        device.close();
        // Release the file system's descriptors even if a session is stuck, so one hang does not starve the rest.
        Thread fsCloser = Thread.ofPlatform().daemon().start(fs::close);
        fsCloser.join(TimeUnit.SECONDS.toMillis(5));
        return stopped && !fsCloser.isAlive();
    }
}
