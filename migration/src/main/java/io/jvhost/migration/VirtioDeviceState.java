package io.jvhost.migration;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The virtio core's view of one device at switch-over (seed 003's "common device fields" and
 * "common virtqueue fields"): what the destination front-end needs to set the device up again
 * before it resumes the rings with SET_VRING_BASE. It travels last, in the CONFIG_STATE packet,
 * after the back-end's own state; see {@code docs/migration-stream.md}.
 *
 * @param features negotiated virtio feature bits (all 64)
 * @param status   the device status byte (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, ...)
 * @param config   the device-specific configuration space, at most {@link #MAX_CONFIG_BYTES}
 * @param queues   one entry per virtqueue, in queue-index order
 */
public record VirtioDeviceState(long features, int status, byte[] config, List<QueueState> queues) {
    public static final int MAX_CONFIG_BYTES = 4096;
    public static final int MAX_QUEUES = 1024;
    /** Largest split-ring size the virtio spec allows. */
    public static final int MAX_QUEUE_SIZE = 32768;
    /** VIRTIO_F_VERSION_1: the modern layout, where avail and used rings have their own addresses. */
    public static final long VERSION_1 = 1L << 32;

    public VirtioDeviceState {
        if (status < 0 || status > 0xFF) {
            throw new IllegalArgumentException("status " + status + " is not a byte");
        }
        if (config.length > MAX_CONFIG_BYTES) {
            throw new IllegalArgumentException(
                    "config space of " + config.length + " bytes exceeds " + MAX_CONFIG_BYTES);
        }
        if (queues.size() > MAX_QUEUES) {
            throw new IllegalArgumentException(queues.size() + " queues exceed " + MAX_QUEUES);
        }
        config = config.clone();
        queues = List.copyOf(queues);
    }

    /**
     * One virtqueue. A queue the driver never configured has size 0 and zero addresses.
     *
     * @param size      ring size: 0 or a power of two up to {@link #MAX_QUEUE_SIZE}
     * @param nextAvail the next available-ring index the device will read (GET_VRING_BASE's answer)
     * @param enabled   whether the ring is enabled (SET_VRING_ENABLE)
     */
    public record QueueState(int size, int nextAvail, boolean enabled, long descAddr, long availAddr, long usedAddr) {
        public QueueState {
            if (size < 0 || size > MAX_QUEUE_SIZE || (size & (size - 1)) != 0) {
                throw new IllegalArgumentException(
                        "queue size " + size + " is not 0 or a power of two up to " + MAX_QUEUE_SIZE);
            }
            if (nextAvail < 0 || nextAvail > 0xFFFF) {
                throw new IllegalArgumentException("next avail index " + nextAvail + " is not a 16-bit value");
            }
        }
    }

    /** A copy: the record stays immutable. */
    @Override
    public byte[] config() {
        return config.clone();
    }

    /** True if any feature bit above 31 is set: seed 003's "64 bit features" subsection. */
    public boolean hasHighFeatures() {
        return (features >>> 32) != 0;
    }

    /** True if the separate avail/used ring addresses must travel: seed 003's "virtio-1 virtqueue fields". */
    public boolean needsRingAddresses() {
        return (features & VERSION_1) != 0 || queues.stream().anyMatch(q -> q.availAddr() != 0 || q.usedAddr() != 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VirtioDeviceState s
                && features == s.features
                && status == s.status
                && Arrays.equals(config, s.config)
                && queues.equals(s.queues);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(features) * 31 * 31 * 31
                + status * 31 * 31
                + Arrays.hashCode(config) * 31
                + queues.hashCode();
    }

    @Override
    public String toString() {
        return "VirtioDeviceState[features=0x" + Long.toHexString(features) + ", status=0x"
                + Integer.toHexString(status) + ", config=" + HexFormat.of().formatHex(config) + ", queues=" + queues
                + "]";
    }
}
