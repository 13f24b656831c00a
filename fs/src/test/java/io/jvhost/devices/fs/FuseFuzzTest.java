package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.nativeio.Errno;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of random and mutated FUSE requests (fixed seed), split over random descriptor
 * layouts: the device answers every chain, every answer is a well-formed out header (or nothing
 * when there is no room or no reply is due), and it goes on serving afterwards.
 */
class FuseFuzzTest {
    private static final int ROUNDS = 6000;
    private static final long[] EXTREMES = {
        0, 1, -1, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, Long.MAX_VALUE, Long.MIN_VALUE, 4096, 1L << 32
    };

    @TempDir
    Path dir;

    @Test
    void malformedAndRandomRequestsNeverBreakTheDevice() throws Exception {
        MemoryFs fs = FuseHarness.defaultFs();
        try (FuseHarness h = FuseHarness.start(dir, fs)) {
            h.init().ok();
            long file = fs.addFile("a", "some file contents".getBytes());
            fs.addFile("b", new byte[5000]);
            long fh = h.call(OPEN, file, args().u32(2).u32(0), OUT_HEADER + 16)
                    .body()
                    .getLong(0);
            long dh = h.call(OPENDIR, 1, args().u32(0).u32(0), OUT_HEADER + 16)
                    .body()
                    .getLong(0);
            List<byte[]> corpus = corpus(file, fh, dh);
            Random rnd = new Random(20261122);
            TreeMap<Integer, Integer> outcomes = new TreeMap<>(); // error (0 = ok, 1 = no reply) -> count
            for (int round = 0; round < ROUNDS; round++) {
                byte[] req = mutate(corpus.get(rnd.nextInt(corpus.size())), rnd);
                int queue = rnd.nextInt(8) == 0 ? 0 : 1;
                List<byte[]> readable = split(req, rnd);
                int[] writable = writableLayout(rnd);
                if (readable.isEmpty() && writable.length == 0)
                    writable = new int[] {OUT_HEADER}; // a chain needs a buffer
                int outcome = sendAndCheck(h, queue, readable, writable, round);
                outcomes.merge(outcome, 1, Integer::sum);
                if (h.device.server().session().isEmpty() && rnd.nextInt(4) == 0) h.init(); // after a DESTROY
            }
            assertTrue(outcomes.getOrDefault(0, 0) > ROUNDS / 20, "too few requests got through: " + outcomes);
            assertTrue(outcomes.getOrDefault(-Errno.EINVAL, 0) > ROUNDS / 20, "too few were malformed: " + outcomes);
            assertTrue(outcomes.getOrDefault(1, 0) > 0, "no chain came back without a reply: " + outcomes);
            assertTrue(h.server.isServing());
            assertEquals(0, h.device.server().unexpectedFailures(), "an unchecked exception escaped somewhere");
            if (h.device.server().session().isEmpty()) h.init().ok();
            h.call(GETATTR, 1, args().u32(0).u32(0).u64(0), OUT_HEADER + 104).ok();
            System.out.println("FUSE fuzz outcomes (error -> count; 1 = no reply): " + outcomes);
        }
    }

    /** Sends one chain and checks the answer; returns the error (0 ok, 1 no reply). */
    private static int sendAndCheck(FuseHarness h, int queue, List<byte[]> readable, int[] writable, int round)
            throws Exception {
        try (Submission s = h.driver.submit(queue, readable, writable)) {
            UsedElement e = h.driver.awaitUsed(queue, T);
            assertEquals(s.head(), e.head(), "round " + round);
            long room = Arrays.stream(writable).asLongStream().sum();
            assertTrue(e.length() <= room, "round " + round + ": used length beyond the buffers");
            if (e.length() == 0) return 1;
            ByteBuffer r = ByteBuffer.wrap(s.readWritten(e.length())).order(ByteOrder.LITTLE_ENDIAN);
            assertTrue(e.length() >= OUT_HEADER, "round " + round + ": reply shorter than an out header");
            assertEquals(e.length(), r.getInt(0), "round " + round + ": out header len is the used length");
            int error = r.getInt(4);
            assertTrue(error <= 0 && error > -512, "round " + round + ": error " + error);
            if (error != 0) assertEquals(OUT_HEADER, e.length(), "round " + round + ": an error carries no payload");
            return error;
        }
    }

