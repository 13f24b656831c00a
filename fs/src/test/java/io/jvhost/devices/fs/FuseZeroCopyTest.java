package io.jvhost.devices.fs;

import static io.jvhost.devices.fs.FuseHarness.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.fuse.GuestReadSink;
import io.jvhost.devices.fs.fuse.GuestWriteSource;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.memory.DirtyBitmap;
import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.LoggedSegment;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Mapping;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.GuestBuffer;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import io.jvhost.virtqueue.VringAddresses;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** READ and WRITE move file data between the file and guest buffers split over several descriptors. */
class FuseZeroCopyTest {
    @TempDir
    Path dir;

    private FuseHarness h;
    private MemoryFs fs;
    private byte[] data;
    private long file;
    private long fh;

    @BeforeEach
    void start() throws Exception {
        fs = FuseHarness.defaultFs();
        h = FuseHarness.start(dir, fs);
        h.init().ok();
        data = new byte[20_000];
        new Random(7).nextBytes(data);
        file = fs.addFile("data", data);
        fh = h.call(OPEN, file, args().u32(2).u32(0), OUT_HEADER + 16).body().getLong(0);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private byte[] readIn(long offset, int size) {
        return request(
                READ,
                77,
                file,
                args().u64(fh).u64(offset).u32(size).u32(0).u64(0).u32(0).u32(0).build());
    }

    private static byte[] bytes(GuestBuffer b, int from, int to) {
        byte[] out = new byte[to - from];
        MemorySegment.copy(b.segment(), ValueLayout.JAVA_BYTE, from, out, 0, out.length);
        return out;
    }

    @Test
    void readLandsExactlyInEveryWritableDescriptor() throws Exception {
        // The out header is split over the first two buffers, the data over all four.
        try (Submission s = h.driver.submit(1, List.of(readIn(1000, 3000)), 10, 11, 4096, 100)) {
            UsedElement e = h.driver.awaitUsed(1, T);
            assertEquals(OUT_HEADER + 3000, e.length());
            Reply r = Reply.parse(s.readWritten(e.length()), e.length());
            r.ok();
            assertEquals(77, r.unique());
            List<GuestBuffer> w = s.writable();
            assertArrayEquals(Arrays.copyOfRange(data, 1000, 1005), bytes(w.get(1), 6, 11));
            assertArrayEquals(Arrays.copyOfRange(data, 1005, 4000), bytes(w.get(2), 0, 2995));
            assertArrayEquals(new byte[4096 - 2995], bytes(w.get(2), 2995, 4096), "nothing beyond the data");
            assertArrayEquals(new byte[100], bytes(w.get(3), 0, 100), "the last buffer is not touched");
        }
    }

    @Test
    void anOversizedReadIsClippedToTheWritableRoom() throws Exception {
        Reply r = h.sendSplit(1, List.of(readIn(0, 1 << 30)), OUT_HEADER + 60, 40);
        r.ok();
        assertEquals(100, r.payload());
        assertTrue(fs.calls.contains("read:100"), "the file system is asked for what fits: " + fs.calls);
        byte[] got = new byte[100];
        r.body().get(0, got);
        assertArrayEquals(Arrays.copyOf(data, 100), got);
    }

    @Test
    void readIntoLoggedGuestMemoryMarksThePagesDirty() throws Exception {
        FrontendClient c = h.driver.client();
        DriverQueue q = h.driver.queue(1);
        long ramEnd = h.driver.queue(0).descGuestAddr() + (16L << 20);
        long logBytes = (ramEnd / DirtyBitmap.PAGE_SIZE + 7) / 8;
        try (Fd logFd = Libc.memfdCreate("dirty-log", Libc.MFD_CLOEXEC)) {
            Libc.ftruncate(logFd, logBytes);
            c.setLogBase(logBytes, 0, logFd);
            c.setFeatures(h.driver.features() | VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
            VringAddresses a = q.addresses(true);
            c.setVringAddr(1, a.flags(), a.descUserAddr(), a.usedUserAddr(), a.availUserAddr(), a.logGuestAddr());
            try (Submission s = h.driver.submit(1, List.of(readIn(0, 12_000)), OUT_HEADER + 8192, 8192);
                    Mapping log = Mapping.map(logFd, 0, logBytes, false)) {
                UsedElement e = h.driver.awaitUsed(1, T);
                assertEquals(OUT_HEADER + 12_000, e.length());
                DirtyBitmap bitmap = DirtyBitmap.over(log.segment());
                GuestBuffer first = s.writable().get(0), second = s.writable().get(1);
                for (long gpa = first.guestPhysAddr(); gpa < first.guestPhysAddr() + first.length(); gpa += 4096) {
                    assertTrue(bitmap.isDirty(gpa), "page 0x" + Long.toHexString(gpa) + " not logged");
                }
                long end = second.guestPhysAddr() + (12_000 - 8192);
                for (long gpa = second.guestPhysAddr(); gpa < end; gpa += 4096) {
                    assertTrue(bitmap.isDirty(gpa), "page 0x" + Long.toHexString(gpa) + " not logged");
                }
                assertTrue(bitmap.isDirty(end - 1));
                assertArrayEquals(Arrays.copyOfRange(data, 8192, 12_000), bytes(second, 0, 12_000 - 8192));
            }
        }
    }

    @Test
    void theReadSinkLogsExactlyWhatItWrote() throws Exception {
        long base = 0x10_0000L; // within the 128 MiB a 4 KiB bitmap covers
        try (Arena arena = Arena.ofConfined();
                DirtyLog log = new DirtyLog();
                Fd memfd = fileWith(data)) {
            log.setBitmap(DirtyBitmap.over(arena.allocate(4096)));
            log.setEnabled(true);
            MemorySegment guest = arena.allocate(5 * 4096, 4096);
            // Three buffers: a page, a page and a half (at a gap), two pages.
            LoggedSegment b0 = new LoggedSegment(guest.asSlice(0, 4096), base, log);
            LoggedSegment b1 = new LoggedSegment(guest.asSlice(4096, 6144), base + 4096, log);
            LoggedSegment b2 = new LoggedSegment(guest.asSlice(12288, 8192), base + 16384, log);
            GuestReadSink sink = new GuestReadSink(List.of(b0, b1, b2));
            assertEquals(4096 + 6144 + 8192, sink.remaining());
            assertEquals(5000, sink.readFrom(memfd, 100, 5000));
            assertEquals(3000, sink.readFrom(memfd, 5100, 3000), "a second call appends");
            assertEquals(8000, sink.written());
            byte[] got = new byte[8000];
            MemorySegment.copy(guest, ValueLayout.JAVA_BYTE, 0, got, 0, 8000);
            assertArrayEquals(Arrays.copyOfRange(data, 100, 8100), got);
            DirtyBitmap bits = log.bitmap();
            assertTrue(bits.isDirty(base));
            assertTrue(bits.isDirty(base + 4096));
            assertTrue(bits.isDirty(base + 8191), "the end of what was written in the second buffer");
            assertFalse(bits.isDirty(base + 8192 + 4096), "the gap between buffers is not guest-written");
            assertFalse(bits.isDirty(base + 16384), "the third buffer was not reached");
            assertEquals(5000, sink.readFrom(memfd, 10_000, 5000), "on into the third buffer");
            assertTrue(bits.isDirty(base + 16384));
            assertFalse(bits.isDirty(base + 16384 + 4096), "13000 bytes end in the third buffer's first page");
            // At end of file: short, then nothing.
            assertEquals(500, sink.readFrom(memfd, 19_500, 5000));
            assertEquals(0, sink.readFrom(memfd, data.length, 10));
            assertEquals(13_500, sink.written());
        }
    }

    @Test
    void theWriteSourceGathersFromEveryBuffer() throws Exception {
        try (Arena arena = Arena.ofConfined();
                Fd memfd = Libc.memfdCreate("target", Libc.MFD_CLOEXEC)) {
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_BYTE, Arrays.copyOfRange(data, 0, 10));
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_BYTE, Arrays.copyOfRange(data, 10, 5000));
            GuestWriteSource source = new GuestWriteSource(List.of(a.asReadOnly(), b.asReadOnly()));
            assertEquals(5000, source.size());
            assertEquals(5000, source.writeTo(memfd, 3));
            MemorySegment back = arena.allocate(5003);
            assertEquals(5003, Libc.pread(memfd, back, 5003, 0));
            byte[] got = new byte[5000];
            MemorySegment.copy(back, ValueLayout.JAVA_BYTE, 3, got, 0, 5000);
            assertArrayEquals(Arrays.copyOf(data, 5000), got);
            Fd[] pipe = Libc.pipe2(Libc.O_CLOEXEC);
            try {
                FsException e = assertThrows(FsException.class, () -> source.writeTo(pipe[1], 0));
                assertEquals(Errno.ESPIPE, e.errno(), "a failed pwritev is the file system's errno");
            } finally {
                pipe[0].close();
                pipe[1].close();
            }
        }
    }

