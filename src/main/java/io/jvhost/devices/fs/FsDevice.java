package io.jvhost.devices.fs;

import io.jvhost.backend.Device;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * virtio-fs (virtio spec 5.11, device id 26) over a {@link FileSystem}: queue 0 is the hiprio
 * queue (FORGET/BATCH_FORGET, so that they never wait behind ordinary requests), queues 1..N the
 * request queues; every queue carries FUSE requests handled by one {@link FuseServer}.
 *
 * <p>The config space (struct virtio_fs_config: a 36-byte NUL-padded tag and le32
 * num_request_queues) is served for front-ends that ask with GET_CONFIG. QEMU's
 * vhost-user-fs-pci does not: it builds that config itself from its {@code tag} and
 * {@code num-request-queues} properties, so the device needs no extra protocol feature and the
 * tag given here is for jvhost's own front-end and for logs.
 */
public final class FsDevice implements Device {
    public static final int VIRTIO_ID_FS = 26;
    /** sizeof(virtio_fs_config.tag). */
    public static final int TAG_SIZE = 36;
    public static final int CONFIG_SIZE = TAG_SIZE + 4;

    private final String tag;
    private final int numRequestQueues;
    private final FuseServer server;
    private final byte[] config;

    public FsDevice(String tag, FileSystem fs) {
        this(tag, 1, new FuseServer(fs));
    }

    /**
     * @param tag              the mount tag the guest uses (mount -t virtiofs TAG ...): 1 to 36 bytes of UTF-8
     * @param numRequestQueues request queues besides hiprio, at least 1
     */
    public FsDevice(String tag, int numRequestQueues, FuseServer server) {
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > TAG_SIZE) {
            throw new IllegalArgumentException("virtio-fs tag must be 1 to " + TAG_SIZE + " bytes, not " + t.length
                    + ": " + tag);
        }
        if (tag.indexOf('\0') >= 0) throw new IllegalArgumentException("virtio-fs tag contains NUL");
        if (numRequestQueues < 1 || numRequestQueues > 1023) {
            throw new IllegalArgumentException("request queues must be 1 to 1023: " + numRequestQueues);
        }
        this.tag = tag;
        this.numRequestQueues = numRequestQueues;
        this.server = server;
        ByteBuffer c = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        c.put(t).position(TAG_SIZE);
        c.putInt(numRequestQueues);
        this.config = c.array();
    }

    public String tag() {
        return tag;
    }

    public int numRequestQueues() {
        return numRequestQueues;
    }

    public FuseServer server() {
        return server;
    }

    @Override
    public String name() {
        return "fs";
    }

    @Override
    public int virtioDeviceId() {
        return VIRTIO_ID_FS;
    }

    @Override
    public int queueCount() {
        return 1 + numRequestQueues;
    }

    @Override
    public long features() {
        // VIRTIO_FS_F_NOTIFICATION (bit 0) is not offered: no notification queue.
        return VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.RING_INDIRECT_DESC,
                VirtioFeatures.RING_EVENT_IDX);
    }

    @Override
    public byte[] config() {
        return config.clone();
    }

    @Override
    public long handle(int queueIndex, DescriptorChain chain) {
        return server.handle(chain);
    }

    @Override
    public void reset() {
        server.reset();
    }
}
