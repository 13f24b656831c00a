package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.nativeio.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of self-contradicting request is answered -EINVAL (or dropped) and reaches no file system. */
class FuseMalformedTest {
    @TempDir
    Path dir;

    private FuseHarness h;
    private MemoryFs fs;
    private int callsBefore;

    @BeforeEach
    void start() throws Exception {
        fs = FuseHarness.defaultFs();
        h = FuseHarness.start(dir, fs);
        h.init().ok();
        fs.addFile("f", new byte[0]);
        callsBefore = fs.calls.size();
    }

    @AfterEach
    void stop() throws Exception {
        assertEquals(callsBefore, fs.calls.size(), "a malformed request reached the file system: " + fs.calls);
        h.close();
    }

    private void assertEinval(Reply r, long unique) {
        assertEinval(r);
        assertEquals(unique, r.unique());
    }

    /** For {@link FuseHarness#call}, which checks the echoed unique itself. */
    private void assertEinval(Reply r) {
        assertEquals(-Errno.EINVAL, r.error());
        assertEquals(OUT_HEADER, r.len());
    }

    private static byte[] withLen(byte[] req, int len) {
        byte[] b = req.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, len);
        return b;
    }

    @Test
    void aHeaderLengthThatDisagreesWithTheChain() throws Exception {
        byte[] lookup = request(LOOKUP, 5, 1, args().name("f").build());
        assertEinval(h.send(1, withLen(lookup, lookup.length + 1), 200), 5);
        assertEinval(h.send(1, withLen(lookup, lookup.length - 1), 200), 5);
        assertEinval(h.send(1, withLen(lookup, -1), 200), 5);
        // The same bytes with a trailing byte the header does not count.
        byte[] longer = Arrays.copyOf(lookup, lookup.length + 1);
        assertEinval(h.send(1, longer, 200), 5);
    }

    @Test
    void aRequestShorterThanTheInHeaderIsAnsweredWithUniqueZero() throws Exception {
        assertEinval(h.send(1, new byte[39], 200), 0);
        assertEinval(h.sendSplit(1, List.of(), 200), 0);
    }

    @Test
    void aNameWithoutItsNul() throws Exception {
        assertEinval(h.call(LOOKUP, 1, "f".getBytes(), 200));
        assertEinval(
                h.call(RENAME, 1, args().u64(1).name("f").bytes("g".getBytes()).build(), 200));
        assertEinval(h.call(LINK, 1, args().u64(2).build(), 200));
    }

    @Test
    void aStructCutShort() throws Exception {
        assertEinval(h.call(READ, 2, args().u64(100).u64(0).build(), 200));
        assertEinval(h.call(GETATTR, 1, args().u32(0).build(), 200));
        assertEinval(h.call(RENAME2, 1, args().u64(1).build(), 200));
        assertEinval(h.call(COPY_FILE_RANGE, 2, new byte[55], 200));
    }

    @Test
    void extensionsLongerThanTheRequest() throws Exception {
        byte[] req = request(STATFS, 7, 1, new byte[0]);
        ByteBuffer.wrap(req).order(ByteOrder.LITTLE_ENDIAN).putShort(36, (short) 1); // 8 bytes of extensions
        assertEinval(h.send(1, req, 200), 7);
    }

    @Test
    void anXattrValueLongerThanTheData() throws Exception {
        assertEinval(h.call(
                SETXATTR,
                2,
                args().u32(10)
                        .u32(0)
                        .u32(0)
                        .u32(0)
                        .name("user.a")
                        .bytes(new byte[9])
                        .build(),
                200));
    }

    @Test
    void noRoomForAnOutHeaderMeansNoReplyAtAll() throws Exception {
        Reply r = h.send(1, withLen(request(LOOKUP, 5, 1, args().name("f").build()), 3), 15);
        assertEquals(0, r.used());
    }
}
