package io.jvhost.backend;

import io.jvhost.nativeio.Fd;
import java.io.IOException;

/**
 * What the session hands a device when a front-end connects ({@link Device#activate}): the
 * back-end request channel, extra event sources on the device's workers, and a read-only view of
 * guest memory. Valid until that front-end's session ends; after that every call is refused.
 * Every method may be called from any thread.
 */
public interface DeviceContext {

    /**
     * Tells the front-end that the config space changed (BACKEND_CONFIG_CHANGE_MSG), so that it
     * reads it again with GET_CONFIG. Refused with the reason unless the front-end negotiated
     * BACKEND_REQ (ask for it in {@link Device#protocolFeatures()}) and CONFIG (offered when
     * {@link Device#hasConfigSpace()}) and sent SET_BACKEND_REQ_FD. The message is sent without
     * NEED_REPLY: waiting for the front-end's ack from a worker could deadlock with a front-end
     * that waits for that worker (GET_VRING_BASE waits for the batch in flight).
     */
    void notifyConfigChange() throws DeviceException;

    /**
     * Runs {@code handler} on the worker thread that serves {@code queue} (see
     * {@link Device#workerFor}) whenever {@code fd} is readable: the device's own eventfd, a
     * timerfd. Watching is level-triggered, so the handler must read what made the fd readable.
     * A handler that throws is logged and no longer run. The fd stays the device's: close the
     * registration before closing the fd. Sources still registered when the session ends are
     * dropped with the worker.
     */
    Registration watch(int queue, Fd fd, EventHandler handler) throws DeviceException;

    /**
     * An event source without an fd of the device's own: {@link Notifier#signal()}, from any
     * thread (a timer, a thread reading from the host), runs {@code handler} on the worker that
     * serves {@code queue}, where it may touch what the device's chain handling touches without
     * locks. Signals that come while the handler has not run yet are folded into one run. The
     * device closes the notifier when done; the session ending drops it too. This is the way for
     * a device outside jvhost's own modules, which cannot name {@code Fd}s (see docs/modules.md).
     */
    Notifier notifier(int queue, EventHandler handler) throws DeviceException;

    /** Guest memory as the front-end shares it now, for reading only. */
    GuestMemoryView memory();

    /** Called on a worker when a watched fd is readable. */
    @FunctionalInterface
    interface EventHandler {
        void onReadable() throws IOException, DeviceException;
    }

    /** Runs its handler on its worker when signalled; closing it stops that (idempotent). */
    interface Notifier extends AutoCloseable {
        /** Makes the handler run on the worker soon; never blocks. */
        void signal() throws DeviceException;

        @Override
        void close();
    }

    /** A watched fd; closing it stops watching (idempotent). */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
