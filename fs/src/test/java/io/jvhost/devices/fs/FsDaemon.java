package io.jvhost.devices.fs;

import io.jvhost.backend.BackendServer;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * jvhost's virtio-fs device over the real passthrough file system behind a vhost-user socket,
 * as {@code jvhost fs} runs it, in this JVM. Closing gives up after a timeout instead of
 * waiting forever on a session that a hostile guest wedged: {@link #close()} says whether it
 * stopped.
 */
final class FsDaemon {
    final PassthroughFs fs;
    final FsDevice device;
    final BackendServer server;
    final Path socket;
    private final Thread serving;

    private FsDaemon(PassthroughFs fs, FsDevice device, BackendServer server, Path socket) {
        this.fs = fs;
        this.device = device;
        this.server = server;
        this.socket = socket;
        this.serving = Thread.ofPlatform().daemon().name("fuzz-serve-" + socket.getFileName()).start(() -> {
            try {
                server.serve();
            } catch (IOException e) {
                throw new RuntimeException(e); // reaches the uncaught-exception count: serve() must not fail
            }
        });
    }

    /** @param pool 0: each ring's requests on its worker; N: a request executor of N threads */
    static FsDaemon start(Path share, Path socket, int pool) throws IOException {
        PassthroughFs fs = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults());
        try {
            FsDevice device = new FsDevice("fuzz", 1, new FuseServer(fs), pool);
            return new FsDaemon(fs, device, BackendServer.listen(socket, device), socket);
        } catch (IOException | RuntimeException e) {
            fs.close();
            throw e;
        }
    }

    long unexpectedFailures() {
        return device.server().unexpectedFailures();
    }

    /** Stops serving within {@code millis}; false if the server thread is still stuck (a hang). */
    boolean close(long millis) throws InterruptedException {
        Thread closer = Thread.ofPlatform().daemon().name("fuzz-close").start(server::close);
        closer.join(millis);
        serving.join(Math.max(1, millis));
        boolean stopped = !closer.isAlive() && !serving.isAlive();
        device.close();
        // Release the file system's descriptors even if a session is stuck, so one hang does not starve the rest.
        Thread fsCloser = Thread.ofPlatform().daemon().start(fs::close);
        fsCloser.join(TimeUnit.SECONDS.toMillis(5));
        return stopped && !fsCloser.isAlive();
    }
}
