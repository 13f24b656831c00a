package io.jvhost.devices.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.GuestBuffer;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one request may cost the back-end's heap (issue 14, row 6): a hostile driver can make a
 * chain "hold" far more readable bytes than guest RAM by pointing many descriptors at the same
 * buffer, so a count bounded only by the chain's length is no bound. The heap the handling
 * thread allocates is measured, not time.
 */
class FuseRequestCostTest {
    @TempDir
    Path dir;

    @Test
    void batchForgetWithAHugeCountOverAliasedDescriptorsCostsNoHeap() throws Exception {
        try (FuseHarness h = FuseHarness.start(dir, FuseHarness.defaultFs())) {
            h.init().ok();
            int aliases = 16, buffer = 1 << 20;
            long items = (long) aliases * buffer / 16; // 1 Mi fuse_forget_one, all in the same 1 MiB
            int head = 40 + 8;
            // Buffers the driver model allocated for a first (harmless) request, kept open.
            try (Submission carrier = h.driver.submit(0, List.of(new byte[head], new byte[buffer]))) {
                assertEquals(
                        carrier.head(), h.driver.awaitUsed(0, FuseHarness.T).head());
                GuestBuffer header = carrier.readable().get(0),
                        shared = carrier.readable().get(1);
                ByteBuffer b = ByteBuffer.allocate(head).order(ByteOrder.LITTLE_ENDIAN);
                b.put(FuseHarness.inHeader(head + (long) aliases * buffer, FuseHarness.BATCH_FORGET, 99, 0, 0, 0, 1));
                b.putInt((int) items).putInt(0);
                header.segment().copyFrom(MemorySegment.ofArray(b.array()));
                shared.segment().fill((byte) 0);

                DriverQueue q = h.driver.queue(0);
                int[] d = q.reserveDescriptors(1 + aliases);
                writeDesc(q.descriptorTable(), d[0], header.guestPhysAddr(), head, 1, d[1]);
                for (int i = 1; i <= aliases; i++) {
                    writeDesc(
                            q.descriptorTable(),
                            d[i],
                            shared.guestPhysAddr(),
                            buffer,
                            i < aliases ? 1 : 0,
                            i < aliases ? d[i + 1] : 0);
                }
                long[] workers = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().equals("jvhost-fs-rings"))
                        .mapToLong(Thread::threadId)
                        .toArray();
                assertTrue(workers.length > 0, "the ring worker is running");
                var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long before = java.util.Arrays.stream(threads.getThreadAllocatedBytes(workers))
                        .sum();
                q.publishHandMade(d[0]);
                h.driver.kick(0);
                UsedElement e = h.driver.awaitUsed(0, FuseHarness.T);
                assertEquals(d[0], e.head());
                long allocated = java.util.Arrays.stream(threads.getThreadAllocatedBytes(workers))
                                .sum()
                        - before;
                assertTrue(allocated < (4 << 20), "one BATCH_FORGET made the worker allocate " + allocated + " bytes");
            }
            // The device goes on.
            h.call(FuseHarness.GETATTR, 1, FuseHarness.args().u32(0).u32(0).u64(0), FuseHarness.OUT_HEADER + 104)
                    .ok();
        }
    }

    private static void writeDesc(MemorySegment table, int i, long addr, int len, int flags, int next) {
        table.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i, addr);
        table.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i + 8, len);
        table.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i + 12, (short) flags);
        table.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16L * i + 14, (short) next);
    }
}