    private static Fd fileWith(byte[] content) throws Exception {
        Fd fd = Libc.memfdCreate("content", Libc.MFD_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            Libc.pwrite(fd, a.allocateFrom(ValueLayout.JAVA_BYTE, content), content.length, 0);
        }
        return fd;
    }

    @Test
    void writeGathersFromSeveralReadableDescriptors() throws Exception {
        byte[] payload = new byte[9000];
        new Random(11).nextBytes(payload);
        byte[] writeIn = ByteBuffer.allocate(40)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(fh)
                .putLong(500)
                .putInt(payload.length)
                .putInt(0)
                .putLong(0)
                .putInt(0)
                .putInt(0)
                .array();
        byte[] header = inHeader(40 + 40 + payload.length, WRITE, 88, file, 0, 0, 1);
        // Split mid-header, mid-struct and mid-data.
        byte[] all = concat(header, writeIn, payload);
        List<byte[]> parts = List.of(
                Arrays.copyOfRange(all, 0, 20),
                Arrays.copyOfRange(all, 20, 63),
                Arrays.copyOfRange(all, 63, 1000),
                Arrays.copyOfRange(all, 1000, 7000),
                Arrays.copyOfRange(all, 7000, all.length));
        Reply r = h.sendSplit(1, parts, OUT_HEADER + 8);
        r.ok();
        assertEquals(88, r.unique());
        assertEquals(payload.length, r.body().getInt(0));
        byte[] contents = fs.contents(file);
        assertArrayEquals(Arrays.copyOf(data, 500), Arrays.copyOf(contents, 500));
        assertArrayEquals(payload, Arrays.copyOfRange(contents, 500, 9500));
    }

    @Test
    void aWriteLongerThanItsDataIsRefusedBeforeTheFileSystem() throws Exception {
        byte[] body = args().u64(fh)
                .u64(0)
                .u32(100)
                .u32(0)
                .u64(0)
                .u32(0)
                .u32(0)
                .bytes(new byte[99])
                .build();
        Reply r = h.call(WRITE, file, body, OUT_HEADER + 8);
        assertEquals(-Errno.EINVAL, r.error());
        assertTrue(fs.calls.stream().noneMatch(c -> c.startsWith("write")), fs.calls.toString());
        assertArrayEquals(data, fs.contents(file));
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }
}
