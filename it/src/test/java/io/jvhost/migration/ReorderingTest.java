package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.synthetic.SyntheticContent;
import java.io.ByteArrayInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Packets overtake each other across channels; the destination still loads in order, with bounded memory. */
class ReorderingTest {
    @AfterEach
    void noThreadsLeft() throws InterruptedException {
        Harness.assertNoMigrationThreadsLeft();
    }

    /** Delays every write on one channel, so the others overtake it. */
    static ChannelFilter slowChannel(int slow, long delayMillis) {
        return (channel, out) -> channel != slow
                ? out
                : new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        try {
                            Thread.sleep(delayMillis);
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                        out.write(b, off, len);
                    }
                };
    }

    /**
     * As {@link #slowChannel}, and the other channels' first writes wait (at most 2 s) until the
     * slow one is in its second write: it then holds an early packet, so later ones always
     * overtake it, however late the scheduler starts its thread.
     */
    static ChannelFilter slowChannelHoldingAnEarlyPacket(int slow, long delayMillis) {
        java.util.concurrent.CountDownLatch slowWrites = new java.util.concurrent.CountDownLatch(2);
        ChannelFilter delayed = slowChannel(slow, delayMillis);
        return (channel, out) -> channel == slow
                ? delayed.wrap(channel, new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        slowWrites.countDown();
                        out.write(b, off, len);
                    }
                })
                : new FilterOutputStream(out) {
                    private boolean first = true;

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        if (first) {
                            first = false;
                            try {
                                slowWrites.await(2, java.util.concurrent.TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                throw new IOException(e);
                            }
                        }
                        out.write(b, off, len);
                    }
                };
    }

    @Test
    void aDelayedChannelIsOvertakenAndTheOutputIsStillInOrder() throws Exception {
        byte[] state = Harness.randomBytes(400_000, 42);
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            SendResult sent = new MigrationSource(
                            Harness.sourceConfig(4, 4096).withChannelFilter(slowChannelHoldingAnEarlyPacket(0, 15)))
                    .send(
                            dest.address(),
                            Harness.DEVICE,
                            Harness.virtio(),
                            new ByteArrayInputStream(state),
                            state.length);
            ReceiveResult r = Harness.get(received);
            assertArrayEquals(state, out.bytes());
            long slow = sent.packetsPerChannel().get(0);
            assertTrue(
                    slow < sent.packets() / 4,
                    "the delayed channel carried less than its share: " + sent.packetsPerChannel());
            assertTrue(r.peakHeldPackets() > 1, "packets overtook the delayed one and waited for it");
            assertEquals(Harness.virtio(), r.virtio());
        }
    }

    /**
     * 64 MiB through a window of 8 packets while one channel crawls: every other channel runs ahead
     * until the window stops its reader, TCP pushes back, and the stream still finishes.
     */
    @ParameterizedTest(name = "window {0}")
    @ValueSource(ints = {1, 8})
    void memoryStaysBoundedAndASlowChannelCannotDeadlockTheStream(int window) {
        long size = 64L << 20;
        int packet = 16 * 1024;
        int channels = 4;
        DestinationConfig cfg = Harness.destinationConfig().withLimits(channels, packet, window, 1 << 20);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            CrcOutput out = new CrcOutput();
            try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, cfg)) {
                CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
                SyntheticContent content = new SyntheticContent(7, size);
                SendResult sent = new MigrationSource(
                                Harness.sourceConfig(channels, packet).withChannelFilter(slowChannel(2, 3)))
                        .send(dest.address(), Harness.DEVICE, Harness.virtio(), content.stream(), size);
                ReceiveResult r = Harness.get(received);
                assertEquals(size, r.stateBytes());
                assertEquals(Integer.toUnsignedLong(content.crc32c()), out.crc.getValue());
                assertEquals(sent.crc32c(), r.crc32c());
                assertTrue(r.peakHeldPackets() <= window, "held " + r.peakHeldPackets());
                assertTrue(
                        r.buffersAllocated() <= window + channels,
                        "allocated " + r.buffersAllocated() + " buffers for " + r.packets() + " packets");
                assertTrue(sent.packetsPerChannel().get(2) < r.packets() / channels, "the slow channel carried less");
            }
        });
    }

    static final class CrcOutput extends OutputStream {
        final CRC32C crc = new CRC32C();

        @Override
        public void write(int b) {
            crc.update(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            crc.update(b, off, len);
        }
    }
}
