package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The destination's chunked reads: packets cut from chunks of several packets, packets crossing
 * a chunk's end, a chunk reused in place only when nothing cut from it waits, the CONFIG_STATE
 * packet larger than a chunk, and a channel cut anywhere.
 */
class ChannelInputTest {
    private SocketChannel writer;
    private SocketChannel readSide;

    @BeforeEach
    void connect() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            writer = SocketChannel.open(server.getLocalAddress());
            readSide = server.accept();
        }
    }

    @AfterEach
    void close() throws IOException {
        writer.close();
        readSide.close();
    }

    private static byte[] frame(PacketHeader h, byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(h.encode());
        b.writeBytes(data);
        return b.toByteArray();
    }

    /** Writes {@code wire} on another thread in pieces of {@code step} bytes, then closes the writing side. */
    private CompletableFuture<Void> send(byte[] wire, int step) {
        return CompletableFuture.runAsync(() -> {
            try {
                for (int at = 0; at < wire.length; at += step) {
                    ByteBuffer b = ByteBuffer.wrap(wire, at, Math.min(step, wire.length - at));
                    while (b.hasRemaining()) writer.write(b);
                }
                writer.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static byte[] contents(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private ChannelInput input(BufferPool pool) throws IOException {
        return new ChannelInput(new ChannelReader(readSide, Duration.ofSeconds(5)), pool, "state channel 0");
    }

    @ParameterizedTest(name = "packets of {0} bytes, holding each: {1}")
    @ValueSource(ints = {1, 1000, 65_536, 100_000, 300_000})
    void packetsComeOutWholeAcrossChunks(int packet) throws Exception {
        for (boolean hold : new boolean[] {false, true}) {
            connectAgainIfUsed();
            List<byte[]> sent = new ArrayList<>();
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int count = Math.max(3, (3 * BufferPool.MIN_CHUNK_BYTES) / packet + 2);
            for (int i = 0; i < count; i++) {
                byte[] d = Harness.randomBytes(i == count - 1 ? Math.max(1, packet / 3) : packet, i);
                sent.add(d);
                wire.writeBytes(frame(PacketHeader.data(i, d.length), d));
            }
            CompletableFuture<Void> sending = send(wire.toByteArray(), 70_001);
            BufferPool pool = new BufferPool(packet);
            List<ReorderWindow.Packet> held = new ArrayList<>();
            try (ChannelInput in = input(pool)) {
                for (int i = 0; i < count; i++) {
                    PacketHeader h = in.nextHeader();
                    assertEquals(i, h.idx());
                    ReorderWindow.Packet p = in.data(h);
                    assertArrayEquals(sent.get(i), contents(p.data()), "packet " + i);
                    if (hold) held.add(p);
                    else p.chunk().release();
                }
                assertNull(in.nextHeader(), "a clean end at a packet boundary");
            }
            sending.get();
            for (int i = 0; i < held.size(); i++) {
                assertArrayEquals(sent.get(i), contents(held.get(i).data()), "held packet " + i + " intact");
                held.get(i).chunk().release();
            }
            if (!hold) {
                assertEquals(1, pool.allocated(), "with nothing waiting, one chunk is reused in place");
            } else {
                assertTrue(pool.allocated() > 1, "packets still waiting keep their chunk: a fresh one was taken");
            }
        }
    }

    private boolean used;

    private void connectAgainIfUsed() throws IOException {
        if (used) {
            close();
            connect();
        }
        used = true;
    }

    @Test
    void aConfigStatePacketLargerThanAChunk() throws Exception {
        byte[] config = Harness.randomBytes(MigrationDestination.MAX_CONFIG_PACKET, 5);
        byte[] data = Harness.randomBytes(10_000, 6);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(frame(PacketHeader.data(0, data.length), data));
        wire.writeBytes(frame(PacketHeader.configState(1, config.length), config));
        CompletableFuture<Void> sending = send(wire.toByteArray(), wire.size());
        try (ChannelInput in = input(new BufferPool(16_384))) {
            ReorderWindow.Packet first = in.data(in.nextHeader());
            assertArrayEquals(data, contents(first.data()));
            ReorderWindow.Packet last = in.data(in.nextHeader());
            assertNull(last.chunk(), "a buffer of its own");
            assertArrayEquals(config, last.data().array());
            assertNull(in.nextHeader());
        }
        sending.get();
    }

    @Test
    void aChannelCutInTheMiddleOfAPacketThatCrossesAChunk() throws Exception {
        int packet = 200_000;
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(frame(PacketHeader.data(0, packet), Harness.randomBytes(packet, 1)));
        byte[] second = frame(PacketHeader.data(1, packet), Harness.randomBytes(packet, 2));
        wire.write(second, 0, 16 + 123_456); // past the first chunk's end, short of the packet's
        CompletableFuture<Void> sending = send(wire.toByteArray(), 50_000);
        try (ChannelInput in = input(new BufferPool(packet))) {
            in.data(in.nextHeader()); // held: the rest must go to a fresh chunk
            PacketHeader h = in.nextHeader();
            ConnectionLostException e = assertThrows(ConnectionLostException.class, () -> in.data(h));
            assertEquals("state channel 0 was cut in the middle of packet 1 (123456 of 200000 bytes)", e.getMessage());
        }
        sending.get();
    }

    @Test
    void aChannelCutInTheMiddleOfAHeader() throws Exception {
        CompletableFuture<Void> sending = send(new byte[] {0, 0, 0, 1, 0}, 1);
        try (ChannelInput in = input(new BufferPool(1000))) {
            ConnectionLostException e = assertThrows(ConnectionLostException.class, in::nextHeader);
            assertEquals("state channel 0 was cut in the middle of a packet header", e.getMessage());
        }
        sending.get();
    }

    @Test
    void aChunkReleasedMoreOftenThanHeldIsABug() {
        BufferPool.Chunk c = new BufferPool(1000).take();
        c.release();
        assertThrows(IllegalStateException.class, c::release);
    }
}
