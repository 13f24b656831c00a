package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A state larger than one reopening task ({@link FsRestorer#CHUNK} nodes) is reopened by several
 * threads, wave by wave (a directory before what lies in it): every node and handle comes back as
 * the source had it, a node that cannot be found fails alone (guest-error) or the whole load
 * (abort) with every descriptor the threads opened closed again, and no thread stays.
 */
class ParallelRestoreTest extends FsTestBase {
    private static final int DIRS = 6, FILES = 400, DEPTH = 12;
    private final List<PassthroughFs> others = new ArrayList<>();

    @AfterEach
    void closeOthers() {
        others.forEach(PassthroughFs::close);
    }

    private static int openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    private static long reopeners() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("jvhost-fs-reopen") && t.isAlive())
                .count();
    }

    /** Files in directories, a deep chain of directories, every third file open: node id → host path. */
    private Map<Long, Path> populate(PassthroughFs src, Map<Long, Long> handles) throws Exception {
        Map<Long, Path> nodes = new HashMap<>();
        for (int d = 0; d < DIRS; d++) {
            Path dir = Files.createDirectories(share.resolve("d" + d));
            long dn = src.lookup(ROOT, ROOT_ID, b("d" + d)).nodeId();
            nodes.put(dn, dir);
            for (int f = 0; f < FILES; f++) {
                Path p = Files.writeString(dir.resolve("f" + f), d + "/" + f);
                long n = src.lookup(ROOT, dn, b("f" + f)).nodeId();
                nodes.put(n, p);
                if (f % 3 == 0) handles.put(src.open(ROOT, n, O_RDONLY).fh(), n);
            }
        }
        long parent = ROOT_ID;
        Path p = share;
        for (int i = 0; i < DEPTH; i++) {
            p = Files.createDirectories(p.resolve("deep" + i));
            parent = src.lookup(ROOT, parent, b("deep" + i)).nodeId();
            nodes.put(parent, p);
        }
        // A directory looked up after its files were moved into it: children with lower ids than their parent.
        Path late = Files.createDirectories(share.resolve("late"));
        long d0 = src.lookup(ROOT, ROOT_ID, b("d0")).nodeId();
        long lateNode = src.lookup(ROOT, ROOT_ID, b("late")).nodeId();
        nodes.put(lateNode, late);
        for (int f = 0; f < 5; f++) {
            long n = src.lookup(ROOT, d0, b("f" + f)).nodeId();
            src.rename(ROOT, d0, b("f" + f), lateNode, b("m" + f), 0);
            nodes.put(n, late.resolve("m" + f));
        }
        return nodes;
    }

    private static List<String> ids(PassthroughFs f) {
        return f.snapshot().inodes().stream()
                .map(n -> n.nodeId() + ":" + n.lookups() + ":" + n.location())
                .toList();
    }

    @ParameterizedTest
    @EnumSource(InodeFileHandles.class)
    void everyNodeAndHandleComesBack(InodeFileHandles mode) throws Exception {
        PassthroughConfig config = PassthroughConfig.defaults().withInodeFileHandles(mode);
        PassthroughFs src = PassthroughFs.open(share, config);
        others.add(src);
        Map<Long, Long> handles = new HashMap<>();
        Map<Long, Path> nodes = populate(src, handles);
        byte[] blob = MigrationTest.save(src);
        PassthroughFs dst = PassthroughFs.open(share, config);
        others.add(dst);
        MigrationTest.load(dst, blob).commit();
        assertEquals(0, reopeners(), "the reopening threads ended with the load");
        assertEquals(ids(src), ids(dst), "node ids and lookups");
        for (Map.Entry<Long, Path> e : nodes.entrySet()) {
            long ino = (long) Files.getAttribute(e.getValue(), "unix:ino");
            assertEquals(
                    ino,
                    dst.getattr(ROOT, e.getKey(), 0, false).attr().ino(),
                    e.getValue().toString());
        }
        for (Map.Entry<Long, Long> h : handles.entrySet()) {
            String want = Files.readString(nodes.get(h.getValue()));
            assertEquals(want, new String(MigrationTest.read(dst, h.getValue(), h.getKey(), 64)));
        }
    }

    @ParameterizedTest
    @EnumSource(MigrationOnError.class)
    void aNodeThatIsGoneFailsAloneOrTheWholeLoad(MigrationOnError onError) throws Exception {
        Map<Long, Long> handles = new HashMap<>();
        Map<Long, Path> nodes = populate(fs, handles);
        byte[] blob = MigrationTest.save(fs);
        List<Long> gone = new ArrayList<>();
        for (Map.Entry<Long, Path> e : nodes.entrySet()) {
            String name = e.getValue().getFileName().toString();
            boolean open = handles.containsValue(e.getKey()); // an open file's handle still finds it
            if (!open
                    && name.matches("f\\d*7")
                    && e.getValue().getParent().getFileName().toString().equals("d3")) {
                Files.delete(e.getValue());
                gone.add(e.getKey());
            }
        }
        assertTrue(gone.size() > 10, "files gone: " + gone.size());
        PassthroughFs dst = PassthroughFs.open(
                share, PassthroughConfig.defaults(), new MigrationConfig(MigrationMode.FIND_PATHS, onError));
        others.add(dst);
        int fds = openFds();
        if (onError == MigrationOnError.ABORT) {
            FsException e = assertThrows(FsException.class, () -> MigrationTest.load(dst, blob));
            assertEquals(Errno.EIO, e.errno(), e.getMessage());
            assertEquals(fds, openFds(), "every descriptor the reopening threads opened is closed");
            assertEquals(1, dst.snapshot().inodes().size(), "nothing was installed");
        } else {
            MigrationTest.load(dst, blob).commit();
            for (long id : gone) fails(Errno.EIO, () -> dst.getattr(ROOT, id, 0, false));
            Entry kept = dst.lookup(ROOT, dst.lookup(ROOT, ROOT_ID, b("d3")).nodeId(), b("f6"));
            assertTrue(nodes.containsKey(kept.nodeId()), "an untouched file keeps its node id");
        }
        assertEquals(0, reopeners(), "no reopening thread stays");
    }
}
