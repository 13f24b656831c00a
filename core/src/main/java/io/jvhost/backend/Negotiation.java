package io.jvhost.backend;

import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a session offers its front-end (GET_FEATURES, GET_PROTOCOL_FEATURES) and what it acked. */
final class Negotiation {
    private static final Logger LOG = LoggerFactory.getLogger(Negotiation.class);

    /** Protocol features every jvhost back-end implements (CONFIG and DEVICE_STATE depend on the device). */
    static final Set<ProtocolFeature> BASE_PROTOCOL_FEATURES = EnumSet.of(
            ProtocolFeature.MQ,
            ProtocolFeature.LOG_SHMFD,
            ProtocolFeature.REPLY_ACK,
            ProtocolFeature.RESET_DEVICE,
            ProtocolFeature.CONFIGURE_MEM_SLOTS,
            ProtocolFeature.STATUS);

    private final long offeredFeatures;
    private final long offeredProtocolFeatures;
    private long ackedFeatures;
    private volatile long ackedProtocolFeatures; // read by device threads (BackendChannel)
    private boolean featuresSet;

    Negotiation(Device device) {
        this.offeredFeatures =
                device.features() | VirtioFeatures.mask(VirtioFeatures.PROTOCOL_FEATURES, VirtioFeatures.LOG_ALL);
        EnumSet<ProtocolFeature> pf = EnumSet.copyOf(BASE_PROTOCOL_FEATURES);
        pf.addAll(device.protocolFeatures());
        // Offered only by devices that can migrate their state: QEMU refuses to migrate a
        // vhost-user-fs back-end without it, which is the honest answer for a device that can't.
        if (DeviceStateControl.offered(device)) pf.add(ProtocolFeature.DEVICE_STATE);
        else pf.remove(ProtocolFeature.DEVICE_STATE);
        // Offered only by devices with a config space, as virtiofsd does (only with --tag): QEMU's
        // vhost-user-rng/-fs build their config themselves and warn about a back-end offering it.
        if (device.hasConfigSpace()) pf.add(ProtocolFeature.CONFIG);
        else pf.remove(ProtocolFeature.CONFIG);
        this.offeredProtocolFeatures = ProtocolFeature.maskOf(pf);
    }

    long offeredFeatures() {
        return offeredFeatures;
    }

    long offeredProtocolFeatures() {
        return offeredProtocolFeatures;
    }

    /** SET_PROTOCOL_FEATURES; a bit that was not offered is refused. */
    void ackProtocolFeatures(long features) throws RequestRejected {
        long unknown = features & ~offeredProtocolFeatures;
        if (unknown != 0) throw new RequestRejected("protocol features not offered: 0x" + Long.toHexString(unknown));
        ackedProtocolFeatures = features;
        LOG.info("protocol features: {}", ProtocolFeature.describe(ackedProtocolFeatures));
    }

    boolean negotiated(ProtocolFeature f) {
        return f.isIn(ackedProtocolFeatures);
    }

    /** SET_FEATURES, before it is applied: a bit that was not offered is refused. */
    void requireOffered(long features) throws RequestRejected {
        long unknown = features & ~offeredFeatures;
        if (unknown != 0) throw new RequestRejected("features not offered: " + VirtioFeatures.describe(unknown));
    }

    /** SET_FEATURES, once applied. */
    void ackFeatures(long features) {
        ackedFeatures = features;
        featuresSet = true;
        LOG.info("features: {}", VirtioFeatures.describe(features));
    }

    /** The features acked by the last SET_FEATURES since the last reset; 0 before. */
    long ackedFeatures() {
        return featuresSet ? ackedFeatures : 0;
    }

    /** RESET_DEVICE: the features go; the protocol features stay (they belong to the connection). */
    void resetFeatures() {
        ackedFeatures = 0;
        featuresSet = false;
    }
}
