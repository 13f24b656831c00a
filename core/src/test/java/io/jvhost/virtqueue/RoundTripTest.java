package io.jvhost.virtqueue;

import static io.jvhost.virtqueue.RingFixture.page;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** DriverQueue and SplitQueue talking through shared memory in one process. */
class RoundTripTest {

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The device echoes the readable bytes, upper-cased, into the writable buffers. */
    static long serveEcho(SplitQueue device) throws VirtqueueException {
        DescriptorChain chain = device.pop();
        assertNotNull(chain, "a chain is available");
        byte[] request = chain.readAll();
        byte[] reply = new String(request, StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8);
        ChainWriter w = chain.writer();
        w.write(reply, 0, (int) Math.min(reply.length, w.remaining()));
        device.addUsed(chain, w.position());
        return w.position();
    }

    @Test
    void simpleRequestAndReply() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            Submission s = f.driver.submit(List.of(bytes("hello")), new int[] {16}, false);
            assertTrue(f.driver.kickNeeded());
            DescriptorChain chain = f.device.pop();
            assertEquals(s.head(), chain.head());
            assertEquals(1, chain.readableCount());
            assertEquals(1, chain.writableCount());
            assertEquals(5, chain.readableBytes());
            assertEquals(16, chain.writableBytes());
            assertEquals(s.readable().get(0).guestPhysAddr(), chain.readableAddress(0));
            assertEquals(s.writable().get(0).guestPhysAddr(), chain.writable(0).logAddress());
            assertTrue(chain.readable(0).isReadOnly());
            assertArrayEquals(bytes("hello"), chain.readAll());
            chain.writer().write(bytes("HELLO"));
            f.device.addUsed(chain, 5);
            assertNull(f.device.pop());
            assertTrue(f.device.needsNotification());

