package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Cancel, cuts, deaths and corruption: both sides fail with a clear reason; the output is never completed. */
class SourceFailureTest {
    @AfterEach
    void noThreadsLeft() throws InterruptedException {
        Harness.assertNoMigrationThreadsLeft();
    }

    private static CompletableFuture<SendResult> sendAsync(
            MigrationSource src, MigrationDestination dest, InputStream in, long size) {
        CompletableFuture<SendResult> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-send").start(() -> {
            try {
                f.complete(src.send(dest.address(), Harness.DEVICE, Harness.virtio(), in, size));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** Waits until the destination has streamed at least {@code n} bytes. */
    private static void awaitBytes(Harness.CapturingOutput out, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (out.bytes().length < n) {
            assertTrue(System.nanoTime() < deadline, "stream did not start");
            Thread.sleep(5);
        }
    }

    @Test
    void cancelAbortsBothSidesPromptlyAndTheDestinationLearnsWhy() throws Exception {
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            MigrationSource src = new MigrationSource(Harness.sourceConfig(2, 1000));
            CompletableFuture<SendResult> sent = sendAsync(src, dest, Harness.slowInput(10_000_000, 1000, 2), -1);
            awaitBytes(out, 5000);
            long t0 = System.nanoTime();
            src.cancel("operator pressed stop");
            Throwable s = Harness.failureOf(sent);
            Throwable d = Harness.failureOf(received);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertInstanceOf(MigrationCancelledException.class, s);
            assertTrue(s.getMessage().contains("operator pressed stop"));
            PeerAbortedException pe = assertInstanceOf(PeerAbortedException.class, d);
            assertTrue(pe.reason().contains("operator pressed stop"), pe.reason());
            assertFalse(out.closed());
            assertTrue(ms < 2000, "cancel took " + ms + " ms");
        }
    }

    @Test
    void cancelBeforeSendFailsAtOnce() {
        MigrationSource src = new MigrationSource(Harness.sourceConfig(1, 1000));
        src.cancel("changed my mind");
        assertThrows(
                MigrationCancelledException.class,
                () -> src.send(
                        Harness.LOOPBACK,
                        Harness.DEVICE,
                        Harness.virtio(),
                        new ByteArrayInputStream(new byte[10]),
                        10));
    }

    @Test
    void destinationKilledMidStream() throws Exception {
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig());
        CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
        MigrationSource src = new MigrationSource(Harness.sourceConfig(4, 1000));
        CompletableFuture<SendResult> sent = sendAsync(src, dest, Harness.slowInput(10_000_000, 1000, 1), -1);
        awaitBytes(out, 5000);
        dest.close(); // every socket of the destination goes away, no goodbye
        Throwable s = Harness.failureOf(sent);
        assertInstanceOf(MigrationException.class, s);
        assertTrue(
                s.getMessage()
                        .matches("(?s).*(state channel \\d failed|destination closed the main channel"
                                + "|main channel failed|destination aborted).*"),
                s.getMessage());
        assertInstanceOf(MigrationException.class, Harness.failureOf(received));
        assertFalse(out.closed());
    }

