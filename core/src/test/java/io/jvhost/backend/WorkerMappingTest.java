package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device.workerFor decides which thread serves which queue: shared, or one each. */
class WorkerMappingTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final int REQUESTS = 40;

    @TempDir
    Path dir;

    /** Two queues, mapped as {@code mapping} says; records the threads that handled each. */
    private record Mapped(IntUnaryOperator mapping, List<Set<String>> threads) implements Device {
        Mapped(IntUnaryOperator mapping) {
            this(mapping, List.of(ConcurrentHashMap.newKeySet(), ConcurrentHashMap.newKeySet()));
        }

        @Override
        public String name() {
            return "mapped";
        }

        @Override
        public int queueCount() {
            return 2;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1);
        }

        @Override
        public int workerFor(int queue) {
            return mapping.applyAsInt(queue);
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
            threads.get(queueIndex).add(Thread.currentThread().getName());
            chain.writer().write(new byte[] {(byte) queueIndex});
            return 1;
        }
    }

    /** Requests on both queues, kicked together; each must be answered by its own queue. */
    private static void serveBoth(Path socket, Device device) throws Exception {
        try (BackgroundServer served = BackgroundServer.start(socket, device);
                GuestDriver d = GuestDriver.connect(served.socket(), GuestDriver.Options.defaults(2))) {
            for (int i = 0; i < REQUESTS; i++) {
                d.submit(0, List.of(), 1);
                d.submit(1, List.of(), 1);
            }
            d.kick(0);
            d.kick(1);
            for (int i = 0; i < REQUESTS; i++) {
                assertEquals(0, d.awaitUsed(0, T).response()[0]);
                assertEquals(1, d.awaitUsed(1, T).response()[0]);
            }
        }
    }

    @Test
    void twoQueuesOnOneWorkerAreServedByOneThreadAndBothProgress() throws Exception {
        Mapped device = new Mapped(q -> 0);
        serveBoth(dir.resolve("shared.sock"), device);
        assertEquals(1, device.threads().get(0).size(), "queue 0's threads: " + device.threads());
        assertEquals(device.threads().get(0), device.threads().get(1), "both queues on one thread");
    }

    @Test
    void theDefaultIsOneWorkerForAllQueues() throws Exception {
        Mapped device = new Mapped(q -> 0);
        Device byDefault = new Device() {
            @Override
            public String name() {
                return device.name();
            }

            @Override
            public int queueCount() {
                return 2;
            }

            @Override
            public long features() {
                return device.features();
            }

            @Override
            public long handle(int q, DescriptorChain c) throws VirtqueueException {
                return device.handle(q, c);
            }
        };
        serveBoth(dir.resolve("default.sock"), byDefault);
        assertEquals(Set.of("jvhost-mapped-rings"), device.threads().get(0));
        assertEquals(Set.of("jvhost-mapped-rings"), device.threads().get(1));
    }

    @Test
    void queuesOnWorkersOfTheirOwnAreServedByTwoThreads() throws Exception {
        Mapped device = new Mapped(q -> q);
        serveBoth(dir.resolve("own.sock"), device);
        assertEquals(Set.of("jvhost-mapped-rings"), device.threads().get(0));
        assertEquals(Set.of("jvhost-mapped-rings-1"), device.threads().get(1));
    }
}
