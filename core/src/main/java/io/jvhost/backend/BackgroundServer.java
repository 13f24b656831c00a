package io.jvhost.backend;

import io.jvhost.nativeio.NativeException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device served in this process: a {@link BackendServer} listening on a socket, serving
 * front-ends one after another on a thread of its own, for an in-process front-end (an embedding
 * VMM, a test, a benchmark) to connect to. {@link #close()} stops it and waits for the thread.
 */
public final class BackgroundServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackgroundServer.class);
    /** Long enough for a session to see its connection shut down; a session that takes longer is stuck. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private final BackendServer server;
    private final Path socket;
    private final Thread thread;
    private volatile NativeException failure;

    private BackgroundServer(BackendServer server, Path socket) {
        this.server = server;
        this.socket = socket;
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("jvhost-serve-" + socket.getFileName())
                .unstarted(this::serve);
    }

    /** Serves {@code device} on {@code socket} (a stale socket file is replaced, see {@link BackendServer#listen}). */
    public static BackgroundServer start(Path socket, Device device) throws IOException {
        return start(socket, device, DeviceStateOptions.defaults());
    }

    public static BackgroundServer start(Path socket, Device device, DeviceStateOptions options) throws IOException {
        BackgroundServer s =
                new BackgroundServer(BackendServer.listen(socket, device).deviceStateOptions(options), socket);
        s.thread.start();
        return s;
    }

    private void serve() {
        try {
            server.serve();
        } catch (NativeException e) {
            failure = e;
            LOG.error("serving on {} failed: {}", socket, e.getMessage(), e);
        }
    }

    /** Where front-ends connect. */
    public Path socket() {
        return socket;
    }

    /** Whether the serving thread still runs: until {@link #stop} or a failure. */
    public boolean isServing() {
        return thread.isAlive();
    }

    /** Why serving ended before {@link #close()}, if it did (accepting a connection failed). */
    public Optional<NativeException> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Stops accepting, disconnects the current front-end, and waits up to {@code timeout} for the
     * serving thread; false if it is still running (a session that does not end).
     */
    public boolean stop(Duration timeout) throws InterruptedException {
        server.close();
        return thread.join(timeout);
    }

    /**
     * Stops and waits; a server that does not stop in time, or that had failed, is an exception.
     * Interrupted while waiting, it keeps the interrupt and says so as an
     * {@link InterruptedIOException} (so that try-with-resources needs no InterruptedException).
     */
    @Override
    public void close() throws IOException {
        boolean stopped;
        try {
            stopped = stop(STOP_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException ie =
                    new InterruptedIOException("interrupted while the server on " + socket + " stopped");
            ie.initCause(e);
            throw ie;
        }
        if (!stopped) {
            throw new IllegalStateException("the server on " + socket + " did not stop within " + STOP_TIMEOUT);
        }
        NativeException f = failure;
        if (f != null) throw new IOException("serving on " + socket + " failed", f);
    }

    @Override
    public String toString() {
        return "BackgroundServer[" + socket + "]";
    }
}
