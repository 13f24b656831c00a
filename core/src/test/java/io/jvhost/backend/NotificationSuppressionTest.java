package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.UsedElement;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the ring's notification handling must keep, with EVENT_IDX on and off, through a real
 * session and the guest-driver model: a driver that suppressed interrupts gets none, a driver
 * that consumes nothing is interrupted once (EVENT_IDX) for a run of completions, a completion
 * reaches a waiting driver while later chains of the same batch are still in the device (the
 * two overlap), and a device busy with chains is not kicked for each new one, yet misses none.
 */
class NotificationSuppressionTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private BackgroundServer server;

    /** Replies one byte; a chain whose first byte is 1 waits in the device until {@link #release} opens. */
    static final class Gate implements Device {
        final boolean eventIdx;
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        Gate(boolean eventIdx) {
            this.eventIdx = eventIdx;
        }

        @Override
        public String name() {
            return "gate";
        }

        @Override
        public int queueCount() {
            return 1;
        }

        @Override
        public long features() {
            return eventIdx
                    ? VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.RING_EVENT_IDX)
                    : VirtioFeatures.mask(VirtioFeatures.VERSION_1);
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
            byte[] in = chain.readAll();
            if (in[0] == 1) {
                entered.countDown();
                try {
                    if (!release.await(20, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            chain.writer().write(new byte[] {in[1]});
            return 1;
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
    }

    private GuestDriver start(Gate device) throws Exception {
        Path socket = dir.resolve("gate.sock");
        server = BackgroundServer.start(socket, device);
        GuestDriver driver = GuestDriver.connect(socket, GuestDriver.Options.defaults(1));
        assertEquals(
                device.eventIdx,
                VirtioFeatures.has(driver.features(), VirtioFeatures.RING_EVENT_IDX),
                "EVENT_IDX negotiated as the device offers it");
        // One round trip first: a ring's first notification decision always notifies.
        driver.request(0, List.of(new byte[] {0, 0}), 1, T);
        driver.takeNotifications(0);
        return driver;
    }

    private static void post(GuestDriver driver, int n, int first) {
        for (int i = 0; i < n; i++) driver.post(0, List.of(new byte[] {(byte) first, (byte) i}), 1);
    }

    /** Consumes {@code n} completions without waiting on the call fd (spins on the used ring). */
    private static void consume(GuestDriver driver, int n) {
        long deadline = System.nanoTime() + T.toNanos();
        for (int got = 0; got < n; ) {
            UsedElement e = driver.pollUsed(0);
            if (e == null) {
                assertTrue(System.nanoTime() < deadline, "only " + got + " of " + n + " completions");
                Thread.onSpinWait();
                continue;
            }
            e.submission().close();
            got++;
        }
    }

    @ParameterizedTest(name = "EVENT_IDX {0}")
    @ValueSource(booleans = {true, false})
    void aDriverThatSuppressedInterruptsGetsNone(boolean eventIdx) throws Exception {
        try (GuestDriver driver = start(new Gate(eventIdx))) {
            DriverQueue q = driver.queue(0);
            q.disableInterrupts();
            post(driver, 32, 0);
            driver.kick(0);
            consume(driver, 32);
            assertEquals(0, driver.takeNotifications(0), "interrupts while the driver asked for none");
            assertFalse(q.enableInterrupts(), "every completion was consumed");
        }
    }

    @ParameterizedTest(name = "EVENT_IDX {0}")
    @ValueSource(booleans = {true, false})
    void aDriverThatConsumesNothingIsInterruptedOnceWithEventIdx(boolean eventIdx) throws Exception {
        try (GuestDriver driver = start(new Gate(eventIdx))) {
            post(driver, 32, 0);
            driver.kick(0);
            DriverQueue q = driver.queue(0);
            long deadline = System.nanoTime() + T.toNanos();
            // Wait for the used index without consuming anything: used_event stays put.
            while ((q.usedRing().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2) & 0xFFFF)
                    != ((q.lastUsedIndex() + 32) & 0xFFFF)) {
                assertTrue(System.nanoTime() < deadline, "the device did not complete the 32 chains");
                Thread.onSpinWait();
            }
            long notified = driver.takeNotifications(0);
            if (eventIdx) {
                assertEquals(1, notified, "used_event did not move: one interrupt for the run");
            } else {
                assertTrue(notified >= 1, "no NO_INTERRUPT: the driver is interrupted");
            }
            consume(driver, 32);
        }
    }

    @ParameterizedTest(name = "EVENT_IDX {0}")
    @ValueSource(booleans = {true, false})
    void aCompletionReachesTheDriverWhileLaterChainsOfItsBatchAreInTheDevice(boolean eventIdx) throws Exception {
        Gate device = new Gate(eventIdx);
        try (GuestDriver driver = start(device)) {
            driver.post(0, List.of(new byte[] {0, 7}), 1); // done at once
            driver.post(0, List.of(new byte[] {1, 8}), 1); // held in the device
            driver.kick(0); // one kick: the device pops both in one batch
            assertTrue(device.entered.await(T.toMillis(), TimeUnit.MILLISECONDS), "second chain reached the device");
            try {
                assertTrue(driver.awaitNotification(0, T), "the first reply waited for the rest of its batch");
                UsedElement first = driver.pollUsed(0);
                assertNotNull(first, "notified with a completion on the used ring");
                assertEquals(7, first.response()[0]);
                first.submission().close();
            } finally {
                device.release.countDown();
            }
            consume(driver, 1);
        }
    }

    @ParameterizedTest(name = "EVENT_IDX {0}")
    @ValueSource(booleans = {true, false})
    void aBusyDeviceIsNotKickedForEachChainAndMissesNone(boolean eventIdx) throws Exception {
        Gate device = new Gate(eventIdx);
        try (GuestDriver driver = start(device)) {
            DriverQueue q = driver.queue(0);
            driver.post(0, List.of(new byte[] {1, 0}), 1);
            driver.kickIfNeeded(0);
            assertTrue(device.entered.await(T.toMillis(), TimeUnit.MILLISECONDS), "first chain reached the device");
            int kicks = 0;
            try {
                for (int i = 1; i <= 20; i++) {
                    driver.post(0, List.of(new byte[] {0, (byte) i}), 1);
                    if (q.kickNeeded()) {
                        kicks++;
                        driver.kick(0);
                    }
                }
            } finally {
                device.release.countDown();
            }
            assertEquals(0, kicks, "kicks asked for while the device was draining the ring");
            consume(driver, 21); // none lost: the device looked again before it slept
            driver.post(0, List.of(new byte[] {0, 99}), 1);
            driver.kickIfNeeded(0);
            consume(driver, 1);
        }
    }
}
