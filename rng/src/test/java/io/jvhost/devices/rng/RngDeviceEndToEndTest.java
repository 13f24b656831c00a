package io.jvhost.devices.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.backend.BackendServer;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtio-rng device served end to end from the public API only, the way a library user
 * tests their own device (rust-vmm's vhost-user-backend tests/vhost-user-server.rs is the
 * model): a {@link BackendServer} serves the device on a Unix socket, and jvhost's front-end with
 * its guest-driver model plays QEMU and the guest (features, memory table, rings, kicks, calls).
 * This module sees only what the core exports, so the test compiles against that and nothing else.
 */
class RngDeviceEndToEndTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private BackendServer server;
    private Thread serving;
    private GuestDriver guest;

    @BeforeEach
    void serve() throws Exception {
        Path socket = dir.resolve("rng.sock");
        server = BackendServer.listen(socket, new RngDevice());
        serving = Thread.ofPlatform().name("rng-server").start(() -> {
            try {
                server.serve();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        guest = GuestDriver.connect(socket, GuestDriver.Options.defaults(1).withMemTable(true));
    }

    @AfterEach
    void stop() throws Exception {
        if (guest != null) guest.close();
        server.close();
        serving.join(TIMEOUT.toMillis());
        assertFalse(serving.isAlive(), "the server did not stop when closed");
    }

    @Test
    void negotiatesTheDevicesFeatures() {
        long f = guest.features();
        assertTrue(VirtioFeatures.has(f, VirtioFeatures.VERSION_1), "VERSION_1 negotiated");
        assertTrue(VirtioFeatures.has(f, VirtioFeatures.RING_EVENT_IDX), "EVENT_IDX negotiated");
    }

    @Test
    void fillsADeviceWritableBufferWithEntropy() throws Exception {
        byte[] a = guest.request(0, List.of(), 4096, TIMEOUT);
        byte[] b = guest.request(0, List.of(), 4096, TIMEOUT);
        assertEquals(4096, a.length, "the whole buffer is written");
        assertLooksRandom(a);
        assertFalse(Arrays.equals(a, b), "two requests got the same bytes");
    }

    @Test
    void aBufferLargerThanOneRequestIsAnsweredInPart() throws Exception {
        int asked = RngDevice.MAX_BYTES_PER_REQUEST + 4096;
        try (Submission s = guest.submit(0, List.of(), asked)) {
            UsedElement used = guest.awaitUsed(0, TIMEOUT);
            assertEquals(s.head(), used.head());
            assertEquals(
                    RngDevice.MAX_BYTES_PER_REQUEST, used.length(), "the device writes at most one request's worth");
        }
    }

    @Test
    void aChainWithNothingToWriteCompletesEmpty() throws Exception {
        try (Submission s = guest.submit(0, List.of(new byte[16]))) {
            UsedElement used = guest.awaitUsed(0, TIMEOUT);
            assertEquals(s.head(), used.head());
            assertEquals(0, used.length());
        }
    }

    @Test
    void aBatchPostedWithOneKickCompletesEveryChain() throws Exception {
        List<Submission> batch = new ArrayList<>();
        for (int i = 0; i < 32; i++) batch.add(guest.post(0, List.of(), 64 + i));
        guest.kickIfNeeded(0);
        long[] written = new long[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            UsedElement used = guest.awaitUsed(0, TIMEOUT);
            assertNotNull(used);
            for (int j = 0; j < batch.size(); j++) {
                if (batch.get(j).head() == used.head()) written[j] = used.length();
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            assertEquals(64 + i, written[i], "chain " + i + " filled to its length");
            batch.get(i).close();
        }
    }

    private static void assertLooksRandom(byte[] data) {
        int zeros = 0;
        for (byte x : data) if (x == 0) zeros++;
        assertTrue(zeros < data.length / 64, "too many zero bytes for entropy: " + zeros + "/" + data.length);
    }
}
