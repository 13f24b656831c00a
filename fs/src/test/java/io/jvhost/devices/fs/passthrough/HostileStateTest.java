package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.ProcessFds;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.MigratableFileSystem;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rows 3 and 4 of issue 14: device-state blobs a hostile source (or front-end) crafts. A saved
 * handle is reopened only on a regular file (or a directory, for a directory handle) with the
 * flags OPEN would allow, never on a device node or a FIFO; a parent chain of any depth or shape
 * (deep, looping) is resolved without recursion; and a load that fails, by whatever throwable,
 * leaves no descriptor behind.
 */
class HostileStateTest extends FsTestBase {
    private static final Duration BOUND = Duration.ofSeconds(60);
    private final List<PassthroughFs> others = new ArrayList<>();

    @AfterEach
    void closeOthers() {
        others.forEach(PassthroughFs::close);
    }

    private PassthroughFs destination(MigrationOnError onError) throws Exception {
        return destination(onError, InodeFileHandles.PREFER);
    }

    /** A destination keeping inodes as {@code inodes} says (NEVER where a test counts one descriptor per node). */
    private PassthroughFs destination(MigrationOnError onError, InodeFileHandles inodes) throws Exception {
        PassthroughFs d = PassthroughFs.open(
                share,
                PassthroughConfig.defaults().withInodeFileHandles(inodes),
                new MigrationConfig(MigrationMode.FIND_PATHS, onError));
        others.add(d);
        return d;
    }

