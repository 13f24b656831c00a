package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.rng.RngDevice;
import io.jvhost.frontend.BackendRefusedException;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.memory.DirtyBitmap;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Mapping;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.GuestBuffer;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import io.jvhost.virtqueue.VringAddresses;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jvhost's front-end drives jvhost's rng back-end through the whole lifecycle, and attacks it. */
class BackendLifecycleTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Path socket;
    private BackgroundServer server;

    @BeforeEach
    void start() throws Exception {
        socket = dir.resolve("rng.sock");
        server = BackgroundServer.start(socket, new RngDevice());
    }

    @AfterEach
    void stop() throws Exception {
        server.close(); // fails if the server thread did not stop
    }

    private static void assertLooksRandom(byte[] data) {
        int zeros = 0;
        for (byte b : data) if (b == 0) zeros++;
        assertTrue(zeros < data.length / 64, "too many zero bytes for random data: " + zeros + "/" + data.length);
    }

    @Test
    void negotiatesRunsStopsAndAcceptsASecondFrontEnd() throws Exception {
        int[] bases;
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            assertTrue(VirtioFeatures.has(d.features(), VirtioFeatures.VERSION_1));
            assertTrue(VirtioFeatures.has(d.features(), VirtioFeatures.RING_EVENT_IDX));
            assertTrue(ProtocolFeature.REPLY_ACK.isIn(d.protocolFeatures()));
            assertTrue(ProtocolFeature.CONFIGURE_MEM_SLOTS.isIn(d.protocolFeatures()));
            for (int i = 0; i < 300; i++) { // > queue size: indices wrap around the ring
                byte[] r = d.request(0, List.of(), 4096, T);
                assertEquals(4096, r.length);
                if (i == 0) assertLooksRandom(r);
            }
            bases = d.stopRings();
            assertEquals(300, bases[0]);
        }
        try (GuestDriver d = GuestDriver.connect(
                socket, GuestDriver.Options.defaults(1).withMemTable(true).withIndirect(true))) {
            byte[] r = d.request(0, List.of(), 100_000, T);
            assertEquals(64 * 1024, r.length, "rng answers at most 64 KiB per request");
            assertLooksRandom(r);
            assertEquals(1, d.stopRings()[0]);
        }
    }

    @Test
    void restartsFromTheBaseAfterGetVringBase() throws Exception {
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            d.request(0, List.of(), 64, T);
            assertEquals(1, d.stopRings()[0]);
            // Stopped: a kick must not be processed (spec: stopped rings are not processed at all).
            var s = d.submit(0, List.of(), 64);
            d.kick(0);
            Thread.sleep(200);
            assertNull(d.queue(0).pollUsed(), "a stopped ring was processed");
            s.close();
        }
    }

    @Test
    void hostileDescriptorChainsAreRejectedAndTheQueueKeepsServing() throws Exception {
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            DriverQueue q = d.queue(0);
            MemorySegment desc = q.descriptorTable();
            // A loop: 0 -> 1 -> 0, both device-writable.
            writeDesc(desc, 0, q.usedGuestAddr(), 16, 1 | 2, 1);
            writeDesc(desc, 1, q.usedGuestAddr(), 16, 1 | 2, 0);
            q.publishHandMade(0);
            // Out of guest memory.
            writeDesc(desc, 2, 0x7fff_0000_0000L, 4096, 2, 0);
            q.publishHandMade(2);
            // An address range that overflows 64 bits.
            writeDesc(desc, 3, -4096L, 8192, 2, 0);
            q.publishHandMade(3);
            d.kick(0);
            for (int expectedHead : new int[] {0, 2, 3}) {
                UsedElement e = d.awaitUsed(0, T);
                assertEquals(expectedHead, e.head());
                assertEquals(0, e.length(), "a rejected chain is returned with length 0");
            }
            // Descriptors 0..3 are clobbered; the driver model's own allocation must skip them,
            // so just check the device still answers a well-formed request.
            byte[] r = d.request(0, List.of(), 512, T);
            assertEquals(512, r.length);
        }
    }

    private static void writeDesc(MemorySegment table, int i, long addr, int len, int flags, int next) {
        ValueLayout.OfLong u64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfInt u32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfShort u16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        table.set(u64, 16L * i, addr);
        table.set(u32, 16L * i + 8, len);
        table.set(u16, 16L * i + 12, (short) flags);
        table.set(u16, 16L * i + 14, (short) next);
    }

    @Test
    void badRequestsAreRefusedWithoutEndingTheSession() throws Exception {
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            FrontendClient c = d.client();
            assertThrows(BackendRefusedException.class, () -> c.setVringNum(5, 256), "ring index out of range");
            assertThrows(BackendRefusedException.class, () -> c.setVringNum(0, 3), "queue size not a power of two");
            assertThrows(BackendRefusedException.class, () -> c.setVringNum(0, 4096), "queue size above the maximum");
            assertThrows(BackendRefusedException.class, () -> c.setFeatures(1L << 40), "feature not offered");
            assertThrows(BackendRefusedException.class, () -> c.getConfig(0, 4), "rng has no config space");
            assertThrows(
                    BackendRefusedException.class,
                    () -> c.setVringAddr(0, 0, 0x10, 0x20, 0x30, 0),
                    "rings outside memory");
            assertEquals(1, c.getQueueNum());
            assertEquals(128, d.request(0, List.of(), 128, T).length);
        }
    }

    @Test
    void garbageOnTheSocketClosesOnlyThatConnection() throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < 50; i++) {
            try (UnixSocket s = UnixSocket.connect(socket)) {
                byte[] junk = new byte[1 + random.nextInt(64)];
                random.nextBytes(junk);
                if (i % 2 == 0) { // a plausible header with a hostile size
                    ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
                    h.putInt(1 + random.nextInt(44)).putInt(1).putInt(random.nextInt());
                    junk = Arrays.copyOf(h.array(), 12 + junk.length);
                }
                s.sendMsg(ByteBuffer.wrap(junk), List.of());
                s.shutdown();
                // The back-end closes its end (or waits for more bytes until we shut down).
                int n = s.recvMsg(ByteBuffer.allocate(64), 0).bytes();
                assertTrue(n >= 0);
            }
        }
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            assertEquals(64, d.request(0, List.of(), 64, T).length);
        }
    }

    @Test
    void everyGuestPageTheBackEndWritesIsLoggedWhileLogAllIsOn() throws Exception {
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            FrontendClient c = d.client();
            DriverQueue q = d.queue(0);
            long ramEnd = q.descGuestAddr() + (16L << 20);
            long logBytes = (ramEnd / DirtyBitmap.PAGE_SIZE + 7) / 8;
            try (Fd logFd = Libc.memfdCreate("dirty-log", Libc.MFD_CLOEXEC)) {
                Libc.ftruncate(logFd, logBytes);
                // As QEMU does when migration starts: log base, LOG_ALL, then ring addresses with F_LOG.
                c.setLogBase(logBytes, 0, logFd);
                c.setFeatures(d.features() | VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
                VringAddresses a = q.addresses(true);
                c.setVringAddr(0, a.flags(), a.descUserAddr(), a.usedUserAddr(), a.availUserAddr(), a.logGuestAddr());
                try (Submission s = d.submit(0, List.of(), 3 * 4096 + 100);
                        Mapping log = Mapping.map(logFd, 0, logBytes, false)) {
                    UsedElement e = d.awaitUsed(0, T);
                    assertEquals(3 * 4096 + 100, e.length());
                    DirtyBitmap bitmap = DirtyBitmap.over(log.segment());
                    for (GuestBuffer b : s.writable()) {
                        for (long gpa = b.guestPhysAddr(); gpa < b.guestPhysAddr() + b.length(); gpa += 4096) {
                            assertTrue(bitmap.isDirty(gpa), "buffer page 0x" + Long.toHexString(gpa) + " not logged");
                        }
                        assertTrue(bitmap.isDirty(b.guestPhysAddr() + b.length() - 1));
                    }
                    assertTrue(bitmap.isDirty(q.usedGuestAddr()), "used ring page not logged");
                    assertFalse(bitmap.isDirty(q.descGuestAddr()), "the back-end never writes the descriptor table");
                }
            }
        }
    }

    /**
     * close() may run while the serving thread is between two front-ends, on its way back to
     * accept(): that thread reaching accept() after close() must end serving quietly.
     */
    @Test
    void acceptAfterCloseEndsServingQuietly() throws Exception {
        BackendServer closed = BackendServer.listen(dir.resolve("closed.sock"), new RngDevice());
        closed.close();
        assertFalse(closed.serveOne(), "serving a closed server");
        closed.serve();
    }

    @Test
    void servesAnInheritedListeningSocket() throws Exception {
        Path path = dir.resolve("inherited.sock");
        int fd = UnixSocket.listen(path, 1).fd().release(); // as libvirt hands over --fd N
        BackendServer inherited = BackendServer.adopt(fd, new RngDevice());
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                inherited.serveOne();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (GuestDriver d = GuestDriver.connect(path, GuestDriver.Options.defaults(1))) {
            assertEquals(16, d.request(0, List.of(), 16, T).length);
        }
        t.join(5000);
        inherited.close();
    }

    @Test
    void resetDeviceStopsRingsAndTheDeviceCanBeSetUpAgain() throws Exception {
        try (FrontendClient c = FrontendClient.connect(socket)) {
            GuestDriver d = GuestDriver.start(c, GuestDriver.Options.defaults(1));
            d.request(0, List.of(), 32, T);
            c.resetDevice();
            assertEquals(0, c.getStatus());
            d.close();
        }
        try (GuestDriver d = GuestDriver.connect(socket, GuestDriver.Options.defaults(1))) {
            assertEquals(32, d.request(0, List.of(), 32, T).length);
        }
    }
}
