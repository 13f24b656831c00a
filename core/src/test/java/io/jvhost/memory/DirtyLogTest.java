package io.jvhost.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DirtyLogTest {
    Arena arena;
    DirtyLog log;
    MemorySegment guest;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        log = new DirtyLog();
        log.setBitmap(DirtyBitmap.over(arena.allocate(64, 8)));
        guest = arena.allocate(0x10000, 4096);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    @Test
    void disabledLogMarksNothing() {
        log.markDirty(0x1000, 0x3000);
        new LoggedSegment(guest, 0, log).putLong(0x5000, 1);
        assertFalse(log.bitmap().isDirty(0x1000));
        assertFalse(log.bitmap().isDirty(0x5000));
        log.setEnabled(true);
        log.markDirty(0x1000, 1);
        assertTrue(log.bitmap().isDirty(0x1000));
        log.setEnabled(false);
        log.markDirty(0x2000, 1);
        assertFalse(log.bitmap().isDirty(0x2000));
    }

    @Test
    void noBitmapYetIsHarmless() {
        DirtyLog fresh = new DirtyLog();
        fresh.setEnabled(true);
        fresh.markDirty(0, 100);
        assertThrows(UnsupportedOperationException.class, () -> DirtyLog.NONE.setEnabled(true));
    }

    @Test
    void everyLoggedSegmentWriteMarksItsPages() {
        log.setEnabled(true);
        LoggedSegment s = new LoggedSegment(guest, 0x10000, log); // guest memory at gpa 0x10000
        s.putByte(0x0, (byte) 1);
        s.putShort(0x1ffe, (short) 1);
        s.putInt(0x2ffe, 1); // crosses into page 0x13
        s.put(0x4000, new byte[10], 0, 10);
        s.copyFrom(0x5000, MemorySegment.ofArray(new byte[0x1001]), 0, 0x1001);
        s.copyFrom(0x7000, ByteBuffer.allocate(3));
        s.fill(0x8000, 1, (byte) 0);
        s.putShortRelease(0x9000, (short) 3);
        s.unloggedView().set(ValueLayout.JAVA_BYTE, 0xa000, (byte) 1);
        s.slice(0xb000, 0x100).putLong(0x10, 5);
        long[] expected = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1b};
        long[] notExpected = {0x1a, 0x1c, 0x1d};
        for (long page : expected) assertTrue(log.bitmap().isDirty(page << 12), "page 0x" + Long.toHexString(page));
        for (long page : notExpected) assertFalse(log.bitmap().isDirty(page << 12), "page 0x" + Long.toHexString(page));
        s.markWritten(0xa000, 1);
        assertTrue(log.bitmap().isDirty(0x1a000), "raw writes are logged on markWritten");
        assertThrows(IndexOutOfBoundsException.class, () -> s.markWritten(0xffff, 2));
    }

    @Test
    void replacingTheBitmapUnmapsTheOldOneAndMarksGoToTheNew() throws Exception {
        try (Memfd first = new Memfd("log1", 4096);
                Memfd second = new Memfd("log2", 4096)) {
            DirtyLog shared = new DirtyLog();
            shared.setEnabled(true);
            shared.setBase(first.fd(), 0, 64);
            DirtyBitmap old = shared.bitmap();
            shared.markDirty(0x1000, 1);
            shared.setBase(second.fd(), 0, 64);
            shared.markDirty(0x2000, 1);
            assertEquals(0b010, first.view().get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0b100, second.view().get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> old.markDirty(0, 1), "old log unmapped");
            shared.close();
            assertFalse(shared.isEnabled());
            shared.markDirty(0x3000, 1); // no bitmap any more: ignored
        }
    }

    @Test
    void readOnlyViewOfALoggedSegmentReads() {
        LoggedSegment s = new LoggedSegment(guest, 0, DirtyLog.NONE);
        s.putInt(8, 0x01020304);
        assertEquals(0x01020304, s.getInt(8));
        assertTrue(s.readOnly().isReadOnly());
        assertThrows(IllegalArgumentException.class, () -> new LoggedSegment(guest.asReadOnly(), 0, log));
    }
}
