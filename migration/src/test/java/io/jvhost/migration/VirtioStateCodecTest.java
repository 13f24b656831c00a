package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.state.IfUnknown;
import io.jvhost.state.ScopeSummary;
import io.jvhost.state.StateFormatException;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtioStateCodecTest {

    private static List<String> subsections(byte[] blob) throws Exception {
        ScopeSummary core =
                StateReader.describe(new ByteArrayInputStream(blob)).sections().getFirst();
        return core.subsections().stream().map(ScopeSummary::name).toList();
    }

    @Test
    void modernDeviceWithHighFeaturesRoundTripsWithBothSubsections() throws Exception {
        VirtioDeviceState s = Harness.virtio();
        byte[] blob = VirtioStateCodec.encode(s);
        assertEquals(s, VirtioStateCodec.decode(blob));
        assertEquals(List.of("features-64", "virtio-1-rings"), subsections(blob));
    }

    @Test
    void subsectionsAreWrittenOnlyWhenNeeded() throws Exception {
        VirtioDeviceState legacy = new VirtioDeviceState(
                0x3000_0001L, 0x07, new byte[0], List.of(new VirtioDeviceState.QueueState(256, 3, true, 0x4000, 0, 0)));
        byte[] blob = VirtioStateCodec.encode(legacy);
        assertEquals(List.of(), subsections(blob));
        assertEquals(legacy, VirtioStateCodec.decode(blob));
    }

    @Test
    void unconfiguredQueuesAndEmptyDevice() throws Exception {
        VirtioDeviceState empty = new VirtioDeviceState(0, 0, new byte[0], List.of());
        assertEquals(empty, VirtioStateCodec.decode(VirtioStateCodec.encode(empty)));
        VirtioDeviceState idle = new VirtioDeviceState(
                VirtioDeviceState.VERSION_1,
                0,
                new byte[4096],
                List.of(new VirtioDeviceState.QueueState(0, 0, false, 0, 0, 0)));
        assertEquals(idle, VirtioStateCodec.decode(VirtioStateCodec.encode(idle)));
    }

    @Test
    void recordIsImmutable() {
        byte[] config = {1, 2, 3};
        VirtioDeviceState s = new VirtioDeviceState(0, 0, config, List.of());
        config[0] = 9;
        s.config()[1] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, s.config());
    }

    @Test
    void recordRejectsImpossibleValues() {
        assertThrows(IllegalArgumentException.class, () -> new VirtioDeviceState.QueueState(100, 0, true, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new VirtioDeviceState.QueueState(65536, 0, true, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new VirtioDeviceState.QueueState(8, 65536, true, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new VirtioDeviceState(0, 256, new byte[0], List.of()));
        assertThrows(IllegalArgumentException.class, () -> new VirtioDeviceState(0, 0, new byte[4097], List.of()));
    }

    @Test
    void hostileEncodingsAreRejectedClearly() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, VirtioStateCodec.DEVICE_TYPE);
        w.section(
                VirtioStateCodec.SECTION,
                1,
                1,
                o -> o.u8(0)
                        .u32(0)
                        .bytes(new byte[0])
                        .count(1)
                        .u16(100)
                        .u16(0)
                        .bool(true)
                        .u64(0));
        w.finish();
        StateFormatException e =
                assertThrows(StateFormatException.class, () -> VirtioStateCodec.decode(out.toByteArray()));
        assertTrue(e.getMessage().contains("queue 0 has size 100"), e.getMessage());

        ByteArrayOutputStream out2 = new ByteArrayOutputStream();
        StateWriter w2 = StateWriter.create(out2, VirtioStateCodec.DEVICE_TYPE);
        w2.section(
                VirtioStateCodec.SECTION,
                1,
                1,
                o -> o.u8(0)
                        .u32(0)
                        .bytes(new byte[0])
                        .count(1)
                        .u16(8)
                        .u16(0)
                        .bool(true)
                        .u64(0)
                        .subsection(VirtioStateCodec.RINGS, 1, IfUnknown.FAIL, sub -> sub.count(0)));
        w2.finish();
        e = assertThrows(StateFormatException.class, () -> VirtioStateCodec.decode(out2.toByteArray()));
        assertTrue(e.getMessage().contains("0 ring address pairs for 1 queues"), e.getMessage());

        byte[] good = VirtioStateCodec.encode(Harness.virtio());
        good[good.length - 30] ^= 1;
        assertThrows(StateFormatException.class, () -> VirtioStateCodec.decode(good));
    }
}
