package io.jvhost.frontend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * jvhost's front-end migrates virtiofsd 1.13's internal state: the guest-driver model opens a
 * file on virtiofsd A, A is suspended and saves, a fresh virtiofsd B on the same shared dir
 * loads (in QEMU 10's order: before features, memory and rings), and the driver continues on B
 * with the file handle A gave it. And a state B cannot load: CHECK fails, A resumes and serves.
 */
@QemuTest
class VirtiofsdMigrationTest {
    private static final int FUSE_LOOKUP = 1, FUSE_OPEN = 14, FUSE_READ = 15, FUSE_INIT = 26;
    private static final int IN_HEADER = 40, OUT_HEADER = 16;
    private static final int REQUEST_QUEUE = 1;
    private static final Duration T = Duration.ofSeconds(20);
    private static final byte[] CONTENT =
            "state migrated through jvhost's front-end\n".repeat(40).getBytes(StandardCharsets.US_ASCII);

    private long unique = 1;

    private ByteBuffer request(int opcode, long nodeid, int bodyLen) {
        ByteBuffer b = ByteBuffer.allocate(IN_HEADER + bodyLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(IN_HEADER + bodyLen)
                .putInt(opcode)
                .putLong(unique++)
                .putLong(nodeid)
                .putInt(0)
                .putInt(0)
                .putInt(1)
                .putShort((short) 0)
                .putShort((short) 0);
        return b;
    }

    /** Sends one FUSE request; returns the reply body after checking the out header. */
    private static ByteBuffer fuse(GuestDriver d, ByteBuffer req, int replyBody) throws Exception {
        long sentUnique = req.getLong(8);
        byte[] reply = d.request(REQUEST_QUEUE, List.of(req.array()), OUT_HEADER + replyBody, T);
        ByteBuffer r = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue(reply.length >= OUT_HEADER, "short FUSE reply");
        assertEquals(reply.length, r.getInt(), "fuse_out_header.len is the used length");
        int error = r.getInt();
        assertEquals(0, error, "FUSE error (opcode " + req.getInt(4) + ")");
        assertEquals(sentUnique, r.getLong());
        return r.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private void init(GuestDriver d) throws Exception {
        ByteBuffer init = request(FUSE_INIT, 0, 64);
        init.putInt(7).putInt(38).putInt(128 * 1024).putInt(0);
        ByteBuffer r = fuse(d, init, 64);
        assertEquals(7, r.getInt());
    }

    /** LOOKUP in the root, then OPEN read-only: returns the file handle. */
    private long lookupAndOpen(GuestDriver d, String name) throws Exception {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer lookup = request(FUSE_LOOKUP, 1, n.length);
        lookup.put(n);
        ByteBuffer entry = fuse(d, lookup, 128);
        long nodeid = entry.getLong(0);
        assertTrue(nodeid > 1, "a node id for the file");
        ByteBuffer open = request(FUSE_OPEN, nodeid, 8);
        open.putInt(0).putInt(0); // O_RDONLY
        ByteBuffer out = fuse(d, open, 16);
        return out.getLong(0);
    }

    private byte[] read(GuestDriver d, long nodeid, long fh, int size) throws Exception {
        ByteBuffer read = request(FUSE_READ, nodeid, 40);
        read.putLong(fh).putLong(0).putInt(size).putInt(0).putLong(0).putInt(0).putInt(0);
        ByteBuffer data = fuse(d, read, size);
        byte[] b = new byte[data.remaining()];
        data.get(b);
        return b;
    }

    private long nodeOf(GuestDriver d, String name) throws Exception {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer lookup = request(FUSE_LOOKUP, 1, n.length);
        lookup.put(n);
        return fuse(d, lookup, 128).getLong(0);
    }

    private static Path sharedWithFile(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Files.write(shared.resolve("file.txt"), CONTENT);
        return shared;
    }

    @Test
    void openFileSurvivesMigrationToAFreshVirtiofsd(TestRun run) throws Exception {
        Path shared = sharedWithFile(run);
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd-a")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
        Virtiofsd b = Virtiofsd.builder(run, "virtiofsd-b")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(2))) {
            assertTrue(ProtocolFeature.DEVICE_STATE.isIn(d.protocolFeatures()), "virtiofsd offers DEVICE_STATE");
            init(d);
            long fh = lookupAndOpen(d, "file.txt");
            long nodeid = nodeOf(d, "file.txt");
            assertArrayEquals(Arrays.copyOf(CONTENT, 100), read(d, nodeid, fh, 100), "read on A");

            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            int[] bases = DeviceStateTransfer.migrateOut(d, saved);
            run.note("virtiofsd A saved %d bytes of state; rings stopped at %s", saved.size(), Arrays.toString(bases));
            assertTrue(saved.size() > 0);
            assertEquals(0, bases[0]);

            FrontendClient toB = FrontendClient.connect(b.socket());
            GuestDriver.connectDevice(toB, 2);
            new DeviceStateTransfer(toB).load(new ByteArrayInputStream(saved.toByteArray()));
            d.moveTo(toB);
            assertTrue(a.process().awaitExit(Duration.ofSeconds(10)), "A exits once its front-end left");

            assertArrayEquals(
                    CONTENT,
                    read(d, nodeid, fh, CONTENT.length + 100),
                    "B reads with the handle A opened, the whole file");
        }
    }

    @Test
    void corruptStateFailsTheCheckOnBAndAResumes(TestRun run) throws Exception {
        Path shared = sharedWithFile(run);
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd-a")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
        Virtiofsd b = Virtiofsd.builder(run, "virtiofsd-b")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(2))) {
            init(d);
            long fh = lookupAndOpen(d, "file.txt");
            long nodeid = nodeOf(d, "file.txt");
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            DeviceStateTransfer.migrateOut(d, saved);
            byte[] corrupt = Arrays.copyOf(saved.toByteArray(), saved.size() / 2);

            try (FrontendClient toB = FrontendClient.connect(b.socket())) {
                GuestDriver.connectDevice(toB, 2);
                var failure = assertThrows(
                        BackendRefusedException.class,
                        () -> new DeviceStateTransfer(toB).load(new ByteArrayInputStream(corrupt)));
                run.note("virtiofsd B refused the truncated state: %s", failure.getMessage());
            }
            // The migration failed: the source goes on serving, the same handle still reads.
            d.resume();
            assertArrayEquals(Arrays.copyOf(CONTENT, 64), read(d, nodeid, fh, 64), "A serves after resuming");
            assertTrue(a.isAlive());
        }
    }
}
