package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Opened;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Location;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** jvhost's state written as virtiofsd's: what virtiofsd's destination needs, and back through jvhost's import. */
class VirtiofsdExportTest extends FsTestBase {
    @Test
    void roundTripsThroughVirtiofsdsFormat() throws Exception {
        Files.createDirectories(share.resolve("d"));
        Files.writeString(share.resolve("d/f.txt"), "content");
        long d = lookup("d").nodeId(), f = lookup("d/f.txt").nodeId();
        Opened file = fs.open(ROOT, f, O_RDWR);
        Opened dir = fs.opendir(ROOT, d, 0);
        VirtiofsdState v = VirtiofsdStateCodec.decode(VirtiofsdStateCodec.encode(fs.captureVirtiofsd()));
        assertEquals(VirtiofsdState.Version.V2, v.version());
        VirtiofsdState.Inode dn =
                v.inodes().stream().filter(n -> n.id() == d).findFirst().orElseThrow();
        assertEquals(new Location.Path(ROOT_ID, "d"), dn.location());
        assertEquals(fs.snapshot().inode(d).lookups() + 1, dn.refcount(), "its lookups plus the reference f.txt holds");
        assertTrue(v.handles().stream()
                .anyMatch(h -> h.id() == dir.fh()
                        && (((VirtiofsdState.HandleSource.OpenInode) h.source()).flags() & 0200000) != 0));
        try (PassthroughFs dst = PassthroughFs.open(share, PassthroughConfig.defaults(), MigrationConfig.defaults())) {
            dst.prepare(v, 0).commit();
            assertEquals("content", new String(MigrationTest.read(dst, f, file.fh(), 100), StandardCharsets.UTF_8));
            assertEquals(
                    fs.snapshot().inode(d).lookups(), dst.snapshot().inode(d).lookups());
            ListSink list = new ListSink(10);
            dst.readdir(ROOT, d, dir.fh(), 0, list);
            assertTrue(list.items.stream().anyMatch(i -> i.name().equals("f.txt")));
        }
    }

    @Test
    void whatVirtiofsdCannotNameIsInvalid() throws Exception {
        Files.writeString(share.resolve("gone.txt"), "x");
        long gone = lookup("gone.txt").nodeId();
        fs.open(ROOT, gone, O_RDONLY);
        fs.unlink(ROOT, ROOT_ID, b("gone.txt"));
        VirtiofsdState v = fs.captureVirtiofsd();
        assertInstanceOf(
                Location.Invalid.class,
                v.inodes().stream()
                        .filter(n -> n.id() == gone)
                        .findFirst()
                        .orElseThrow()
                        .location(),
                "unlinked while open: virtiofsd's find-paths cannot reopen it");
        VirtiofsdState.Inode root = v.inodes().getFirst();
        assertInstanceOf(Location.RootNode.class, root.location());
        assertTrue(root.refcount() >= 2, "virtiofsd's root never drops below its own two references");
    }
}
