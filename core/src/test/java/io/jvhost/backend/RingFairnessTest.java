package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One busy ring does not starve another on the same worker: a request on queue 0 (virtio-fs's
 * hiprio) kicked behind 120 slow requests on queue 1 is handled after at most one budget of
 * them, not after all; every request still completes.
 */
class RingFairnessTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private BackgroundServer server;

    static final class Recorder implements Device {
        final List<Integer> order = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String name() {
            return "recorder";
        }

        @Override
        public int queueCount() {
            return 2;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.RING_EVENT_IDX);
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
            order.add(queueIndex);
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            chain.writer().write(new byte[] {(byte) queueIndex});
            return 1;
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
    }

    @Test
    void aRequestOnAnotherRingIsNotStarved() throws Exception {
        Recorder device = new Recorder();
        Path socket = dir.resolve("fair.sock");
        server = BackgroundServer.start(socket, device);
        int busy = 120; // two descriptors each: the 256-entry ring holds 128
        try (GuestDriver driver = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
            for (int i = 0; i < busy; i++) driver.submit(1, List.of(new byte[] {1}), 1);
            driver.kick(1);
            while (device.order.isEmpty()) Thread.onSpinWait();
            driver.submit(0, List.of(new byte[] {0}), 1);
            driver.kick(0);
            assertEquals(0, driver.awaitUsed(0, T).response()[0]);
            for (int i = 0; i < busy; i++) driver.awaitUsed(1, T);
            int position = device.order.indexOf(0);
            assertTrue(
                    position <= VringWorker.BUDGET + 8,
                    "queue 0 handled after " + position + " of queue 1's " + busy + " requests");
            assertEquals(busy + 1, device.order.size());
        }
    }
}
