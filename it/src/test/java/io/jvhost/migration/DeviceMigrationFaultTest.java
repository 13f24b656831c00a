package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.device.DeviceMigration;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration that fails at the back-end level: the guest-driver model must continue on A with
 * its handles, and nothing written before is lost; B never completes a load it should not.
 */
class DeviceMigrationFaultTest {
    private static final byte[] BEFORE =
            "before the failed migration\n".repeat(20).getBytes(StandardCharsets.UTF_8);
    private static final byte[] AFTER = "after, on A again\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private FsPair pair;
    private GuestDriver driver;
    private FuseClient fuse;
    private FuseClient.OpenFile file;

    @BeforeEach
    void start() throws Exception {
        pair = new FsPair(dir);
        driver = pair.driverOnA();
        fuse = FsPair.fuse(driver);
        fuse.init();
        file = fuse.create(FuseClient.ROOT_ID, "f.txt");
        assertEquals(BEFORE.length, fuse.write(file, 0, BEFORE));
    }

    @AfterEach
    void stop() throws Exception {
        driver.close();
        pair.close();
    }

    /** The driver is back on A, running: the old handle reads, a new write lands, the host has both. */
    private void assertContinuesOnA(FrontendClient b) throws Exception {
        assertNotSame(b, driver.client(), "the driver stays on A");
        assertFalse(driver.isSuspended(), "A's rings run again");
        assertArrayEquals(BEFORE, fuse.read(file, 0, BEFORE.length + 10));
        assertEquals(AFTER.length, fuse.write(file, BEFORE.length, AFTER));
        byte[] host = Files.readAllBytes(pair.shared.resolve("f.txt"));
        assertEquals(BEFORE.length + AFTER.length, host.length);
        assertArrayEquals(AFTER, java.util.Arrays.copyOfRange(host, BEFORE.length, host.length));
    }

