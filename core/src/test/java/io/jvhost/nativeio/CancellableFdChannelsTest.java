package io.jvhost.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** CancellableFd's streams as byte channels: direct and heap buffers, partial reads, writes larger than the pipe. */
class CancellableFdChannelsTest {
    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    /** 1 MiB through a 64 KiB pipe: every write is partial, every read returns what the pipe holds. */
    @Test
    void directBuffersCarryBytesToEofThroughASmallPipe() throws Exception {
        byte[] data = random(1 << 20);
        Pipe pipe = Pipe.create(64 * 1024);
        CancellableFd w = CancellableFd.forWriting(pipe.writeEnd(), 5000);
        CancellableFd r = CancellableFd.forReading(pipe.readEnd(), 5000);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (WritableByteChannel out = assertInstanceOf(WritableByteChannel.class, w.output())) {
                ByteBuffer src =
                        ByteBuffer.allocateDirect(data.length).put(data).flip();
                assertEquals(data.length, out.write(src));
                assertFalse(src.hasRemaining());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ByteBuffer got = ByteBuffer.allocate(data.length);
        try (ReadableByteChannel in = assertInstanceOf(ReadableByteChannel.class, r.input())) {
            // an odd-sized direct buffer at an odd position: reads land at the buffer's position
            ByteBuffer dst = ByteBuffer.allocateDirect(10_007);
            int n;
            while (true) {
                dst.clear().position(3);
                n = in.read(dst);
                if (n < 0) break;
                assertEquals(3 + n, dst.position());
                got.put(dst.flip().position(3));
            }
            assertEquals(-1, in.read(ByteBuffer.allocateDirect(1)));
        }
        writer.get(10, TimeUnit.SECONDS);
        assertArrayEquals(data, got.array());
    }

    @Test
    void heapAndReadOnlyBuffersWorkToo() throws Exception {
        byte[] data = random(5000);
        Pipe pipe = Pipe.create(1 << 20); // its ends are the CancellableFds' to close
        {
            CancellableFd w = CancellableFd.forWriting(pipe.writeEnd(), 5000);
            WritableByteChannel out = (WritableByteChannel) w.output();
            out.write(ByteBuffer.wrap(data, 0, 2000));
            out.write(ByteBuffer.wrap(data, 2000, 3000).asReadOnlyBuffer());
            out.close();
            CancellableFd r = CancellableFd.forReading(pipe.readEnd(), 5000);
            ReadableByteChannel in = (ReadableByteChannel) r.input();
            ByteBuffer dst = ByteBuffer.allocate(6000).position(100);
            int total = 0, n;
            while ((n = in.read(dst)) > 0) total += n;
            assertEquals(-1, n);
            assertEquals(5000, total);
            byte[] back = new byte[5000];
            dst.flip().position(100).get(back);
            assertArrayEquals(data, back);
            in.close();
            assertFalse(in.isOpen());
        }
    }

    @Test
    void aCancelledReadThrows() throws Exception {
        try (Pipe pipe = Pipe.create(0)) {
            CancellableFd r = CancellableFd.forReading(pipe.readEnd().dup(), 0);
            ReadableByteChannel in = (ReadableByteChannel) r.input();
            CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                r.cancel();
            });
            assertThrows(InterruptedIOException.class, () -> in.read(ByteBuffer.allocateDirect(16)));
            in.close();
        }
    }
}
