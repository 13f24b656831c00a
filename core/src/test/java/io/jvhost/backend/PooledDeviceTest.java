package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device with a request executor: chains are handled several at once and complete out of
 * order, every completion reaches the driver with the right bytes, and GET_VRING_BASE waits for
 * the chains still in flight, so nothing touches guest memory after the ring stopped.
 */
class PooledDeviceTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private BackgroundServer server;

    /** Echoes the request reversed, after sleeping as many milliseconds as its first byte says. */
    static final class SlowEcho implements Device {
        final ExecutorService executor;
        final AtomicInteger concurrent = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();

        SlowEcho(ExecutorService executor) {
            this.executor = executor;
        }

        @Override
        public String name() {
            return "slow-echo";
        }

        @Override
        public int queueCount() {
            return 1;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.RING_EVENT_IDX);
        }

        @Override
        public java.util.concurrent.Executor requestExecutor(int queueIndex) {
            return executor;
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
            maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            try {
                byte[] in = chain.readAll();
                Thread.sleep(in[0]);
                byte[] out = new byte[in.length];
                for (int i = 0; i < in.length; i++) out[i] = in[in.length - 1 - i];
                chain.writer().write(out);
                done.incrementAndGet();
                return out.length;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            } finally {
                concurrent.decrementAndGet();
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
        pool.shutdownNow();
    }

    @Test
    void chainsCompleteOutOfOrderAndStopWaitsForTheRest() throws Exception {
        SlowEcho device = new SlowEcho(pool);
        Path socket = dir.resolve("echo.sock");
        server = BackgroundServer.start(socket, device);
        try (GuestDriver driver = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            Map<Integer, byte[]> sent = new HashMap<>();
            List<Integer> order = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 16; i++) {
                    byte[] req = {(byte) (i % 4 == 0 ? 30 : 1), (byte) round, (byte) i, 7};
                    Submission s = driver.submit(0, List.of(req), req.length);
                    sent.put(s.head(), req);
                }
                driver.kick(0);
                for (int i = 0; i < 16; i++) {
                    UsedElement e = driver.awaitUsed(0, T);
                    byte[] req = sent.remove(e.head());
                    byte[] want = {req[3], req[2], req[1], req[0]};
                    assertArrayEquals(want, e.response(), "reply to head " + e.head());
                    order.add((int) req[2]);
                    e.submission().close();
                }
            }
            assertTrue(device.maxConcurrent.get() > 1, "handled several at once: " + device.maxConcurrent.get());
            assertFalse(
                    order.subList(0, 16)
                            .equals(order.subList(0, 16).stream().sorted().toList()),
                    "slow requests were overtaken: " + order.subList(0, 16));

            // Slow requests in flight, then GET_VRING_BASE: it returns only once they are done.
            // Posted without kicks, so the worker pops all eight in one batch: a kick per chain
            // could let GET_VRING_BASE in between two of them.
            for (int i = 0; i < 8; i++) driver.post(0, List.of(new byte[] {100, 0, (byte) i, 0}), 4);
            driver.kick(0);
            long deadline = System.nanoTime() + T.toNanos();
            while (device.concurrent.get() == 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            int before = device.done.get();
            int[] bases = driver.stopRings();
            assertEquals(4 * 16 + 8, bases[0], "next avail index");
            assertEquals(before + 8, device.done.get(), "every chain in flight finished before the ring stopped");
            int completed = 0;
            while (driver.queue(0).pollUsed() != null) completed++;
            assertEquals(8, completed, "and each was published before GET_VRING_BASE answered");
            assertNull(driver.queue(0).pollUsed());
        }
    }
}