    private static List<byte[]> corpus(long file, long fh, long dh) {
        byte[] setattr = args().u32(8)
                .u32(0)
                .u64(0)
                .u64(3)
                .u64(0)
                .u64(0)
                .u64(0)
                .u64(0)
                .u32(0)
                .u32(0)
                .u32(0)
                .u32(0644)
                .u32(0)
                .u32(0)
                .u32(0)
                .u32(0)
                .build();
        return List.of(
                request(LOOKUP, 1, 1, args().name("a").build()),
                request(GETATTR, 2, file, args().u32(1).u32(0).u64(fh).build()),
                request(SETATTR, 3, file, setattr),
                request(
                        READ,
                        4,
                        file,
                        args().u64(fh)
                                .u64(0)
                                .u32(4096)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build()),
                request(
                        WRITE,
                        5,
                        file,
                        args().u64(fh)
                                .u64(3)
                                .u32(10)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .bytes("0123456789".getBytes())
                                .build()),
                request(FORGET, 6, file, args().u64(1).build()),
                request(
                        BATCH_FORGET,
                        7,
                        0,
                        args().u32(2).u32(0).u64(file).u64(1).u64(3).u64(1).build()),
                request(
                        SETXATTR,
                        8,
                        file,
                        args().u32(3)
                                .u32(0)
                                .u32(0)
                                .u32(0)
                                .name("user.x")
                                .bytes("abc".getBytes())
                                .build()),
                request(GETXATTR, 9, file, args().u32(64).u32(0).name("user.x").build()),
                request(LISTXATTR, 10, file, args().u32(0).u32(0).build()),
                request(REMOVEXATTR, 11, file, args().name("user.x").build()),
                request(
                        READDIR,
                        12,
                        1,
                        args().u64(dh)
                                .u64(0)
                                .u32(1024)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build()),
                request(
                        READDIRPLUS,
                        13,
                        1,
                        args().u64(dh)
                                .u64(0)
                                .u32(1024)
                                .u32(0)
                                .u64(0)
                                .u32(0)
                                .u32(0)
                                .build()),
                request(SYMLINK, 14, 1, args().name("l").name("a").build()),
                request(
                        MKNOD,
                        15,
                        1,
                        args().u32(0100644).u32(0).u32(0).u32(0).name("n").build()),
                request(MKDIR, 16, 1, args().u32(0755).u32(0).name("d").build()),
                request(UNLINK, 17, 1, args().name("n").build()),
                request(RMDIR, 18, 1, args().name("d").build()),
                request(RENAME, 19, 1, args().u64(1).name("l").name("m").build()),
                request(
                        RENAME2,
                        20,
                        1,
                        args().u64(1).u32(1).u32(0).name("m").name("l").build()),
                request(LINK, 21, 1, args().u64(file).name("hard").build()),
                request(OPEN, 22, file, args().u32(0).u32(0).build()),
                request(
                        CREATE,
                        23,
                        1,
                        args().u32(2).u32(0644).u32(0).u32(0).name("c").build()),
                request(
                        FALLOCATE,
                        24,
                        file,
                        args().u64(fh).u64(0).u64(100).u32(0).u32(0).build()),
                request(LSEEK, 25, file, args().u64(fh).u64(0).u32(4).u32(0).build()),
                request(
                        COPY_FILE_RANGE,
                        26,
                        file,
                        args().u64(fh)
                                .u64(0)
                                .u64(file)
                                .u64(fh)
                                .u64(20)
                                .u64(5)
                                .u64(0)
                                .build()),
                request(SYNCFS, 27, 1, args().u64(0).build()),
                request(STATFS, 28, 1, new byte[0]),
                request(ACCESS, 29, file, args().u32(4).u32(0).build()),
                request(FLUSH, 30, file, args().u64(fh).u32(0).u32(0).u64(0).build()),
                request(FSYNC, 31, file, args().u64(fh).u32(0).u32(0).build()),
                request(READLINK, 32, 1, new byte[0]),
                request(
                        INIT,
                        33,
                        0,
                        args().u32(7)
                                .u32(41)
                                .u32(0)
                                .u32(0)
                                .u32(0)
                                .bytes(new byte[44])
                                .build()),
                request(DESTROY, 34, 0, new byte[0]),
                request(
                        RELEASE,
                        35,
                        file,
                        args().u64(fh + 1).u32(0).u32(0).u64(0).build()));
    }

