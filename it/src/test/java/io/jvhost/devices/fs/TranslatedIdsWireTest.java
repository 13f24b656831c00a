package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.fuse.Opcode;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.testing.qemu.ManagedProcess;
import io.jvhost.testing.qemu.QemuTest;
import io.jvhost.testing.qemu.TestRun;
import io.jvhost.testing.qemu.UnixSockets;
import io.jvhost.testing.qemu.Virtiofsd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * --translate-uid/--translate-gid end to end, jvhost-virtiofsd and virtiofsd 1.13 given the same
 * command line: over vhost-user, the guest's root (this process, uid 0) creates a file, which
 * belongs on the host to the uid the map gives guest root; LOOKUP shows it owned by guest root
 * again; a host file owned by an id no entry covers is shown with that id. Needs root (tagged as
 * the QEMU tests are; no guest is booted).
 */
@QemuTest
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TranslatedIdsWireTest {
    private static final int HOST = 4242, UNMAPPED = 777;
    /** fuse_entry_out: nodeid, generation, two valid times, two nsec fields, then fuse_attr. */
    private static final int ATTR = 40, UID = ATTR + 6 * 8 + 5 * 4, ENTRY_OUT = 128;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"jvhost", "virtiofsd"})
    void guestRootActsAsTheMappedHostUid(String backEnd, TestRun run) throws Exception {
        Path shared = run.dir("shared-" + backEnd);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path other = Files.writeString(shared.resolve("unmapped.txt"), "x");
        Files.setAttribute(other, "unix:uid", UNMAPPED);
        Files.setAttribute(other, "unix:gid", UNMAPPED);
        Path socket = run.socket("fs-" + backEnd);
        List<String> maps = List.of(
                "--sandbox", "none",
                "--translate-uid", "map:0:" + HOST + ":1",
                "--translate-gid", "map:0:" + HOST + ":1");
        ManagedProcess daemon;
        if (backEnd.equals("jvhost")) {
            List<String> argv = new java.util.ArrayList<>(List.of(
                    run.deps().repoRoot().resolve("jvhost-virtiofsd").toString(),
                    "--socket-path",
                    socket.toString(),
                    "--shared-dir",
                    shared.toString()));
            argv.addAll(maps);
            daemon = run.start("jvhost-virtiofsd", argv);
            UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(60), daemon);
        } else {
            daemon = Virtiofsd.builder(run, "virtiofsd")
                    .socket(socket)
                    .sharedDir(shared)
                    .sandbox("none")
                    .args(maps.subList(2, maps.size()).toArray(String[]::new))
                    .start()
                    .process();
        }
        GuestDriver driver = GuestDriver.connect(socket, new GuestDriver.Options(2, 256, 16L << 20, 0, false, false));
        int[] created, unmapped;
        try {
            FuseClient fuse = new FuseClient(driver, Duration.ofSeconds(30));
            fuse.init();
            FuseClient.OpenFile f = fuse.create(FuseClient.ROOT_ID, "by-guest-root.txt");
            fuse.release(f);
            created = owner(fuse, "by-guest-root.txt");
            unmapped = owner(fuse, "unmapped.txt");
        } finally {
            driver.close();
        }
        Path made = shared.resolve("by-guest-root.txt");
        assertEquals(HOST, Files.getAttribute(made, "unix:uid"), backEnd + ": host owner");
        assertEquals(HOST, Files.getAttribute(made, "unix:gid"), backEnd + ": host group");
        assertArrayEquals(new int[] {0, 0}, created, backEnd + ": the guest sees its root");
        assertArrayEquals(new int[] {UNMAPPED, UNMAPPED}, unmapped, backEnd + ": an unmapped id as it is");
        assertTrue(daemon.awaitExit(Duration.ofSeconds(30)), "exits when its front-end disconnects");
        run.note("%s: guest root created as host %d, shown as 0", backEnd, HOST);
    }

    /** The uid and gid LOOKUP of {@code name} in the root shows. */
    private static int[] owner(FuseClient fuse, String name) throws Exception {
        fuse.submit(Opcode.LOOKUP, FuseClient.ROOT_ID, List.of(FuseClient.cString(name)), ENTRY_OUT, null);
        fuse.kick();
        try (FuseClient.Reply r = fuse.next().orThrow()) {
            int[] ids = {r.i32(UID), r.i32(UID + 4)};
            fuse.forget(r.i64(0), 1);
            return ids;
        }
    }
}
