package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Pipe;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The source's splice path, from a real pipe as a back-end's save fills it: the state still
 * arrives whole and in order with its checksum, the splice really carries it (the bytes read
 * through the channel are only the tails), short splices into a full socket continue, and a
 * destination that dies mid-transfer fails the send with a clear error and leaves no thread.
 */
class SpliceLaneTest {
    /** A back-end's state pipe: a writer thread fills it, the source reads (or splices) it. */
    private static final class PipeState implements StatePipe {
        final CancellableFd reader;
        final ReadableByteChannel channel;
        final AtomicLong readBytes = new AtomicLong();
        final AtomicBoolean sawEof = new AtomicBoolean();
        final CompletableFuture<Void> written;

        PipeState(byte[] state, int chunk, long pauseMillis) throws NativeException {
            Pipe p = Pipe.create(1 << 20);
            reader = CancellableFd.forReading(p.readEnd(), 5000);
            channel = (ReadableByteChannel) reader.input();
            OutputStream out = CancellableFd.forWriting(p.writeEnd(), 5000).output();
            written = CompletableFuture.runAsync(() -> {
                try (out) {
                    for (int at = 0; at < state.length; at += chunk) {
                        out.write(state, at, Math.min(chunk, state.length - at));
                        if (pauseMillis > 0) Thread.sleep(pauseMillis);
                    }
                } catch (IOException | InterruptedException e) {
                    // the reader went away (a failed transfer): the test checks the source's side
                }
            });
        }

        @Override
        public Optional<CancellableFd> pipe() {
            return Optional.of(reader);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (sawEof.get()) return -1;
            int n = channel.read(dst);
            if (n < 0) {
                sawEof.set(true);
                channel.close(); // as a save's stream does at EOF (it then asks CHECK)
            } else {
                readBytes.addAndGet(n);
            }
            return n;
        }

        @Override
        public boolean isOpen() {
            return !sawEof.get() && channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private PipeState pipe;

    @AfterEach
    void closePipe() throws IOException, InterruptedException {
        if (pipe != null) pipe.close();
        Harness.assertNoMigrationThreadsLeft();
    }

    @ParameterizedTest(name = "{0} channel(s), packets of {1}")
    @CsvSource({"1, 65536", "3, 65536", "1, 10000", "2, 4096"})
    void aStateAheadOfTheSenderIsSplicedAndArrivesWhole(int channels, int packet) throws Exception {
        byte[] state = Harness.randomBytes(6_000_000 + 777, channels * 7L + packet);
        pipe = new PipeState(state, 1 << 20, 0);
        Thread.sleep(50); // the back-end ahead: its pipe is full when the source starts
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            SendResult sent = new MigrationSource(Harness.sourceConfig(channels, packet))
                    .send(dest.address(), Harness.DEVICE, Harness.virtio(), pipe, state.length);
            ReceiveResult r = Harness.get(received);
            assertArrayEquals(state, out.bytes());
            assertTrue(out.closed());
            assertEquals(sent.crc32c(), r.crc32c());
            assertEquals((state.length + packet - 1) / packet + 1, sent.packets(), "full packets but the last");
        }
        assertTrue(pipe.sawEof.get(), "the EOF came through the channel");
        assertTrue(
                pipe.readBytes.get() < state.length / 4,
                "spliced, not read: " + pipe.readBytes.get() + " of " + state.length + " bytes went through read");
    }

    @Test
    void aBackEndSlowerThanTheSenderIsReadAndStillArrivesWhole() throws Exception {
        byte[] state = Harness.randomBytes(300_000 + 5, 11);
        pipe = new PipeState(state, 3000, 1); // less than a packet at a time: nothing to splice
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            SendResult sent = new MigrationSource(Harness.sourceConfig(2, 65536))
                    .send(dest.address(), Harness.DEVICE, Harness.virtio(), pipe, -1);
            ReceiveResult r = Harness.get(received);
            assertArrayEquals(state, out.bytes());
            assertEquals(sent.crc32c(), r.crc32c());
        }
        assertTrue(pipe.sawEof.get());
    }

    /** A destination that takes its time: the source's socket fills, splices come short and wait for room. */
    @Test
    void shortSplicesIntoAFullSocketContinueWhereTheyStopped() throws Exception {
        byte[] state = Harness.randomBytes(8_000_000, 12);
        pipe = new PipeState(state, 1 << 20, 0);
        Harness.CapturingOutput slow = new Harness.CapturingOutput() {
            private int writes;

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                if (++writes % 16 == 0) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                super.write(b, off, len);
            }
        };
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, slow);
            SendResult sent = new MigrationSource(Harness.sourceConfig(2, 65536))
                    .send(dest.address(), Harness.DEVICE, Harness.virtio(), pipe, state.length);
            ReceiveResult r = Harness.get(received);
            assertArrayEquals(state, slow.bytes());
            assertEquals(sent.crc32c(), r.crc32c());
        }
        assertTrue(pipe.readBytes.get() < state.length / 4, "spliced: " + pipe.readBytes.get() + " read");
    }

    @Test
    void aDestinationDyingMidTransferFailsTheSendClearly() throws Exception {
        byte[] state = Harness.randomBytes(40_000_000, 13);
        pipe = new PipeState(state, 1 << 20, 1);
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig());
        CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
        CompletableFuture<SendResult> sent = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-send").start(() -> {
            try {
                sent.complete(new MigrationSource(Harness.sourceConfig(2, 65536))
                        .send(dest.address(), Harness.DEVICE, Harness.virtio(), pipe, state.length));
            } catch (Throwable t) {
                sent.completeExceptionally(t);
            }
        });
        while (out.bytes().length < 2_000_000) Thread.sleep(5);
        dest.close(); // every socket of the destination goes away, no goodbye
        Throwable s = Harness.failureOf(sent);
        assertInstanceOf(MigrationException.class, s);
        assertTrue(
                s.getMessage()
                        .matches("(?s).*(state channel \\d failed|destination closed the main channel"
                                + "|main channel failed|destination aborted).*"),
                s.getMessage());
        assertInstanceOf(MigrationException.class, Harness.failureOf(received));
        assertFalse(out.closed(), "nothing half-received is completed");
    }
}
