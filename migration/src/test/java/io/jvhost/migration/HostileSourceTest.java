package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A source that breaks the rules: the destination fails clearly, says why, and never completes its output. */
class HostileSourceTest {
    private static final int PACKET = 100;
    private MigrationDestination dest;
    private Harness.CapturingOutput out;
    private CompletableFuture<ReceiveResult> received;
    private RawSender src;

    @BeforeEach
    void start() throws IOException {
        DestinationConfig cfg = Harness.destinationConfig()
                .withLimits(4, 1024, 4, 1000)
                .withTimeouts(Duration.ofMillis(800), Duration.ofSeconds(5));
        dest = MigrationDestination.listen(Harness.LOOPBACK, cfg);
        out = new Harness.CapturingOutput();
        received = Harness.receiveAsync(dest, out);
        src = new RawSender(dest.address());
    }

    @AfterEach
    void stop() throws IOException, InterruptedException {
        src.close();
        dest.close();
        Harness.assertNoMigrationThreadsLeft();
    }

    private void handshake(int channels, long stateSize) throws IOException {
        assertInstanceOf(ControlMessage.Accept.class, src.hello(RawSender.hello(channels, PACKET, stateSize)));
        src.openChannels(channels);
    }

    /** The destination fails with {@code fragment}, tells the source the same, and did not complete its output. */
    private void expectFailure(String fragment) throws Exception {
        expectFailure(fragment, fragment);
    }

    /**
     * For violations spread over two channels, whose packets may be processed in either order: each
     * order has its own precise message.
     */
    private void expectFailure(String fragment, String orFragment) throws Exception {
        Throwable t = Harness.failureOf(received);
        assertInstanceOf(MigrationException.class, t);
        assertTrue(
                t.getMessage().contains(fragment) || t.getMessage().contains(orFragment),
                () -> "message: " + t.getMessage());
        assertFalse(out.closed(), "a failed stream must not be completed");
        ControlMessage m = src.verdict();
        ControlMessage.Abort abort = assertInstanceOf(ControlMessage.Abort.class, m);
        assertTrue(abort.reason().contains(t.getMessage()), abort.reason());
    }

    private static byte[] bytes(int n) {
        return Harness.randomBytes(n, n);
    }

