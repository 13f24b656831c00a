package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.Created;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.nativeio.Errno;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * --writeback (virtiofsd's): once the guest took FUSE_WRITEBACK_CACHE, a file its caller opened
 * write-only can be read (the guest kernel reads to fill the pages it caches), and O_APPEND no
 * longer makes the host append: the guest appends at the offsets it knows.
 */
class WritebackTest extends FsTestBase {
    static PassthroughConfig writeback(boolean on) {
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
                on,
                false,
                GuestIds.NONE);
    }

    @Override
    PassthroughConfig config() {
        return writeback(true);
    }

    @Test
    void offeredOnlyWithWriteback() throws Exception {
        assertNotEquals(0, fs.supportedInitFlags() & PassthroughFs.FUSE_WRITEBACK_CACHE);
        try (PassthroughFs plain = PassthroughFs.open(share, writeback(false))) {
            assertEquals(0, plain.supportedInitFlags() & PassthroughFs.FUSE_WRITEBACK_CACHE);
        }
    }

    @Test
    void aFileOpenedWriteOnlyCanBeReadAndAppendsGoWhereTheGuestSays() throws Exception {
        fs.init(PassthroughFs.FUSE_WRITEBACK_CACHE);
        Files.writeString(share.resolve("f"), "abcdef");
        long f = lookup("f").nodeId();
        long wo = fs.open(ROOT, f, O_WRONLY).fh();
        assertArrayEquals(b("abcdef"), readAll(f, wo, 16), "the guest fills a page from a write-only file");
        long app = fs.open(ROOT, f, O_WRONLY | O_APPEND).fh();
        fs.write(ROOT, f, app, 2, new MemorySource(b("XY")), FileSystem.WRITE_CACHE);
        fs.write(ROOT, f, app, 6, new MemorySource(b("gh")), FileSystem.WRITE_CACHE);
        assertEquals("abXYefgh", Files.readString(share.resolve("f")), "written at the guest's offsets");

        Created c = fs.create(ROOT, ROOT_ID, b("new"), 0600, O_CREAT | O_WRONLY | O_APPEND, 0);
        fs.write(ROOT, c.entry().nodeId(), c.opened().fh(), 0, new MemorySource(b("12345")), 0);
        fs.write(ROOT, c.entry().nodeId(), c.opened().fh(), 1, new MemorySource(b("-")), 0);
        assertArrayEquals(b("1-345"), readAll(c.entry().nodeId(), c.opened().fh(), 16), "CREATE as OPEN");
    }

    /** The same opens without the guest's agreement: as they were asked. */
    @Test
    void withoutTheGuestsAgreementOpensAreAsAsked() throws Exception {
        fs.init(0);
        Files.writeString(share.resolve("f"), "abcdef");
        long f = lookup("f").nodeId();
        long wo = fs.open(ROOT, f, O_WRONLY).fh();
        fails(Errno.EBADF, () -> readAll(f, wo, 16));
        long app = fs.open(ROOT, f, O_WRONLY | O_APPEND).fh();
        fs.write(ROOT, f, app, 2, new MemorySource(b("XY")), 0);
        assertEquals("abcdefXY", Files.readString(share.resolve("f")), "the host appends");
    }

    /** A destination started without --writeback refuses a source whose guest caches writes; one with it goes on. */
    @Test
    void aMigrationNeedsWritebackOnTheDestination() throws Exception {
        fs.init(PassthroughFs.FUSE_WRITEBACK_CACHE);
        Files.writeString(share.resolve("f"), "abc");
        long f = lookup("f").nodeId();
        long wo = fs.open(ROOT, f, O_WRONLY).fh();
        byte[] blob = MigrationTest.save(fs);
        try (PassthroughFs dst = PassthroughFs.open(share, writeback(false))) {
            FsException e = assertThrows(FsException.class, () -> MigrationTest.load(dst, blob));
            assertTrue(e.getMessage().contains("writeback"), e.getMessage());
        }
        try (PassthroughFs dst = PassthroughFs.open(share, writeback(true))) {
            MigrationTest.load(dst, blob).commit();
            assertArrayEquals(b("abc"), MigrationTest.read(dst, f, wo, 16), "reopened read-write");
        }
    }
}
