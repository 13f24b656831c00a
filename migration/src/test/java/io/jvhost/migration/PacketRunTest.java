package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The source's runs of packets (PacketProducer) and their writers: short reads still give full
 * packets, short writes continue where they stopped, and the bytes on the wire are exactly the
 * packets one at a time would have been.
 */
class PacketRunTest {
    private static final int PACKET = 1000;
    private static final byte[] CONFIG = VirtioStateCodec.encode(Harness.virtio());

    /** A state that comes at most {@code step} bytes per read, as from a pipe the back-end fills slowly. */
    private static ReadableByteChannel trickling(byte[] state, int step) {
        return new ReadableByteChannel() {
            private int at;

            @Override
            public int read(ByteBuffer dst) {
                if (at == state.length) return -1;
                int n = Math.min(Math.min(step, dst.remaining()), state.length - at);
                dst.put(state, at, n);
                at += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
    }

    /** Writes at most {@code step} bytes per call, gathering or not. */
    private static final class ShortWrites implements GatheringByteChannel {
        final ByteArrayOutputStream wire = new ByteArrayOutputStream();
        final int step;
        int calls;

        ShortWrites(int step) {
            this.step = step;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            calls++;
            long n = 0;
            for (int i = offset; i < offset + length && n < step; i++) {
                while (srcs[i].hasRemaining() && n < step) {
                    wire.write(srcs[i].get());
                    n++;
                }
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) {
            return (int) write(new ByteBuffer[] {src}, 0, 1);
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    /** What the one-packet-at-a-time source put on the wire for {@code state}. */
    private static byte[] expectedWire(byte[] state) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int idx = 0;
        for (int at = 0; at < state.length; at += PACKET) {
            int len = Math.min(PACKET, state.length - at);
            b.writeBytes(PacketHeader.data(idx++, len).encode());
            b.write(state, at, len);
        }
        b.writeBytes(PacketHeader.configState(idx, CONFIG.length).encode());
        b.writeBytes(CONFIG);
        return b.toByteArray();
    }

    private static List<int[]> drain(PacketProducer producer, PacketWriter writer) throws IOException {
        PacketProducer.Batch batch = producer.newBatch();
        List<int[]> runs = new ArrayList<>(); // {first index, packets, state bytes}
        while (producer.next(batch)) {
            runs.add(new int[] {batch.firstIndex(), batch.packets(), (int) batch.stateBytes()});
            writer.write(batch);
        }
        return runs;
    }

    @ParameterizedTest(name = "reads of at most {0} bytes")
    @ValueSource(ints = {1, 7, 999, 1000, 1001, 40_000})
    void shortReadsStillGiveFullPacketsAndTheSameWire(int step) throws IOException {
        byte[] state = Harness.randomBytes(23_456, step);
        FirstFailure failure = new FirstFailure();
        PacketProducer producer = new PacketProducer(trickling(state, step), PACKET, CONFIG, failure);
        ShortWrites out = new ShortWrites(Integer.MAX_VALUE);
        List<int[]> runs = drain(producer, PacketWriter.over(out));

        assertFalse(failure.hasFailed());
        assertArrayEquals(expectedWire(state), out.wire.toByteArray());
        int next = 0;
        for (int[] r : runs) {
            assertEquals(next, r[0], "runs follow each other without a gap");
            assertTrue(r[1] >= 1 && r[1] <= PacketProducer.MAX_RUN_PACKETS, "packets in a run: " + r[1]);
            next += r[1];
        }
        for (int i = 0; i < runs.size() - 2; i++) {
            assertEquals(runs.get(i)[1] * PACKET, runs.get(i)[2], "every run but the last two holds full packets");
        }
        CRC32C crc = new CRC32C();
        crc.update(state);
        crc.update(CONFIG);
        ControlMessage.End end = producer.end();
        assertEquals((int) crc.getValue(), end.crc32c());
        assertEquals(state.length + CONFIG.length, end.totalBytes());
        assertEquals((state.length + PACKET - 1) / PACKET + 1, end.packets());
    }

    @Test
    void aStateAlreadyThereTravelsInRunsOfSixteenPackets() throws IOException {
        byte[] state = Harness.randomBytes(40 * PACKET, 3);
        PacketProducer producer =
                new PacketProducer(trickling(state, state.length), PACKET, CONFIG, new FirstFailure());
        ShortWrites out = new ShortWrites(Integer.MAX_VALUE);
        List<int[]> runs = drain(producer, PacketWriter.over(out));
        assertEquals(List.of(16, 16, 8, 1), runs.stream().map(r -> r[1]).toList());
        assertEquals(4, out.calls, "one gathering write per run");
    }

    @Test
    void aRunIsAtMostOneMebibyte() {
        PacketProducer producer = new PacketProducer(trickling(new byte[0], 1), 300_000, CONFIG, new FirstFailure());
        PacketProducer.Batch batch = producer.newBatch();
        assertEquals(3, batch.frames().length / 2, "1 MiB / 300 kB: 3 packets per run");
    }

    @ParameterizedTest(name = "writes of at most {0} bytes")
    @ValueSource(ints = {1, 5, 16, 17, 1016, 3000})
    void shortWritesContinueWhereTheyStopped(int step) throws IOException {
        byte[] state = Harness.randomBytes(20 * PACKET + 123, step);
        PacketProducer producer = new PacketProducer(trickling(state, 5000), PACKET, CONFIG, new FirstFailure());
        ShortWrites out = new ShortWrites(step);
        drain(producer, PacketWriter.over(out));
        assertArrayEquals(expectedWire(state), out.wire.toByteArray());
    }

    @Test
    void aFilterSeesEachPacketAsOneWrite() throws IOException {
        byte[] state = Harness.randomBytes(5 * PACKET + 10, 9);
        List<Integer> writes = new ArrayList<>();
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        WritableByteChannel filter = StreamChannels.writable(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                throw new AssertionError("single bytes");
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writes.add(len);
                wire.write(b, off, len);
            }
        });
        PacketWriter writer = PacketWriter.over(filter);
        assertInstanceOf(PacketWriter.PerPacket.class, writer);
        drain(new PacketProducer(trickling(state, state.length), PACKET, CONFIG, new FirstFailure()), writer);
        int frame = StreamFormat.PACKET_HEADER_BYTES + PACKET;
        assertEquals(
                List.of(frame, frame, frame, frame, frame, 16 + 10, 16 + CONFIG.length),
                writes,
                "header and data together");
        assertArrayEquals(expectedWire(state), wire.toByteArray());
    }

    @Test
    void aReadErrorFailsTheSessionAndEndsTheRuns() {
        ReadableByteChannel broken = new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                throw new IOException("pipe broke");
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
        FirstFailure failure = new FirstFailure();
        PacketProducer producer = new PacketProducer(broken, PACKET, CONFIG, failure);
        assertFalse(producer.next(producer.newBatch()));
        assertTrue(failure.hasFailed());
        assertTrue(failure.cause().getMessage().contains("reading the device state failed: pipe broke"));
    }

    @Test
    void aBrokenStateChannelFailsTheSessionInsteadOfKillingTheThread() {
        ReadableByteChannel closedUnderUs = new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer dst) {
                throw new IllegalStateException("file descriptor already closed");
            }

            @Override
            public boolean isOpen() {
                return false;
            }

            @Override
            public void close() {}
        };
        FirstFailure failure = new FirstFailure();
        PacketProducer producer = new PacketProducer(closedUnderUs, PACKET, CONFIG, failure);
        assertFalse(producer.next(producer.newBatch()));
        assertTrue(
                failure.cause().getMessage().contains("file descriptor already closed"),
                failure.cause().getMessage());
    }
}
