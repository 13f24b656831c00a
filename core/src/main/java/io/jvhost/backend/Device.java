package io.jvhost.backend;

import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * A virtio device served by {@link BackendServer}: small enough that a device fits in one file.
 * The server owns the protocol, guest memory, rings, notifications and dirty logging; the device
 * says what it offers and turns one descriptor chain into a reply. Only {@link #name()},
 * {@link #queueCount()}, {@link #features()} and {@link #handle} must be written; everything else
 * defaults to "not supported" or to doing nothing.
 *
 * <p>Threads: a front-end's requests are applied on its session thread, one at a time; chains
 * are handled on the worker threads ({@link #workerFor}), or on {@link #requestExecutor()}. The
 * methods below say where they are called from. One instance serves one front-end at a time, and
 * {@link #reset()} runs between two.
 *
 * <p>There is no virtio device id here: vhost-user never carries one, the front-end picks the
 * device model (QEMU's {@code -device vhost-user-rng-pci}, or {@code vhost-user-device}'s
 * {@code virtio-id=}) and with it the id the guest sees.
 */
public interface Device {
    /** Short name for logs and thread names ("rng", "fs"); constant. */
    String name();

    /** Number of virtqueues (GET_QUEUE_NUM); constant. */
    int queueCount();

    /** Largest queue size accepted in SET_VRING_NUM; larger ones are refused. */
    default int maxQueueSize() {
        return 1024;
    }

    /**
     * Virtio feature bits the device supports, transport bits included (VERSION_1,
     * RING_EVENT_IDX, RING_INDIRECT_DESC). The server adds VHOST_USER_F_PROTOCOL_FEATURES and
     * VHOST_F_LOG_ALL itself. Asked once per connection.
     */
    long features();

    /**
     * Protocol features the device needs beyond the server's own, e.g. BACKEND_REQ for
     * {@link DeviceContext#notifyConfigChange()}. CONFIG and DEVICE_STATE are not asked for here:
     * the server offers CONFIG when {@link #hasConfigSpace()} and DEVICE_STATE when the device is
     * a {@link StatefulDevice} that can migrate. Asked once per connection.
     */
    default Set<ProtocolFeature> protocolFeatures() {
        return Set.of();
    }

    /**
     * Whether the device has a config space (virtio spec 4.1.4.3) for the front-end to read with
     * GET_CONFIG: only then is PROTOCOL_F_CONFIG offered. QEMU's device models that build the
     * config themselves (vhost-user-rng, vhost-user-fs) warn about a back-end offering it, so a
     * device without one must not. Asked once per connection, when its session is set up.
     */
    default boolean hasConfigSpace() {
        return false;
    }

    /** The device's config space as the driver reads it (GET_CONFIG, session thread); empty unless {@link #hasConfigSpace()}. */
    default byte[] config() {
        return new byte[0];
    }

    /**
     * A driver write to the config space (SET_CONFIG, session thread); a {@link DeviceException}
     * refuses it. Refused by default, as the virtio spec makes such fields read-only.
     */
    default void writeConfig(int offset, byte[] data) throws DeviceException {
        throw new DeviceException("config space of " + name() + " is read-only");
    }

    /**
     * Which worker thread serves {@code queue}: queues given the same number share one thread,
     * which takes them in turn (a budget of chains each, so that none starves another). Numbers
     * lie in [0, {@link #queueCount()}). The default puts every queue on worker 0, as rust-vmm's
     * vhost-user-backend does; {@code return queue} gives each queue a thread of its own. Asked
     * once per connection, before {@link #activate}.
     */
    default int workerFor(int queue) {
        return 0;
    }

    /**
     * A front-end connected: the first call of its session, on the session thread, before any
     * of its requests is applied. The context stays valid until the session ends (then
     * {@link #reset()} follows). A {@link DeviceException} or RuntimeException ends the session.
     */
    default void activate(DeviceContext context) throws DeviceException {}

    /**
     * The features the front-end acknowledged (SET_FEATURES, session thread, before any chain and
     * again whenever the front-end re-sends them). VHOST_F_LOG_ALL is not among them: see
     * {@link #migrationStarting()}.
     */
    default void featuresAcknowledged(long features) {}

    /**
     * A live migration started: the front-end turned dirty logging on (VHOST_F_LOG_ALL set in
     * SET_FEATURES). The device may start preparing its state, as virtiofsd does. Called once per
     * migration, on the session thread, which waits: return quickly. A RuntimeException refuses
     * that SET_FEATURES.
     */
    default void migrationStarting() {}

    /**
     * The migration that {@link #migrationStarting()} announced was given up: dirty logging went
     * off before a state save was confirmed (CHECK_DEVICE_STATE). Drop what was prepared. Called
     * at most once per migration, on the session thread. A {@link #reset()} instead of either
     * ends a migration too.
     */
    default void migrationCancelled() {}

    /**
     * Handles one chain from queue {@code queueIndex}: reads its device-readable part, writes
     * the reply into its device-writable part, returns how many bytes were written (the used
     * length). Called on the queue's worker, one chain at a time per worker, or on
     * {@link #requestExecutor()}. A {@link VirtqueueException} or {@link DeviceException} rejects
     * this chain only; it is returned with length 0 and the queue goes on, as it does after a
     * RuntimeException, StackOverflowError or OutOfMemoryError. Any other Error stops the queue
     * until the front-end sets it up again, and is reported through its err fd.
     */
    long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException, DeviceException;

    /**
     * Where queue {@code queueIndex}'s chains are handled: null (the default) handles them one at
     * a time on the ring's worker thread; an executor (a thread pool) handles several at once and
     * completes them in any order, so {@link #handle} must then be thread-safe. Asked once per
     * queue and connection.
     */
    default Executor requestExecutor(int queueIndex) {
        return null;
    }

    /**
     * Back to the state after construction (RESET_DEVICE, or the front-end went away), on the
     * session thread while no chain is handled. Must not throw.
     */
    default void reset() {}
}