    private static CompletableFuture<DeviceMigration.Received> receiveAsync(
            FrontendClient b, MigrationDestination dest) {
        CompletableFuture<DeviceMigration.Received> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-receive").start(() -> {
            try {
                f.complete(DeviceMigration.receive(b, dest));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** The state passes the stream's checks (the CRC covers the corrupted bytes) but B's parser rejects it. */
    @Test
    void corruptedStateFailsBsCheckAndAResumes() throws Exception {
        FrontendClient b = pair.destinationOnB();
        DeviceMigration.StateFilter flipMiddleByte = in -> new InputStream() {
            private final byte[] all = in.readAllBytes();
            private int at;

            @Override
            public int read() {
                if (at == all.length) return -1;
                int v = all[at] & 0xff;
                return at++ == all.length / 2 ? v ^ 0x5a : v;
            }
        };
        MigrationException e = assertThrows(
                MigrationException.class,
                () -> DeviceMigration.migrate(
                        driver, b, FsDevice.STATE_TYPE, DeviceMigration.sourceConfig(2), flipMiddleByte));
        assertInstanceOf(PeerAbortedException.class, e);
        assertTrue(e.getMessage().contains("CHECK_DEVICE_STATE"), e.getMessage());
        assertContinuesOnA(b);
    }

    /** The destination process goes away while the first state packet is on the wire. */
    @Test
    @SuppressWarnings("try") // the destination closes from inside the stream: the fault under test
    void destinationClosedMidStream() throws Exception {
        FrontendClient b = pair.destinationOnB();
        try (MigrationDestination dest = MigrationDestination.listen(
                new InetSocketAddress("127.0.0.1", 0),
                DestinationConfig.forDevice(FsDevice.STATE_TYPE, b.getFeatures()))) {
            CompletableFuture<DeviceMigration.Received> received = receiveAsync(b, dest);
            AtomicBoolean killed = new AtomicBoolean();
            ChannelFilter killOnFirstWrite = (ch, out) -> new java.io.FilterOutputStream(out) {
                @Override
                public void write(byte[] bytes, int off, int len) throws IOException {
                    out.write(bytes, off, len / 2);
                    out.flush();
                    if (killed.compareAndSet(false, true)) dest.close();
                    out.write(bytes, off + len / 2, len - len / 2);
                }
            };
            assertThrows(
                    MigrationException.class,
                    () -> DeviceMigration.send(
                            driver,
                            FsDevice.STATE_TYPE,
                            dest.address(),
                            DeviceMigration.sourceConfig(2).withChannelFilter(killOnFirstWrite),
                            DeviceMigration.StateFilter.NONE));
            assertTrue(killed.get());
            Throwable t = assertThrows(Exception.class, () -> received.get(10, TimeUnit.SECONDS));
            assertInstanceOf(MigrationException.class, t.getCause());
        }
        assertContinuesOnA(b);
    }

    /** One state channel's TCP connection breaks in the middle of a packet. */
    @Test
    void stateChannelCut() throws Exception {
        FrontendClient b = pair.destinationOnB();
        AtomicBoolean cut = new AtomicBoolean();
        ChannelFilter cutFirstWriter = (ch, out) -> new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] bytes, int off, int len) throws IOException {
                if (cut.compareAndSet(false, true)) {
                    out.write(bytes, off, len / 2);
                    out.close(); // closes the socket: the destination sees a truncated packet
                    throw new IOException("cut by the test");
                }
                out.write(bytes, off, len);
            }
        };
        MigrationException e = assertThrows(
                MigrationException.class,
                () -> DeviceMigration.migrate(
                        driver,
                        b,
                        FsDevice.STATE_TYPE,
                        DeviceMigration.sourceConfig(2).withChannelFilter(cutFirstWriter),
                        DeviceMigration.StateFilter.NONE));
        assertTrue(cut.get());
        assertNotNull(e.getMessage());
        assertContinuesOnA(b);
    }

    /**
     * A malicious source sends A's real state but repeats packet 0: the stream layer refuses it,
     * B's load never completes (its channel never sees EOF; the session is dropped), and a new
     * migration into B then works, so B was left clean.
     */
    @Test
    void duplicatePacketIndexNeverCompletesBsLoad() throws Exception {
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        DeviceStateTransfer.migrateOut(driver, saved); // A suspended, state saved and checked
        byte[] state = saved.toByteArray();
        FrontendClient b = pair.destinationOnB();
        try (MigrationDestination dest = MigrationDestination.listen(
                        new InetSocketAddress("127.0.0.1", 0),
                        DestinationConfig.forDevice(FsDevice.STATE_TYPE, b.getFeatures()));
                RawSender evil = new RawSender(dest.address())) {
            CompletableFuture<DeviceMigration.Received> received = receiveAsync(b, dest);
            assertInstanceOf(
                    ControlMessage.Accept.class,
                    evil.hello(new ControlMessage.Hello(FsDevice.STATE_TYPE, driver.features(), 1, 1 << 16, -1)));
            evil.openChannels(1);
            evil.data(0, 0, state);
            evil.data(0, 0, state);
            Throwable t = assertThrows(Exception.class, () -> received.get(10, TimeUnit.SECONDS))
                    .getCause();
            assertTrue(t.getMessage().contains("duplicate"), t.getMessage());
            assertInstanceOf(ControlMessage.Abort.class, evil.verdict());
        }
        driver.resume(); // the source's front-end gives up on the migration
        assertContinuesOnA(b);

        // B is not stuck with half a migration: an honest one into a new session works.
        MigrationReport ok = DeviceMigration.migrate(
                driver,
                pair.destinationOnB(),
                FsDevice.STATE_TYPE,
                DeviceMigration.sourceConfig(1),
                DeviceMigration.StateFilter.NONE);
        assertTrue(ok.stateBytes() > 0);
        assertArrayEquals(AFTER, fuse.read(file, BEFORE.length, 100), "B serves A's handle");
    }

    /** A filter that cannot even read A's state: the failure is the source's own, A resumes. */
    @Test
    void sourceSideReadFailureResumesA() throws Exception {
        FrontendClient b = pair.destinationOnB();
        DeviceMigration.StateFilter failing = in -> new FilterInputStream(in) {
            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                throw new IOException("disk on fire");
            }
        };
        MigrationException e = assertThrows(
                MigrationException.class,
                () -> DeviceMigration.migrate(
                        driver, b, FsDevice.STATE_TYPE, DeviceMigration.sourceConfig(2), failing));
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
        assertContinuesOnA(b);
    }
}
