package io.jvhost.backend;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import java.io.IOException;
import java.nio.file.Path;

/** A {@link BackendServer} for one device on a background thread, for tests. */
public final class ServedDevice implements AutoCloseable {
    private final BackendServer server;
    private final Thread thread;
    private final Path socket;

    private ServedDevice(BackendServer server, Path socket) {
        this.server = server;
        this.socket = socket;
        this.thread = Thread.ofPlatform().daemon().name("serve-" + socket.getFileName()).start(() -> {
            try {
                server.serve();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    public static ServedDevice start(Path socket, Device device, DeviceStateOptions options) throws IOException {
        return new ServedDevice(BackendServer.listen(socket, device).deviceStateOptions(options), socket);
    }

    public static ServedDevice start(Path socket, Device device) throws IOException {
        return start(socket, device, DeviceStateOptions.defaults());
    }

    public Path socket() {
        return socket;
    }

    /** A connection that went through the device-creation handshake only (as a migration destination). */
    public FrontendClient connectHandshaken(int queues) throws IOException {
        FrontendClient c = FrontendClient.connect(socket);
        try {
            GuestDriver.connectDevice(c, queues);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    @Override
    public void close() {
        server.close();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the server thread stopped", e);
        }
        if (thread.isAlive()) throw new IllegalStateException("server thread did not stop");
    }
}
