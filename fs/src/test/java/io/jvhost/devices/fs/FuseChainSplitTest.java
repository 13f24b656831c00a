package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FUSE server's answer does not depend on where the guest cuts a request or its reply room
 * into descriptors: every request below is sent whole once, then cut at every byte offset of its
 * readable part (in header, arguments, WRITE data), and its reply room cut at every byte offset
 * of the reply (out header, attributes, READ data). The bytes the device writes and its used
 * length must be the same each time. Pins issue 11's request-path work (header and reply
 * written field by field into guest memory, zero-copy READ/WRITE) against a fast path that only
 * holds inside one descriptor.
 */
class FuseChainSplitTest {
    private static final int ATTR_OUT = OUT_HEADER + 104, ENTRY_OUT = OUT_HEADER + 128;
    private static final byte[] DATA = "0123456789abcdefghijklmnopqrstuvwxyz!".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private FuseHarness h;
    private MemoryFs fs;
    private long file;
    private long fh;

    @BeforeEach
    void start() throws Exception {
        fs = FuseHarness.defaultFs();
        h = FuseHarness.start(dir, fs);
        h.init().ok();
        file = fs.addFile("data", DATA);
        fh = h.call(OPEN, file, args().u32(2).u32(0), OUT_HEADER + 16).body().getLong(0);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private byte[] getattr() {
        return request(GETATTR, 501, file, args().u32(0).u32(0).u64(0).build());
    }

    private byte[] lookup() {
        return request(LOOKUP, 502, 1, args().name("data").build());
    }

    private byte[] read() {
        return request(
                READ,
                503,
                file,
                args().u64(fh)
                        .u64(0)
                        .u32(DATA.length)
                        .u32(0)
                        .u64(0)
                        .u32(0)
                        .u32(0)
                        .build());
    }

    private byte[] write(byte[] data) {
        return request(
                WRITE,
                504,
                file,
                args().u64(fh)
                        .u64(0)
                        .u32(data.length)
                        .u32(0)
                        .u64(0)
                        .u32(0)
                        .u32(0)
                        .bytes(data)
                        .build());
    }

    @Test
    void getattrAndLookupAnswerTheSameWhereverTheRequestIsCut() throws Exception {
        for (byte[] request : List.of(getattr(), lookup())) {
            byte[] whole = written(List.of(request), replyRoom(request));
            for (int cut = 1; cut < request.length; cut++) {
                byte[] got = written(
                        List.of(Arrays.copyOfRange(request, 0, cut), Arrays.copyOfRange(request, cut, request.length)),
                        replyRoom(request));
                assertArrayEquals(whole, got, "opcode " + request[4] + ", request cut at " + cut);
            }
        }
    }

    @Test
    void getattrLookupAndReadRepliesAreTheSameWhereverTheReplyRoomIsCut() throws Exception {
        for (byte[] request : List.of(getattr(), lookup(), read())) {
            int room = replyRoom(request);
            byte[] whole = written(List.of(request), room);
            assertEquals(room, whole.length, "the whole room is the reply");
            for (int cut = 1; cut < room; cut++) {
                byte[] got = written(List.of(request), cut, room - cut);
                assertArrayEquals(whole, got, "opcode " + request[4] + ", reply room cut at " + cut);
            }
        }
    }

    @Test
    void aWriteCutAtEveryOffsetWritesItsDataWhole() throws Exception {
        for (int cut = 1; cut < write(DATA).length; cut++) {
            byte[] data = DATA.clone();
            data[cut % data.length] ^= 0x20; // each round writes something the last did not
            byte[] request = write(data);
            byte[] got = written(
                    List.of(Arrays.copyOfRange(request, 0, cut), Arrays.copyOfRange(request, cut, request.length)),
                    OUT_HEADER + 8);
            Reply r = Reply.parse(got, got.length);
            r.ok();
            assertEquals(504, r.unique(), "cut at " + cut);
            assertEquals(data.length, r.body().getInt(0), "bytes written, request cut at " + cut);
            assertArrayEquals(data, fs.contents(file), "file content, request cut at " + cut);
        }
    }

    private int replyRoom(byte[] request) {
        return switch (request[4]) { // the opcode's low byte
            case GETATTR -> ATTR_OUT;
            case LOOKUP -> ENTRY_OUT;
            case READ -> OUT_HEADER + DATA.length;
            default -> throw new IllegalArgumentException("opcode " + request[4]);
        };
    }

    /** What the device wrote (exactly its used length) for {@code readable} with writable buffers of {@code room}. */
    private byte[] written(List<byte[]> readable, int... room) throws Exception {
        try (Submission s = h.driver.submit(1, readable, room)) {
            UsedElement e = h.driver.awaitUsed(1, T);
            assertEquals(s.head(), e.head(), "completion for another chain");
            byte[] out = s.readWritten(e.length());
            Reply.parse(out, e.length()).ok();
            return Arrays.copyOf(out, e.length());
        }
    }
}
