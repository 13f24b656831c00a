package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.StateFormat;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.Virtiofsd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * jvhost as the source, virtiofsd 1.13 as the destination: a jvhost back-end saving in
 * virtiofsd's format ({@link StateFormat#VIRTIOFSD}, {@code --migration-state-format virtiofsd})
 * hands the guest-driver model's open files and directory to a real virtiofsd, which goes on
 * with the same node ids and handles.
 */
@QemuTest
class JvhostToVirtiofsdMigrationTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final int QUEUES = 2;
    private static final byte[] CONTENT =
            "from jvhost to virtiofsd\n".repeat(40).getBytes(StandardCharsets.UTF_8);
    private static final byte[] MORE = "written on virtiofsd\n".getBytes(StandardCharsets.UTF_8);

    @Test
    void virtiofsdGoesOnWithJvhostsNodesAndHandles(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Files.createDirectories(shared.resolve("sub"));
        Files.write(shared.resolve("sub/nested.txt"), CONTENT);
        Files.write(shared.resolve("grüße.txt"), CONTENT);
        Path socketA = run.socket("jvhost-a");
        Virtiofsd b = Virtiofsd.builder(run, "virtiofsd-b")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
        try (PassthroughFs fs = PassthroughFs.open(shared, PassthroughConfig.defaults(), MigrationConfig.defaults());
                BackgroundServer _ = BackgroundServer.start(
                        socketA, new FsDevice(Optional.of("myfs"), 1, new FuseServer(fs), 0, StateFormat.VIRTIOFSD));
                GuestDriver d = GuestDriver.connect(socketA, GuestDriver.Options.defaults(QUEUES))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init(InitFlags.MAX_PAGES | InitFlags.INIT_EXT | InitFlags.DO_READDIRPLUS);
            long sub = fuse.lookup(FuseClient.ROOT_ID, "sub");
            long nestedNode = fuse.lookup(sub, "nested.txt");
            FuseClient.OpenFile nested = fuse.open(nestedNode);
            FuseClient.OpenFile unicode = fuse.open(fuse.lookup(FuseClient.ROOT_ID, "grüße.txt"));
            FuseClient.OpenFile dir = fuse.opendir(sub);
            FuseClient.OpenFile created = fuse.create(FuseClient.ROOT_ID, "new.txt");
            assertEquals(CONTENT.length, fuse.write(created, 0, CONTENT));

            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            DeviceStateTransfer.migrateOut(d, saved);
            run.note("jvhost saved %d bytes in virtiofsd's format", saved.size());
            FrontendClient toB = GuestDriver.connectDevice(b.socket(), QUEUES);
            new DeviceStateTransfer(toB).load(new ByteArrayInputStream(saved.toByteArray()));
            d.moveTo(toB);

            assertArrayEquals(CONTENT, fuse.read(nested, 0, CONTENT.length + 100), "virtiofsd reads jvhost's fh");
            assertArrayEquals(CONTENT, fuse.read(unicode, 0, CONTENT.length + 100));
            assertEquals(MORE.length, fuse.write(created, CONTENT.length, MORE), "and writes through it");
            assertEquals(nestedNode, fuse.lookup(sub, "nested.txt"), "same node id on virtiofsd");
            fuse.submitReaddirplus(dir, 0, 4096, null);
            fuse.kick();
            try (FuseClient.Reply r = fuse.next()) {
                assertEquals(0, r.error(), "READDIRPLUS through jvhost's directory handle");
                assertTrue(
                        FuseClient.direntplus(r).stream().anyMatch(e -> e.name().equals("nested.txt")));
            }
        }
        byte[] host = Files.readAllBytes(shared.resolve("new.txt"));
        assertArrayEquals(MORE, Arrays.copyOfRange(host, CONTENT.length, host.length));
    }
}
