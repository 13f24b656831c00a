package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.device.DeviceMigration;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * virtiofsd 1.13 as source and destination of {@link DeviceMigration}: its internal state goes
 * from A through jvhost's multi-channel stream into B, B's CHECK passes, and the file handle A
 * opened reads and writes on B. And a state B cannot parse: its CHECK fails, A resumes.
 */
@QemuTest
class VirtiofsdDeviceMigrationTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final byte[] CONTENT =
            "moved by jvhost's migration engine\n".repeat(30).getBytes(StandardCharsets.UTF_8);
    private static final byte[] MORE = "appended on B\n".getBytes(StandardCharsets.UTF_8);

    private static Virtiofsd start(TestRun run, String name, Path shared) throws Exception {
        return Virtiofsd.builder(run, name)
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
    }

    private static Path shared(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Files.write(shared.resolve("file.txt"), CONTENT);
        return shared;
    }

    @Test
    void handleOpenedOnAWorksOnB(TestRun run) throws Exception {
        Path shared = shared(run);
        Virtiofsd a = start(run, "virtiofsd-a", shared);
        Virtiofsd b = start(run, "virtiofsd-b", shared);
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(2))) {
            assertTrue(ProtocolFeature.DEVICE_STATE.isIn(d.protocolFeatures()));
            FuseClient fuse = new FuseClient(d, T);
            fuse.init();
            long node = fuse.lookup(FuseClient.ROOT_ID, "file.txt");
            FuseClient.OpenFile f = fuse.open(node);
            assertArrayEquals(Arrays.copyOf(CONTENT, 64), fuse.read(f, 0, 64), "read on A");

            FrontendClient toB = FrontendClient.connect(b.socket());
            GuestDriver.connectDevice(toB, 2);
            MigrationReport report = DeviceMigration.migrate(
                    d, toB, "virtio-fs", DeviceMigration.sourceConfig(2), DeviceMigration.StateFilter.NONE);
            run.note("virtiofsd A -> B:%n%s", report.format());
            assertTrue(report.stateBytes() > 0);
            assertTrue(a.process().awaitExit(Duration.ofSeconds(10)), "A exits once its front-end left");

            assertArrayEquals(CONTENT, fuse.read(f, 0, CONTENT.length + 100), "B reads through A's handle");
            assertEquals(MORE.length, fuse.write(f, CONTENT.length, MORE), "B writes through A's handle");
            assertEquals(node, fuse.lookup(FuseClient.ROOT_ID, "file.txt"), "same node id on B");
        }
        byte[] host = Files.readAllBytes(shared.resolve("file.txt"));
        assertArrayEquals(MORE, Arrays.copyOfRange(host, CONTENT.length, host.length));
    }

    @Test
    void stateBCannotParseFailsItsCheckAndAResumes(TestRun run) throws Exception {
        Path shared = shared(run);
        Virtiofsd a = start(run, "virtiofsd-a", shared);
        Virtiofsd b = start(run, "virtiofsd-b", shared);
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(2))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init();
            FuseClient.OpenFile f = fuse.open(fuse.lookup(FuseClient.ROOT_ID, "file.txt"));
            FrontendClient toB = FrontendClient.connect(b.socket());
            GuestDriver.connectDevice(toB, 2);
            // Half of A's state: well-formed for the stream (its CRC covers what is sent), truncated for B.
            DeviceMigration.StateFilter truncate = in -> {
                byte[] all = in.readAllBytes();
                return new java.io.ByteArrayInputStream(Arrays.copyOf(all, all.length / 2));
            };
            MigrationException e = assertThrows(
                    MigrationException.class,
                    () -> DeviceMigration.migrate(d, toB, "virtio-fs", DeviceMigration.sourceConfig(2), truncate));
            run.note("refused: %s", e.getMessage());
            assertTrue(e.getMessage().contains("CHECK_DEVICE_STATE"), e.getMessage());
            assertFalse(d.isSuspended());
            assertTrue(a.isAlive());
            assertArrayEquals(Arrays.copyOf(CONTENT, 64), fuse.read(f, 0, 64), "A serves after resuming");
        }
    }
}
