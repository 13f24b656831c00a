package io.jvhost.backend;

import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.util.Set;

/**
 * A virtio device served by {@link BackendServer}: small enough that a device fits in one file.
 * The server owns the protocol, guest memory, rings, notifications and dirty logging; the device
 * says what it offers and turns one descriptor chain into a reply. Chains of one queue are
 * handed over one at a time on that queue's worker thread.
 *
 * <p>There is no virtio device id here: vhost-user never carries one, the front-end picks the
 * device model (QEMU's {@code -device vhost-user-rng-pci}, or {@code vhost-user-device}'s
 * {@code virtio-id=}) and with it the id the guest sees.
 */
public interface Device {
    /** Short name for logs and capabilities ("rng", "fs"). */
    String name();

    /** Number of virtqueues (GET_QUEUE_NUM). */
    int queueCount();

    /** Largest queue size accepted in SET_VRING_NUM. */
    default int maxQueueSize() {
        return 1024;
    }

    /**
     * Virtio feature bits the device supports, transport bits included (VERSION_1,
     * RING_EVENT_IDX, RING_INDIRECT_DESC). The server adds VHOST_USER_F_PROTOCOL_FEATURES and
     * VHOST_F_LOG_ALL itself.
     */
    long features();

    /**
     * Protocol features the device needs beyond the server's own. CONFIG and DEVICE_STATE are
     * not asked for here: the server offers CONFIG when {@link #hasConfigSpace()} and
     * DEVICE_STATE when the device is a {@link StatefulDevice} that can migrate.
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

    /** The device's config space as the driver reads it; empty unless {@link #hasConfigSpace()}. */
    default byte[] config() {
        return new byte[0];
    }

    /**
     * A driver write to the config space. Devices without writable config fields refuse, as the
     * virtio spec makes all such fields read-only.
     */
    default void writeConfig(int offset, byte[] data) throws DeviceException {
        throw new DeviceException("config space of " + name() + " is read-only");
    }

    /** The features the front-end acknowledged (SET_FEATURES); called before any chain. */
    default void featuresAcknowledged(long features) {}

    /**
     * Handles one chain from queue {@code queueIndex}: reads its device-readable part, writes
     * the reply into its device-writable part, returns how many bytes were written (the used
     * length). A {@link VirtqueueException} rejects this chain only; it is returned with
     * length 0 and the queue goes on.
     */
    long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException, DeviceException;

    /**
     * Where chains are handled: null (the default) handles them one at a time on the ring's
     * worker thread; an executor (a thread pool) handles several at once and completes them in
     * any order, so {@link #handle} must then be thread-safe.
     */
    default java.util.concurrent.Executor requestExecutor() {
        return null;
    }

    /** Back to the state after construction (RESET_DEVICE, or the front-end went away). */
    default void reset() {}
}
