package io.jvhost.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    // A and B are adjacent in guest-physical space, C sits after a gap.
    static final long A_GPA = 0x10000, A_SIZE = 0x4000, A_UA = 0x7f00_0000_0000L;
    static final long B_GPA = 0x14000, B_SIZE = 0x2000, B_UA = 0x7e00_0000_0000L;
    static final long C_GPA = 0x100000, C_SIZE = 0x1000, C_UA = 0x7d00_0000_0000L;

    Arena arena;
    MemorySegment a, b, c;
    GuestMemory memory;

    @BeforeEach
    void setUp() throws GuestMemoryException {
        arena = Arena.ofConfined();
        a = arena.allocate(A_SIZE, 4096);
        b = arena.allocate(B_SIZE, 4096);
        c = arena.allocate(C_SIZE, 4096);
        memory = GuestMemory.of(List.of(
                MemoryRegion.over(C_GPA, C_UA, c),
                MemoryRegion.over(A_GPA, A_UA, a),
                MemoryRegion.over(B_GPA, B_UA, b)));
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    @Test
    void slicesAtRegionEdges() throws GuestMemoryException {
        a.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        a.set(ValueLayout.JAVA_BYTE, A_SIZE - 1, (byte) 2);
        assertEquals(1, memory.slice(A_GPA, 1).get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(2, memory.slice(A_GPA + A_SIZE - 1, 1).get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(A_SIZE, memory.slice(A_GPA, A_SIZE).byteSize());
        assertEquals(0, memory.slice(A_GPA + 5, 0).byteSize());
        assertEquals(b.address(), memory.slice(A_GPA + A_SIZE, 0).address(), "end of A is the start of B");
        assertEquals(c.address() + 0xfff, memory.slice(C_GPA + C_SIZE - 1, 1).address());
    }

    @Test
    void slicesAreReadOnly() throws GuestMemoryException {
        assertTrue(memory.slice(A_GPA, 16).isReadOnly());
        assertTrue(memory.sliceUserAddr(A_UA, 16).isReadOnly());
    }

    @Test
    void rejectsAddressesOutsideGuestMemory() {
        var below = assertThrows(GuestMemoryException.class, () -> memory.slice(A_GPA - 1, 1));
        assertTrue(below.getMessage().contains("0xffff"), below.getMessage());
        assertEquals(A_GPA - 1, below.address());
        var gap = assertThrows(GuestMemoryException.class, () -> memory.slice(B_GPA + B_SIZE, 1));
        assertTrue(gap.getMessage().contains("0x16000"), gap.getMessage());
        assertThrows(GuestMemoryException.class, () -> memory.slice(C_GPA + C_SIZE, 0));
        assertThrows(GuestMemoryException.class, () -> memory.slice(0, 1));
        assertThrows(GuestMemoryException.class, () -> memory.slice(-1L, 1));
    }

    @Test
    void rejectsRangesRunningPastARegion() {
        var e = assertThrows(GuestMemoryException.class, () -> memory.slice(C_GPA + 0x800, 0x801));
        assertTrue(e.getMessage().contains("0x100800"), e.getMessage());
        assertThrows(GuestMemoryException.class, () -> memory.slice(C_GPA, C_SIZE + 1));
        assertThrows(GuestMemoryException.class, () -> memory.slice(C_GPA, Long.MAX_VALUE));
        assertThrows(GuestMemoryException.class, () -> memory.slice(C_GPA, -1));
    }

    @Test
    void rejectsOverflowNearTheTopOfTheAddressSpace() throws GuestMemoryException {
        MemorySegment top = arena.allocate(0x1000, 4096);
        long topGpa = -0x2000L; // 0xffff_ffff_ffff_e000: ends 0x1000 below 2^64
        GuestMemory high = GuestMemory.of(List.of(MemoryRegion.over(topGpa, 0x1000, top)));
        assertEquals(0x1000, high.slice(topGpa, 0x1000).byteSize());
        assertThrows(GuestMemoryException.class, () -> high.slice(topGpa + 0x800, 0x1000));
        assertThrows(GuestMemoryException.class, () -> high.slice(topGpa + 1, Long.MAX_VALUE));
        assertThrows(GuestMemoryException.class, () -> high.slice(-1L, 2));
        assertThrows(GuestMemoryException.class, () -> high.ranges(topGpa, Long.MAX_VALUE));
        assertThrows(GuestMemoryException.class, () -> high.ranges(-1L, 2));
    }

    @Test
    void regionDescriptorsThatOverflowOrAreEmptyAreRejected() {
        assertThrows(GuestMemoryException.class, () -> new RegionDescriptor(0, 0, 0, 0).validate());
        assertThrows(GuestMemoryException.class, () -> new RegionDescriptor(0, -1, 0, 0).validate());
        assertThrows(GuestMemoryException.class, () -> new RegionDescriptor(-0x1000L, 0x1000, 0, 0).validate());
        assertThrows(GuestMemoryException.class, () -> new RegionDescriptor(0, 0x1000, -0x800L, 0).validate());
        assertThrows(GuestMemoryException.class, () -> new RegionDescriptor(0, 0x1000, 0, -1).validate());
        assertThrows(
                GuestMemoryException.class,
                () -> new RegionDescriptor(0, 0x1000, 0, Long.MAX_VALUE - 0x800).validate());
    }

    @Test
    void crossingAdjacentRegionsNeedsTheSpanningForm() throws GuestMemoryException {
        long start = A_GPA + A_SIZE - 0x10;
        assertThrows(GuestMemoryException.class, () -> memory.slice(start, 0x20));
        List<GuestRange> pieces = memory.ranges(start, 0x20);
        assertEquals(List.of(new GuestRange(start, 0x10), new GuestRange(B_GPA, 0x10)), pieces);
        List<MemorySegment> segments = memory.sliceSpanning(start, 0x20);
        assertEquals(a.address() + A_SIZE - 0x10, segments.get(0).address());
        assertEquals(b.address(), segments.get(1).address());
        // B ends in a gap: spanning stops there.
        var e = assertThrows(GuestMemoryException.class, () -> memory.ranges(B_GPA + B_SIZE - 1, 2));
        assertTrue(e.getMessage().contains("0x16000"), e.getMessage());
        assertEquals(1, memory.ranges(C_GPA, C_SIZE).size());
    }

    @Test
    void translatesUserAddresses() throws GuestMemoryException {
        b.set(ValueLayout.JAVA_INT, 0x10, 0x12345678);
        assertEquals(0x12345678, memory.sliceUserAddr(B_UA + 0x10, 4).get(ValueLayout.JAVA_INT, 0));
        assertEquals(B_GPA + 0x10, memory.userToGuestPhys(B_UA + 0x10));
        var e = assertThrows(GuestMemoryException.class, () -> memory.sliceUserAddr(B_UA + B_SIZE - 2, 4));
        assertTrue(e.getMessage().contains(Long.toHexString(B_UA + B_SIZE - 2)), e.getMessage());
        assertThrows(GuestMemoryException.class, () -> memory.sliceUserAddr(0x1234, 1));
        assertThrows(GuestMemoryException.class, () -> memory.userToGuestPhys(A_UA + A_SIZE));
    }

    @Test
    void writableRangesLogAtTheirGuestAddress() throws GuestMemoryException {
        MemorySegment words = arena.allocate(64, 8);
        DirtyLog log = new DirtyLog();
        log.setBitmap(DirtyBitmap.over(words));
        log.setEnabled(true);
        LoggedSegment w = memory.writable(B_GPA + 0x1000, 8, log);
        w.putLong(0, 42);
        assertEquals(42, memory.slice(B_GPA + 0x1000, 8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        assertTrue(log.bitmap().isDirty(B_GPA + 0x1000));
        assertFalse(log.bitmap().isDirty(B_GPA));
        LoggedSegment ring = memory.writableUserAddr(A_UA, 8, 0x3000, log);
        ring.putShort(0, (short) 1);
        assertTrue(log.bitmap().isDirty(0x3000), "user-address writes log at the given log address");
    }

    @Test
    void overlappingRegionsAreRejected() {
        var e = assertThrows(
                GuestMemoryException.class,
                () -> GuestMemory.of(List.of(
                        MemoryRegion.over(0x1000, 0, arena.allocate(0x2000)),
                        MemoryRegion.over(0x2000, 0x10000, arena.allocate(0x1000)))));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    }

    @Test
    void regionLookup() {
        assertSame(memory.regions().get(1), memory.regionAt(B_GPA + 5));
        assertNull(memory.regionAt(0x20000));
        assertEquals(3, memory.regionCount());
        assertTrue(GuestMemory.EMPTY.isEmpty());
        assertThrows(GuestMemoryException.class, () -> GuestMemory.EMPTY.slice(0, 0));
    }
}
