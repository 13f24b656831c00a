package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.nativeio.Capability;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.Privileges;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * --killpriv-v2 (virtiofsd's): the guest marks the WRITE, SETATTR of the size and OPEN/CREATE
 * with O_TRUNC that must clear set-user-ID and set-group-ID, and the daemon, which has
 * CAP_FSETID (so the host kernel would keep them), makes exactly those calls without it.
 */
class KillprivV2Test extends FsTestBase {
    private static final int SUID_SGID = 06000, MODE = 06755;

    static PassthroughConfig killpriv(boolean on) {
        return new PassthroughConfig(
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
                true,
                false,
                on,
                GuestIds.NONE);
    }

    @Override
    PassthroughConfig config() {
        return killpriv(true);
    }

    private Path file;
    private long node;

    @BeforeEach
    void aSetuidFile() throws Exception {
        Assumptions.assumeTrue(
                Privileges.capabilities().has(Capability.FSETID), "needs CAP_FSETID, which keeps the bits otherwise");
        fs.init(PassthroughFs.FUSE_HANDLE_KILLPRIV_V2);
        file = share.resolve("tool");
        Files.writeString(file, "#!/bin/sh\n");
        setuid();
        node = lookup("tool").nodeId();
    }

    private void setuid() throws Exception {
        FileCalls.fchmodat(null, FileCalls.bytes(file.toString()), MODE);
        assertEquals(MODE, mode());
    }

    private int mode() throws Exception {
        return (Integer) Files.getAttribute(file, "unix:mode") & 07777;
    }

    private void write(long fh, int writeFlags) throws Exception {
        fs.write(ROOT, node, fh, 0, new MemorySource(b("#")), writeFlags);
    }

    @Test
    void offeredOnlyWithKillprivV2() throws Exception {
        assertNotEquals(0, fs.supportedInitFlags() & PassthroughFs.FUSE_HANDLE_KILLPRIV_V2);
        try (PassthroughFs plain = PassthroughFs.open(share, killpriv(false))) {
            assertEquals(0, plain.supportedInitFlags() & PassthroughFs.FUSE_HANDLE_KILLPRIV_V2);
        }
    }

    @Test
    void aMarkedWriteClearsTheBitsAnUnmarkedOneKeepsThem() throws Exception {
        long fh = fs.open(ROOT, node, O_RDWR).fh();
        write(fh, 0);
        assertEquals(MODE, mode(), "root with CAP_FSETID keeps them");
        write(fh, FileSystem.WRITE_KILL_SUIDGID);
        assertEquals(MODE & ~SUID_SGID, mode());
        assertTrue(Privileges.capabilities().has(Capability.FSETID), "the thread has CAP_FSETID back");
    }

    @Test
    void aMarkedTruncationClearsTheBits() throws Exception {
        SetAttr plain = new SetAttr(SetAttr.SIZE, 0, 3, 0, 0, 0, 0, 0, 0, 0);
        fs.setattr(ROOT, node, plain);
        assertEquals(MODE, mode());
        fs.setattr(ROOT, node, new SetAttr(SetAttr.SIZE | SetAttr.KILL_SUIDGID, 0, 2, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(MODE & ~SUID_SGID, mode(), "truncated by path");
        setuid();
        long fh = fs.open(ROOT, node, O_RDWR).fh();
        fs.setattr(
                ROOT, node, new SetAttr(SetAttr.SIZE | SetAttr.FH | SetAttr.KILL_SUIDGID, fh, 1, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(MODE & ~SUID_SGID, mode(), "truncated through the guest's handle");
        assertEquals(1, Files.size(file));
        assertTrue(Privileges.capabilities().has(Capability.FSETID));
    }

    @Test
    void aMarkedOpenOrCreateWithOTruncClearsTheBits() throws Exception {
        fs.open(ROOT, node, O_RDWR | O_TRUNC, 0);
        assertEquals(MODE, mode());
        fs.open(ROOT, node, O_RDWR | O_TRUNC, FileSystem.OPEN_KILL_SUIDGID);
        assertEquals(MODE & ~SUID_SGID, mode());
        setuid();
        Files.writeString(file, "x");
        setuid();
        fs.create(ROOT, ROOT_ID, b("tool"), 0755, O_CREAT | O_RDWR | O_TRUNC, 0, FileSystem.OPEN_KILL_SUIDGID);
        assertEquals(MODE & ~SUID_SGID, mode(), "CREATE of a name that exists");
        assertEquals(0, Files.size(file));
        assertTrue(Privileges.capabilities().has(Capability.FSETID));
    }

    /** Without --killpriv-v2 the marks are not the daemon's to act on (the guest does not send them then). */
    @Test
    void withoutKillprivV2TheMarksChangeNothing() throws Exception {
        try (PassthroughFs plain = PassthroughFs.open(share, killpriv(false))) {
            long n = plain.lookup(ROOT, ROOT_ID, b("tool")).nodeId();
            long fh = plain.open(ROOT, n, O_RDWR | O_TRUNC, FileSystem.OPEN_KILL_SUIDGID)
                    .fh();
            plain.write(ROOT, n, fh, 0, new MemorySource(b("#")), FileSystem.WRITE_KILL_SUIDGID);
            plain.setattr(ROOT, n, new SetAttr(SetAttr.SIZE | SetAttr.KILL_SUIDGID, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        }
        assertEquals(MODE, mode());
    }
}
