package io.jvhost.virtqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class BufferAllocatorTest {
    @Test
    void allocatesAlignedZeroedBuffersAndMergesFreedRuns() {
        try (Arena arena = Arena.ofConfined()) {
            var memory = new DriverMemory(arena.allocate(1024, 64), 0x1008, 0x9008); // gpa not 64-aligned
            BufferAllocator alloc = new BufferAllocator(memory, 64);
            GuestBuffer a = alloc.allocate(10);
            assertEquals(0, a.guestPhysAddr() % 64);
            assertEquals(10, a.length());
            a.segment().fill((byte) 1);
            GuestBuffer b = alloc.allocate(100);
            GuestBuffer c = alloc.allocate(64);
            assertEquals(a.guestPhysAddr() + 64, b.guestPhysAddr());
            assertEquals(b.guestPhysAddr() + 128, c.guestPhysAddr());
            alloc.free(a);
            assertEquals(0, alloc.allocate(10).segment().get(ValueLayout.JAVA_BYTE, 0), "zeroed on allocation");
            assertThrows(IllegalArgumentException.class, () -> alloc.free(new GuestBuffer(12345, a.segment())));
            long before = alloc.freeBytes();
            alloc.free(b);
            alloc.free(c);
            assertEquals(before + 192, alloc.freeBytes());
            assertNull(alloc.tryAllocate(2048));
            GuestBuffer merged = alloc.allocate(before + 192 - 8); // 896: the whole merged run, 64-aligned
            assertEquals(b.guestPhysAddr(), merged.guestPhysAddr(), "freed runs merged into one");
            assertThrows(IllegalStateException.class, () -> alloc.allocate(1));
        }
    }
}