    @Test
    void stateChannelCutUnnoticedByTheSource() throws Exception {
        // The "network" drops channel 0 after 2 500 bytes; the source's writes still appear to succeed.
        ChannelFilter cut = (channel, out) -> channel != 0
                ? out
                : new FilterOutputStream(out) {
                    long sent;
                    boolean dead;

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        if (dead) {
                            return;
                        }
                        int n = (int) Math.min(len, 2500 - sent);
                        out.write(b, off, n);
                        sent += n;
                        if (sent == 2500) {
                            dead = true;
                            out.close();
                        }
                    }
                };
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            MigrationSource src =
                    new MigrationSource(Harness.sourceConfig(2, 1000).withChannelFilter(cut));
            CompletableFuture<SendResult> sent = sendAsync(src, dest, Harness.slowInput(200_000, 1000, 1), -1);
            Throwable d = Harness.failureOf(received);
            Throwable s = Harness.failureOf(sent);
            assertTrue(d.getMessage().contains("state channel 0 was cut in the middle of packet"), d.getMessage());
            PeerAbortedException pe = assertInstanceOf(PeerAbortedException.class, s);
            assertTrue(pe.reason().contains("state channel 0 was cut"), pe.reason());
            assertFalse(out.closed());
        }
    }

    @Test
    void corruptedByteInFlightFailsTheChecksum() throws Exception {
        byte[] state = Harness.randomBytes(50_000, 9);
        ChannelFilter flip = (channel, out) -> new FilterOutputStream(out) {
            long offset;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                long target = StreamFormat.PACKET_HEADER_BYTES + 3 * (StreamFormat.PACKET_HEADER_BYTES + 1000) + 77;
                if (target >= offset && target < offset + len) {
                    b = b.clone();
                    b[off + (int) (target - offset)] ^= 0x10; // one bit, in packet 3's data
                }
                offset += len;
                out.write(b, off, len);
            }
        };
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            MigrationSource src =
                    new MigrationSource(Harness.sourceConfig(1, 1000).withChannelFilter(flip));
            CompletableFuture<SendResult> sent = sendAsync(src, dest, new ByteArrayInputStream(state), state.length);
            assertTrue(Harness.failureOf(received).getMessage().contains("checksum mismatch"));
            PeerAbortedException pe = assertInstanceOf(PeerAbortedException.class, Harness.failureOf(sent));
            assertTrue(pe.reason().contains("checksum mismatch"), pe.reason());
            assertEquals(state.length, out.bytes().length, "the bytes streamed, but were never declared complete");
            assertFalse(out.closed());
        }
    }

    @Test
    void failingStateInputAbortsWithItsReason() throws Exception {
        InputStream broken = new InputStream() {
            int n;

            @Override
            public int read() throws IOException {
                if (++n > 3000) {
                    throw new IOException("back-end closed the pipe early");
                }
                return n & 0xFF;
            }
        };
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            MigrationSource src = new MigrationSource(Harness.sourceConfig(2, 1000));
            CompletableFuture<SendResult> sent = sendAsync(src, dest, broken, -1);
            assertTrue(Harness.failureOf(sent).getMessage().contains("back-end closed the pipe early"));
            PeerAbortedException pe = assertInstanceOf(PeerAbortedException.class, Harness.failureOf(received));
            assertTrue(
                    pe.reason().contains("reading the device state failed: back-end closed the pipe early"),
                    pe.reason());
            assertFalse(out.closed());
        }
    }

    @Test
    void destinationOutputFailingAbortsTheSource() throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        OutputStream failing = new OutputStream() {
            long n;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                n += len;
                if (n > 4000) {
                    throw new IOException("back-end stopped reading");
                }
            }

            @Override
            public void close() {
                closed.set(true);
            }
        };
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, failing);
            MigrationSource src = new MigrationSource(Harness.sourceConfig(2, 1000));
            CompletableFuture<SendResult> sent = sendAsync(src, dest, new ByteArrayInputStream(new byte[100_000]), -1);
            assertTrue(Harness.failureOf(received).getMessage().contains("back-end stopped reading"));
            PeerAbortedException pe = assertInstanceOf(PeerAbortedException.class, Harness.failureOf(sent));
            assertTrue(pe.reason().contains("writing the state to its output failed"), pe.reason());
            assertFalse(closed.get());
        }
    }

    @Test
    void refusedHandshakeReachesTheSource() throws Exception {
        DestinationConfig cfg = DestinationConfig.forDevice("virtio-net", ~0L)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2));
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, cfg)) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, new Harness.CapturingOutput());
            MigrationSource src = new MigrationSource(Harness.sourceConfig(2, 1000));
            PeerAbortedException e = assertThrows(
                    PeerAbortedException.class,
                    () -> src.send(
                            dest.address(),
                            Harness.DEVICE,
                            Harness.virtio(),
                            new ByteArrayInputStream(new byte[10]),
                            10));
            assertTrue(e.reason().contains("this destination takes 'virtio-net'"), e.reason());
            Harness.failureOf(received);
        }
    }

    @Test
    void nothingListening() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        MigrationSource src = new MigrationSource(Harness.sourceConfig(1, 1000));
        MigrationException e = assertThrows(
                MigrationException.class,
                () -> src.send(
                        new java.net.InetSocketAddress("127.0.0.1", port),
                        Harness.DEVICE,
                        Harness.virtio(),
                        new ByteArrayInputStream(new byte[10]),
                        10));
        assertTrue(e.getMessage().contains("connection to"), e.getMessage());
    }
}
