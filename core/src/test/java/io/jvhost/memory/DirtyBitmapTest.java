package io.jvhost.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DirtyBitmapTest {
    Arena arena;
    MemorySegment bytes; // 64 bytes: 512 pages, 2 MiB of guest memory
    DirtyBitmap bitmap;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        bytes = arena.allocate(64, 8);
        bitmap = DirtyBitmap.over(bytes);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    int byteAt(int i) {
        return bytes.get(ValueLayout.JAVA_BYTE, i) & 0xff;
    }

    @Test
    void pageNIsBitNModulo8OfByteNDividedBy8() {
        bitmap.markDirty(0, 1);
        assertEquals(0b1, byteAt(0));
        bitmap.markDirty(0x1000, 1);
        assertEquals(0b11, byteAt(0));
        bitmap.markDirty(0x7fff, 1);
        assertEquals(0b1000_0011, byteAt(0));
        bitmap.markDirty(0x8000, 1);
        assertEquals(0b1, byteAt(1));
        bitmap.markDirty(0x12345, 1); // page 0x12 = 18: byte 2, bit 2
        assertEquals(0b100, byteAt(2));
        assertEquals(3 + 1 + 1, countBits());
    }

    @Test
    void rangesMarkEveryPageTheyTouch() {
        bitmap.markDirty(0x7fff, 2); // pages 7 and 8
        assertEquals(0x80, byteAt(0));
        assertEquals(0x01, byteAt(1));
        bitmap.markDirty(0x3000 + 0x10, 0x3000); // pages 3..6
        assertEquals(0x80 | 0x78, byteAt(0));
        bitmap.markDirty(0x3f000, 0x2000); // pages 63 and 64: across a 64-bit word
        assertEquals(0x80, byteAt(7));
        assertEquals(0x01, byteAt(8));
        bitmap.markDirty(0x100000, 0x10000); // pages 256..271: bytes 32 and 33 whole
        assertEquals(0xff, byteAt(32));
        assertEquals(0xff, byteAt(33));
        assertEquals(0, byteAt(34));
        assertEquals(2 + 4 + 2 + 16, countBits());
    }

    @Test
    void lengthZeroMarksNothing() {
        bitmap.markDirty(0x5000, 0);
        bitmap.markDirty(0x5000, -4);
        assertEquals(0, countBits());
    }

    @Test
    void beyondTheLogIsIgnoredAndCounted() {
        bitmap.markDirty(0x200000, 1); // page 512: first one past the log
        assertEquals(0, countBits());
        assertEquals(1, bitmap.outOfRangeCount());
        bitmap.markDirty(0x1ff000, 0x2000); // last page inside, one outside
        assertEquals(0x80, byteAt(63));
        assertEquals(2, bitmap.outOfRangeCount());
        bitmap.markDirty(-0x1000L, 0x3000); // wraps past 2^64
        bitmap.markDirty(Long.MIN_VALUE, Long.MAX_VALUE);
        assertEquals(1, countBits());
        assertEquals(4, bitmap.outOfRangeCount());
        assertEquals(0x200000, bitmap.coveredBytes());
    }

    @Test
    void collectAndClearHarvestsEachPageOnce() {
        bitmap.markDirty(0x1000, 1);
        bitmap.markDirty(0x41000, 0x1000);
        List<Long> pages = new ArrayList<>();
        assertEquals(2, bitmap.collectAndClear(pages::add));
        assertEquals(List.of(0x1000L, 0x41000L), pages);
        assertEquals(0, countBits());
        assertEquals(0, bitmap.collectAndClear(pages::add));
    }

    @Test
    void concurrentMarkersNeverLoseBits() throws Exception {
        int rounds = 200;
        CyclicBarrier start = new CyclicBarrier(2);
        CyclicBarrier clearsDone = new CyclicBarrier(2);
        List<Thread> threads = new ArrayList<>();
        for (int parity = 0; parity < 2; parity++) {
            int p = parity;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    // Marking races with clearing first, then (after the last clear) only with
                    // the other thread's marking of the neighbouring bits in the same words.
                    for (int r = 0; r < rounds; r++) {
                        for (long page = p; page < bitmap.pageCount(); page += 2) bitmap.markDirty(page << 12, 1);
                        if (r % 50 == 0 && p == 0) bitmap.collectAndClear(x -> {});
                    }
                    clearsDone.await();
                    for (int r = 0; r < rounds / 4; r++) {
                        for (long page = p; page < bitmap.pageCount(); page += 2) bitmap.markDirty(page << 12, 1);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (Thread t : threads) t.join();
        // Both threads' last rounds ran after every clear, so every page must be set now.
        for (long page = 0; page < bitmap.pageCount(); page++) {
            assertTrue(bitmap.isDirty(page << 12), "page " + page);
        }
    }

    @Test
    void mapsTheFrontEndsLogAtAnOffset() throws Exception {
        try (Memfd file = new Memfd("log", 8192)) {
            DirtyBitmap mapped = DirtyBitmap.map(file.fd(), 4096, 100); // 800 pages; size not a word multiple
            try {
                mapped.markDirty(0, 1);
                mapped.markDirty(799L << 12, 1);
                mapped.markDirty(800L << 12, 1);
                assertEquals(1, file.view().get(ValueLayout.JAVA_BYTE, 4096));
                assertEquals((byte) 0x80, file.view().get(ValueLayout.JAVA_BYTE, 4096 + 99));
                assertEquals(0, file.view().get(ValueLayout.JAVA_BYTE, 4096 + 100));
                assertEquals(1, mapped.outOfRangeCount());
                assertEquals(0, file.view().get(ValueLayout.JAVA_BYTE, 0), "nothing before the offset");
            } finally {
                mapped.close();
            }
            assertThrows(GuestMemoryException.class, () -> DirtyBitmap.map(file.fd(), 4, 100));
            assertThrows(GuestMemoryException.class, () -> DirtyBitmap.map(file.fd(), 0, 0));
        }
    }

    @Test
    void overRequiresWholeAlignedWords() {
        assertThrows(IllegalArgumentException.class, () -> DirtyBitmap.over(arena.allocate(12, 8)));
        assertThrows(
                IllegalArgumentException.class,
                () -> DirtyBitmap.over(arena.allocate(24, 8).asSlice(4, 16)));
        assertFalse(bitmap.isDirty(1L << 40));
    }

    long countBits() {
        long n = 0;
        for (int i = 0; i < 64; i++) n += Integer.bitCount(byteAt(i));
        return n;
    }
}
