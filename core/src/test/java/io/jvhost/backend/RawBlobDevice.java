package io.jvhost.backend;

import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import java.io.IOException;
import java.io.InputStream;

/** A stateful device whose state is one big array, saved and loaded as it is. */
final class RawBlobDevice implements StatefulDevice {
    private volatile byte[] blob;

    RawBlobDevice(byte[] blob) {
        this.blob = blob;
    }

    /** The state now: the one constructed with, or the last one loaded. */
    byte[] blob() {
        return blob;
    }

    @Override
    public String name() {
        return "rawblob";
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public long features() {
        return VirtioFeatures.mask(VirtioFeatures.VERSION_1);
    }

    @Override
    public long handle(int queueIndex, DescriptorChain chain) {
        return 0;
    }

    @Override
    public SavedState captureState() {
        byte[] b = blob;
        return out -> {
            for (int off = 0; off < b.length; off += 1 << 20) out.write(b, off, Math.min(1 << 20, b.length - off));
        };
    }

    @Override
    public PreparedState prepareLoad(InputStream in) throws IOException {
        byte[] b = in.readAllBytes();
        return () -> blob = b;
    }
}
