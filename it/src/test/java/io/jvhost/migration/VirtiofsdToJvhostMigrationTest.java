package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import io.jvhost.frontend.BackendRefusedException;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * virtiofsd 1.13 as the source, jvhost as the destination: the guest-driver model looks files
 * up and opens them on virtiofsd (a file, a nested one, a directory mid-listing, a file created,
 * one renamed behind the guest's back, a UTF-8 name), jvhost's front-end saves virtiofsd's state
 * and loads it into an in-process jvhost back-end on the same shared directory, and the driver
 * goes on with the same node ids and file handles on jvhost. And hostile virtiofsd-format blobs,
 * built from a real one: jvhost refuses each in the load (CHECK), virtiofsd resumes and serves.
 *
 * <p>With {@code -Djvhost.virtiofsd.goldens=DIR} the captured blobs are also written there (how
 * fs's test resources {@code virtiofsd/*.bin} were made).
 */
@QemuTest
class VirtiofsdToJvhostMigrationTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final int QUEUES = 2;
    /** What a Linux guest offers (the part these tests care about). */
    private static final long LINUX_FLAGS = InitFlags.ASYNC_READ
            | InitFlags.BIG_WRITES
            | InitFlags.DO_READDIRPLUS
            | InitFlags.READDIRPLUS_AUTO
            | InitFlags.PARALLEL_DIROPS
            | InitFlags.MAX_PAGES
            | InitFlags.INIT_EXT
            | InitFlags.CREATE_SUPP_GROUP;

    private static final byte[] CONTENT =
            "from virtiofsd to jvhost\n".repeat(40).getBytes(StandardCharsets.UTF_8);
    private static final byte[] MORE = "written on jvhost\n".getBytes(StandardCharsets.UTF_8);
    private static final String UNICODE = "grüße ☃.txt";

    private static Path shared(TestRun run) throws Exception {
        Path shared = run.dir("shared");
        Files.write(shared.resolve("file.txt"), CONTENT);
        Files.createDirectories(shared.resolve("sub"));
        Files.write(shared.resolve("sub/nested.txt"), CONTENT);
        for (int i = 0; i < 40; i++) Files.writeString(shared.resolve("sub/entry-" + i), "e" + i);
        Files.write(shared.resolve("old.txt"), CONTENT);
        Files.write(shared.resolve(UNICODE), CONTENT);
        return shared;
    }

    private static Virtiofsd virtiofsd(TestRun run, Path shared) throws Exception {
        return Virtiofsd.builder(run, "virtiofsd")
                .sharedDir(shared)
                .migrationMode("find-paths")
                .start();
    }

    private static AutoCloseable jvhost(Path shared, Path socket) throws Exception {
        PassthroughFs fs = PassthroughFs.open(shared, PassthroughConfig.defaults(), MigrationConfig.defaults());
        BackgroundServer server = BackgroundServer.start(socket, new FsDevice("myfs", 1, new FuseServer(fs)));
        return () -> {
            server.close();
            fs.close();
        };
    }

    private static void golden(TestRun run, String name, byte[] blob) throws Exception {
        String dir = System.getProperty("jvhost.virtiofsd.goldens");
        if (dir != null) Files.write(Files.createDirectories(Path.of(dir)).resolve(name), blob);
        run.note("%s: %d bytes", name, blob.length);
    }

    /** The first {@code n} entries of a READDIRPLUS from 0: the offset to go on from. */
    private static List<FuseClient.DirentPlus> readdirplus(FuseClient fuse, FuseClient.OpenFile dir, long offset)
            throws Exception {
        fuse.submitReaddirplus(dir, offset, 4096, null);
        fuse.kick();
        try (FuseClient.Reply r = fuse.next()) {
            assertEquals(0, r.error(), "READDIRPLUS");
            return FuseClient.direntplus(r);
        }
    }

    @Test
    void guestKeepsItsNodesAndHandlesOnJvhost(TestRun run) throws Exception {
        Path shared = shared(run);
        Virtiofsd a = virtiofsd(run, shared);
        Path socketB = run.socket("jvhost-b");
        try (AutoCloseable _ = jvhost(shared, socketB);
                GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(QUEUES))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init(LINUX_FLAGS);

            // Before any open: the first golden, lookups only.
            long fileNode = fuse.lookup(FuseClient.ROOT_ID, "file.txt");
            long subNode = fuse.lookup(FuseClient.ROOT_ID, "sub");
            long nestedNode = fuse.lookup(subNode, "nested.txt");
            long unicodeNode = fuse.lookup(FuseClient.ROOT_ID, UNICODE);
            FuseClient.OpenFile file = fuse.open(fileNode);
            FuseClient.OpenFile nested = fuse.open(nestedNode);
            FuseClient.OpenFile unicode = fuse.open(unicodeNode);
            FuseClient.OpenFile dir = fuse.opendir(subNode);
            List<FuseClient.DirentPlus> firstPage = readdirplus(fuse, dir, 0);
            assertFalse(firstPage.isEmpty());
            long resumeAt = firstPage.getLast().offset();
            FuseClient.OpenFile created = fuse.create(FuseClient.ROOT_ID, "new.txt");
            assertEquals(CONTENT.length, fuse.write(created, 0, CONTENT));
            long oldNode = fuse.lookup(FuseClient.ROOT_ID, "old.txt");
            FuseClient.OpenFile renamed = fuse.open(oldNode);
            Files.move(shared.resolve("old.txt"), shared.resolve("sub/moved.txt")); // behind the guest's back
            assertArrayEquals(Arrays.copyOf(CONTENT, 64), fuse.read(file, 0, 64));

            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            DeviceStateTransfer.migrateOut(d, saved);
            byte[] blob = saved.toByteArray();
            golden(run, "open-files-v2.bin", blob);
            VirtiofsdState state = VirtiofsdStateCodec.decode(blob);
            run.note(
                    "virtiofsd's state: %d inodes, %d handles",
                    state.inodes().size(), state.handles().size());
            assertArrayEquals(blob, VirtiofsdStateCodec.encode(state), "re-encodes byte for byte");
            assertTrue(state.negotiatedOpts().supGroupExtension());

            FrontendClient toB = GuestDriver.connectDevice(socketB, QUEUES);
            new DeviceStateTransfer(toB).load(new ByteArrayInputStream(blob));
            d.moveTo(toB);
            assertTrue(a.process().awaitExit(Duration.ofSeconds(10)), "virtiofsd exits once its front-end left");

            assertArrayEquals(CONTENT, fuse.read(file, 0, CONTENT.length + 100), "file, through virtiofsd's fh");
            assertArrayEquals(CONTENT, fuse.read(nested, 0, CONTENT.length + 100), "nested file");
            assertArrayEquals(CONTENT, fuse.read(unicode, 0, CONTENT.length + 100), "UTF-8 name");
            assertArrayEquals(CONTENT, fuse.read(renamed, 0, CONTENT.length + 100), "file renamed on the host");
            assertEquals(MORE.length, fuse.write(created, CONTENT.length, MORE), "created file, written on jvhost");
            assertEquals(MORE.length, fuse.write(file, CONTENT.length, MORE));
            List<FuseClient.DirentPlus> rest = readdirplus(fuse, dir, resumeAt);
            List<String> names = new ArrayList<>();
            for (FuseClient.DirentPlus e : firstPage) names.add(e.name());
            for (FuseClient.DirentPlus e : rest) names.add(e.name());
            assertTrue(names.contains("nested.txt") && names.contains("entry-39"), "listing goes on: " + names);
            assertEquals(names.size(), new java.util.HashSet<>(names).size(), "no entry twice: " + names);
            assertEquals(fileNode, fuse.lookup(FuseClient.ROOT_ID, "file.txt"), "same node ids");
            assertEquals(nestedNode, fuse.lookup(subNode, "nested.txt"));
            assertEquals(oldNode, fuse.lookup(subNode, "moved.txt"), "the renamed file under its new name");
            fuse.release(file);
            fuse.releasedir(dir);
        }
        byte[] host = Files.readAllBytes(shared.resolve("new.txt"));
        assertArrayEquals(MORE, Arrays.copyOfRange(host, CONTENT.length, host.length), "host holds the write");
        host = Files.readAllBytes(shared.resolve("file.txt"));
        assertArrayEquals(MORE, Arrays.copyOfRange(host, CONTENT.length, host.length));
    }

    /** virtiofsd's --migration-mode=file-handles: its nodes travel as file handles, reopened by them on jvhost. */
    @Test
    void fileHandleModeNodesAreReopenedByTheirHandles(TestRun run) throws Exception {
        Path shared = shared(run);
        Virtiofsd a = Virtiofsd.builder(run, "virtiofsd")
                .sharedDir(shared)
                .migrationMode("file-handles")
                .start();
        Path socketB = run.socket("jvhost-b");
        try (AutoCloseable _ = jvhost(shared, socketB);
                GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(QUEUES))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init(LINUX_FLAGS);
            long subNode = fuse.lookup(FuseClient.ROOT_ID, "sub");
            long nestedNode = fuse.lookup(subNode, "nested.txt");
            FuseClient.OpenFile nested = fuse.open(nestedNode);
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            DeviceStateTransfer.migrateOut(d, saved);
            VirtiofsdState state = VirtiofsdStateCodec.decode(saved.toByteArray());
            assertTrue(
                    state.inodes().stream().anyMatch(n -> n.location() instanceof VirtiofsdState.Location.ByFileHandle),
                    "virtiofsd saved its nodes by file handle: " + state.inodes());
            FrontendClient toB = GuestDriver.connectDevice(socketB, QUEUES);
            new DeviceStateTransfer(toB).load(new ByteArrayInputStream(saved.toByteArray()));
            d.moveTo(toB);
            assertArrayEquals(CONTENT, fuse.read(nested, 0, CONTENT.length + 100), "read through virtiofsd's fh");
            assertEquals(nestedNode, fuse.lookup(subNode, "nested.txt"), "the same node id");
        }
    }

    /** Small goldens of other shapes: right after INIT, and lookups without opens. */
    @Test
    void capturesSmallStates(TestRun run) throws Exception {
        Path shared = shared(run);
        Virtiofsd a = virtiofsd(run, shared);
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(QUEUES))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init(0);
            byte[] initOnly = save(d);
            golden(run, "after-init-v2.bin", initOnly);
            VirtiofsdState s = VirtiofsdStateCodec.decode(initOnly);
            assertEquals(1, s.inodes().size(), "just the root");
            assertFalse(s.negotiatedOpts().supGroupExtension());

            long sub = fuse.lookup(FuseClient.ROOT_ID, "sub");
            fuse.lookup(sub, "nested.txt");
            fuse.lookup(FuseClient.ROOT_ID, UNICODE);
            fuse.lookup(FuseClient.ROOT_ID, UNICODE);
            byte[] lookups = save(d);
            golden(run, "lookups-v2.bin", lookups);
            s = VirtiofsdStateCodec.decode(lookups);
            assertEquals(4, s.inodes().size());
            assertTrue(s.handles().isEmpty());
            assertArrayEquals(lookups, VirtiofsdStateCodec.encode(s));
        }
    }

    private static byte[] save(GuestDriver d) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DeviceStateTransfer.migrateOut(d, out);
        d.resume();
        return out.toByteArray();
    }

    @Test
    void hostileBlobsAreRefusedAndVirtiofsdGoesOn(TestRun run) throws Exception {
        Path shared = shared(run);
        Files.writeString(run.dir("outside").resolve("secret"), "not the guest's");
        Virtiofsd a = virtiofsd(run, shared);
        Path socketB = run.socket("jvhost-b");
        try (AutoCloseable _ = jvhost(shared, socketB);
                GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(QUEUES))) {
            FuseClient fuse = new FuseClient(d, T);
            fuse.init(LINUX_FLAGS);
            long sub = fuse.lookup(FuseClient.ROOT_ID, "sub");
            FuseClient.OpenFile nested = fuse.open(fuse.lookup(sub, "nested.txt"));

            Map<String, UnaryOperator<byte[]>> hostile = new LinkedHashMap<>();
            hostile.put("truncated", blob -> Arrays.copyOf(blob, blob.length - 3));
            hostile.put("bad variant", blob -> withByte(blob, 0, 7));
            hostile.put("huge inode count", blob -> splice(blob, 1, 1, new byte[] {(byte) 0xFF, (byte) 0xFF, 0x7F}));
            hostile.put("trailing bytes", blob -> splice(blob, blob.length, 0, new byte[] {0}));
            hostile.put("dot-dot name", blob -> rename(blob, "nested.txt", "../outside"));
            hostile.put("slash in a name", blob -> rename(blob, "nested.txt", "../../outside/secret"));
            hostile.put("absolute name", blob -> rename(blob, "nested.txt", "/etc"));
            hostile.put("parent loop", VirtiofsdToJvhostMigrationTest::parentLoop);
            hostile.put("forged handle inode", blob -> forgeHandle(blob, 999));
            hostile.put("not a state at all", blob -> "hello, migration".getBytes(StandardCharsets.US_ASCII));
            for (var e : hostile.entrySet()) {
                ByteArrayOutputStream saved = new ByteArrayOutputStream();
                DeviceStateTransfer.migrateOut(d, saved);
                byte[] bad = e.getValue().apply(saved.toByteArray());
                try (FrontendClient toB = GuestDriver.connectDevice(socketB, QUEUES)) {
                    BackendRefusedException refused = assertThrows(
                            BackendRefusedException.class,
                            () -> new DeviceStateTransfer(toB).load(new ByteArrayInputStream(bad)),
                            e.getKey());
                    run.note("%s: %s", e.getKey(), refused.getMessage());
                }
                d.resume();
                assertArrayEquals(Arrays.copyOf(CONTENT, 64), fuse.read(nested, 0, 64), "virtiofsd serves after " + e);
            }
            assertTrue(a.isAlive());
        }
    }

    private static byte[] withByte(byte[] b, int at, int value) {
        byte[] c = b.clone();
        c[at] = (byte) value;
        return c;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] c = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(insert, 0, c, at, insert.length);
        System.arraycopy(b, at + remove, c, at + insert.length, b.length - at - remove);
        return c;
    }

    private interface Edit {
        VirtiofsdState apply(VirtiofsdState s);
    }

    private static byte[] edit(byte[] blob, Edit e) {
        try {
            return VirtiofsdStateCodec.encode(e.apply(VirtiofsdStateCodec.decode(blob)));
        } catch (Exception x) {
            throw new AssertionError(x);
        }
    }

    private static VirtiofsdState withInodes(VirtiofsdState s, List<VirtiofsdState.Inode> inodes) {
        return new VirtiofsdState(
                s.version(), inodes, s.nextInode(), s.handles(), s.nextHandle(), s.negotiatedOpts(), s.mountPaths());
    }

    private static byte[] rename(byte[] blob, String from, String to) {
        return edit(
                blob,
                s -> withInodes(
                        s,
                        s.inodes().stream()
                                .map(n -> n.location() instanceof VirtiofsdState.Location.Path p
                                                && p.filename().equals(from)
                                        ? new VirtiofsdState.Inode(
                                                n.id(),
                                                n.refcount(),
                                                new VirtiofsdState.Location.Path(p.parent(), to),
                                                null)
                                        : n)
                                .toList()));
    }

    /** "sub" placed inside its own child "nested.txt". */
    private static byte[] parentLoop(byte[] blob) {
        return edit(blob, s -> {
            long nested = s.inodes().stream()
                    .filter(n -> n.location() instanceof VirtiofsdState.Location.Path p
                            && p.filename().equals("nested.txt"))
                    .findFirst()
                    .orElseThrow()
                    .id();
            return withInodes(
                    s,
                    s.inodes().stream()
                            .map(n -> n.location() instanceof VirtiofsdState.Location.Path p
                                            && p.filename().equals("sub")
                                    ? new VirtiofsdState.Inode(
                                            n.id(), n.refcount(), new VirtiofsdState.Location.Path(nested, "sub"), null)
                                    : n)
                            .toList());
        });
    }

    private static byte[] forgeHandle(byte[] blob, long inode) {
        return edit(
                blob,
                s -> new VirtiofsdState(
                        s.version(),
                        s.inodes(),
                        s.nextInode(),
                        s.handles().stream()
                                .map(h -> new VirtiofsdState.Handle(h.id(), inode, h.source()))
                                .toList(),
                        s.nextHandle(),
                        s.negotiatedOpts(),
                        s.mountPaths()));
    }
}
