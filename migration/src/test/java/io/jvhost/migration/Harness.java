package io.jvhost.migration;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Shared pieces for the migration tests: a loopback destination, sample states, capturing streams. */
final class Harness {
    static final String DEVICE = "virtio-fs";
    static final long FEATURES = VirtioDeviceState.VERSION_1 | (1L << 28) | (1L << 29) | 1;
    static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);

    private Harness() {}

    static VirtioDeviceState virtio() {
        return new VirtioDeviceState(
                FEATURES,
                0x0F,
                new byte[] {'m', 'y', 'f', 's', 0, 0, 0, 1},
                List.of(
                        new VirtioDeviceState.QueueState(1024, 77, true, 0x1000, 0x5000, 0x6000),
                        new VirtioDeviceState.QueueState(128, 65535, false, 0x10000, 0x10800, 0x11000)));
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static DestinationConfig destinationConfig() {
        return DestinationConfig.forDevice(DEVICE, ~0L).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5));
    }

    static SourceConfig sourceConfig(int channels, int packetSize) {
        return SourceConfig.defaults()
                .withChannels(channels)
                .withPacketSize(packetSize)
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5));
    }

    /** An OutputStream that keeps what it got and remembers whether it was told "complete" (closed). */
    static final class CapturingOutput extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile boolean closed;

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        @Override
        public void close() {
            closed = true;
        }

        synchronized byte[] bytes() {
            return bytes.toByteArray();
        }

        boolean closed() {
            return closed;
        }
    }

    /** Input that yields {@code size} bytes slowly, so tests can act mid-stream. */
    static InputStream slowInput(long size, int chunk, long sleepMillis) {
        return new InputStream() {
            long left = size;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left == 0) {
                    return -1;
                }
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    throw new IOException("interrupted", e);
                }
                int n = (int) Math.min(Math.min(len, chunk), left);
                left -= n;
                return n;
            }
        };
    }

    /** Runs {@code receive} on another thread. */
    static CompletableFuture<ReceiveResult> receiveAsync(MigrationDestination dest, OutputStream out) {
        CompletableFuture<ReceiveResult> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-receive").start(() -> {
            try {
                f.complete(dest.receive(out));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** The exception a future failed with, within a few seconds. */
    static Throwable failureOf(CompletableFuture<?> f) throws InterruptedException, TimeoutException {
        try {
            Object r = f.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + r);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    /** Every thread a session started ends soon after it finished, however it ended. */
    static void assertNoMigrationThreadsLeft() throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        List<String> alive;
        do {
            alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(Thread::isAlive)
                    .map(Thread::getName)
                    .filter(n -> n.startsWith("migration-"))
                    .toList();
            if (alive.isEmpty()) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("threads still running: " + alive);
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }
}
