package io.jvhost.virtqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random descriptor tables, indirect tables and avail rings (seeded, so failures replay): the
 * device must only ever raise {@link VirtqueueException}s, must finish every drain within a
 * queue size of pops, and what it accepts must lie inside guest memory.
 */
class DescriptorFuzzTest {
    static final int SEEDS = 150;
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final long SCRATCH = 64 * 1024;

    @Test
    void randomRingsOnlyEverRaiseVirtqueueExceptions() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            long[] totals = new long[3];
            for (long seed = 1; seed <= SEEDS; seed++) {
                try {
                    runOne(seed, totals);
                } catch (Throwable t) {
                    throw new AssertionError("fuzz seed " + seed + " failed: " + t, t);
                }
            }
            // The generator must exercise both outcomes, or it tests nothing.
            assertTrue(totals[0] > 100, "accepted chains: " + totals[0]);
            assertTrue(totals[1] > 100, "rejected chains: " + totals[1]);
        });
    }

    private void runOne(long seed, long[] totals) throws Exception {
        Random rnd = new Random(seed);
        int size = 1 << rnd.nextInt(9);
        try (RingFixture f = new RingFixture(size, rnd.nextBoolean(), rnd.nextInt(65536), rnd.nextBoolean())) {
            f.log.setEnabled(rnd.nextBoolean());
            GuestBuffer scratch = f.buffers.allocate(SCRATCH);
            Generator gen = new Generator(rnd, size, scratch.guestPhysAddr());
            gen.fill(f.driver.descriptorTable(), size);
            gen.fill(scratch.segment(), (int) (SCRATCH / 16));

            int rounds = 1 + rnd.nextInt(6);
            for (int round = 0; round < rounds; round++) {
                int offers = rnd.nextInt(size + 1);
                for (int i = 0; i < offers; i++) {
                    if (rnd.nextInt(40) == 0) {
                        f.driver.forceAvailIndex(rnd.nextInt(65536));
                    } else {
                        f.driver.publishHandMade(rnd.nextInt(4) == 0 ? rnd.nextInt(65536) : rnd.nextInt(size));
                    }
                }
                drain(f, size, rnd, totals);
                if (rnd.nextBoolean()) gen.fill(f.driver.descriptorTable(), size); // guest rewrites its table
            }
        }
    }

    private void drain(RingFixture f, int size, Random rnd, long[] totals) throws Exception {
        for (int pops = 0; ; pops++) {
            assertTrue(pops <= size + 1, "drain did not end within a queue size");
            DescriptorChain chain;
            try {
                chain = f.device.pop();
            } catch (InvalidChainException rejected) {
                totals[1]++;
                continue;
            } catch (BrokenQueueException broken) {
                totals[2]++;
                f.device.stop();
                f.device.setBase(f.driver.availIndex());
                f.device.start();
                return;
            }
            if (chain == null) return;
            totals[0]++;
            check(chain);
            exercise(f, chain, rnd);
        }
    }

    private static void check(DescriptorChain chain) {
        long readable = 0, writable = 0;
        for (int i = 0; i < chain.readableCount(); i++) {
            long addr = chain.readableAddress(i), len = chain.readable(i).byteSize();
            assertTrue(addr >= RingFixture.RAM_GPA && addr + len <= RingFixture.RAM_GPA + RingFixture.RAM_SIZE);
            assertTrue(len > 0);
            readable += len;
        }
        for (int i = 0; i < chain.writableCount(); i++) {
            long addr = chain.writable(i).logAddress(), len = chain.writable(i).byteSize();
            assertTrue(addr >= RingFixture.RAM_GPA && addr + len <= RingFixture.RAM_GPA + RingFixture.RAM_SIZE);
            writable += len;
        }
        assertEquals(readable, chain.readableBytes());
        assertEquals(writable, chain.writableBytes());
        assertTrue(readable + writable <= 0xFFFF_FFFFL);
    }

    private static void exercise(RingFixture f, DescriptorChain chain, Random rnd) throws VirtqueueException {
        ChainReader reader = chain.reader();
        byte[] chunk = new byte[4096];
        while (reader.read(chunk, 0, chunk.length) > 0) {
            if (reader.position() > 64 * 1024) break;
        }
        long len = Math.min(chain.writableBytes(), rnd.nextInt(8192));
        ChainWriter writer = chain.writer();
        byte[] payload = new byte[(int) len];
        rnd.nextBytes(payload);
        writer.write(payload);
        f.device.addUsed(chain, len);
        f.device.needsNotification();
    }

    /** Descriptors that are sometimes sane, sometimes subtly wrong, sometimes garbage. */
    private record Generator(Random rnd, int size, long scratchGpa) {
        void fill(MemorySegment table, int entries) {
            for (int i = 0; i < entries; i++) {
                long at = i * 16L;
                table.set(U64, at, address());
                table.set(U32, at + 8, (int) length());
                table.set(U16, at + 12, (short) flags());
                table.set(U16, at + 14, (short) next());
            }
        }

        long address() {
            long ram = RingFixture.RAM_GPA, end = RingFixture.RAM_GPA + RingFixture.RAM_SIZE;
            return switch (rnd.nextInt(7)) {
                case 0 -> rnd.nextLong();
                case 1 -> ram + rnd.nextInt((int) RingFixture.RAM_SIZE);
                case 2 -> end - rnd.nextInt(64);
                case 3, 4 -> scratchGpa + 16L * rnd.nextInt((int) (SCRATCH / 16));
                case 5 -> -1L - rnd.nextInt(4096);
                default -> ram - rnd.nextInt(4096);
            };
        }

        long length() {
            return switch (rnd.nextInt(6)) {
                case 0 -> rnd.nextInt() & 0xFFFF_FFFFL;
                case 1 -> 16L * rnd.nextInt(12);
                case 2 -> 16L * (1 + rnd.nextInt(2048));
                case 3 -> 0;
                default -> rnd.nextInt(8192);
            };
        }

        int flags() {
            if (rnd.nextInt(8) == 0) return rnd.nextInt(65536);
            int f = rnd.nextInt(3) == 0 ? SplitRing.DESC_F_NEXT : 0;
            if (rnd.nextInt(3) == 0) f |= SplitRing.DESC_F_WRITE;
            if (rnd.nextInt(6) == 0) f |= SplitRing.DESC_F_INDIRECT;
            return f;
        }

        int next() {
            return rnd.nextInt(5) == 0 ? rnd.nextInt(65536) : rnd.nextInt(Math.max(2, size));
        }
    }
}
