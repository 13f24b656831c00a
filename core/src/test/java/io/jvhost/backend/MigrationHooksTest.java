package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.BackendRefusedException;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device.migrationStarting / migrationCancelled follow VHOST_F_LOG_ALL in SET_FEATURES, as QEMU
 * sets it when a live migration starts and clears it when the migration ends: once per
 * transition, never for a re-sent SET_FEATURES, and no cancel after a completed state save.
 */
class MigrationHooksTest {
    private static final long FEATURES =
            VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.PROTOCOL_FEATURES);
    private static final long LOG_ALL = VirtioFeatures.mask(VirtioFeatures.LOG_ALL);

    @TempDir
    Path dir;

    private final HookDevice device = new HookDevice();
    private BackgroundServer served;
    private FrontendClient client;

    /** Counts the hooks; its state is four bytes, and its capture fails on request. */
    static final class HookDevice implements StatefulDevice {
        final AtomicInteger starting = new AtomicInteger();
        final AtomicInteger cancelled = new AtomicInteger();
        volatile boolean failCapture;
        volatile boolean failStart;
        volatile long acked = -1;

        @Override
        public String name() {
            return "hooks";
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
        public long handle(int queueIndex, DescriptorChain chain) {
            return 0;
        }

        @Override
        public void featuresAcknowledged(long features) {
            acked = features;
        }

        @Override
        public void migrationStarting() {
            starting.incrementAndGet();
            if (failStart) throw new IllegalStateException("cannot prepare (test)");
        }

        @Override
        public void migrationCancelled() {
            cancelled.incrementAndGet();
        }

        @Override
        public SavedState captureState() throws DeviceException {
            if (failCapture) throw new DeviceException("capture refused (test)");
            return out -> out.write(new byte[] {1, 2, 3, 4});
        }

        @Override
        public PreparedState prepareLoad(InputStream in) throws java.io.IOException {
            in.readAllBytes();
            return () -> {};
        }
    }

    @BeforeEach
    void connect() throws Exception {
        served = BackgroundServer.start(dir.resolve("hooks.sock"), device);
        client = FrontendClient.connect(served.socket());
        GuestDriver.connectDevice(client, 1); // REPLY_ACK: every setFeatures returns once applied
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        served.close();
    }

    private void assertHooks(int starting, int cancelled) {
        assertEquals(starting, device.starting.get(), "migrationStarting calls");
        assertEquals(cancelled, device.cancelled.get(), "migrationCancelled calls");
    }

    private void save() throws Exception {
        new DeviceStateTransfer(client).save(new ByteArrayOutputStream());
    }

    @Test
    void settingAndClearingLogAllCallEachHookOncePerTransition() throws Exception {
        client.setFeatures(FEATURES);
        assertHooks(0, 0);
        client.setFeatures(FEATURES | LOG_ALL);
        assertHooks(1, 0);
        assertEquals(FEATURES, device.acked, "the device still sees the features without LOG_ALL");
        client.setFeatures(FEATURES | LOG_ALL); // re-sent while migrating: no second start
        assertHooks(1, 0);
        client.setFeatures(FEATURES);
        assertHooks(1, 1);
        client.setFeatures(FEATURES); // re-sent after the cancel: no second cancel
        assertHooks(1, 1);
        client.setFeatures(FEATURES | LOG_ALL); // the next attempt
        assertHooks(2, 1);
    }

    @Test
    void clearingLogAllAfterACompletedSaveIsNoCancel() throws Exception {
        client.setFeatures(FEATURES | LOG_ALL);
        save();
        client.setFeatures(FEATURES);
        assertHooks(1, 0);
    }

    @Test
    void aFailedSaveDoesNotCompleteTheMigration() throws Exception {
        client.setFeatures(FEATURES | LOG_ALL);
        device.failCapture = true;
        assertThrows(BackendRefusedException.class, this::save);
        client.setFeatures(FEATURES);
        assertHooks(1, 1);
    }

    @Test
    void aSaveBeforeTheMigrationStartedDoesNotCountForIt() throws Exception {
        client.setFeatures(FEATURES);
        save();
        client.setFeatures(FEATURES | LOG_ALL);
        client.setFeatures(FEATURES);
        assertHooks(1, 1);
    }

    @Test
    void aStartingHookThatThrowsRefusesSetFeaturesAndTheSessionGoesOn() throws Exception {
        device.failStart = true;
        assertThrows(BackendRefusedException.class, () -> client.setFeatures(FEATURES | LOG_ALL));
        assertHooks(1, 0);
        device.failStart = false;
        client.setFeatures(FEATURES); // QEMU gives the migration up: dirty logging off again
        assertHooks(1, 1);
        assertTrue(VirtioFeatures.has(client.getFeatures(), VirtioFeatures.LOG_ALL), "still served");
    }

    @Test
    void aResetEndsTheMigrationWithoutACancel() throws Exception {
        client.setFeatures(FEATURES | LOG_ALL);
        client.resetDevice();
        client.setFeatures(FEATURES);
        assertHooks(1, 0);
        client.setFeatures(FEATURES | LOG_ALL); // a migration after the reset starts again
        assertHooks(2, 0);
    }
}
