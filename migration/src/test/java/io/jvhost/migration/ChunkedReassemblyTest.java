package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Packets larger than a third of a receive chunk, out of order over two channels: they are
 * loaded in index order, the chunks they pin stay within window + channels, the checksum is
 * still checked, and a channel cut inside a packet that crosses a chunk fails the session
 * without completing the output.
 */
class ChunkedReassemblyTest {
    private static final int PACKET = 100_000;
    private static final int WINDOW = 8;
    private static final int PACKETS = 14;

    private MigrationDestination dest;
    private Harness.CapturingOutput out;
    private CompletableFuture<ReceiveResult> received;
    private RawSender src;
    private final byte[][] data = new byte[PACKETS][];

    @BeforeEach
    void start() throws IOException {
        DestinationConfig cfg = Harness.destinationConfig()
                .withLimits(2, PACKET, WINDOW, 1000)
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5));
        dest = MigrationDestination.listen(Harness.LOOPBACK, cfg);
        out = new Harness.CapturingOutput();
        received = Harness.receiveAsync(dest, out);
        src = new RawSender(dest.address());
        for (int i = 0; i < PACKETS; i++) data[i] = Harness.randomBytes(PACKET - i, i);
        assertInstanceOf(ControlMessage.Accept.class, src.hello(RawSender.hello(2, PACKET, -1)));
        src.openChannels(2);
    }

    @AfterEach
    void stop() throws IOException, InterruptedException {
        src.close();
        dest.close();
        Harness.assertNoMigrationThreadsLeft();
    }

    /** Channel 1 carries the odd indices and runs ahead of channel 0, which carries the even ones, late. */
    private void sendOutOfOrder() throws Exception {
        CompletableFuture<Void> ahead = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 1; i < PACKETS; i += 2) src.data(1, i, data[i]);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100); // channel 1's packets wait in the window (and beyond it, in the socket)
        for (int i = 0; i < PACKETS; i += 2) src.data(0, i, data[i]);
        ahead.get();
        src.config(0, PACKETS);
        src.closeChannels();
    }

    /**
     * The End a real source sends: the CRC over the packets in index order (the raw sender's own
     * running CRC follows the order it sent them in, from two threads).
     */
    private ControlMessage.End end(int crcFlip) {
        byte[] config = VirtioStateCodec.encode(Harness.virtio());
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(inOrder());
        crc.update(config);
        return new ControlMessage.End(inOrder().length + config.length, PACKETS + 1, (int) crc.getValue() ^ crcFlip);
    }

    private byte[] inOrder() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] d : data) b.writeBytes(d);
        return b.toByteArray();
    }

    @Test
    void packetsOutOfOrderAreLoadedInOrder() throws Exception {
        sendOutOfOrder();
        src.send(end(0));
        ReceiveResult r = Harness.get(received);
        assertInstanceOf(ControlMessage.Ok.class, src.verdict());
        assertArrayEquals(inOrder(), out.bytes());
        assertTrue(out.closed());
        assertTrue(r.peakHeldPackets() > 1, "channel 1's packets waited for channel 0's");
        assertTrue(r.peakHeldPackets() <= WINDOW, "held " + r.peakHeldPackets());
        assertTrue(r.buffersAllocated() <= WINDOW + 2, "allocated " + r.buffersAllocated() + " chunks");
    }

    @Test
    void theChecksumIsStillChecked() throws Exception {
        sendOutOfOrder();
        src.send(end(0x100));
        Throwable t = Harness.failureOf(received);
        assertTrue(t.getMessage().contains("checksum mismatch"), t.getMessage());
        assertFalse(out.closed(), "a failed stream must not be completed");
    }

    @Test
    void aPeerDyingInsideAPacketThatCrossesAChunkFailsCleanly() throws Exception {
        for (int i = 0; i < 3; i++) src.data(0, i, data[i]); // 300 kB: the third crosses the first chunk
        src.raw(0, PacketHeader.data(3, PACKET).encode());
        src.raw(0, Harness.randomBytes(54_321, 1));
        src.close();
        Throwable t = Harness.failureOf(received);
        assertTrue(
                t.getMessage().contains("state channel 0 was cut in the middle of packet 3 (54321 of 100000 bytes)")
                        || t.getMessage().contains("source closed the main channel"),
                t.getMessage());
        assertFalse(out.closed());
    }
}
