package io.jvhost.virtqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemory;
import io.jvhost.memory.MemoryRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SplitQueueSetupTest {
    static final long GPA = 0x100000, UA = 0x7000_0000_0000L;
    Arena arena;
    GuestMemory memory;
    SplitQueue queue;

    @BeforeEach
    void setUp() throws Exception {
        arena = Arena.ofConfined();
        MemorySegment ram = arena.allocate(0x10000, 4096);
        memory = GuestMemory.of(List.of(MemoryRegion.over(GPA, UA, ram)));
        queue = new SplitQueue(memory, DirtyLog.NONE);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    VringAddresses at(long desc, long avail, long used) {
        return new VringAddresses(0, UA + desc, UA + used, UA + avail, GPA + used);
    }

    @Test
    void sizeMustBeAPowerOfTwoUpTo32768() throws Exception {
        for (int bad : new int[] {0, 3, 100, 65536, -1, 32769}) {
            var e = assertThrows(VirtqueueException.class, () -> queue.setSize(bad));
            assertTrue(e.getMessage().contains("power of two"), e.getMessage());
        }
        queue.setSize(1);
        queue.setSize(32768);
        assertEquals(32768, queue.size());
    }

    @Test
    void addressesNeedASizeAlignmentAndMemory() throws Exception {
        assertThrows(VirtqueueException.class, () -> queue.setAddresses(at(0, 0x1000, 0x2000)));
        queue.setSize(256);
        var desc = assertThrows(VirtqueueException.class, () -> queue.setAddresses(at(8, 0x1000, 0x2000)));
        assertTrue(desc.getMessage().contains("16-byte aligned"), desc.getMessage());
        assertThrows(VirtqueueException.class, () -> queue.setAddresses(at(0, 0x1001, 0x2000)));
        assertThrows(VirtqueueException.class, () -> queue.setAddresses(at(0, 0x1000, 0x2002)));
        // Used ring of 6 + 8 * 256 = 2054 bytes does not fit 2048 bytes before the end.
        var tail = assertThrows(VirtqueueException.class, () -> queue.setAddresses(at(0, 0x1000, 0x10000 - 2048)));
        assertTrue(tail.getMessage().contains("not in guest memory"), tail.getMessage());
        queue.setAddresses(at(0, 0x1000, 0x10000 - 2056));
        var outside = new VringAddresses(0, 0x1000, UA, UA, 0);
        assertThrows(VirtqueueException.class, () -> queue.setAddresses(outside));
    }

    @Test
    void baseIsSixteenBits() throws Exception {
        queue.setBase(0xFFFF);
        assertEquals(0xFFFF, queue.nextAvailIndex());
        assertThrows(VirtqueueException.class, () -> queue.setBase(0x10000));
        assertThrows(VirtqueueException.class, () -> queue.setBase(-1));
    }

    @Test
    void lifecycleIsEnforced() throws Exception {
        assertThrows(IllegalStateException.class, queue::pop);
        assertThrows(VirtqueueException.class, queue::start);
        queue.setSize(16);
        queue.setAddresses(at(0, 0x1000, 0x2000));
        queue.setBase(7);
        queue.start();
        assertThrows(VirtqueueException.class, () -> queue.setBase(0));
        assertThrows(VirtqueueException.class, () -> queue.setSize(32));
        queue.setEventIdx(false); // same value: allowed on a running ring
        assertThrows(IllegalStateException.class, () -> queue.setEventIdx(true));
        assertEquals(7, queue.stop());
        queue.setEventIdx(true);
    }
}
