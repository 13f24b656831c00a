package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.GuestDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A message for a ring the worker is busy on waits for the chain in hand, not for the rest of
 * the worker's batch (up to {@link VringWorker#BUDGET} chains): QEMU disables and stops the
 * rings at a migration's stop, inside the guest's downtime, while the guest may still have a
 * ring full of requests. Counted in chains handled while the message waited, not in time.
 */
class RingStopWaitsOneChainTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private BackgroundServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
    }

    @Test
    void setVringEnableWaitsForTheChainInHandOnly() throws Exception {
        RingFairnessTest.Recorder device = new RingFairnessTest.Recorder(); // 1 ms a chain
        Path socket = dir.resolve("stop.sock");
        server = BackgroundServer.start(socket, device);
        int queued = 120;
        try (GuestDriver driver = GuestDriver.connect(socket, GuestDriver.Options.defaults(2))) {
            for (int i = 0; i < queued; i++) driver.submit(1, List.of(new byte[] {1}), 1);
            driver.kick(1);
            while (device.order.isEmpty()) Thread.onSpinWait(); // the worker is in its batch
            int before = device.order.size();
            driver.client().setVringEnable(1, false);
            int during = device.order.size() - before;
            assertTrue(
                    during <= 2,
                    during + " chains were handled while SET_VRING_ENABLE waited (a batch is " + VringWorker.BUDGET
                            + ")");
            int stoppedAt = device.order.size();
            driver.client().setVringEnable(1, true);
            driver.kick(1);
            for (int i = 0; i < queued; i++) driver.awaitUsed(1, T);
            assertEquals(queued, device.order.size(), "every request handled once the ring is enabled again");
            assertTrue(stoppedAt < queued, "the ring stopped part way");
        }
    }
}
