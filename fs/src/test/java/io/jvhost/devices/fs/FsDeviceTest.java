package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The virtio-fs device: identity, config space, queues. */
class FsDeviceTest {
    @TempDir
    Path dir;

    @Test
    void identityFeaturesAndQueues() {
        FsDevice d = new FsDevice("tag", 4, new FuseServer(FuseHarness.defaultFs()));
        assertEquals("fs", d.name());
        assertEquals(5, d.queueCount(), "hiprio + 4 request queues");
        assertEquals(
                VirtioFeatures.mask(
                        VirtioFeatures.VERSION_1, VirtioFeatures.RING_EVENT_IDX, VirtioFeatures.RING_INDIRECT_DESC),
                d.features());
        assertTrue(d.protocolFeatures().isEmpty(), "QEMU builds the config itself: no extra protocol feature");
    }

    @Test
    void configSpaceIsThePaddedTagAndTheQueueCount() {
        byte[] c = new FsDevice("my-share", 3, new FuseServer(FuseHarness.defaultFs())).config();
        assertEquals(40, c.length);
        assertEquals("my-share", new String(c, 0, 8, StandardCharsets.UTF_8));
        assertArrayEquals(new byte[28], Arrays.copyOfRange(c, 8, 36), "NUL padded");
        assertEquals(3, ByteBuffer.wrap(c, 36, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        byte[] full = new FsDevice("x".repeat(36), 1, new FuseServer(FuseHarness.defaultFs())).config();
        assertEquals("x".repeat(36), new String(full, 0, 36, StandardCharsets.UTF_8), "a 36-byte tag has no NUL");
    }

    @Test
    void withoutATagThereIsNoConfigSpace() {
        FsDevice untagged = new FsDevice(Optional.empty(), 2, new FuseServer(FuseHarness.defaultFs()), 0);
        assertFalse(
                untagged.hasConfigSpace(), "as virtiofsd without --tag: no PROTOCOL_F_CONFIG for QEMU to warn about");
        assertEquals(0, untagged.config().length);
        assertEquals(3, untagged.queueCount());
        FsDevice tagged = new FsDevice("t", 2, new FuseServer(FuseHarness.defaultFs()));
        assertTrue(tagged.hasConfigSpace());
        assertEquals(FsDevice.CONFIG_SIZE, tagged.config().length);
    }

    @Test
    void badTagsAndQueueCountsAreRejectedAtConstruction() {
        FuseServer s = new FuseServer(FuseHarness.defaultFs());
        assertThrows(IllegalArgumentException.class, () -> new FsDevice("x".repeat(37), 1, s));
        assertThrows(IllegalArgumentException.class, () -> new FsDevice("é".repeat(19), 1, s), "38 bytes of UTF-8");
        assertThrows(IllegalArgumentException.class, () -> new FsDevice("", 1, s));
        assertThrows(IllegalArgumentException.class, () -> new FsDevice("a\0b", 1, s));
        assertThrows(IllegalArgumentException.class, () -> new FsDevice("tag", 0, s));
        assertThrows(IllegalArgumentException.class, () -> new FuseServer(FuseHarness.defaultFs(), 1000));
    }

    @Test
    void hiprioIsHandledOnItsRingsWorkerAndTheRequestQueuesOnThePool() {
        FsDevice pooled = new FsDevice("tag", 2, new FuseServer(FuseHarness.defaultFs()), 2);
        try {
            assertNull(pooled.requestExecutor(0), "FORGETs are not handed to a pool thread");
            assertNotNull(pooled.requestExecutor(1));
            assertSame(pooled.requestExecutor(1), pooled.requestExecutor(2), "one pool for every request queue");
        } finally {
            pooled.close();
        }
        FsDevice serial = new FsDevice("tag", 1, new FuseServer(FuseHarness.defaultFs()), 0);
        assertNull(serial.requestExecutor(1), "no pool: every queue on its worker");
        serial.close();
    }

    @Test
    void closingTheDeviceEndsItsRequestExecutorThreads() throws Exception {
        FsDevice device = new FsDevice("tag", 1, new FuseServer(FuseHarness.defaultFs()), 2);
        java.util.concurrent.CompletableFuture<Thread> poolThread = new java.util.concurrent.CompletableFuture<>();
        device.requestExecutor(1).execute(() -> poolThread.complete(Thread.currentThread()));
        Thread t = poolThread.get(5, java.util.concurrent.TimeUnit.SECONDS);
        device.close();
        t.join(5000);
        assertFalse(t.isAlive(), "an idle pool thread outlived its closed device: " + t);
    }

    @Test
    void theFrontEndReadsTheConfigAndUsesEveryRequestQueue() throws Exception {
        MemoryFs fs = FuseHarness.defaultFs();
        FsDevice device = new FsDevice("share", 3, new FuseServer(fs));
        try (FuseHarness h = FuseHarness.start(
                dir, fs, device, GuestDriver.Options.defaults(4).withIndirect(true))) {
            byte[] config = h.driver.client().getConfig(0, FsDevice.CONFIG_SIZE);
            assertArrayEquals(device.config(), config);
            h.init().ok();
            long id = fs.addFile("f", new byte[0]);
            for (int q = 1; q <= 3; q++) {
                Reply r = h.send(q, request(LOOKUP, 100 + q, 1, args().name("f").build()), OUT_HEADER + 128);
                r.ok();
                assertEquals(100 + q, r.unique());
                assertEquals(id, nodeId(r));
            }
            assertEquals(3, fs.lookups(id), "every request queue reaches the same session");
            // The hiprio queue gives them back.
            byte[] forget = request(
                    BATCH_FORGET, 9, 0, args().u32(1).u32(0).u64(id).u64(3).build());
            assertEquals(0, h.send(0, forget, 0).used());
            assertEquals(0, fs.lookups(id));
            int[] bases = h.driver.stopRings();
            assertEquals(
                    List.of(1, 2, 1, 1),
                    Arrays.stream(bases).boxed().toList(),
                    "one chain per queue, two on the first request queue (INIT and LOOKUP)");
        }
    }
}
