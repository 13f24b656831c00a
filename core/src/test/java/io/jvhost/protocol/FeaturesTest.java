package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FeaturesTest {
    @Test
    void protocolFeatureBitsFollowTheSpec() {
        assertEquals(0, ProtocolFeature.MQ.bit());
        assertEquals(3, ProtocolFeature.REPLY_ACK.bit());
        assertEquals(5, ProtocolFeature.BACKEND_REQ.bit());
        assertEquals(12, ProtocolFeature.INFLIGHT_SHMFD.bit());
        assertEquals(15, ProtocolFeature.CONFIGURE_MEM_SLOTS.bit());
        assertEquals(19, ProtocolFeature.DEVICE_STATE.bit());
        for (ProtocolFeature f : ProtocolFeature.values()) assertEquals(f.ordinal(), f.bit(), f.name());
        assertEquals(1L << 19, ProtocolFeature.DEVICE_STATE.mask());
        assertEquals((1L << 21) - 1, ProtocolFeature.KNOWN_MASK);
    }

    @Test
    void masksAndSetsRoundTripAndUnknownBitsAreSeparated() {
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            long mask = random.nextLong();
            EnumSet<ProtocolFeature> set = ProtocolFeature.setOf(mask);
            assertEquals(mask & ProtocolFeature.KNOWN_MASK, ProtocolFeature.maskOf(set));
            assertEquals(mask & ~ProtocolFeature.KNOWN_MASK, ProtocolFeature.unknownBits(mask));
            assertEquals(set, ProtocolFeature.setOf(ProtocolFeature.maskOf(set)));
        }
        long mask = ProtocolFeature.MQ.mask() | ProtocolFeature.DEVICE_STATE.mask() | (1L << 40);
        assertEquals(EnumSet.of(ProtocolFeature.MQ, ProtocolFeature.DEVICE_STATE), ProtocolFeature.setOf(mask));
        assertEquals("MQ|DEVICE_STATE|0x10000000000", ProtocolFeature.describe(mask));
        assertEquals("none", ProtocolFeature.describe(0));
        assertTrue(ProtocolFeature.DEVICE_STATE.isIn(mask));
        assertFalse(ProtocolFeature.LOG_SHMFD.isIn(mask));
    }

    @Test
    void virtioFeatureBits() {
        assertEquals(1L << 30, VirtioFeatures.mask(VirtioFeatures.PROTOCOL_FEATURES));
        assertEquals(1L << 26, VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
        assertEquals(
                (1L << 32) | (1L << 29) | (1L << 28),
                VirtioFeatures.mask(
                        VirtioFeatures.VERSION_1, VirtioFeatures.RING_EVENT_IDX, VirtioFeatures.RING_INDIRECT_DESC));
        assertEquals(24, VirtioFeatures.NOTIFY_ON_EMPTY);
        assertEquals(33, VirtioFeatures.ACCESS_PLATFORM);
        assertEquals(34, VirtioFeatures.RING_PACKED);
        assertEquals(35, VirtioFeatures.IN_ORDER);
        assertEquals(36, VirtioFeatures.ORDER_PLATFORM);
        assertTrue(VirtioFeatures.has(1L << 63, 63));
        assertFalse(VirtioFeatures.has(1L << 32, 30));
        assertEquals("bit0|PROTOCOL_FEATURES|VERSION_1", VirtioFeatures.describe(1L | (1L << 30) | (1L << 32)));
        assertThrows(IllegalArgumentException.class, () -> VirtioFeatures.mask(64));
    }
}
