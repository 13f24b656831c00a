package io.jvhost.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Random addresses and lengths against a region layout with adjacency, gaps and a top region. */
class GuestMemoryFuzzTest {
    @Test
    void translationOnlyEverRaisesGuestMemoryException() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            long[][] layout = { // gpa, size, user address
                {0x0, 0xa0000, 0x7f00_0000_0000L},
                {0x100000, 0x100000, 0x7f00_1000_0000L},
                {0x200000, 0x80000, 0x7f00_2000_0000L}, // adjacent to the previous one
                {0x1_0000_0000L, 0x10000, 0x7f00_3000_0000L},
                {-0x20000L, 0x10000, 0x7f00_4000_0000L}, // near 2^64
            };
            List<MemoryRegion> regions = new ArrayList<>();
            for (long[] r : layout) regions.add(MemoryRegion.over(r[0], r[2], arena.allocate(r[1], 4096)));
            GuestMemory memory = GuestMemory.of(regions);
            Random rnd = new Random(42);
            int ok = 0, rejected = 0;
            for (int i = 0; i < 50_000; i++) {
                long[] r = layout[rnd.nextInt(layout.length)];
                long addr = switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextLong();
                    case 1 -> r[0] + rnd.nextLong(r[1]);
                    case 2 -> r[0] + r[1] - rnd.nextInt(64);
                    default -> r[0] - rnd.nextInt(64);
                };
                long len = switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextLong();
                    case 1 -> rnd.nextInt(128);
                    case 2 -> Long.MAX_VALUE - rnd.nextInt(4);
                    default -> rnd.nextInt(0x200000);
                };
                try {
                    switch (rnd.nextInt(4)) {
                        case 0 -> assertEquals(len, memory.slice(addr, len).byteSize());
                        case 1 ->
                            assertEquals(
                                    len,
                                    memory.ranges(addr, len).stream()
                                            .mapToLong(GuestRange::length)
                                            .sum());
                        case 2 ->
                            assertEquals(
                                    len,
                                    memory.sliceUserAddr(r[2] + (addr - r[0]), len)
                                            .byteSize());
                        default -> {
                            MemorySegment s =
                                    memory.writable(addr, len, DirtyLog.NONE).unloggedView();
                            assertEquals(len, s.byteSize());
                        }
                    }
                    ok++;
                } catch (GuestMemoryException expected) {
                    rejected++;
                }
            }
            assertTrue(ok > 2_000 && rejected > 2_000, ok + " accepted, " + rejected + " rejected");
        }
    }
}
