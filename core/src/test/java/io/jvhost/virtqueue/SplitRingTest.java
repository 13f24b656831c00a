package io.jvhost.virtqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SplitRingTest {
    @Test
    void needEventIsTrueWhenTheEventIndexLiesInOldToNew() {
        assertTrue(SplitRing.needEvent(0, 1, 0));
        assertTrue(SplitRing.needEvent(4, 5, 4));
        assertFalse(SplitRing.needEvent(5, 5, 4));
        assertFalse(SplitRing.needEvent(3, 5, 4));
        assertTrue(SplitRing.needEvent(3, 9, 2));
        assertFalse(SplitRing.needEvent(9, 9, 2));
        assertFalse(SplitRing.needEvent(4, 4, 4), "nothing new");
        // 16-bit wrap-around
        assertTrue(SplitRing.needEvent(65535, 1, 65534));
        assertTrue(SplitRing.needEvent(0, 1, 65535));
        assertFalse(SplitRing.needEvent(1, 1, 65535));
        assertTrue(SplitRing.needEvent(65535, 0, 65535));
    }

    @Test
    void layoutSizes() {
        assertEquals(16 * 256, SplitRing.descTableBytes(256));
        assertEquals(6 + 2 * 256, SplitRing.availRingBytes(256));
        assertEquals(6 + 8 * 256, SplitRing.usedRingBytes(256));
        assertEquals(4 + 2 * 256, SplitRing.usedEventOffset(256));
        assertEquals(4 + 8 * 256, SplitRing.availEventOffset(256));
        assertTrue(SplitRing.isValidSize(1));
        assertFalse(SplitRing.isValidSize(0));
        assertFalse(SplitRing.isValidSize(65536));
        assertEquals(1024, SplitRing.maxChainLength(16));
        assertEquals(4096, SplitRing.maxChainLength(4096));
    }
}
