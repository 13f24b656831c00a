package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.device.DeviceMigration;
import io.jvhost.testing.qemu.JvhostDaemon;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The back-ends as their own processes ({@code jvhost fs}, as QEMU would run them): a migration
 * between two daemons with open handles, and B's daemon killed while the state streams in.
 */
@QemuTest
class JvhostDaemonMigrationTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final byte[] BEFORE = "written on A\n".repeat(100).getBytes(StandardCharsets.UTF_8);
    private static final byte[] AFTER = "and after\n".getBytes(StandardCharsets.UTF_8);

    private static ManagedProcess daemon(TestRun run, String name, Path shared) {
        return JvhostDaemon.start(run, name, run.socket(name), "fs", "--shared-dir", shared.toString());
    }

    @Test
    void handlesMoveBetweenTwoDaemons(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        daemon(run, "fs-a", shared);
        daemon(run, "fs-b", shared);
        try (GuestDriver d = GuestDriver.connect(run.socket("fs-a"), GuestDriver.Options.defaults(2))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init();
            FuseClient.OpenFile f = fuse.create(FuseClient.ROOT_ID, "f.txt");
            fuse.write(f, 0, BEFORE);
            FrontendClient b = FrontendClient.connect(run.socket("fs-b"));
            GuestDriver.connectDevice(b, 2);
            MigrationReport report = DeviceMigration.migrate(
                    d, b, FsDevice.STATE_TYPE, DeviceMigration.sourceConfig(4), DeviceMigration.StateFilter.NONE);
            run.note("jvhost fs daemon A -> B:%n%s", report.format());
            assertArrayEquals(BEFORE, fuse.read(f, 0, BEFORE.length + 10));
            assertEquals(AFTER.length, fuse.write(f, BEFORE.length, AFTER));
            assertEquals(f.nodeId(), fuse.lookup(FuseClient.ROOT_ID, "f.txt"));
        }
        assertEquals(BEFORE.length + AFTER.length, Files.size(shared.resolve("f.txt")));
    }

    @Test
    void destinationDaemonKilledMidStream(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        daemon(run, "fs-a", shared);
        ManagedProcess b = daemon(run, "fs-b", shared);
        try (GuestDriver d = GuestDriver.connect(run.socket("fs-a"), GuestDriver.Options.defaults(2))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init();
            FuseClient.OpenFile f = fuse.create(FuseClient.ROOT_ID, "f.txt");
            fuse.write(f, 0, BEFORE);
            for (int i = 0; i < 200; i++) fuse.create(FuseClient.ROOT_ID, "padding-" + i); // a state of several packets
            FrontendClient toB = FrontendClient.connect(run.socket("fs-b"));
            GuestDriver.connectDevice(toB, 2);
            int packet = 2048;
            AtomicInteger reads = new AtomicInteger();
            // The source trickles packets; after the second, B's daemon dies (SIGKILL).
            DeviceMigration.StateFilter killBAfterTwoPackets = in -> new FilterInputStream(in) {
                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    if (reads.incrementAndGet() == 3) {
                        b.kill();
                        b.awaitExit(Duration.ofSeconds(10));
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        throw new InterruptedIOException();
                    }
                    return in.read(buf, off, Math.min(len, packet));
                }
            };
            MigrationException e = assertThrows(
                    MigrationException.class,
                    () -> DeviceMigration.migrate(
                            d,
                            toB,
                            FsDevice.STATE_TYPE,
                            DeviceMigration.sourceConfig(2).withPacketSize(packet),
                            killBAfterTwoPackets));
            run.note("B killed mid-stream: %s", e.getMessage());
            assertFalse(b.isAlive());
            assertFalse(d.isSuspended(), "A resumed");
            assertArrayEquals(BEFORE, fuse.read(f, 0, BEFORE.length + 10), "A serves the old handle");
            assertEquals(AFTER.length, fuse.write(f, BEFORE.length, AFTER));
        }
        assertEquals(BEFORE.length + AFTER.length, Files.size(shared.resolve("f.txt")));
    }
}
