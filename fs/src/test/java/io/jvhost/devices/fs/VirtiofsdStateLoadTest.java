package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.DeviceException;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.devices.fs.fuse.InitReply;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtio-fs device's load takes either format: jvhost's by its magic, anything else as
 * virtiofsd's (golden blobs virtiofsd 1.13 wrote), with the FUSE session derived from
 * virtiofsd's negotiated options; a blob that is neither is refused saying so.
 */
class VirtiofsdStateLoadTest {
    @TempDir
    Path share;

    private static byte[] golden(String name) throws Exception {
        try (InputStream in = VirtiofsdStateLoadTest.class.getResourceAsStream("passthrough/virtiofsd/" + name)) {
            return in.readAllBytes();
        }
    }

    private FsDevice device() throws Exception {
        return device(io.jvhost.devices.fs.passthrough.PassthroughConfig.defaults());
    }

    private FsDevice device(io.jvhost.devices.fs.passthrough.PassthroughConfig config) throws Exception {
        Files.createDirectories(share.resolve("sub"));
        Files.writeString(share.resolve("sub/nested.txt"), "nested");
        Files.writeString(share.resolve("grüße ☃.txt"), "unicode");
        return new FsDevice("myfs", PassthroughFs.open(share, config));
    }

    /** defaults() with announcing and the writeback cache as given. */
    private static io.jvhost.devices.fs.passthrough.PassthroughConfig config(boolean announce, boolean writeback) {
        var d = io.jvhost.devices.fs.passthrough.PassthroughConfig.defaults();
        return new io.jvhost.devices.fs.passthrough.PassthroughConfig(
                d.cache(),
                d.xattr(),
                d.fileHandles(),
                d.denyPrivilegedFiles(),
                d.inodeFileHandles(),
                d.readdirplus(),
                d.allowMmap(),
                d.allowDirectIo(),
                d.preserveNoatime(),
                d.readOnly(),
                d.posixAcl(),
                d.securityLabel(),
                d.xattrMap(),
                announce,
                writeback,
                d.killprivV2(),
                GuestIds.NONE);
    }

    @Test
    void aVirtiofsdStateLoadsWithADerivedSession() throws Exception {
        FsDevice d = device();
        d.prepareLoad(new ByteArrayInputStream(golden("lookups-v2.bin"))).commit();
        InitReply s = d.server().session().orElseThrow();
        assertEquals(FuseServer.MAJOR, s.major());
        assertEquals(FuseServer.MINOR, s.sessionMinor());
        assertEquals(0, s.flags() & InitFlags.CREATE_SUPP_GROUP, "this source's guest negotiated no groups");
        assertEquals(0, s.flags() & InitFlags.SETXATTR_EXT);
        assertNotEquals(0, s.flags() & InitFlags.MAX_PAGES);
        assertEquals(1 << 20, s.maxWrite(), "what virtiofsd told the guest");

        // The session carries on to the next hop, in jvhost's own format.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        d.captureState().writeTo(out);
        FsDevice next = device();
        next.prepareLoad(new ByteArrayInputStream(out.toByteArray())).commit();
        assertEquals(s, next.server().session().orElseThrow());
    }

    @Test
    void supplementaryGroupsFollowTheNegotiatedOption() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("lookups-v2.bin"));
        FsDevice d = device();
        d.prepareLoad(new ByteArrayInputStream(VirtiofsdStateCodec.encode(withOpts(s, false, true))))
                .commit();
        assertNotEquals(0, d.server().session().orElseThrow().flags() & InitFlags.CREATE_SUPP_GROUP);
    }

    @Test
    void optionsJvhostDoesNotOfferAreRefused() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("lookups-v2.bin"));
        DeviceException e = assertThrows(
                DeviceException.class,
                () -> device().prepareLoad(
                                new ByteArrayInputStream(VirtiofsdStateCodec.encode(withOpts(s, true, false)))));
        assertTrue(e.getMessage().contains("writeback"), e.getMessage());
    }

    @Test
    void announcedSubmountsAreTakenWhereAnnouncingAndRefusedElsewhere() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("lookups-v2.bin"));
        VirtiofsdState announced = new VirtiofsdState(
                s.version(),
                s.inodes(),
                s.nextInode(),
                s.handles(),
                s.nextHandle(),
                new VirtiofsdState.NegotiatedOpts(false, true, false, false),
                s.mountPaths());
        FsDevice d = device();
        d.prepareLoad(new ByteArrayInputStream(VirtiofsdStateCodec.encode(announced)))
                .commit();
        assertEquals(InitFlags.SUBMOUNTS, d.server().session().orElseThrow().flags() & InitFlags.SUBMOUNTS);
        DeviceException e = assertThrows(
                DeviceException.class,
                () -> device(config(false, false))
                        .prepareLoad(new ByteArrayInputStream(VirtiofsdStateCodec.encode(announced))));
        assertTrue(e.getMessage().contains("announced submounts"), e.getMessage());
    }

    @Test
    void theWritebackCacheIsTakenByADestinationWithWriteback() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("lookups-v2.bin"));
        FsDevice d = device(config(true, true));
        d.prepareLoad(new ByteArrayInputStream(VirtiofsdStateCodec.encode(withOpts(s, true, false))))
                .commit();
        assertEquals(
                InitFlags.WRITEBACK_CACHE, d.server().session().orElseThrow().flags() & InitFlags.WRITEBACK_CACHE);
    }

    @Test
    void beforeInitThereIsNoSession() throws Exception {
        FsDevice d = device();
        VirtiofsdState empty = new VirtiofsdState(
                VirtiofsdState.Version.V2,
                java.util.List.of(),
                2,
                java.util.List.of(),
                0,
                new VirtiofsdState.NegotiatedOpts(false, false, false, false),
                java.util.List.of());
        d.prepareLoad(new ByteArrayInputStream(VirtiofsdStateCodec.encode(empty)))
                .commit();
        assertTrue(d.server().session().isEmpty());
    }

    @Test
    void neitherFormatIsRefusedNamingBoth() throws Exception {
        byte[] junk = "JVHSTATX and then some".getBytes(StandardCharsets.US_ASCII);
        DeviceException e =
                assertThrows(DeviceException.class, () -> device().prepareLoad(new ByteArrayInputStream(junk)));
        assertTrue(
                e.getMessage().contains("neither jvhost's") && e.getMessage().contains("virtiofsd's"), e.getMessage());
        DeviceException empty =
                assertThrows(DeviceException.class, () -> device().prepareLoad(new ByteArrayInputStream(new byte[0])));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    private static VirtiofsdState withOpts(VirtiofsdState s, boolean writeback, boolean groups) {
        return new VirtiofsdState(
                s.version(),
                s.inodes(),
                s.nextInode(),
                s.handles(),
                s.nextHandle(),
                new VirtiofsdState.NegotiatedOpts(writeback, false, false, groups),
                s.mountPaths());
    }
}
