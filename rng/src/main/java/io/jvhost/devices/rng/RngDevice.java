package io.jvhost.devices.rng;

import io.jvhost.backend.Device;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.ChainWriter;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.security.SecureRandom;

/**
 * virtio-rng (virtio spec 5.4): one request queue; the driver posts device-writable buffers
 * and the device fills them with entropy. Served to QEMU's vhost-user-rng-pci. Entropy comes
 * from the JDK's SecureRandom (NativePRNG: /dev/urandom on Linux), the same source as
 * rust-vmm's vhost-device-rng reading /dev/urandom.
 */
public final class RngDevice implements Device {
    /** A request larger than this is answered in part: the driver asks again (as QEMU's rng does). */
    static final int MAX_BYTES_PER_REQUEST = 64 * 1024;

    private final SecureRandom random = new SecureRandom();
    private final byte[] scratch = new byte[MAX_BYTES_PER_REQUEST];

    /** A device for one front-end at a time; serve it with {@code BackendServer} or {@code BackgroundServer}. */
    public RngDevice() {}

    @Override
    public String name() {
        return "rng";
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public long features() {
        return VirtioFeatures.mask(
                VirtioFeatures.VERSION_1, VirtioFeatures.RING_INDIRECT_DESC, VirtioFeatures.RING_EVENT_IDX);
    }

    @Override
    public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
        int n = (int) Math.min(chain.writableBytes(), MAX_BYTES_PER_REQUEST);
        byte[] bytes = n == scratch.length ? scratch : new byte[n];
        random.nextBytes(bytes);
        ChainWriter out = chain.writer();
        out.write(bytes, 0, n);
        return n;
    }
}
