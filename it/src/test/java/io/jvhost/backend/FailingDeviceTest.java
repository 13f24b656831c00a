package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.rng.RngDevice;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import io.jvhost.virtqueue.VirtqueueException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A device whose handler throws an Error, and guest memory that faults while a chain is
 * handled (issue 14, deliverable 2 and row 7): the chain completes, the ring goes on (or is
 * reported broken through its err fd when guest memory faulted), and the session still closes.
 * Before the fix the worker thread died on any Error and, with a pool, the dead task never
 * completed, so GET_VRING_BASE and close() waited for ever.
 */
class FailingDeviceTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final ExecutorService pool = Executors.newFixedThreadPool(2);

    /** Answers "ok!" to a request whose first byte is 0; otherwise throws what that byte names. */
    static final class Throwing implements Device {
        private final ExecutorService executor;

        Throwing(ExecutorService executor) {
            this.executor = executor;
        }

        @Override
        public String name() {
            return "throwing";
        }

        @Override
        public int queueCount() {
            return 1;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1);
        }

        @Override
        public java.util.concurrent.Executor requestExecutor(int queueIndex) {
            return executor;
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
            byte kind = chain.reader().readByte();
            switch (kind) {
                case 1 -> throw new StackOverflowError();
                case 2 -> throw new OutOfMemoryError("Java heap space");
                case 3 -> throw new InternalError("a fault occurred in an unsafe memory access");
                case 4 -> throw new AssertionError("a bug");
                default -> {}
            }
            chain.writer().write(new byte[] {'o', 'k', '!'});
            return 3;
        }
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static UsedElement send(GuestDriver d, int kind) throws Exception {
        Submission s = d.submit(0, List.of(new byte[] {(byte) kind}), 16);
        UsedElement e = d.awaitUsed(0, T);
        assertEquals(s.head(), e.head());
        return e;
    }

    /** StackOverflowError and OutOfMemoryError end the request only: the ring goes on. */
    @ParameterizedTest(name = "kind {0}, pool {1}")
    @CsvSource({"1, false", "1, true", "2, false", "2, true"})
    void anErrorInOneRequestEndsThatRequestOnly(int kind, boolean pooled) throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("t.sock"), new Throwing(pooled ? pool : null));
                GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1))) {
            assertEquals(0, send(d, kind).length(), "the failed request comes back without a reply");
            UsedElement ok = send(d, 0);
            assertArrayEquals(new byte[] {'o', 'k', '!'}, ok.response(), "the ring goes on");
            assertEquals(2, d.stopRings()[0]);
        }
    }

    /**
     * Any other Error (a fault in guest memory, a bug) completes the chain and stops the ring,
     * reported through its err fd; the session still answers and closes.
     */
    @ParameterizedTest(name = "kind {0}, pool {1}")
    @CsvSource({"3, false", "3, true", "4, false", "4, true"})
    void anyOtherErrorBreaksTheRingAndTheSessionStillCloses(int kind, boolean pooled) throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("t.sock"), new Throwing(pooled ? pool : null));
                GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1));
                EventFd err = EventFd.create(true)) {
            d.client().setVringErr(0, err.fd());
            assertEquals(0, send(d, kind).length());
            assertTrue(Libc.pollOne(err.fd(), Libc.POLLIN, (int) T.toMillis()) != 0, "the err fd is signalled");
            assertEquals(1, d.stopRings()[0], "GET_VRING_BASE is answered");
        }
    }

    /**
     * The front-end shrinks guest RAM after SET_MEM_TABLE (nothing the back-end checks can stop
     * that): the device's write into the part now past the end faults. The ring is reported
     * broken, nothing else dies.
     */
    @Test
    void guestMemoryTruncatedUnderTheWorkerBreaksTheRingOnly() throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
                GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1));
                EventFd err = EventFd.create(true)) {
            d.client().setVringErr(0, err.fd());
            assertEquals(64, d.request(0, List.of(), 64, T).length);
            long ram = 16L << 20;
            Libc.ftruncate(d.ram().fd(), ram / 2);
            DriverQueue q = d.queue(0);
            int head = q.reserveDescriptors(1)[0];
            writeDesc(q.descriptorTable(), head, 0x1_0000_0000L + ram - 8192, 4096, 2 /* WRITE */, 0);
            q.publishHandMade(head);
            d.kick(0);
            assertTrue(Libc.pollOne(err.fd(), Libc.POLLIN, (int) T.toMillis()) != 0, "the err fd is signalled");
            assertEquals(2, d.stopRings()[0], "the session still answers");
        }
    }

    /** Rings and all shrunk away: the worker's own read of the avail ring faults. */
    @Test
    void ringsTruncatedUnderTheWorkerBreakTheRingOnly() throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
                GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1));
                EventFd err = EventFd.create(true)) {
            d.client().setVringErr(0, err.fd());
            assertEquals(64, d.request(0, List.of(), 64, T).length);
            Libc.ftruncate(d.ram().fd(), 0);
            d.kick(0);
            assertTrue(Libc.pollOne(err.fd(), Libc.POLLIN, (int) T.toMillis()) != 0, "the err fd is signalled");
            assertEquals(1, d.stopRings()[0], "the session still answers");
        }
    }

    /**
     * The same for the dirty log (row 8): shrunk to nothing after SET_LOG_BASE, the first logged
     * write faults. The ring stops; the session still answers and closes.
     */
    @Test
    void dirtyLogTruncatedUnderTheWorkerBreaksTheRingOnly() throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
                GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1));
                EventFd err = EventFd.create(true);
                io.jvhost.memory.Memfd log = new io.jvhost.memory.Memfd("log", 256 << 10)) {
            d.client().setVringErr(0, err.fd());
            d.client().setFeatures(d.features() | VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
            d.client().setLogBase(256 << 10, 0, log.fd()); // pages up to 8 GiB: the guest RAM at 4 GiB
            assertEquals(64, d.request(0, List.of(), 64, T).length, "logged while the log is whole");
            Libc.ftruncate(log.fd(), 0);
            Submission lost = d.submit(0, List.of(), 64);
            assertTrue(Libc.pollOne(err.fd(), Libc.POLLIN, (int) T.toMillis()) != 0, "the err fd is signalled");
            assertEquals(2, d.stopRings()[0], "the session still answers");
            lost.close();
        }
    }

    private static void writeDesc(MemorySegment table, int i, long addr, int len, int flags, int next) {
        table.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i, addr);
        table.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i + 8, len);
        table.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i + 12, (short) flags);
        table.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i + 14, (short) next);
    }
}
