package io.jvhost.virtqueue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A guest may cut a request or reply into descriptors anywhere: Linux splits at page and sg
 * boundaries, a hostile guest anywhere at all. These pin that every reader and writer of a chain
 * gives the same bytes and the same fields whatever the cut, at every offset (one cut, and every
 * pair of cuts in a shorter record), so that an optimisation of the copy paths (issue 11: fewer
 * copies, bigger batches) cannot change what a device sees.
 */
class ChainBoundaryTest {
    /** A little-endian record of every width, then bytes: what a FUSE header and its payload look like. */
    private static byte[] record(int tail) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + 2 + 1 + tail).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0x0123_4567_89ab_cdefL)
                .putInt(0xfedc_ba98)
                .putShort((short) 0x7654)
                .put((byte) 0x32);
        for (int i = 0; i < tail; i++) b.put((byte) (i * 7 + 1));
        return b.array();
    }

    @Test
    void typedReadsGiveTheSameFieldsWhereverTheReadablePartIsCut() throws Exception {
        byte[] rec = record(17);
        for (int cut = 1; cut < rec.length; cut++) {
            assertReads(
                    rec,
                    List.of(Arrays.copyOfRange(rec, 0, cut), Arrays.copyOfRange(rec, cut, rec.length)),
                    "cut at " + cut);
        }
    }

    @Test
    void typedReadsGiveTheSameFieldsForEveryPairOfCuts() throws Exception {
        byte[] rec = record(5);
        for (int a = 1; a < rec.length; a++) {
            for (int b = a + 1; b < rec.length; b++) {
                assertReads(
                        rec,
                        List.of(
                                Arrays.copyOfRange(rec, 0, a),
                                Arrays.copyOfRange(rec, a, b),
                                Arrays.copyOfRange(rec, b, rec.length)),
                        "cuts at " + a + " and " + b);
            }
        }
    }

    @Test
    void bulkReadsIntoArraysBuffersAndSegmentsAgreeAtEveryCut() throws Exception {
        byte[] rec = record(40);
        for (int cut = 1; cut < rec.length; cut++) {
            List<byte[]> parts = List.of(Arrays.copyOfRange(rec, 0, cut), Arrays.copyOfRange(rec, cut, rec.length));
            try (RingFixture f = new RingFixture(16, false, 0)) {
                for (int way = 0; way < 3; way++) f.driver.submit(parts, new int[0], false);
                assertArrayEquals(rec, f.device.pop().readAll(), "readAll, cut at " + cut);
                ByteBuffer bb = ByteBuffer.allocate(rec.length);
                f.device.pop().reader().read(bb);
                assertArrayEquals(rec, bb.array(), "read(ByteBuffer), cut at " + cut);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment seg = arena.allocate(rec.length);
                    f.device.pop().reader().readFully(seg);
                    assertArrayEquals(
                            rec,
                            seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            "readFully(segment), cut at " + cut);
                }
            }
        }
    }

    @Test
    void typedWritesLandTheSameBytesWhereverTheWritablePartIsCut() throws Exception {
        byte[] rec = record(17);
        for (int cut = 1; cut < rec.length; cut++) {
            assertWrites(rec, new int[] {cut, rec.length - cut}, "cut at " + cut);
        }
        for (int a = 1; a < 15; a++) {
            for (int b = a + 1; b < 16; b++)
                assertWrites(rec, new int[] {a, b - a, rec.length - b}, "cuts at " + a + ", " + b);
        }
    }

    private static void assertReads(byte[] rec, List<byte[]> parts, String what) throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            f.driver.submit(parts, new int[0], false);
            DescriptorChain chain = f.device.pop();
            assertEquals(parts.size(), chain.readableCount(), what);
            ChainReader r = chain.reader();
            assertEquals(0x0123_4567_89ab_cdefL, r.readLong(), what);
            assertEquals(0xfedc_ba98, r.readInt(), what);
            assertEquals((short) 0x7654, r.readShort(), what);
            assertEquals((byte) 0x32, r.readByte(), what);
            byte[] tail = new byte[rec.length - 15];
            r.readFully(tail);
            assertArrayEquals(Arrays.copyOfRange(rec, 15, rec.length), tail, what);
            assertEquals(0, r.remaining(), what);
        }
    }

    private static void assertWrites(byte[] rec, int[] writable, String what) throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            Submission s = f.driver.submit(List.of(), writable, false);
            DescriptorChain chain = f.device.pop();
            ChainWriter w = chain.writer();
            w.writeLong(0x0123_4567_89ab_cdefL);
            w.writeInt(0xfedc_ba98);
            w.writeShort((short) 0x7654);
            w.writeByte((byte) 0x32);
            w.write(ByteBuffer.wrap(rec, 15, 4));
            w.write(Arrays.copyOfRange(rec, 19, rec.length));
            assertEquals(rec.length, w.position(), what);
            f.device.addUsed(chain, w.position());
            UsedElement used = f.driver.pollUsed();
            assertEquals(s.head(), used.head(), what);
            assertArrayEquals(rec, used.response(), what);
            List<Integer> lengths = new ArrayList<>();
            for (int l : writable) lengths.add(l);
            assertEquals(writable.length, chain.writableCount(), what + " " + lengths);
        }
    }
}
