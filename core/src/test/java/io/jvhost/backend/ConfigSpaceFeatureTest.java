package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROTOCOL_F_CONFIG is offered exactly when the device has a config space: QEMU warns about a
 * back-end that offers it to a device model that builds its config itself (vhost-user-rng,
 * vhost-user-fs), and virtiofsd offers it only when it has a tag to put there.
 */
class ConfigSpaceFeatureTest {
    @TempDir
    Path dir;

    /** A device with the given config space; it may ask for CONFIG itself, which must not matter. */
    private record ConfigDevice(byte[] configSpace, Set<ProtocolFeature> asked) implements Device {
        @Override
        public String name() {
            return "config-test";
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
        public Set<ProtocolFeature> protocolFeatures() {
            return asked;
        }

        @Override
        public boolean hasConfigSpace() {
            return configSpace.length > 0;
        }

        @Override
        public byte[] config() {
            return configSpace.clone();
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) {
            return 0;
        }
    }

    private long offeredProtocolFeatures(Device device) throws Exception {
        try (BackgroundServer served = BackgroundServer.start(dir.resolve("s.sock"), device);
                FrontendClient c = FrontendClient.connect(served.socket())) {
            assertTrue(VirtioFeatures.has(c.getFeatures(), VirtioFeatures.PROTOCOL_FEATURES));
            return c.getProtocolFeatures();
        }
    }

    @Test
    void aDeviceWithoutConfigSpaceIsNotOfferedConfig() throws Exception {
        long pf = offeredProtocolFeatures(new ConfigDevice(new byte[0], Set.of()));
        assertFalse(ProtocolFeature.CONFIG.isIn(pf), ProtocolFeature.describe(pf));
        assertTrue(ProtocolFeature.REPLY_ACK.isIn(pf), "the server's own features are still offered");
    }

    @Test
    void aDeviceWithoutConfigSpaceCannotAskForConfig() throws Exception {
        long pf = offeredProtocolFeatures(new ConfigDevice(new byte[0], Set.of(ProtocolFeature.CONFIG)));
        assertFalse(
                ProtocolFeature.CONFIG.isIn(pf), "nothing to read with GET_CONFIG: " + ProtocolFeature.describe(pf));
    }

    @Test
    void aDeviceWithConfigSpaceIsOfferedConfigAndServesIt() throws Exception {
        byte[] space = {1, 2, 3, 4, 5, 6, 7, 8};
        try (BackgroundServer served =
                        BackgroundServer.start(dir.resolve("c.sock"), new ConfigDevice(space, Set.of()));
                FrontendClient c = FrontendClient.connect(served.socket())) {
            c.getFeatures();
            long pf = c.getProtocolFeatures();
            assertTrue(ProtocolFeature.CONFIG.isIn(pf), ProtocolFeature.describe(pf));
            c.setProtocolFeatures(pf);
            assertArrayEquals(new byte[] {3, 4, 5, 6}, c.getConfig(2, 4));
        }
    }
}
