package io.jvhost.devices.fs.passthrough;

import static io.jvhost.devices.fs.passthrough.FsTestBase.ROOT;
import static io.jvhost.devices.fs.passthrough.FsTestBase.ROOT_ID;
import static io.jvhost.devices.fs.passthrough.FsTestBase.b;
import static io.jvhost.devices.fs.passthrough.FsTestBase.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvhost.devices.fs.api.Attr;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.devices.fs.idmap.IdMapSyntax;
import io.jvhost.devices.fs.idmap.IdTranslation;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.FsCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --translate-uid/--translate-gid through the real passthrough on a real directory: the caller a
 * creating request names acts on the host as its translated ids (the new file's owner), the owner
 * a SETATTR gives is translated too, and every attribute the guest is shown carries the owner
 * translated back; forbidden guest ids fail with EPERM and change nothing; ids no entry covers
 * pass unchanged. Needs root (the daemon acts as the caller with setfsuid).
 */
class TranslatedIdsTest {
    private static final int UMASK = 022, S_IFREG = 0100000;

    @TempDir
    Path share;

    @BeforeEach
    void needsRoot() throws IOException {
        assumeTrue(FsCredentials.geteuid() == 0, "acting as the caller needs root");
        Files.setPosixFilePermissions(share, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    private PassthroughFs open(List<String> uids, List<String> gids) throws IOException {
        GuestIds ids = new GuestIds(translation(uids), translation(gids));
        return PassthroughFs.open(share, PassthroughConfig.defaults().withGuestIds(ids));
    }

    private static IdTranslation translation(List<String> entries) {
        return IdTranslation.of(entries.stream().map(IdMapSyntax::parse).toList());
    }

    private static RequestContext caller(int uid, int gid, Integer... groups) {
        return new RequestContext(uid, gid, 1, Arrays.asList(groups));
    }

    private int hostUid(String name) throws IOException {
        return (Integer) Files.getAttribute(share.resolve(name), "unix:uid");
    }

    private int hostGid(String name) throws IOException {
        return (Integer) Files.getAttribute(share.resolve(name), "unix:gid");
    }

    private void chown(String name, int uid, int gid) throws IOException {
        Files.setAttribute(share.resolve(name), "unix:uid", uid);
        Files.setAttribute(share.resolve(name), "unix:gid", gid);
    }

    private static void owner(int uid, int gid, Attr a) {
        assertEquals(uid, a.uid(), "uid the guest is shown");
        assertEquals(gid, a.gid(), "gid the guest is shown");
    }

    @Test
    void aMappedCallerCreatesAsItsHostIdsAndSeesItsOwnIds() throws Exception {
        try (PassthroughFs fs = open(List.of("map:1000:5000:10"), List.of("map:1000:5000:10"))) {
            RequestContext guest = caller(1003, 1004);
            Entry created = fs.create(guest, ROOT_ID, b("file"), 0644, 2, UMASK).entry();
            Entry dir = fs.mkdir(guest, ROOT_ID, b("dir"), 0755, UMASK);
            Entry node = fs.mknod(guest, ROOT_ID, b("node"), S_IFREG | 0644, 0, UMASK);
            Entry link = fs.symlink(guest, b("file"), ROOT_ID, b("link"));
            for (String name : List.of("file", "dir", "node")) {
                assertEquals(5003, hostUid(name), name + "'s host owner");
                assertEquals(5004, hostGid(name), name + "'s host group");
            }
            assertEquals(5003, (Integer)
                    Files.getAttribute(share.resolve("link"), "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
            for (Entry e : List.of(created, dir, node, link)) owner(1003, 1004, e.attr());
            owner(1003, 1004, fs.getattr(ROOT, created.nodeId(), 0, false).attr());
            owner(1003, 1004, fs.lookup(ROOT, ROOT_ID, b("dir")).attr());
        }
    }

    @Test
    void hostOwnersAreShownTranslatedAndUnmappedIdsPassUnchanged() throws Exception {
        Files.writeString(share.resolve("mapped"), "x");
        chown("mapped", 5009, 5000);
        Files.writeString(share.resolve("unmapped"), "x");
        chown("unmapped", 7000, 42);
        try (PassthroughFs fs = open(List.of("map:1000:5000:10"), List.of("map:1000:5000:10"))) {
            owner(1009, 1000, fs.lookup(ROOT, ROOT_ID, b("mapped")).attr());
            owner(7000, 42, fs.lookup(ROOT, ROOT_ID, b("unmapped")).attr());
            // An unmapped caller acts as the same ids on the host.
            fs.create(caller(42, 43), ROOT_ID, b("by-42"), 0644, 2, UMASK);
            assertEquals(42, hostUid("by-42"));
            assertEquals(43, hostGid("by-42"));
        }
    }

    @Test
    void squashGuestAndSquashHost() throws Exception {
        Files.writeString(share.resolve("h7005"), "x");
        chown("h7005", 7005, 7005);
        try (PassthroughFs fs = open(
                List.of("squash-guest:2000:6000:100", "squash-host:7000:99:10"),
                List.of("squash-guest:2000:6000:100", "squash-host:7000:98:10"))) {
            fs.create(caller(2000, 2050), ROOT_ID, b("a"), 0644, 2, UMASK);
            Entry b = fs.create(caller(2099, 2001), ROOT_ID, b("b"), 0644, 2, UMASK)
                    .entry();
            for (String name : List.of("a", "b")) {
                assertEquals(6000, hostUid(name), name);
                assertEquals(6000, hostGid(name), name);
            }
            owner(6000, 6000, b.attr()); // squash-guest is one way: host 6000 is shown as it is
            owner(99, 98, fs.lookup(ROOT, ROOT_ID, b("h7005")).attr());
        }
    }

    @Test
    void hostEntriesAreOneWay() throws Exception {
        Files.writeString(share.resolve("h"), "x");
        chown("h", 5003, 5003);
        try (PassthroughFs fs = open(List.of("host:5000:1000:10"), List.of())) {
            owner(1003, 5003, fs.lookup(ROOT, ROOT_ID, b("h")).attr());
            fs.create(caller(1003, 1003), ROOT_ID, b("c"), 0644, 2, UMASK);
            assertEquals(1003, hostUid("c"), "no guest-to-host entry: the caller's own uid");
        }
    }

    @Test
    void forbiddenGuestIdsCannotCreateOrBeGiven() throws Exception {
        Files.writeString(share.resolve("f"), "x");
        chown("f", 1, 1);
        try (PassthroughFs fs = open(List.of("forbid-guest:3000:10"), List.of("forbid-guest:3000:10"))) {
            fails(Errno.EPERM, () -> fs.mkdir(caller(3005, 100), ROOT_ID, b("d"), 0755, UMASK));
            fails(Errno.EPERM, () -> fs.create(caller(100, 3009), ROOT_ID, b("c"), 0644, 2, UMASK));
            fails(Errno.EPERM, () -> fs.create(caller(100, 100, 3000), ROOT_ID, b("c"), 0644, 2, UMASK));
            fails(Errno.EPERM, () -> fs.symlink(caller(3000, 100), b("f"), ROOT_ID, b("s")));
            assertFalse(Files.exists(share.resolve("d")));
            assertFalse(Files.exists(share.resolve("c")));
            assertFalse(Files.exists(share.resolve("s"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            long f = fs.lookup(ROOT, ROOT_ID, b("f")).nodeId();
            fails(Errno.EPERM, () -> fs.setattr(ROOT, f, chownTo(3001, -1)));
            fails(Errno.EPERM, () -> fs.setattr(ROOT, f, chownTo(2, 3001)));
            assertEquals(1, hostUid("f"), "nothing changed");
            assertEquals(1, hostGid("f"));
            // Next to the range: allowed.
            fs.mkdir(caller(3010, 2999), ROOT_ID, b("d"), 0755, UMASK);
            assertEquals(3010, hostUid("d"));
        }
    }

    @Test
    void chownIsTranslatedToTheHostAndBack() throws Exception {
        Files.writeString(share.resolve("f"), "x");
        try (PassthroughFs fs = open(List.of("map:1000:5000:10"), List.of("map:1000:5000:10"))) {
            long f = fs.lookup(ROOT, ROOT_ID, b("f")).nodeId();
            owner(1004, 1005, fs.setattr(ROOT, f, chownTo(1004, 1005)).attr());
            assertEquals(5004, hostUid("f"));
            assertEquals(5005, hostGid("f"));
            owner(1006, 1005, fs.setattr(ROOT, f, chownTo(1006, -1)).attr());
            assertEquals(5006, hostUid("f"));
            assertEquals(5005, hostGid("f"), "the group left alone");
            owner(77, 1005, fs.setattr(ROOT, f, chownTo(77, -1)).attr());
            assertEquals(77, hostUid("f"), "an unmapped uid is given as it is");
        }
    }

    @Test
    void supplementaryGroupsAreTranslated() throws Exception {
        assumeTrue(CallerIdentity.takesSupplementaryGroups(), "needs CAP_SETGID");
        Path dir = Files.createDirectory(share.resolve("team"));
        chown("team", 0, 5001);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
        try (PassthroughFs fs = open(List.of("map:1000:5000:10"), List.of("map:1000:5000:10"))) {
            long team = fs.lookup(ROOT, ROOT_ID, b("team")).nodeId();
            // Guest group 1001 is host group 5001, the directory's: the caller may write there.
            fs.mkdir(caller(1003, 1003, 1001), team, b("in"), 0755, UMASK);
            assertTrue(Files.isDirectory(dir.resolve("in")));
            fails(Errno.EACCES, () -> fs.mkdir(caller(1003, 1003, 1002), team, b("out"), 0755, UMASK));
        }
    }

    @Test
    void accessComparesTheGuestCallerWithTheOwnerAsTheGuestSeesIt() throws Exception {
        Path f = Files.writeString(share.resolve("f"), "x");
        chown("f", 5003, 5003);
        Files.getFileAttributeView(f, PosixFileAttributeView.class)
                .setPermissions(PosixFilePermissions.fromString("rw-------"));
        try (PassthroughFs fs = open(List.of("map:1000:5000:10"), List.of("map:1000:5000:10"))) {
            long node = fs.lookup(ROOT, ROOT_ID, b("f")).nodeId();
            fs.access(caller(1003, 1003), node, 4);
            fails(Errno.EACCES, () -> fs.access(caller(5003, 5003), node, 4));
        }
    }

    private static SetAttr chownTo(int uid, int gid) {
        int valid = (uid != -1 ? SetAttr.UID : 0) | (gid != -1 ? SetAttr.GID : 0);
        return new SetAttr(valid, 0, 0, 0, 0, 0, 0, 0, uid, gid);
    }
}
