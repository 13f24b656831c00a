package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class StreamRoundTripTest {
    @AfterEach
    void noThreadsLeft() throws InterruptedException {
        Harness.assertNoMigrationThreadsLeft();
    }

    private static final int PACKET = 4096;

    static Stream<Arguments> cases() {
        return Stream.of(1, 2, 4)
                .flatMap(ch -> Stream.of(0, 1, PACKET, PACKET + 1, 37 * PACKET + 123, 300_000)
                        .map(size -> Arguments.of(ch, size)));
    }

    @ParameterizedTest(name = "{0} channels, {1} bytes")
    @MethodSource("cases")
    void deliversTheStateInOrderWithTheVirtioStateLast(int channels, int size) throws Exception {
        byte[] state = Harness.randomBytes(size, size * 31L + channels);
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            SendResult sent = new MigrationSource(Harness.sourceConfig(channels, PACKET))
                    .send(dest.address(), Harness.DEVICE, Harness.virtio(), new ByteArrayInputStream(state), size);
            ReceiveResult r = Harness.get(received);

            assertArrayEquals(state, out.bytes());
            assertTrue(out.closed(), "a verified stream is completed (closed)");
            assertEquals(Harness.virtio(), r.virtio());
            assertEquals(size, r.stateBytes());
            assertEquals(size, sent.stateBytes());
            long dataPackets = (size + PACKET - 1) / PACKET;
            assertEquals(dataPackets + 1, sent.packets());
            assertEquals(dataPackets + 1, r.packets());
            assertEquals(sent.crc32c(), r.crc32c());
            assertEquals(expectedCrc(state), r.crc32c());
            assertEquals(channels, r.packetsPerChannel().size());
            assertEquals(
                    sent.packets(),
                    r.packetsPerChannel().stream().mapToLong(Long::longValue).sum());
            assertEquals(sent.packetsPerChannel(), r.packetsPerChannel());
        }
    }

    @Test
    void unknownSizeAndProgressReports() throws Exception {
        byte[] state = Harness.randomBytes(200_000, 5);
        List<Progress> reports = new CopyOnWriteArrayList<>();
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            SourceConfig cfg = Harness.sourceConfig(2, 1000).withProgress(reports::add, Duration.ZERO);
            new MigrationSource(cfg)
                    .send(dest.address(), Harness.DEVICE, Harness.virtio(), new ByteArrayInputStream(state), -1);
            Harness.get(received);
        }
        assertArrayEquals(state, out.bytes());
        Progress last = reports.getLast();
        assertTrue(last.finished());
        assertEquals(200_000, last.bytes());
        assertEquals(201, last.packets() + 1, "200 data packets reported, the CONFIG_STATE packet is not state");
        assertTrue(last.eta().isEmpty(), "no ETA without a known size");
        // The first batch always reports (its slot is due at once); with two channels the others
        // may skip a slot another thread just took, so only that one is certain before the end.
        assertTrue(reports.size() >= 2, "a report before the end: " + reports);
        assertTrue(reports.subList(0, reports.size() - 1).stream().noneMatch(Progress::finished));
    }

    @Test
    void progressWithKnownSizeHasAnEta() throws Exception {
        byte[] state = Harness.randomBytes(64_000, 6);
        List<Progress> reports = new CopyOnWriteArrayList<>();
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, new Harness.CapturingOutput());
            SourceConfig cfg = Harness.sourceConfig(1, 1000).withProgress(reports::add, Duration.ZERO);
            new MigrationSource(cfg)
                    .send(
                            dest.address(),
                            Harness.DEVICE,
                            Harness.virtio(),
                            new ByteArrayInputStream(state),
                            state.length);
            Harness.get(received);
        }
        Progress mid = reports.getFirst();
        assertTrue(mid.bytes() < 64_000 && !mid.finished());
        assertTrue(mid.eta().isPresent());
        assertTrue(mid.bytesPerSecond() > 0);
        assertEquals(1.0, reports.getLast().fraction().orElseThrow());
        assertEquals(Duration.ZERO, reports.getLast().eta().orElseThrow());
    }

    @Test
    void oneDestinationServesSeveralMigrationsInTurn() throws Exception {
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, Harness.destinationConfig())) {
            for (int i = 0; i < 3; i++) {
                byte[] state = Harness.randomBytes(10_000 * (i + 1), i);
                Harness.CapturingOutput out = new Harness.CapturingOutput();
                CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
                new MigrationSource(Harness.sourceConfig(i + 1, 3000))
                        .send(dest.address(), Harness.DEVICE, Harness.virtio(), new ByteArrayInputStream(state), -1);
                Harness.get(received);
                assertArrayEquals(state, out.bytes());
            }
        }
    }

    @Test
    void aSilentConnectionDoesNotHoldUpARealSource() throws Exception {
        byte[] state = Harness.randomBytes(5000, 8);
        Harness.CapturingOutput out = new Harness.CapturingOutput();
        DestinationConfig cfg = Harness.destinationConfig().withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5));
        try (MigrationDestination dest = MigrationDestination.listen(Harness.LOOPBACK, cfg);
                java.net.Socket _ =
                        new java.net.Socket("127.0.0.1", dest.address().getPort())) {
            CompletableFuture<ReceiveResult> received = Harness.receiveAsync(dest, out);
            SourceConfig src = Harness.sourceConfig(2, 1000).withTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(5));
            new MigrationSource(src)
                    .send(
                            dest.address(),
                            Harness.DEVICE,
                            Harness.virtio(),
                            new ByteArrayInputStream(state),
                            state.length);
            Harness.get(received);
            assertArrayEquals(state, out.bytes());
        }
    }

    private static int expectedCrc(byte[] state) {
        CRC32C crc = new CRC32C();
        crc.update(state);
        crc.update(VirtioStateCodec.encode(Harness.virtio()));
        return (int) crc.getValue();
    }
}
