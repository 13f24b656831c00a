package io.jvhost.backend;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.Direction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one device on a listening socket: `--socket-path P` or an inherited listening `--fd N`
 * (the vhost-user "back-end program conventions"; libvirt and virtiofsd pass a listening
 * socket). One front-end at a time; when it goes away the device is reset and the next
 * front-end may connect.
 */
public final class BackendServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackendServer.class);

    private final UnixSocket listener;
    private final Path socketPath;
    private final Device device;
    /**
     * Guards {@link #closed} and {@link #accepting}: the listener is closed by the last of
     * close() and the threads in {@link #serveOne}, so accept() never runs on a closed (or reused)
     * descriptor; close() only shuts it down, which makes a waiting or later accept() fail.
     */
    private final Object lifecycle = new Object();

    private volatile boolean closed;
    private int accepting;
    private volatile BackendSession current;
    private volatile DeviceStateOptions stateOptions = DeviceStateOptions.defaults();

    private BackendServer(UnixSocket listener, Path socketPath, Device device) {
        this.listener = listener;
        this.socketPath = socketPath;
        this.device = device;
    }

    /** Listens on {@code path}; a stale socket file left by a dead process is replaced. */
    public static BackendServer listen(Path path, Device device) throws IOException {
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            BasicFileAttributes a =
                    Files.readAttributes(path, BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!a.isOther()) throw new IOException(path + " exists and is not a socket");
            Files.delete(path);
        }
        return new BackendServer(UnixSocket.listen(path, 1), path, device);
    }

    /** Serves an inherited listening socket. */
    public static BackendServer adopt(int fd, Device device) {
        return new BackendServer(UnixSocket.adopt(Fd.adopt(fd)), null, device);
    }

    /** How sessions accepted from now on run device-state transfers. */
    public BackendServer deviceStateOptions(DeviceStateOptions options) {
        this.stateOptions = java.util.Objects.requireNonNull(options);
        return this;
    }

    /** Accepts and serves front-ends one after another until {@link #close()}. */
    public void serve() throws NativeException {
        while (!closed) {
            if (!serveOne()) return;
        }
    }

    /** Accepts one front-end and serves it until it disconnects; false if the server was closed. */
    public boolean serveOne() throws NativeException {
        synchronized (lifecycle) {
            if (closed) return false;
            accepting++;
        }
        try {
            UnixSocket conn;
            try {
                conn = listener.accept();
            } catch (NativeException e) {
                if (closed) return false;
                throw e;
            }
            LOG.info("{}: front-end connected", device.name());
            try (BackendSession session =
                    new BackendSession(new Connection<>(conn, Direction.FRONTEND), device, stateOptions)) {
                current = session;
                session.run();
            } finally {
                current = null;
            }
            return !closed;
        } finally {
            synchronized (lifecycle) {
                if (--accepting == 0 && closed) listener.close();
            }
        }
    }

    @Override
    public void close() {
        synchronized (lifecycle) {
            closed = true;
            listener.shutdown(); // wakes accept(), and fails any accept() still to come
            if (accepting == 0) listener.close();
        }
        BackendSession s = current;
        if (s != null) s.disconnect();
        if (socketPath != null) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                LOG.debug("removing {}: {}", socketPath, e.getMessage());
            }
        }
    }
}
