package io.jvhost.testing;

import io.jvhost.backend.DeviceContext;
import io.jvhost.backend.DeviceException;
import io.jvhost.backend.StatefulDevice;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * A {@link StatefulDevice} that is {@code device} in every way but its state transfers, which
 * it damages or refuses as the {@link StateFault} of the moment says (asked anew at each
 * transfer, so a test switches faults between migrations).
 */
public final class FaultInjectingDevice implements StatefulDevice {
    private final StatefulDevice device;
    private final Supplier<StateFault> fault;

    /** Faults named in {@code faultFile}, for a back-end in another process. */
    public FaultInjectingDevice(StatefulDevice device, Path faultFile) {
        this(device, () -> StateFault.readFrom(faultFile));
    }

    /** Faults chosen by the test in-process. */
    public FaultInjectingDevice(StatefulDevice device, Supplier<StateFault> fault) {
        this.device = device;
        this.fault = fault;
    }

    @Override
    public SavedState captureState() throws DeviceException {
        StateFault fault = this.fault.get();
        if (fault == StateFault.REFUSE_SAVE) throw new DeviceException("refusing to save (test fault)");
        SavedState saved = device.captureState();
        if (fault == StateFault.NONE) return saved;
        return out -> {
            ByteArrayOutputStream blob = new ByteArrayOutputStream();
            saved.writeTo(blob);
            out.write(fault.damage(blob.toByteArray()));
        };
    }

    @Override
    public PreparedState prepareLoad(InputStream in) throws IOException, DeviceException {
        StateFault fault = this.fault.get();
        if (fault == StateFault.REFUSE_LOAD) {
            device.prepareLoad(in).discard();
            throw new DeviceException("refusing the state (test fault)");
        }
        if (fault == StateFault.STALL_LOAD) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeviceException("interrupted while stalling the load (test fault)");
            }
        }
        return device.prepareLoad(in);
    }

    // ---- everything else is the device's own ----

    @Override
    public boolean canMigrate() {
        return device.canMigrate();
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public boolean hasConfigSpace() {
        return device.hasConfigSpace();
    }

    @Override
    public int queueCount() {
        return device.queueCount();
    }

    @Override
    public int maxQueueSize() {
        return device.maxQueueSize();
    }

    @Override
    public long features() {
        return device.features();
    }

    @Override
    public Set<ProtocolFeature> protocolFeatures() {
        return device.protocolFeatures();
    }

    @Override
    public byte[] config() {
        return device.config();
    }

    @Override
    public void writeConfig(int offset, byte[] data) throws DeviceException {
        device.writeConfig(offset, data);
    }

    @Override
    public int workerFor(int queue) {
        return device.workerFor(queue);
    }

    @Override
    public void activate(DeviceContext context) throws DeviceException {
        device.activate(context);
    }

    @Override
    public void featuresAcknowledged(long features) {
        device.featuresAcknowledged(features);
    }

    @Override
    public void migrationStarting() {
        device.migrationStarting();
    }

    @Override
    public void migrationCancelled() {
        device.migrationCancelled();
    }

    @Override
    public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException, DeviceException {
        return device.handle(queueIndex, chain);
    }

    @Override
    public Executor requestExecutor(int queueIndex) {
        return device.requestExecutor(queueIndex);
    }

    @Override
    public void reset() {
        device.reset();
    }
}