            UsedElement done = f.driver.pollUsed();
            assertEquals(s.head(), done.head());
            assertEquals(5, done.length());
            assertArrayEquals(bytes("HELLO"), done.response());
            assertNull(f.driver.pollUsed());
            s.close();
            assertEquals(16, f.driver.freeDescriptors());
            assertEquals(1, f.device.nextAvailIndex());
        }
    }

    @Test
    void longChainsUseTheWholeRing() throws Exception {
        int size = 64;
        try (RingFixture f = new RingFixture(size, false, 0)) {
            List<byte[]> parts = new ArrayList<>();
            for (int i = 0; i < size - 8; i++) parts.add(new byte[] {(byte) i, (byte) (i + 1), (byte) (i + 2)});
            int[] writable = new int[8];
            Arrays.fill(writable, 5);
            Submission s = f.driver.submit(parts, writable, false);
            assertEquals(0, f.driver.freeDescriptors());
            assertThrows(IllegalStateException.class, () -> f.driver.submit(List.of(new byte[1]), new int[0], false));

            DescriptorChain chain = f.device.pop();
            assertEquals(size - 8, chain.readableCount());
            assertEquals(8, chain.writableCount());
            assertEquals(3L * (size - 8), chain.readableBytes());
            ChainReader r = chain.reader();
            for (int i = 0; i < size - 8; i++) {
                assertEquals((byte) i, r.readByte());
                r.skip(2);
            }
            assertEquals(0, r.remaining());
            assertThrows(VirtqueueException.class, r::readByte);
            ChainWriter w = chain.writer();
            w.writeLong(0x0807060504030201L); // crosses from one 5-byte buffer into the next
            w.writeInt(0x0c0b0a09);
            f.device.addUsed(chain, w.position());

            UsedElement done = f.driver.pollUsed();
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, done.response());
            s.close();
            assertEquals(size, f.driver.freeDescriptors());
        }
    }

    @Test
    void indirectTablesCarryChainsLongerThanTheRing() throws Exception {
        try (RingFixture f = new RingFixture(8, false, 0)) {
            List<byte[]> parts = new ArrayList<>();
            for (int i = 0; i < 20; i++) parts.add(bytes("p" + (char) ('a' + i)));
            Submission s = f.driver.submit(parts, new int[] {10, 30}, true);
            assertEquals(7, f.driver.freeDescriptors(), "one ring descriptor for the whole chain");
            DescriptorChain chain = f.device.pop();
            assertEquals(20, chain.readableCount());
            assertEquals(2, chain.writableCount());
            assertEquals(40, chain.writableBytes());
            assertEquals(
                    "papbpcpdpepfpgphpipjpkplpmpnpopppqprpspt", new String(chain.readAll(), StandardCharsets.UTF_8));
            f.device.addUsed(chain, 0);
            UsedElement done = f.driver.pollUsed();
            assertEquals(0, done.length());
            s.close();
            assertEquals(8, f.driver.freeDescriptors());
        }
    }

    @Test
    void indicesWrapAround16Bits() throws Exception {
        for (int base : new int[] {65530, 65535}) {
            try (RingFixture f = new RingFixture(4, true, base)) {
                for (int i = 0; i < 40; i++) {
                    Submission s = f.driver.submit(List.of(bytes("req" + i)), new int[] {8}, i % 3 == 0);
                    Submission t = f.driver.submit(List.of(bytes("two" + i)), new int[] {8}, false);
                    serveEcho(f.device);
                    serveEcho(f.device);
                    assertArrayEquals(bytes("REQ" + i), f.driver.pollUsed().response());
                    assertArrayEquals(bytes("TWO" + i), f.driver.pollUsed().response());
                    s.close();
                    t.close();
                }
                int expected = (base + 80) & 0xFFFF;
                assertEquals(expected, f.device.nextAvailIndex());
                assertEquals(expected, f.device.nextUsedIndex());
                assertEquals(expected, f.driver.lastUsedIndex());
                assertEquals(expected, f.device.stop(), "GET_VRING_BASE value");
            }
        }
    }

    @Test
    void restartTakesUsedIndexFromGuestMemory() throws Exception {
        try (RingFixture f = new RingFixture(8, false, 100)) {
            Submission s = f.driver.submit(List.of(bytes("a")), new int[] {4}, false);
            DescriptorChain inFlight = f.device.pop();
            int base = f.device.stop();
            assertEquals(101, base);
            // Restart as after a migration: base from GET_VRING_BASE, used->idx from memory (100).
            f.device.setBase(base);
            f.device.setAddresses(f.driver.addresses(false));
            f.device.start();
            assertEquals(100, f.device.nextUsedIndex());
            assertThrows(
                    IllegalStateException.class,
                    () -> f.device.addUsed(inFlight, 0),
                    "a chain from before the restart cannot be completed");
            f.device.addUsed(s.head(), 0);
            assertEquals(s.head(), f.driver.pollUsed().head());
        }
    }

    @Test
    void eventIdxNotificationDecisions() throws Exception {
        try (RingFixture f = new RingFixture(16, true, 0)) {
            // Kicks: the device asks for one at avail_event; the driver kicks only when passing it.
            assertFalse(f.device.enableNotification());
            f.driver.submit(List.of(bytes("1")), new int[] {1}, false);
            assertTrue(f.driver.kickNeeded(), "avail_event 0 passed by 0 -> 1");
            f.driver.submit(List.of(bytes("2")), new int[] {1}, false);
            assertFalse(f.driver.kickNeeded(), "device has not re-armed");
            f.device.disableNotification();
            serveEcho(f.device);
            serveEcho(f.device);
            assertFalse(f.device.enableNotification(), "nothing new: safe to sleep");
            f.driver.submit(List.of(bytes("3")), new int[] {1}, false);
            assertTrue(f.driver.kickNeeded(), "re-armed at avail index 2");

            // Interrupts: driver's used_event says after which used index it wants one.
            assertTrue(f.device.needsNotification(), "first decision always notifies");
            f.driver.setUsedEvent(4); // wants an interrupt when used->idx passes 4 (reaches 5)
            serveEcho(f.device); // used 3
            assertFalse(f.device.needsNotification());
            for (int i = 0; i < 2; i++) f.driver.submit(List.of(bytes("x")), new int[] {1}, false);
            serveEcho(f.device); // used 4
            assertFalse(f.device.needsNotification());
            serveEcho(f.device); // used 5
            assertTrue(f.device.needsNotification(), "passed used_event");
            assertFalse(f.device.needsNotification(), "nothing new since the last decision");
            // Several completions batched across used_event still notify once.
            f.driver.setUsedEvent(6);
            for (int i = 0; i < 3; i++) f.driver.submit(List.of(bytes("y")), new int[] {1}, false);
            for (int i = 0; i < 3; i++) serveEcho(f.device); // used 6, 7, 8
            assertTrue(f.device.needsNotification());
        }
    }

    @Test
    void eventIdxRearmSeesChainsThatRacedTheEnable() throws Exception {
        try (RingFixture f = new RingFixture(16, true, 0)) {
            f.driver.submit(List.of(bytes("1")), new int[] {1}, false);
            f.driver.kickNeeded();
            serveEcho(f.device);
            // The driver adds a chain while the device is still "busy": no kick is due...
            f.driver.submit(List.of(bytes("2")), new int[] {1}, false);
            assertFalse(f.driver.kickNeeded());
            // ...so the device must find it when re-enabling, or it would sleep forever.
            assertTrue(f.device.enableNotification());
            assertTrue(f.device.hasAvailable());
            serveEcho(f.device);
            assertFalse(f.device.enableNotification());
        }
    }

    @Test
    void flagNotificationsWithoutEventIdx() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            f.device.disableNotification();
            f.driver.submit(List.of(bytes("1")), new int[] {1}, false);
            assertFalse(f.driver.kickNeeded(), "NO_NOTIFY set");
            assertTrue(f.device.enableNotification(), "chain arrived while disabled");
            f.driver.submit(List.of(bytes("2")), new int[] {1}, false);
            assertTrue(f.driver.kickNeeded());

            serveEcho(f.device);
            assertTrue(f.device.needsNotification());
            f.driver.disableInterrupts();
            serveEcho(f.device);
            assertFalse(f.device.needsNotification(), "NO_INTERRUPT set");
            assertTrue(f.driver.enableInterrupts(), "completions pending");
            assertNotNull(f.driver.pollUsed());
            assertNotNull(f.driver.pollUsed());
            assertFalse(f.driver.enableInterrupts());
        }
    }

    @Test
    void everyBufferAndUsedRingWriteIsLoggedWhenLoggingIsOn() throws Exception {
        try (RingFixture f = new RingFixture(16, true, 0, true)) {
            f.log.setEnabled(true);
            Submission s = f.driver.submit(List.of(bytes("req")), new int[] {0x3000, 0x100, 0x2000}, false);
            DescriptorChain chain = f.device.pop();
            // Mixed producers: a ChainWriter for a header, a raw zero-copy write for the rest.
            ChainWriter w = chain.writer();
            w.writeLong(1);
            chain.writable(0).unloggedView().asSlice(8, 0x2000).fill((byte) 7);
            long written = 8 + 0x2000;
            f.device.addUsed(chain, written);
            f.device.needsNotification();
            f.device.enableNotification(); // avail_event write

            Set<Long> dirty = new TreeSet<>(f.takeDirtyPages());
            long buf0 = s.writable().get(0).guestPhysAddr();
            Set<Long> expected = new TreeSet<>();
            for (long a = page(buf0); a <= page(buf0 + written - 1); a += 0x1000) expected.add(a);
            expected.add(page(f.driver.usedGuestAddr())); // used idx + element
            expected.add(page(f.driver.usedGuestAddr() + SplitRing.availEventOffset(16))); // avail_event
            assertEquals(expected, dirty, "exactly the written buffer pages and the used ring");
            assertFalse(dirty.contains(page(s.writable().get(2).guestPhysAddr())), "untouched buffer not logged");
            byte[] reply = f.driver.pollUsed().response();
            assertEquals(written, reply.length);
            assertArrayEquals(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 7}, Arrays.copyOf(reply, 9));
        }
    }

    @Test
    void usedRingIsLoggedOnlyWithTheRingsLogFlag() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0, false)) {
            f.log.setEnabled(true);
            Submission s = f.driver.submit(List.of(bytes("r")), new int[] {16}, false);
            DescriptorChain chain = f.device.pop();
            chain.writer().write(bytes("abc"));
            f.device.addUsed(chain, 3);
            assertEquals(List.of(page(s.writable().get(0).guestPhysAddr())), f.takeDirtyPages());

            // QEMU turns the flag on for a running ring with SET_VRING_ADDR at migration start.
            f.device.setAddresses(f.driver.addresses(true));
            Submission t = f.driver.submit(List.of(bytes("r")), new int[] {16}, false);
            DescriptorChain next = f.device.pop();
            f.device.addUsed(next, 0);
            assertEquals(List.of(page(f.driver.usedGuestAddr())), f.takeDirtyPages(), "len 0: only the used ring");
            var moved = new VringAddresses(1, f.driver.addresses(true).descUserAddr() + 4096, 0, 0, 0);
            assertThrows(VirtqueueException.class, () -> f.device.setAddresses(moved));
            s.close();
            t.close();
        }
    }

    @Test
    void nothingIsLoggedWhileLoggingIsOff() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0, true)) {
            f.driver.submit(List.of(bytes("r")), new int[] {16}, false);
            DescriptorChain chain = f.device.pop();
            chain.writer().write(bytes("abc"));
            f.device.addUsed(chain, 3);
            assertEquals(List.of(), f.takeDirtyPages());
        }
    }

    @Test
    void writerRefusesRepliesLongerThanTheBuffers() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            f.driver.submit(List.of(bytes("r")), new int[] {4}, false);
            DescriptorChain chain = f.device.pop();
            ChainWriter w = chain.writer();
            var e = assertThrows(VirtqueueException.class, () -> w.write(new byte[5]));
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
            assertEquals(0, w.position(), "nothing written");
            w.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            assertThrows(IllegalArgumentException.class, () -> f.device.addUsed(chain, 5));
            f.device.addUsed(chain, 4);
            assertThrows(IllegalStateException.class, () -> f.device.addUsed(chain, 4), "completed twice");
        }
    }

    @Test
    void ringsFollowAMemoryTableChange() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            f.driver.submit(List.of(bytes("before")), new int[] {8}, false);
            serveEcho(f.device);
            // SET_MEM_TABLE again with the same RAM: new mappings, the old ones are unmapped.
            var same = f.table.current().regions().get(0).descriptor();
            f.table.replaceAll(List.of(same), List.of(f.ram.fd()));
            f.driver.submit(List.of(bytes("after")), new int[] {8}, false);
            serveEcho(f.device);
            f.driver.pollUsed();
            assertArrayEquals(bytes("AFTER"), f.driver.pollUsed().response());
            // Ring memory gone (REM_MEM_REG before the matching ADD): reported, nothing consumed.
            f.table.remove(same);
            var e = assertThrows(VirtqueueException.class, f.device::pop);
            assertTrue(e.getMessage().contains("not in guest memory"), e.getMessage());
            f.table.add(same, f.ram.fd());
            assertNull(f.device.pop());
            assertFalse(f.device.isBroken());
        }
    }

    @Test
    void buffersCrossingAdjacentRegionsAreSplit() throws Exception {
        try (RingFixture f = new RingFixture(16, false, 0)) {
            // Re-describe the RAM as two adjacent regions meeting at RAM_GPA + 2 MiB.
            long half = RingFixture.RAM_SIZE / 2;
            var whole = f.table.current().regions().get(0).descriptor();
            f.table.replaceAll(
                    List.of(
                            new io.jvhost.memory.RegionDescriptor(whole.guestPhysAddr(), half, whole.userAddr(), 0),
                            new io.jvhost.memory.RegionDescriptor(
                                    whole.guestPhysAddr() + half, half, whole.userAddr() + half, half)),
                    List.of(f.ram.fd(), f.ram.fd()));
            MemorySegment ram = f.ram.view();
            ram.asSlice(half - 3, 6).copyFrom(MemorySegment.ofArray(bytes("abcdef")));
            GuestBuffer across = new GuestBuffer(RingFixture.RAM_GPA + half - 3, ram.asSlice(half - 3, 6));
            GuestBuffer out = new GuestBuffer(RingFixture.RAM_GPA + half - 2, ram.asSlice(half - 2, 4));
            f.driver.add(List.of(across), List.of(out), false);
            DescriptorChain chain = f.device.pop();
            assertEquals(2, chain.readableCount());
            assertEquals(2, chain.writableCount());
            assertArrayEquals(bytes("abcdef"), chain.readAll());
            chain.writer().write(bytes("WXYZ"));
            f.device.addUsed(chain, 4);
            assertEquals(
                    "aWXYZf",
                    new String(ram.asSlice(half - 3, 6).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        }
    }
}