    private byte[] blob(FsSnapshot snap) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        FsStateCodec.write(
                new SavedFs(
                        snap,
                        MigrationMode.FIND_PATHS,
                        ((Number) Files.getAttribute(share, "unix:dev")).longValue(),
                        ((Number) Files.getAttribute(share, "unix:ino")).longValue()),
                w);
        w.finish();
        return out.toByteArray();
    }

    /** Loads on a small stack, bounded in time (a FIFO opened for reading would block it). */
    private static MigratableFileSystem.Prepared load(PassthroughFs dst, byte[] blob) throws Throwable {
        return SmallStack.call(BOUND, () -> MigrationTest.load(dst, blob));
    }

    private void mknod(String name, int mode, long dev) throws NativeException {
        FileCalls.mknodat(null, FileCalls.bytes(share.resolve(name).toString()), mode, dev);
    }

    // ---- row 3: handles on special files, flags no OPEN would use ----

    @Test
    void aSavedHandleOnADeviceNodeOrFifoIsNeverReopened() throws Throwable {
        mknod("zero", Stat.S_IFCHR | 0666, Stat.makedev(1, 5));
        mknod("loop", Stat.S_IFBLK | 0600, Stat.makedev(7, 0));
        mknod("fifo", Stat.S_IFIFO | 0666, 0);
        try {
            List<FsSnapshot.HandleState> forged = new ArrayList<>();
            long fh = 1;
            for (String name : List.of("zero", "loop", "fifo")) {
                long node = fs.lookup(ROOT, ROOT_ID, b(name)).nodeId();
                // O_RDONLY on the FIFO: the open would wait for a writer that never comes.
                forged.add(new FsSnapshot.HandleState(fh++, node, name.equals("fifo") ? O_RDONLY : O_RDWR, false));
            }
            FsSnapshot s = fs.snapshot();
            byte[] blob = blob(new FsSnapshot(s.nextNodeId(), fh, 0, s.inodes(), forged));

            PassthroughFs strict = destination(MigrationOnError.ABORT);
            FsException e = assertThrows(FsException.class, () -> load(strict, blob));
            assertEquals(Errno.EIO, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("fh 1"), e.getMessage());
            assertEquals(List.of(), ProcessFds.specialFilesOpenForIo(), "no device opened by the failed load");

            PassthroughFs lenient = destination(MigrationOnError.GUEST_ERROR);
            load(lenient, blob).commit();
            for (FsSnapshot.HandleState h : forged) {
                fails(Errno.EIO, () -> lenient.read(ROOT, h.nodeId(), h.fh(), 0, 10, new MemorySink(10)));
                fails(Errno.EIO, () -> lenient.write(ROOT, h.nodeId(), h.fh(), 0, new MemorySource(b("x")), 0));
            }
            assertEquals(List.of(), ProcessFds.specialFilesOpenForIo(), "no device opened for the guest");
            lenient.getattr(ROOT, ROOT_ID, 0, false);
        } finally {
            unblockAReader(share.resolve("fifo"));
        }
    }

    @Test
    void aDirectoryHandleIsReopenedOnlyOnADirectory() throws Throwable {
        mknod("zero", Stat.S_IFCHR | 0666, Stat.makedev(1, 5));
        long node = fs.lookup(ROOT, ROOT_ID, b("zero")).nodeId();
        FsSnapshot s = fs.snapshot();
        // The codec already refuses a directory handle on a node of another type, whatever the blob says.
        byte[] blob = blob(new FsSnapshot(
                s.nextNodeId(), 2, 0, s.inodes(), List.of(new FsSnapshot.HandleState(1, node, O_RDONLY, true))));
        FsException e = assertThrows(FsException.class, () -> load(destination(MigrationOnError.GUEST_ERROR), blob));
        assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
    }

    @Test
    void flagsOpenWouldRefuseAreStrippedFromSavedHandles() throws Throwable {
        Files.writeString(share.resolve("f"), "keep");
        Entry f = fs.lookup(ROOT, ROOT_ID, b("f"));
        FsSnapshot s = fs.snapshot();
        int hostile = O_RDWR
                | O_CREAT
                | O_EXCL
                | O_TRUNC
                | Libc.O_PATH
                | Libc.O_DIRECTORY
                | 020000000 /* O_TMPFILE */
                | Libc.O_NOFOLLOW
                | Libc.O_NOCTTY;
        byte[] blob = blob(new FsSnapshot(
                s.nextNodeId(), 2, 0, s.inodes(), List.of(new FsSnapshot.HandleState(1, f.nodeId(), hostile, false))));
        PassthroughFs dst = destination(MigrationOnError.ABORT);
        load(dst, blob).commit();
        assertEquals("keep", Files.readString(share.resolve("f")), "never truncated");
        assertArrayEquals(b("keep"), MigrationTest.read(dst, f.nodeId(), 1, 10), "a real descriptor, not O_PATH");
        dst.write(ROOT, f.nodeId(), 1, 4, new MemorySource(b("!")), 0);
        assertEquals("keep!", Files.readString(share.resolve("f")));
        int kept = dst.snapshot().handles().getFirst().flags();
        assertEquals(O_RDWR, kept & ~Libc.O_CLOEXEC, "what the handle records is what it was opened with");
    }

    // ---- row 4: parent chains ----

    /** A real chain "d/d/.../d" of {@code depth} directories: each level's node state (ids 2.., root first). */
    private List<FsSnapshot.InodeState> realChain(int depth) throws NativeException {
        List<FsSnapshot.InodeState> out = new ArrayList<>();
        Fd dir = FileCalls.openPath(null, FileCalls.bytes(share.toString()));
        try {
            for (int i = 0; i < depth; i++) {
                FileCalls.mkdirat(dir, b("d"), 0755);
                Fd next = FileCalls.openPath(dir, b("d"));
                dir.close();
                dir = next;
                Stat st = FileCalls.fstat(dir);
                out.add(new FsSnapshot.InodeState(
                        i + 2,
                        1,
                        st.dev(),
                        st.ino(),
                        0,
                        Stat.S_IFDIR,
                        new Location(i == 0 ? ROOT_ID : i + 1, b("d")),
                        null));
            }
        } finally {
            dir.close();
        }
        return out;
    }

    /**
     * A blob with {@code real} existing levels (listed root first) continued by {@code synthetic}
     * levels that exist nowhere, listed deepest first (records are in id order: the deepest has
     * the lowest id, the level below the real part the highest): resolving the first of them
     * walks the whole synthetic chain up to the real part.
     */
    private byte[] deepChain(int real, int synthetic) throws Exception {
        List<FsSnapshot.InodeState> nodes = new ArrayList<>();
        nodes.add(fs.snapshot().inode(ROOT_ID));
        nodes.addAll(realChain(real));
        long first = real + 2, last = real + 1 + synthetic;
        for (long id = first; id <= last; id++) {
            long parent = id == last ? real + 1 : id + 1;
            nodes.add(new FsSnapshot.InodeState(id, 1, 0, id, 0, Stat.S_IFDIR, new Location(parent, b("d")), null));
        }
        return blob(new FsSnapshot(last + 1, 1, 0, nodes, List.of()));
    }

    @Test
    void aHundredThousandDeepChainFailsCleanlyAndLeavesNoDescriptor() throws Throwable {
        byte[] blob = deepChain(1500, 100_000);
        PassthroughFs strict = destination(MigrationOnError.ABORT, InodeFileHandles.NEVER);
        int baseline = ProcessFds.count();
        FsException e = assertThrows(FsException.class, () -> load(strict, blob));
        assertEquals(Errno.EIO, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("node 101501"), "the first level that is missing: " + e.getMessage());
        assertEquals(baseline, ProcessFds.count(), "every descriptor of the failed load is closed");
        strict.getattr(ROOT, ROOT_ID, 0, false);

        PassthroughFs lenient = destination(MigrationOnError.GUEST_ERROR, InodeFileHandles.NEVER);
        baseline = ProcessFds.count();
        MigratableFileSystem.Prepared p = load(lenient, blob);
        assertEquals(baseline + 1500, ProcessFds.count(), "one O_PATH descriptor per real level");
        p.discard();
        assertEquals(baseline, ProcessFds.count(), "a discarded load closes what it opened");
        load(lenient, blob).commit();
        lenient.getattr(ROOT, 1501, 0, false);
        fails(Errno.EIO, () -> lenient.getattr(ROOT, 1502, 0, false));
        fails(Errno.EIO, () -> lenient.getattr(ROOT, 101_501, 0, false));
    }

    @Test
    void aHandleDestinationRestoresADeepChainWithNoDescriptorPerLevel() throws Throwable {
        byte[] blob = deepChain(1500, 100_000);
        PassthroughFs lenient = destination(MigrationOnError.GUEST_ERROR, InodeFileHandles.MANDATORY);
        int baseline = ProcessFds.count();
        MigratableFileSystem.Prepared p = load(lenient, blob);
        assertEquals(baseline, ProcessFds.count(), "1500 levels reopened, kept as file handles");
        p.commit();
        assertEquals(baseline, ProcessFds.count());
        lenient.getattr(ROOT, 1501, 0, false);
        assertEquals(baseline, ProcessFds.count(), "a request's descriptor closes with the request");
        fails(Errno.EIO, () -> lenient.getattr(ROOT, 1502, 0, false));
    }

    @Test
    void aDestinationOutOfDescriptorsFailsTheLoadWhateverThePolicy() throws Throwable {
        byte[] blob = deepChain(300, 0);
        // O_PATH inodes: the blob's nodes are what takes the descriptors.
        PassthroughFs lenient = destination(MigrationOnError.GUEST_ERROR, InodeFileHandles.NEVER);
        // Warm up: with no descriptor left the JVM cannot even load a class.
        load(lenient, blob).discard();
        assertThrows(
                FsException.class,
                () -> load(destination(MigrationOnError.ABORT, InodeFileHandles.NEVER), deepChain(0, 3)));
        new NativeException("openat", Errno.EMFILE).getMessage();
        int baseline = ProcessFds.count();
        List<Fd> hogs = new ArrayList<>();
        try {
            // A blob's nodes can take every descriptor the destination has: then that is the load's failure,
            // not 'this node answers EIO' with a destination left unable to open anything.
            try {
                while (true) hogs.add(FileCalls.openat(null, b("/dev/null"), Libc.O_RDONLY | Libc.O_CLOEXEC, 0));
            } catch (NativeException full) {
                assertEquals(Errno.EMFILE, full.errno(), full.getMessage());
            }
            for (int i = 0; i < 100; i++) hogs.removeLast().close();
            FsException e = assertThrows(FsException.class, () -> load(lenient, blob));
            assertEquals(Errno.EMFILE, e.errno(), e.getMessage());
        } finally {
            hogs.forEach(Fd::close);
        }
        assertEquals(baseline, ProcessFds.count(), "every descriptor of the failed load is closed");
        lenient.getattr(ROOT, ROOT_ID, 0, false);
    }

    @Test
    void aParentChainThatLoopsIsAFailedNodeNotACrash() throws Throwable {
        FsSnapshot.InodeState root = fs.snapshot().inode(ROOT_ID);
        // Codec-valid: both parents exist and are directories; but 2 lies in 3 and 3 in 2.
        List<FsSnapshot.InodeState> nodes = List.of(
                root,
                new FsSnapshot.InodeState(2, 1, 0, 2, 0, Stat.S_IFDIR, new Location(3, b("a")), null),
                new FsSnapshot.InodeState(3, 1, 0, 3, 0, Stat.S_IFDIR, new Location(2, b("b")), null));
        byte[] blob = blob(new FsSnapshot(4, 1, 0, nodes, List.of()));
        int baseline = ProcessFds.count();
        FsException e = assertThrows(
                FsException.class, () -> load(destination(MigrationOnError.ABORT, InodeFileHandles.NEVER), blob));
        assertEquals(Errno.EIO, e.errno());
        PassthroughFs lenient = destination(MigrationOnError.GUEST_ERROR, InodeFileHandles.NEVER);
        load(lenient, blob).commit();
        fails(Errno.EIO, () -> lenient.getattr(ROOT, 2, 0, false));
        fails(Errno.EIO, () -> lenient.getattr(ROOT, 3, 0, false));
        lenient.getattr(ROOT, ROOT_ID, 0, false);
        assertEquals(baseline + 2, ProcessFds.count(), "only the two destinations' roots");
    }

    @Test
    void aNodeCountNoSourceCouldHoldIsRefusedBeforeAnythingIsRead() throws Throwable {
        // One descriptor per node on the source, and Linux caps a process at fs.nr_open (1 << 20 by default).
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        w.section(
                FsStateCodec.PASSTHROUGH,
                1,
                1,
                o -> o.varint(2).varint(1).u64(0).u8(0).u64(0).u64(0));
        w.section(FsStateCodec.INODES, 1, 1, o -> o.varint((1 << 20) + 1));
        w.section(FsStateCodec.HANDLES, 1, 1, o -> o.varint(0));
        w.finish();
        java.io.IOException e = assertThrows(
                java.io.IOException.class, () -> load(destination(MigrationOnError.GUEST_ERROR), out.toByteArray()));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
    }

    private static void unblockAReader(Path fifo) {
        try {
            FileCalls.openat(null, FileCalls.bytes(fifo.toString()), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0)
                    .close();
        } catch (NativeException e) {
            // nothing to unblock
        }
    }
}