    private static byte[] mutate(byte[] valid, Random rnd) {
        byte[] b = valid.clone();
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        switch (rnd.nextInt(9)) {
            case 0 -> { // flip a few bytes anywhere
                for (int i = rnd.nextInt(4) + 1; i > 0; i--) b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
            }
            case 1 -> b = Arrays.copyOf(b, 1 + rnd.nextInt(b.length)); // truncated, len left as it was
            case 2 -> { // longer than len says
                b = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(64));
                for (int i = valid.length; i < b.length; i++) b[i] = (byte) rnd.nextInt();
            }
            case 3 -> le.putInt(0, (int) EXTREMES[rnd.nextInt(EXTREMES.length)] + rnd.nextInt(3) - 1); // len
            case 4 -> le.putInt(4, rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(60)); // opcode
            case 5 -> { // an extreme value in an argument field, len kept consistent
                if (b.length >= IN_HEADER + 8) {
                    int at = IN_HEADER + 4 * rnd.nextInt((b.length - IN_HEADER - 4) / 4);
                    long v = EXTREMES[rnd.nextInt(EXTREMES.length)];
                    if (rnd.nextBoolean() && at + 8 <= b.length) le.putLong(at, v);
                    else le.putInt(at, (int) v);
                }
            }
            case 6 -> { // random bytes, sometimes with a believable header
                b = new byte[1 + rnd.nextInt(200)];
                rnd.nextBytes(b);
                if (b.length >= IN_HEADER && rnd.nextBoolean()) {
                    ByteBuffer.wrap(b)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putInt(0, b.length)
                            .putInt(4, rnd.nextInt(55))
                            .putShort(36, (short) 0);
                }
            }
            case 7 -> le.putShort(36, (short) rnd.nextInt(1 << 16)); // total_extlen
            default -> {} // as it was
        }
        return b;
    }

    /** The request cut into 1 to 4 readable buffers (or none at all, now and then). */
    private static List<byte[]> split(byte[] req, Random rnd) {
        if (rnd.nextInt(100) == 0) return List.of();
        int parts = Math.min(req.length, 1 + rnd.nextInt(4));
        int[] cuts = new int[parts + 1];
        cuts[parts] = req.length;
        for (int i = 1; i < parts; i++) cuts[i] = cuts[i - 1] + 1 + rnd.nextInt(req.length - cuts[i - 1] - (parts - i));
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < parts; i++) out.add(Arrays.copyOfRange(req, cuts[i], cuts[i + 1]));
        return out;
    }

    private static int[] writableLayout(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> new int[0];
            case 1 -> new int[] {1 + rnd.nextInt(15)};
            case 2 -> new int[] {OUT_HEADER};
            case 3 -> new int[] {1 + rnd.nextInt(20), 1 + rnd.nextInt(300), 1 + rnd.nextInt(4096)};
            default -> new int[] {OUT_HEADER + rnd.nextInt(8192)};
        };
    }
}
