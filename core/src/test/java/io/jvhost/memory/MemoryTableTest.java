package io.jvhost.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MemoryTableTest {
    static final long LOW_SIZE = 0x20000, HIGH_SIZE = 0x10000;
    Memfd ram;
    MemoryTable table;

    @BeforeEach
    void setUp() throws Exception {
        ram = new Memfd("guest-ram", LOW_SIZE + HIGH_SIZE);
        table = new MemoryTable();
    }

    @AfterEach
    void tearDown() {
        table.close();
        ram.close();
    }

    /** Like QEMU's pc machine: one RAM file, split into a low and a high region at an mmap offset. */
    List<RegionDescriptor> splitRam() {
        return List.of(
                new RegionDescriptor(0, LOW_SIZE, ram.userAddr(), 0),
                new RegionDescriptor(0x1_0000_0000L, HIGH_SIZE, ram.userAddr() + LOW_SIZE, LOW_SIZE));
    }

    @Test
    void replaceAllMapsRegionsAtTheirMmapOffset() throws Exception {
        table.replaceAll(splitRam(), List.of(ram.fd(), ram.fd()));
        ram.view().set(ValueLayout.JAVA_LONG, LOW_SIZE + 0x100, 0xfeedL);
        ram.view().set(ValueLayout.JAVA_LONG, 0x100, 0xbeefL);
        GuestMemory m = table.current();
        assertEquals(0xfeedL, m.slice(0x1_0000_0100L, 8).get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0xbeefL, m.slice(0x100, 8).get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0x1_0000_0100L, m.userToGuestPhys(ram.userAddr() + LOW_SIZE + 0x100));
        // Back-end writes are seen by the front-end's mapping: it is shared memory.
        m.writable(0x1_0000_0200L, 8, DirtyLog.NONE).putLong(0, 7);
        assertEquals(7, ram.view().get(ValueLayout.JAVA_LONG, LOW_SIZE + 0x200));
    }

    @Test
    void replaceAllSwapsTheWholeTableAndUnmapsTheOldOne() throws Exception {
        table.replaceAll(splitRam(), List.of(ram.fd(), ram.fd()));
        GuestMemory before = table.current();
        MemorySegment old = before.slice(0x100, 8);
        table.replaceAll(List.of(new RegionDescriptor(0x2000_0000L, LOW_SIZE, ram.userAddr(), 0)), List.of(ram.fd()));
        assertEquals(1, table.current().regionCount());
        assertThrows(GuestMemoryException.class, () -> table.current().slice(0x100, 8));
        assertEquals(2, before.regionCount(), "an old snapshot keeps its shape");
        assertThrows(IllegalStateException.class, () -> old.get(ValueLayout.JAVA_LONG, 0), "old mapping is gone");
    }

    @Test
    void replaceAllIsAllOrNothing() throws Exception {
        table.replaceAll(splitRam(), List.of(ram.fd(), ram.fd()));
        GuestMemory before = table.current();
        var overlapping = List.of(
                new RegionDescriptor(0, LOW_SIZE, ram.userAddr(), 0),
                new RegionDescriptor(0x1000, 0x1000, ram.userAddr(), 0));
        assertThrows(GuestMemoryException.class, () -> table.replaceAll(overlapping, List.of(ram.fd(), ram.fd())));
        var invalid = List.of(new RegionDescriptor(0, 0, ram.userAddr(), 0));
        assertThrows(GuestMemoryException.class, () -> table.replaceAll(invalid, List.of(ram.fd())));
        assertSame(before, table.current());
        assertEquals(0, before.slice(0x100, 8).get(ValueLayout.JAVA_LONG, 0), "old table still mapped");
    }

    @Test
    void addAndRemoveOneRegionAtATime() throws Exception {
        RegionDescriptor low = splitRam().get(0), high = splitRam().get(1);
        table.add(low, ram.fd());
        GuestMemory withLow = table.current();
        table.add(high, ram.fd());
        assertEquals(2, table.current().regionCount());
        assertEquals(1, withLow.regionCount(), "snapshots are immutable");

        MemorySegment highSlice = table.current().slice(0x1_0000_0000L, 8);
        // Matched by gpa + size + user address; the mmap offset is ignored (spec).
        assertEquals(1, table.remove(new RegionDescriptor(high.guestPhysAddr(), high.size(), high.userAddr(), 0x999)));
        assertThrows(GuestMemoryException.class, () -> table.current().slice(0x1_0000_0000L, 8));
        assertThrows(IllegalStateException.class, () -> highSlice.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0, table.current().slice(0, 8).get(ValueLayout.JAVA_LONG, 0), "other region untouched");
    }

    @Test
    void removeNeedsAnExactMatch() throws Exception {
        RegionDescriptor low = splitRam().get(0);
        table.add(low, ram.fd());
        GuestMemory before = table.current();
        var wrongSize = new RegionDescriptor(low.guestPhysAddr(), low.size() / 2, low.userAddr(), 0);
        var wrongUser = new RegionDescriptor(low.guestPhysAddr(), low.size(), low.userAddr() + 0x1000, 0);
        var e = assertThrows(GuestMemoryException.class, () -> table.remove(wrongSize));
        assertTrue(e.getMessage().contains("no memory region matches"), e.getMessage());
        assertThrows(GuestMemoryException.class, () -> table.remove(wrongUser));
        assertSame(before, table.current());
    }

    @Test
    void addRejectsOverlapAndFullSlots() throws Exception {
        MemoryTable small = new MemoryTable(2);
        try {
            small.add(new RegionDescriptor(0, 0x1000, ram.userAddr(), 0), ram.fd());
            assertThrows(
                    GuestMemoryException.class,
                    () -> small.add(new RegionDescriptor(0x800, 0x1000, ram.userAddr(), 0), ram.fd()));
            small.add(new RegionDescriptor(0x1000, 0x1000, ram.userAddr() + 0x1000, 0x1000), ram.fd());
            var full = assertThrows(
                    GuestMemoryException.class,
                    () -> small.add(new RegionDescriptor(0x2000, 0x1000, ram.userAddr() + 0x2000, 0x2000), ram.fd()));
            assertTrue(full.getMessage().contains("no free memory slot"), full.getMessage());
            assertEquals(2, small.current().regionCount());
        } finally {
            small.close();
        }
        assertEquals(509, new MemoryTable().maxSlots());
    }

    @Test
    void inProcessRegionsAreNotUnmappedByTheTable() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment own = arena.allocate(0x1000, 4096);
            table.add(MemoryRegion.over(0x5000, own.address(), own));
            table.remove(new RegionDescriptor(0x5000, 0x1000, own.address(), 0));
            own.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // still ours
        }
    }

    @Test
    void regionHeldByANativeCallIsUnmappedOnceTheCallReturns() throws Exception {
        table.add(splitRam().get(0), ram.fd());
        MemorySegment target = table.current().writable(0, 8, DirtyLog.NONE).unloggedView();
        Fd[] pipe = Libc.pipe2(Libc.O_CLOEXEC);
        try (Fd readEnd = pipe[0];
                Fd writeEnd = pipe[1]) {
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
                try {
                    return Libc.read(readEnd, target, 8); // holds the region's arena while blocked
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200);
            table.remove(splitRam().get(0));
            assertEquals(0, table.current().regionCount(), "removed from the table at once");
            assertEquals(1, table.reclaimRetired(), "but still mapped while read(2) holds it");
            try (Arena a = Arena.ofConfined()) {
                Libc.write(writeEnd, a.allocateFrom(ValueLayout.JAVA_LONG, 0x0102030405060708L), 8);
            }
            assertEquals(8, reader.get(5, TimeUnit.SECONDS));
            assertEquals(0, table.reclaimRetired(), "unmapped after the call returned");
            assertEquals(0x0102030405060708L, ram.view().get(ValueLayout.JAVA_LONG, 0), "read landed in guest RAM");
        }
    }

    @Test
    void closePublishesAnEmptyTable() throws Exception {
        table.replaceAll(splitRam(), List.of(ram.fd(), ram.fd()));
        GuestMemory before = table.current();
        table.close();
        assertNotSame(before, table.current());
        assertTrue(table.current().isEmpty());
        assertThrows(IllegalStateException.class, () -> table.add(splitRam().get(0), ram.fd()));
    }
}
