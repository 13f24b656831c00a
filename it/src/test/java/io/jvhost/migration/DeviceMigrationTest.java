package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.device.DeviceMigration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End to end between two jvhost virtio-fs back-ends: a FUSE client on the guest-driver model
 * opens files on A, {@link DeviceMigration#migrate} moves A's state to B over N state channels,
 * and the handles and node ids A gave out keep working on B.
 */
class DeviceMigrationTest {
    private static final byte[] BEFORE =
            "written on A before the migration\n".repeat(50).getBytes(StandardCharsets.UTF_8);
    private static final byte[] AFTER = "written on B\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private FsPair pair;

    @BeforeEach
    void start() throws Exception {
        pair = new FsPair(dir);
    }

    @AfterEach
    void stop() throws Exception {
        pair.close();
    }

    @ParameterizedTest(name = "{0} channel(s)")
    @ValueSource(ints = {1, 2, 4})
    void openHandlesAndNodeIdsSurviveTheMove(int channels) throws Exception {
        Files.writeString(pair.shared.resolve("existing.txt"), "on the host before\n");
        try (GuestDriver d = pair.driverOnA()) {
            FuseClient fuse = FsPair.fuse(d);
            fuse.init();
            FuseClient.OpenFile created = fuse.create(FuseClient.ROOT_ID, "created.txt");
            assertEquals(BEFORE.length, fuse.write(created, 0, BEFORE));
            long existingNode = fuse.lookup(FuseClient.ROOT_ID, "existing.txt");
            FuseClient.OpenFile existing = fuse.open(existingNode);

            FrontendClient b = pair.destinationOnB();
            MigrationReport report = DeviceMigration.migrate(
                    d,
                    b,
                    FsDevice.STATE_TYPE,
                    DeviceMigration.sourceConfig(channels),
                    DeviceMigration.StateFilter.NONE);

            assertSame(b, d.client(), "the driver continues on B");
            assertFalse(d.isSuspended());
            assertTrue(report.stateBytes() > 0, "A saved some state");
            assertEquals(channels, report.packetsPerChannel().size());
            long dataPackets = (report.stateBytes() + DeviceMigration.PACKET_SIZE - 1) / DeviceMigration.PACKET_SIZE;
            assertEquals(
                    dataPackets + 1,
                    report.packetsPerChannel().stream()
                            .mapToLong(Long::longValue)
                            .sum(),
                    "data packets plus one CONFIG_STATE packet");
            assertTrue(report.format().contains(channels + " channel(s)"), report.format());
            assertTrue(report.load().isPresent() && report.checkDestination().isPresent());
            assertTrue(report.downtime().compareTo(report.suspend().plus(report.resume())) >= 0);

            // Through the handles A opened, now served by B.
            assertArrayEquals(BEFORE, fuse.read(created, 0, BEFORE.length + 100), "B reads what A's client wrote");
            assertEquals(AFTER.length, fuse.write(created, BEFORE.length, AFTER));
            assertArrayEquals("on the host before\n".getBytes(StandardCharsets.UTF_8), fuse.read(existing, 0, 100));
            assertEquals(created.nodeId(), fuse.lookup(FuseClient.ROOT_ID, "created.txt"), "same node id on B");
            assertEquals(existingNode, fuse.lookup(FuseClient.ROOT_ID, "existing.txt"), "same node id on B");
            fuse.release(created);
            fuse.release(existing);
        }
        byte[] onHost = Files.readAllBytes(pair.shared.resolve("created.txt"));
        byte[] expected = new byte[BEFORE.length + AFTER.length];
        System.arraycopy(BEFORE, 0, expected, 0, BEFORE.length);
        System.arraycopy(AFTER, 0, expected, BEFORE.length, AFTER.length);
        assertArrayEquals(expected, onHost, "nothing lost on the host");
    }

    /** Many open files make a state of several packets; every handle works on B. */
    @org.junit.jupiter.api.Test
    void aMultiPacketStateWithHundredsOfOpenFiles() throws Exception {
        int files = 600;
        // Small packets: the inodes v3 records of 600 such files take ~12.7 KB (about 21 B a file).
        int packet = 2 * 1024;
        try (GuestDriver d = pair.driverOnA()) {
            FuseClient fuse = FsPair.fuse(d);
            fuse.init();
            java.util.List<FuseClient.OpenFile> open = new java.util.ArrayList<>();
            for (int i = 0; i < files; i++) {
                FuseClient.OpenFile f = fuse.create(FuseClient.ROOT_ID, "file-with-a-longish-name-" + i);
                fuse.write(f, 0, ("file " + i).getBytes(StandardCharsets.UTF_8));
                open.add(f);
            }
            MigrationReport report = DeviceMigration.migrate(
                    d,
                    pair.destinationOnB(),
                    FsDevice.STATE_TYPE,
                    DeviceMigration.sourceConfig(4).withPacketSize(packet),
                    DeviceMigration.StateFilter.NONE);
            assertTrue(report.stateBytes() > 4L * packet, "state of " + report.stateBytes() + " bytes");
            // Which channel carries which packet is up to the senders (a free one takes the next packet).
            assertEquals(
                    (report.stateBytes() + packet - 1) / packet + 1,
                    report.packetsPerChannel().stream()
                            .mapToLong(Long::longValue)
                            .sum());
            for (int i = 0; i < files; i += 97) {
                assertEquals("file " + i, new String(fuse.read(open.get(i), 0, 100), StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * Pipelining: with the source's bytes trickling out (2 KiB packets, 40 ms apart), B's load
     * spans the trickle, from its first byte to the last. A destination that collected the
     * whole state before loading would load in a few milliseconds.
     */
    @org.junit.jupiter.api.Test
    void bLoadsWhileTheStateIsStillArriving() throws Exception {
        try (GuestDriver d = pair.driverOnA()) {
            FuseClient fuse = FsPair.fuse(d);
            fuse.init();
            for (int i = 0; i < 600; i++) fuse.create(FuseClient.ROOT_ID, "trickle-" + i); // ~12 KB (v3): 6 packets
            int packet = 2 * 1024;
            DeviceMigration.StateFilter trickle = in -> new java.io.FilterInputStream(in) {
                @Override
                public int read(byte[] b, int off, int len) throws java.io.IOException {
                    try {
                        Thread.sleep(40);
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                    return in.read(b, off, Math.min(len, packet));
                }
            };
            MigrationReport report = DeviceMigration.migrate(
                    d,
                    pair.destinationOnB(),
                    FsDevice.STATE_TYPE,
                    DeviceMigration.sourceConfig(2).withPacketSize(packet),
                    trickle);
            long packets = report.stateBytes() / packet;
            assertTrue(packets >= 3, "state of " + report.stateBytes() + " bytes");
            assertTrue(
                    report.load().orElseThrow().toMillis() >= (packets - 1) * 40 * 3 / 4,
                    "B's load took " + report.load().orElseThrow().toMillis() + " ms for " + packets
                            + " trickled packets");
        }
    }
}