    @Test
    void duplicateOnOneChannel() throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        src.data(0, 0, bytes(PACKET));
        expectFailure("packet 0 is a duplicate");
    }

    @Test
    void duplicateAcrossChannels() throws Exception {
        handshake(2, -1);
        src.data(0, 0, bytes(PACKET));
        src.data(1, 0, bytes(PACKET));
        expectFailure("packet 0 is a duplicate");
    }

    @Test
    void duplicateOfAPacketStillWaitingInTheWindow() throws Exception {
        handshake(3, -1); // channel 2 stays idle, so packet 0 may still come and nothing is "missing"
        src.data(0, 2, bytes(PACKET));
        Thread.sleep(50);
        src.data(1, 2, bytes(PACKET));
        expectFailure("packet 2 is a duplicate");
    }

    @Test
    void indicesGoingBackwardsOnAChannel() throws Exception {
        handshake(2, -1); // with one channel, packet 0 would already count as missing once it sent 1
        src.data(0, 1, bytes(PACKET));
        src.data(0, 0, bytes(PACKET));
        expectFailure("comes after packet 1 on the same channel");
    }

    @Test
    void missingIndexAtEof() throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        src.data(0, 2, bytes(PACKET));
        src.config(0, 3);
        src.closeChannels();
        src.send(src.honestEnd());
        expectFailure("packet 1 is missing");
        assertEquals(PACKET, out.bytes().length, "packet 0 was streamed, nothing after the gap");
    }

    @Test
    void missingIndexNoticedWhileChannelsAreStillOpen() throws Exception {
        handshake(2, -1);
        src.data(0, 0, bytes(PACKET));
        src.data(0, 2, bytes(PACKET));
        src.data(1, 3, bytes(PACKET));
        expectFailure("packet 1 is missing: every state channel has moved past it");
    }

    @Test
    void channelsEndWithoutTheConfigStatePacket() throws Exception {
        handshake(2, -1);
        src.data(0, 0, bytes(PACKET));
        src.data(1, 1, bytes(PACKET));
        src.closeChannels();
        expectFailure("ended without the last (CONFIG_STATE) packet");
    }

    @Test
    void negativeIndex() throws Exception {
        handshake(1, -1);
        src.data(0, -5, bytes(PACKET));
        expectFailure("packet -5 has a negative index");
    }

    @Test
    void indexBeyondTheAnnouncedSize() throws Exception {
        handshake(1, 250); // 3 data packets of 100 + CONFIG_STATE: indices 0..3
        src.data(0, 4, bytes(PACKET));
        expectFailure("beyond the bound of 4 packets");
    }

    @Test
    void indexBeyondTheConfiguredBoundWhenTheSizeIsUnknown() throws Exception {
        handshake(1, -1);
        src.data(0, 1000, bytes(PACKET));
        expectFailure("beyond the bound of 1000 packets");
    }

    @Test
    void packetAfterTheLast() throws Exception {
        handshake(1, -1);
        src.config(0, 0);
        src.data(0, 1, bytes(PACKET));
        expectFailure("comes after the last packet (CONFIG_STATE at 0)");
    }

    @Test
    void secondConfigStatePacket() throws Exception {
        handshake(2, -1);
        src.config(0, 3);
        Thread.sleep(100);
        src.config(1, 1);
        expectFailure("second CONFIG_STATE packet", "comes after the last packet (CONFIG_STATE at 1)");
    }

    @Test
    void configStateThatIsNotLast() throws Exception {
        handshake(2, -1);
        src.data(0, 5, bytes(PACKET));
        Thread.sleep(100);
        src.config(1, 3);
        expectFailure(
                "marked CONFIG_STATE (last), but packet 5 already arrived",
                "packet 5 comes after the last packet (CONFIG_STATE at 3)");
    }

    @Test
    void wrongPacketVersion() throws Exception {
        handshake(1, -1);
        src.packet(0, new PacketHeader(2, 0, 0, PACKET), bytes(PACKET));
        expectFailure("has version 2, expected 1");
    }

    @Test
    void unknownFlags() throws Exception {
        handshake(1, -1);
        src.packet(0, new PacketHeader(1, 0, 0x80, PACKET), bytes(PACKET));
        expectFailure("unknown flags 0x80");
    }

    @Test
    void lengthBeyondTheAnnouncedPacketSize() throws Exception {
        handshake(1, -1);
        src.packet(0, new PacketHeader(1, 0, 0, PACKET + 1), bytes(PACKET + 1));
        expectFailure("has length 101, outside 1..100");
    }

    @Test
    void hugeLengthIsRejectedBeforeAnyAllocation() throws Exception {
        handshake(1, -1);
        src.raw(0, new PacketHeader(1, 0, 0, -1).encode());
        expectFailure("has length 4294967295, outside 1..100");
    }

    @Test
    void emptyDataPacket() throws Exception {
        handshake(1, -1);
        src.packet(0, new PacketHeader(1, 0, 0, 0), new byte[0]);
        expectFailure("has length 0");
    }

    @Test
    void configStateThatIsNotAVirtioState() throws Exception {
        handshake(1, -1);
        src.packet(0, PacketHeader.configState(0, 40), bytes(40));
        expectFailure("not a valid virtio device state");
    }

    @Test
    void checksumMismatch() throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        src.config(0, 1);
        src.closeChannels();
        ControlMessage.End e = src.honestEnd();
        src.send(new ControlMessage.End(e.totalBytes(), e.packets(), e.crc32c() ^ 1));
        expectFailure("checksum mismatch");
        assertEquals(PACKET, out.bytes().length);
    }

    @Test
    void totalsMismatch() throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        src.config(0, 1);
        src.closeChannels();
        ControlMessage.End e = src.honestEnd();
        src.send(new ControlMessage.End(e.totalBytes(), e.packets() + 1, e.crc32c()));
        expectFailure("source sent 3 packets");
    }

    @Test
    void announcedSizeNotMatched() throws Exception {
        handshake(1, 150);
        src.data(0, 0, bytes(PACKET));
        src.config(0, 1);
        src.closeChannels();
        src.send(src.honestEnd());
        expectFailure("announced 150 bytes of state and sent 100");
    }

    @Test
    void honestRawSenderSucceeds() throws Exception {
        handshake(2, -1);
        src.data(1, 1, bytes(PACKET));
        src.data(0, 0, bytes(PACKET));
        src.config(1, 2);
        src.closeChannels();
        src.send(src.honestEnd());
        ReceiveResult r = Harness.get(received);
        assertInstanceOf(ControlMessage.Ok.class, src.verdict());
        assertEquals(Harness.virtio(), r.virtio());
        assertTrue(out.closed());
    }

    @Test
    void sourceDiesInTheMiddleOfAPacket() throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        src.raw(0, PacketHeader.data(1, PACKET).encode());
        src.raw(0, bytes(30));
        src.close();
        Throwable t = Harness.failureOf(received);
        assertTrue(
                t.getMessage().contains("state channel 0 was cut in the middle of packet 1 (30 of 100 bytes)")
                        || t.getMessage().contains("source closed the main channel"),
                t.getMessage());
        assertFalse(out.closed());
    }

    /** A state channel that ends at any byte of a packet (header or data), in two partial writes. */
    @ParameterizedTest(name = "cut after {0} bytes")
    @MethodSource("everyOffsetOfAPacket")
    void aPacketCutAtEveryOffset(int cut) throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        byte[] packet = new byte[StreamFormat.PACKET_HEADER_BYTES + PACKET];
        PacketHeader.data(1, PACKET).encode(packet, 0);
        System.arraycopy(bytes(PACKET), 0, packet, StreamFormat.PACKET_HEADER_BYTES, PACKET);
        src.raw(0, java.util.Arrays.copyOfRange(packet, 0, cut / 2));
        Thread.sleep(1); // the destination may see the first part on its own
        src.raw(0, java.util.Arrays.copyOfRange(packet, cut / 2, cut));
        src.closeChannels();
        Throwable t = Harness.failureOf(received);
        int data = cut - StreamFormat.PACKET_HEADER_BYTES;
        String expected = data < 0
                ? "state channel 0 was cut in the middle of a packet header"
                : "state channel 0 was cut in the middle of packet 1 (" + data + " of " + PACKET + " bytes)";
        assertTrue(t.getMessage().contains(expected), t.getMessage());
        assertFalse(out.closed());
    }

    static java.util.stream.IntStream everyOffsetOfAPacket() {
        return java.util.stream.IntStream.range(1, StreamFormat.PACKET_HEADER_BYTES + PACKET);
    }

    @Test
    void sourceAbortsWithAReason() throws Exception {
        handshake(1, -1);
        src.data(0, 0, bytes(PACKET));
        src.send(new ControlMessage.Abort("disk on fire"));
        PeerAbortedException e = assertInstanceOf(PeerAbortedException.class, Harness.failureOf(received));
        assertEquals("disk on fire", e.reason());
        assertFalse(out.closed());
    }

    @Test
    void stateChannelOfAnotherSessionIsRejected() throws Exception {
        assertInstanceOf(ControlMessage.Accept.class, src.hello(RawSender.hello(1, PACKET, -1)));
        src.openChannel(SessionId.random(), 0);
        expectFailure("0 of 1 state channels connected");
        assertTrue(Harness.failureOf(received).getMessage().contains("unknown session"));
    }

    @Test
    void channelNumberOutOfRange() throws Exception {
        assertInstanceOf(ControlMessage.Accept.class, src.hello(RawSender.hello(2, PACKET, -1)));
        src.openChannel(src.session, 2);
        expectFailure("state channel number 2 is outside 0..1");
    }

    @Test
    void channelConnectedTwice() throws Exception {
        assertInstanceOf(ControlMessage.Accept.class, src.hello(RawSender.hello(2, PACKET, -1)));
        src.openChannel(src.session, 1);
        src.openChannel(src.session, 1);
        expectFailure("state channel 1 connected twice");
    }

    @Test
    void wrongDeviceType() throws Exception {
        ControlMessage m = src.hello(new ControlMessage.Hello("virtio-net", 0, 1, PACKET, -1));
        assertTrue(assertInstanceOf(ControlMessage.Abort.class, m).reason().contains("'virtio-net'"));
        assertInstanceOf(MigrationException.class, Harness.failureOf(received));
    }

    @Test
    void tooManyChannelsOrTooLargePackets() throws Exception {
        ControlMessage m = src.hello(RawSender.hello(5, PACKET, -1));
        assertTrue(assertInstanceOf(ControlMessage.Abort.class, m).reason().contains("wants 5 state channels"));
        Harness.failureOf(received);
        received = Harness.receiveAsync(dest, out);
        try (RawSender second = new RawSender(dest.address())) {
            m = second.hello(RawSender.hello(1, 4096, -1));
            assertTrue(assertInstanceOf(ControlMessage.Abort.class, m).reason().contains("packet size 4096"));
        }
    }

    @Test
    void featuresTheDestinationLacks() throws Exception {
        dest.close();
        dest = MigrationDestination.listen(Harness.LOOPBACK, DestinationConfig.forDevice(Harness.DEVICE, 0xFF));
        received = Harness.receiveAsync(dest, out);
        try (RawSender s = new RawSender(dest.address())) {
            ControlMessage m = s.hello(new ControlMessage.Hello(Harness.DEVICE, 0x300, 1, PACKET, -1));
            assertTrue(
                    assertInstanceOf(ControlMessage.Abort.class, m).reason().contains("lacks virtio features 0x300"));
        }
    }

    @Test
    void strayConnectionsDoNotDisturbAMigration() throws Exception {
        try (java.net.Socket garbage =
                        new java.net.Socket("127.0.0.1", dest.address().getPort());
                RawSender stale = new RawSender(dest.address())) {
            garbage.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes());
            handshake(1, -1);
            stale.openChannel(SessionId.random(), 0); // a late channel of some earlier migration
            src.data(0, 0, bytes(PACKET));
            src.config(0, 1);
            src.closeChannels();
            src.send(src.honestEnd());
            assertEquals(2, Harness.get(received).packets());
            assertInstanceOf(ControlMessage.Ok.class, src.verdict());
        }
    }
}
