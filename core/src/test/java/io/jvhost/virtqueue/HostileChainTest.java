package io.jvhost.virtqueue;

import static io.jvhost.virtqueue.SplitRing.DESC_F_INDIRECT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_NEXT;
import static io.jvhost.virtqueue.SplitRing.DESC_F_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Chains a misbehaving guest could write, crafted straight into the descriptor table. Each is
 * rejected with a message naming the problem, returned to the guest with length 0 when its
 * head is valid, and the queue goes on serving the next good chain.
 */
class HostileChainTest {
    static final int SIZE = 16;
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    RingFixture f;
    int[] d; // descriptors reserved for hand-made chains
    GuestBuffer data; // a valid 256-byte buffer for descriptors to point at

    @BeforeEach
    void setUp() throws Exception {
        f = new RingFixture(SIZE, false, 0);
        d = f.driver.reserveDescriptors(6);
        data = f.buffers.allocate(256);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    static void put(MemorySegment table, int index, long addr, long len, int flags, int next) {
        long at = index * 16L;
        table.set(U64, at, addr);
        table.set(U32, at + 8, (int) len);
        table.set(U16, at + 12, (short) flags);
        table.set(U16, at + 14, (short) next);
    }

    void desc(int index, long addr, long len, int flags, int next) {
        put(f.driver.descriptorTable(), index, addr, len, flags, next);
    }

    /** Offers {@code head}, expects its rejection mentioning {@code fragment}, and checks the aftermath. */
    void assertRejected(int head, String fragment) throws Exception {
        f.driver.publishHandMade(head);
        var e = assertThrows(InvalidChainException.class, f.device::pop);
        assertTrue(
                e.getMessage().contains(fragment),
                "message '" + e.getMessage() + "' should mention '" + fragment + "'");
        assertEquals(head, e.head());
        boolean valid = head < SIZE;
        assertEquals(valid, e.returnedToGuest());
        if (valid) {
            UsedElement returned = f.driver.pollUsed();
            assertEquals(head, returned.head());
            assertEquals(0, returned.length());
        } else {
            assertNull(f.driver.pollUsed());
        }
        assertStillServes();
    }

    void assertStillServes() throws Exception {
        Submission s = f.driver.submit(List.of("ping".getBytes(StandardCharsets.UTF_8)), new int[] {4}, false);
        DescriptorChain chain = f.device.pop();
        assertEquals(s.head(), chain.head());
        chain.writer().write("pong".getBytes(StandardCharsets.UTF_8));
        f.device.addUsed(chain, 4);
        assertArrayEquals(
                "pong".getBytes(StandardCharsets.UTF_8), f.driver.pollUsed().response());
        s.close();
        assertFalse(f.device.isBroken());
    }

    @Test
    void loopingChain() throws Exception {
        desc(d[0], data.guestPhysAddr(), 8, DESC_F_NEXT, d[1]);
        desc(d[1], data.guestPhysAddr(), 8, DESC_F_NEXT, d[0]);
        assertRejected(d[0], "loops");
    }

    @Test
    void selfLoopingDescriptor() throws Exception {
        desc(d[0], data.guestPhysAddr(), 8, DESC_F_WRITE | DESC_F_NEXT, d[0]);
        assertRejected(d[0], "more than 16 descriptors");
    }

    @Test
    void nextIndexOutsideTheTable() throws Exception {
        desc(d[0], data.guestPhysAddr(), 8, DESC_F_NEXT, SIZE + 100);
        assertRejected(d[0], "descriptor index 116 is outside the descriptor table of 16 entries");
    }

    @Test
    void headOutsideTheTable() throws Exception {
        assertRejected(SIZE + 3, "names head 19");
        assertRejected(0xFFFF, "names head 65535");
    }

    @Test
    void bufferOutsideGuestMemory() throws Exception {
        desc(d[0], 0x10, 8, 0, 0);
        assertRejected(d[0], "guest address 0x10 is not in guest memory");
    }

    @Test
    void bufferRunningPastTheEndOfMemory() throws Exception {
        long end = RingFixture.RAM_GPA + RingFixture.RAM_SIZE;
        desc(d[0], end - 4, 8, DESC_F_WRITE, 0);
        assertRejected(d[0], "0x" + Long.toHexString(end - 4));
    }

    @Test
    void bufferWhoseEndOverflows64Bits() throws Exception {
        desc(d[0], 0xFFFF_FFFF_FFFF_FFF0L, 0x20, 0, 0);
        assertRejected(d[0], "0xfffffffffffffff0");
        desc(d[0], data.guestPhysAddr(), 0xFFFF_FFFFL, 0, 0);
        assertRejected(d[0], "runs past the end");
    }

    @Test
    void readableAfterWritable() throws Exception {
        desc(d[0], data.guestPhysAddr(), 8, DESC_F_WRITE | DESC_F_NEXT, d[1]);
        desc(d[1], data.guestPhysAddr() + 8, 8, 0, 0);
        assertRejected(d[0], "follows a device-writable one");
    }

    @Test
    void indirectTableWithBadLength() throws Exception {
        GuestBuffer table = f.buffers.allocate(16 * 4);
        put(table.segment(), 0, data.guestPhysAddr(), 8, 0, 0);
        desc(d[0], table.guestPhysAddr(), 24, DESC_F_INDIRECT, 0);
        assertRejected(d[0], "indirect table length 24 at descriptor " + d[0] + " is not a positive multiple of 16");
        desc(d[0], table.guestPhysAddr(), 0, DESC_F_INDIRECT, 0);
        assertRejected(d[0], "indirect table length 0");
        desc(d[0], table.guestPhysAddr(), 16L * 1025, DESC_F_INDIRECT, 0);
        assertRejected(d[0], "indirect table of 1025 descriptors exceeds the limit of 1024");
        desc(d[0], 0x1000, 64, DESC_F_INDIRECT, 0);
        assertRejected(d[0], "indirect table: guest address 0x1000 is not in guest memory");
    }

    @Test
    void nestedIndirect() throws Exception {
        GuestBuffer table = f.buffers.allocate(16 * 2);
        put(table.segment(), 0, data.guestPhysAddr(), 8, DESC_F_NEXT, 1);
        put(table.segment(), 1, table.guestPhysAddr(), 32, DESC_F_INDIRECT, 0);
        desc(d[0], table.guestPhysAddr(), 32, DESC_F_INDIRECT, 0);
        assertRejected(d[0], "is itself INDIRECT");
    }

    @Test
    void indirectWithNext() throws Exception {
        GuestBuffer table = f.buffers.allocate(16);
        put(table.segment(), 0, data.guestPhysAddr(), 8, 0, 0);
        desc(d[0], table.guestPhysAddr(), 16, DESC_F_INDIRECT | DESC_F_NEXT, d[1]);
        desc(d[1], data.guestPhysAddr(), 8, 0, 0);
        assertRejected(d[0], "both INDIRECT and NEXT");
    }

    @Test
    void loopInsideAnIndirectTable() throws Exception {
        GuestBuffer table = f.buffers.allocate(16 * 3);
        put(table.segment(), 0, data.guestPhysAddr(), 8, DESC_F_NEXT, 1);
        put(table.segment(), 1, data.guestPhysAddr(), 8, DESC_F_NEXT, 2);
        put(table.segment(), 2, data.guestPhysAddr(), 8, DESC_F_NEXT, 1);
        desc(d[0], table.guestPhysAddr(), 48, DESC_F_INDIRECT, 0);
        assertRejected(d[0], "indirect table from head " + d[0] + " loops: more than 3 descriptors");
        put(table.segment(), 2, data.guestPhysAddr(), 8, DESC_F_NEXT, 7);
        assertRejected(d[0], "descriptor index 7 is outside the indirect table of 3 entries");
    }

    @Test
    void indirectAfterDirectDescriptorsIsFollowed() throws Exception {
        GuestBuffer table = f.buffers.allocate(16);
        put(table.segment(), 0, data.guestPhysAddr() + 16, 16, DESC_F_WRITE, 0);
        desc(d[0], data.guestPhysAddr(), 16, DESC_F_NEXT, d[1]);
        desc(d[1], table.guestPhysAddr(), 16, DESC_F_INDIRECT, 0);
        f.driver.publishHandMade(d[0]);
        DescriptorChain chain = f.device.pop();
        assertEquals(1, chain.readableCount());
        assertEquals(1, chain.writableCount());
        f.device.addUsed(chain, 0);
        assertEquals(d[0], f.driver.pollUsed().head());
    }

    @Test
    void zeroLengthDescriptorsAreSkippedNotTranslated() throws Exception {
        desc(d[0], 0xdead_0000L, 0, DESC_F_NEXT, d[1]); // address never used
        desc(d[1], data.guestPhysAddr(), 8, 0, 0);
        f.driver.publishHandMade(d[0]);
        DescriptorChain chain = f.device.pop();
        assertEquals(1, chain.readableCount());
        assertEquals(8, chain.readableBytes());
        f.device.addUsed(chain, 0);
        f.driver.pollUsed();
        assertStillServes();
    }

    @Test
    void availIndexRunningAheadBreaksTheQueueUntilReset() throws Exception {
        f.driver.forceAvailIndex(SIZE + 1);
        var e = assertThrows(BrokenQueueException.class, f.device::pop);
        assertTrue(e.getMessage().contains("17 entries for a queue of 16"), e.getMessage());
        assertTrue(f.device.isBroken());
        assertThrows(BrokenQueueException.class, f.device::pop);
        assertThrows(BrokenQueueException.class, f.device::needsNotification);
        // A reset (stop, SET_VRING_BASE, start) clears it.
        f.driver.forceAvailIndex(0);
        f.device.stop();
        f.device.setBase(0);
        f.device.start();
        assertFalse(f.device.isBroken());
        assertNull(f.device.pop());
        assertStillServes();
    }

    @Test
    void availIndexExactlyOneQueueAheadIsFine() throws Exception {
        int[] heads = f.driver.reserveDescriptors(SIZE - 6); // everything else
        for (int i = 0; i < 6; i++) desc(d[i], data.guestPhysAddr(), 4, 0, 0);
        for (int h : heads) desc(h, data.guestPhysAddr(), 4, 0, 0);
        for (int i = 0; i < 6; i++) f.driver.publishHandMade(d[i]);
        for (int h : heads) f.driver.publishHandMade(h);
        for (int i = 0; i < SIZE; i++) f.device.addUsed(f.device.pop(), 0);
        assertNull(f.device.pop());
    }
}
