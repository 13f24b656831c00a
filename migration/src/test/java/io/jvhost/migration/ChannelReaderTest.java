package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The destination's non-blocking reads into direct buffers: partial reads, EOF anywhere, idle timeout, close. */
class ChannelReaderTest {
    private SocketChannel writer;
    private SocketChannel readSide;

    @BeforeEach
    void connect() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            writer = SocketChannel.open(server.getLocalAddress());
            writer.socket().setTcpNoDelay(true);
            readSide = server.accept();
        }
    }

    @AfterEach
    void close() throws IOException {
        writer.close();
        readSide.close();
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + 7);
        return b;
    }

    private static byte[] contents(ByteBuffer b) {
        byte[] a = new byte[b.flip().remaining()];
        b.get(a);
        return a;
    }

    @Test
    void fillsTheBufferFromBytesThatTrickleIn() throws Exception {
        byte[] sent = bytes(300);
        CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < sent.length; i++) {
                    writer.write(ByteBuffer.wrap(sent, i, 1));
                    if (i % 50 == 0) Thread.sleep(5); // the reader finds the socket empty and waits
                }
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        try (ChannelReader r = new ChannelReader(readSide, Duration.ofSeconds(5))) {
            ByteBuffer dst = ByteBuffer.allocateDirect(sent.length);
            assertEquals(sent.length, r.readFully(dst));
            assertArrayEquals(sent, contents(dst));
        }
        trickle.get(5, TimeUnit.SECONDS);
    }

    @Test
    void readsOnlyUpToTheLimitLeavingTheRestForTheNextRead() throws Exception {
        byte[] sent = bytes(100);
        writer.write(ByteBuffer.wrap(sent));
        try (ChannelReader r = new ChannelReader(readSide, Duration.ofSeconds(5))) {
            ByteBuffer first = ByteBuffer.allocateDirect(64).limit(16);
            assertEquals(16, r.readFully(first));
            ByteBuffer rest = ByteBuffer.allocateDirect(84);
            assertEquals(84, r.readFully(rest));
            byte[] all = new byte[100];
            System.arraycopy(contents(first), 0, all, 0, 16);
            System.arraycopy(contents(rest), 0, all, 16, 84);
            assertArrayEquals(sent, all);
        }
    }

    @Test
    void eofAtEveryOffsetReturnsWhatCame() throws Exception {
        int size = 40;
        for (int cut = 0; cut <= size; cut++) {
            close();
            connect();
            byte[] sent = bytes(cut);
            writer.write(ByteBuffer.wrap(sent));
            writer.shutdownOutput();
            try (ChannelReader r = new ChannelReader(readSide, Duration.ofSeconds(5))) {
                ByteBuffer dst = ByteBuffer.allocateDirect(size);
                assertEquals(cut, r.readFully(dst), "cut at " + cut);
                assertArrayEquals(sent, contents(dst), "cut at " + cut);
                assertEquals(0, r.readFully(ByteBuffer.allocateDirect(1)), "after EOF, cut at " + cut);
            }
        }
    }

    @Test
    void silenceTimesOut() throws Exception {
        writer.write(ByteBuffer.wrap(bytes(3)));
        try (ChannelReader r = new ChannelReader(readSide, Duration.ofMillis(300))) {
            long t = System.nanoTime();
            assertThrows(SocketTimeoutException.class, () -> r.readFully(ByteBuffer.allocateDirect(10)));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
            assertTrue(ms >= 250 && ms < 3000, ms + " ms");
        }
    }

    @Test
    void aCloseFromAnotherThreadEndsTheWaitPromptly() throws Exception {
        try (ChannelReader r = new ChannelReader(readSide, Duration.ofSeconds(30))) {
            CompletableFuture<Void> closer = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(100);
                    readSide.close();
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            long t = System.nanoTime();
            assertThrows(IOException.class, () -> r.readFully(ByteBuffer.allocateDirect(10)));
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t) < 5000);
            closer.get(5, TimeUnit.SECONDS);
        }
    }
}
