package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Attr;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FsCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * --announce-submounts (virtiofsd's default) over real mounts inside the share: two tmpfs
 * mounted at share/m1 and share/m2, whose files have the same inode numbers (each tmpfs counts
 * from the start), beside plain directories.
 */
class SubmountTest extends FsTestBase {
    private final List<Path> mounted = new ArrayList<>();

    @BeforeEach
    void mountTwoTmpfs() throws Exception {
        Assumptions.assumeTrue(FsCredentials.geteuid() == 0, "mounting needs root");
        for (String m : List.of("m1", "m2")) {
            Path p = Files.createDirectory(share.resolve(m));
            run("mount", "-t", "tmpfs", "-o", "size=1m", "fsflags-" + m, p.toString());
            mounted.add(p);
            Files.writeString(p.resolve("f"), "in " + m);
            Files.createDirectory(p.resolve("d"));
        }
        Files.createDirectory(share.resolve("plain"));
        assertEquals(
                Files.getAttribute(share.resolve("m1/f"), "unix:ino"),
                Files.getAttribute(share.resolve("m2/f"), "unix:ino"),
                "the two files share an inode number, on two devices");
    }

    @AfterEach
    void unmount() throws Exception {
        fs.close(); // no descriptor left on the mounts (closing again after is harmless)
        for (Path p : mounted) run("umount", p.toString());
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    private static boolean marked(Entry e) {
        return (e.attr().flags() & Attr.SUBMOUNT) != 0;
    }

    @Test
    void aMountPointIsMarkedInEveryEntryOnceTheGuestAgreed() throws Exception {
        assertNotEquals(0, fs.supportedInitFlags() & PassthroughFs.FUSE_SUBMOUNTS, "offered by default");
        fs.init(PassthroughFs.FUSE_SUBMOUNTS);
        assertTrue(marked(lookup("m1")));
        assertTrue(marked(lookup("m2")));
        assertFalse(marked(lookup("plain")), "a directory of the share's own file system");
        assertFalse(marked(lookup("m1/f")), "a file is never a submount");
        assertFalse(marked(lookup("m1/d")), "a directory of the same mount as its parent");
        assertFalse(marked(fs.mkdir(ROOT, ROOT_ID, b("new"), 0755, 0)));
        assertTrue(marked(fs.lookup(ROOT, ROOT_ID, b("m1"))), "again, for a node already known");

        long dh = fs.opendir(ROOT, ROOT_ID, 0).fh();
        ListSink sink = new ListSink(100);
        fs.readdirplus(ROOT, ROOT_ID, dh, 0, sink);
        List<String> markedInListing = sink.items.stream()
                .filter(i -> i.node() != null && i.node().nodeId() != 0 && marked(i.node()))
                .map(ListSink.Item::name)
                .sorted()
                .toList();
        assertEquals(List.of("m1", "m2"), markedInListing, "READDIRPLUS marks them too");
    }

    @Test
    void nothingIsMarkedWithoutTheGuestsAgreementOrWithNoAnnounce() throws Exception {
        fs.init(0);
        assertFalse(marked(lookup("m1")), "the guest did not offer SUBMOUNTS");
        PassthroughConfig off = new PassthroughConfig(
                CachePolicy.AUTO,
                true,
                true,
                false,
                InodeFileHandles.PREFER,
                true,
                false,
                false,
                false,
                false,
                false,
                false,
                null,
                false,
                false,
                false,
                GuestIds.NONE);
        try (PassthroughFs hidden = PassthroughFs.open(share, off)) {
            assertEquals(0, hidden.supportedInitFlags() & PassthroughFs.FUSE_SUBMOUNTS);
            hidden.init(PassthroughFs.FUSE_SUBMOUNTS);
            assertFalse(marked(hidden.lookup(ROOT, ROOT_ID, b("m1"))), "--no-announce-submounts");
        }
    }

    /** Same st_ino on two devices: two nodes, each reaching its own file, in every inode mode. */
    @Test
    void filesOfTwoFileSystemsWithOneInodeNumberStayTwoNodes() throws Exception {
        for (InodeFileHandles mode : InodeFileHandles.values()) {
            try (PassthroughFs f =
                    PassthroughFs.open(share, PassthroughConfig.defaults().withInodeFileHandles(mode))) {
                f.init(PassthroughFs.FUSE_SUBMOUNTS);
                long m1 = f.lookup(ROOT, ROOT_ID, b("m1")).nodeId();
                long m2 = f.lookup(ROOT, ROOT_ID, b("m2")).nodeId();
                Entry f1 = f.lookup(ROOT, m1, b("f"));
                Entry f2 = f.lookup(ROOT, m2, b("f"));
                assertEquals(f1.attr().ino(), f2.attr().ino());
                assertNotEquals(f1.nodeId(), f2.nodeId(), mode + ": one node per (device, inode)");
                long h1 = f.open(ROOT, f1.nodeId(), O_RDWR).fh();
                long h2 = f.open(ROOT, f2.nodeId(), O_RDWR).fh();
                assertArrayEquals(b("in m1"), MigrationTest.read(f, f1.nodeId(), h1, 64), mode.name());
                assertArrayEquals(b("in m2"), MigrationTest.read(f, f2.nodeId(), h2, 64), mode.name());
                f.write(ROOT, f2.nodeId(), h2, 0, new MemorySource(b("IN")), 0);
                assertEquals("in m1", Files.readString(share.resolve("m1/f")), mode.name());
                assertEquals("IN m2", Files.readString(share.resolve("m2/f")), mode.name());
                Files.writeString(share.resolve("m2/f"), "in m2");
            }
        }
    }

    /** A migration carries nodes and open files of both mounts, and the announcement with them. */
    @Test
    void aMigrationKeepsTheSubmountsNodesAndTheirAnnouncement() throws Exception {
        fs.init(PassthroughFs.FUSE_SUBMOUNTS);
        long m1 = lookup("m1").nodeId();
        Entry f1 = lookup("m1/f");
        Entry f2 = lookup("m2/f");
        long h1 = fs.open(ROOT, f1.nodeId(), O_RDWR).fh();
        long h2 = fs.open(ROOT, f2.nodeId(), O_RDWR).fh();
        byte[] blob = MigrationTest.save(fs);
        try (PassthroughFs dst = PassthroughFs.open(share, PassthroughConfig.defaults())) {
            MigrationTest.load(dst, blob).commit();
            assertArrayEquals(b("in m1"), MigrationTest.read(dst, f1.nodeId(), h1, 64));
            assertArrayEquals(b("in m2"), MigrationTest.read(dst, f2.nodeId(), h2, 64));
            assertEquals(m1, dst.lookup(ROOT, ROOT_ID, b("m1")).nodeId());
            assertTrue(marked(dst.lookup(ROOT, ROOT_ID, b("m2"))), "the destination goes on announcing");
        }
        PassthroughConfig off = new PassthroughConfig(
                CachePolicy.AUTO,
                true,
                true,
                false,
                InodeFileHandles.PREFER,
                true,
                false,
                false,
                false,
                false,
                false,
                false,
                null,
                false,
                false,
                false,
                GuestIds.NONE);
        try (PassthroughFs dst = PassthroughFs.open(share, off)) {
            FsException e = assertThrows(FsException.class, () -> MigrationTest.load(dst, blob));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("announces submounts"), e.getMessage());
        }
    }
}
