package io.jvhost.devices.fs;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.frontend.GuestRam;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.MemoryRegionDescriptor;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.BufferAllocator;
import io.jvhost.virtqueue.DriverMemory;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.GuestBuffer;
import io.jvhost.virtqueue.UsedElement;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A guest whose driver writes its descriptor chains by hand (any address, length, flags, next,
 * aliasing buffers, indirect tables) and whose memory table is whatever the test says, next to
 * the real guest RAM that holds the rings. The handshake is {@link GuestDriver}'s, so only what
 * the test means to be hostile is.
 */
final class HostileGuest implements AutoCloseable {
    static final long RAM_GPA = 0x1_0000_0000L;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4;

    /** One descriptor as the test wants it written. */
    record Desc(long addr, int len, int flags, int next) {}

    /** A region of the memory table beside the RAM: its own memfd of {@code fdSize} bytes. */
    record ExtraRegion(long gpa, long size, long fdSize, long mmapOffset) {}

    /** A dirty log: SET_LOG_BASE with {@code size} over a memfd of {@code fdSize} bytes. */
    record Log(long size, long fdSize, long offset) {}

    record Setup(int queues, int queueSize, long ramBytes, List<ExtraRegion> extra, boolean addMemReg, Log log) {
        static Setup plain(long ramBytes) {
            return new Setup(2, 1024, ramBytes, List.of(), false, null);
        }
    }

    final FrontendClient client;
    final GuestRam ram;
    final BufferAllocator buffers;
    private final List<DriverQueue> queues = new ArrayList<>();
    private final List<ArrayDeque<Integer>> freeIds = new ArrayList<>();
    private final List<Map<Integer, UsedElement>> early = new ArrayList<>();
    private final List<EventFd> kicks = new ArrayList<>(), calls = new ArrayList<>();
    private final List<Fd> extraFds = new ArrayList<>();
    private final int queueSize;

    private HostileGuest(FrontendClient client, GuestRam ram, BufferAllocator buffers, int queueSize) {
        this.client = client;
        this.ram = ram;
        this.buffers = buffers;
        this.queueSize = queueSize;
    }

    static HostileGuest connect(Path socket, Setup setup) throws IOException {
        FrontendClient c = new FrontendClient(UnixSocket.connect(socket));
        try {
            GuestDriver.connectDevice(c, setup.queues());
            return attach(c, setup);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Continues on a connection whose device-creation handshake ran (a migration destination). */
    static HostileGuest attach(FrontendClient c, Setup setup) throws IOException {
        long offered = c.getFeatures();
        long wanted = offered
                & VirtioFeatures.mask(
                        VirtioFeatures.VERSION_1,
                        VirtioFeatures.RING_EVENT_IDX,
                        VirtioFeatures.RING_INDIRECT_DESC,
                        VirtioFeatures.PROTOCOL_FEATURES);
        if (setup.log() != null) wanted |= VirtioFeatures.mask(VirtioFeatures.LOG_ALL) & offered;
        c.setFeatures(wanted);
        GuestRam ram = GuestRam.create(setup.ramBytes(), RAM_GPA);
        long ringBytes = (DriverQueue.ringBytes(setup.queueSize()) + 4095) & ~4095L;
        DriverMemory all = ram.asDriverMemory();
        long start = ringBytes * setup.queues();
        HostileGuest g = new HostileGuest(
                c, ram, new BufferAllocator(all.slice(start, all.byteSize() - start)), setup.queueSize());
        try {
            g.shareMemory(setup);
            boolean eventIdx = VirtioFeatures.has(wanted, VirtioFeatures.RING_EVENT_IDX);
            for (int i = 0; i < setup.queues(); i++) {
                DriverQueue q =
                        new DriverQueue(setup.queueSize(), all.slice(ringBytes * i, ringBytes), g.buffers, eventIdx, 0);
                EventFd kick = EventFd.create(true), call = EventFd.create(true);
                g.kicks.add(kick);
                g.calls.add(call);
                var a = q.addresses(setup.log() != null);
                c.setVringNum(i, setup.queueSize());
                c.setVringBase(i, 0);
                c.setVringAddr(i, a.flags(), a.descUserAddr(), a.usedUserAddr(), a.availUserAddr(), a.logGuestAddr());
                c.setVringCall(i, call.fd());
                c.setVringKick(i, kick.fd());
                if (VirtioFeatures.has(wanted, VirtioFeatures.PROTOCOL_FEATURES)) c.setVringEnable(i, true);
                g.queues.add(q);
                g.freeIds.add(new ArrayDeque<>(java.util.Arrays.stream(q.reserveDescriptors(setup.queueSize()))
                        .boxed()
                        .toList()));
                g.early.add(new HashMap<>());
            }
            return g;
        } catch (IOException | RuntimeException e) {
            g.close();
            throw e;
        }
    }

    private void shareMemory(Setup setup) throws IOException {
        List<MemoryRegionDescriptor> regions = new ArrayList<>(List.of(ram.descriptor()));
        List<Fd> fds = new ArrayList<>(List.of(ram.fd()));
        long user = 0x6000_0000_0000L;
        for (ExtraRegion r : setup.extra()) {
            Fd fd = Libc.memfdCreate("hostile-region", Libc.MFD_CLOEXEC);
            extraFds.add(fd);
            Libc.ftruncate(fd, r.fdSize());
            regions.add(new MemoryRegionDescriptor(r.gpa(), r.size(), user, r.mmapOffset()));
            fds.add(fd);
            user += 1L << 36;
        }
        if (setup.addMemReg() && ProtocolFeature.CONFIGURE_MEM_SLOTS.isIn(client.protocolFeatures())) {
            for (int i = 0; i < regions.size(); i++) client.addMemReg(regions.get(i), fds.get(i));
        } else {
            client.setMemTable(regions, fds);
        }
        if (setup.log() != null) {
            Fd fd = Libc.memfdCreate("hostile-log", Libc.MFD_CLOEXEC);
            extraFds.add(fd);
            Libc.ftruncate(fd, setup.log().fdSize());
            client.setLogBase(setup.log().size(), setup.log().offset(), fd);
        }
    }

    /** A buffer in guest RAM holding {@code data} (plus {@code extra} zero bytes after it). */
    GuestBuffer put(byte[] data, int extra) {
        GuestBuffer b = buffers.allocate(Math.max(1, data.length + extra));
        MemorySegment.copy(MemorySegment.ofArray(data), 0, b.segment(), 0, data.length);
        return b;
    }

    private GuestBuffer scratch;

    /** One 16 MiB buffer for chains that repeat a buffer many times; never freed. */
    GuestBuffer scratch() {
        if (scratch == null) scratch = buffers.allocate(16 << 20);
        return scratch;
    }

    /** Room in guest RAM, zeroed. */
    GuestBuffer room(long len) {
        GuestBuffer b = buffers.allocate(Math.max(1, len));
        b.segment().fill((byte) 0);
        return b;
    }

    void free(GuestBuffer b) {
        buffers.free(b);
    }

    /** Writes an indirect table of {@code descs} into a new RAM buffer; returns it. */
    GuestBuffer indirectTable(List<Desc> descs) {
        GuestBuffer t = room(16L * Math.max(1, descs.size()));
        for (int i = 0; i < descs.size(); i++) write(t.segment(), i, descs.get(i));
        return t;
    }

    private static void write(MemorySegment table, int i, Desc d) {
        long at = 16L * i;
        table.set(U64, at, d.addr());
        table.set(U32, at + 8, d.len());
        table.set(U16, at + 12, (short) d.flags());
        table.set(U16, at + 14, (short) d.next());
    }

    /**
     * Writes {@code descs} into ring slots of queue {@code queue} and publishes the first. The
     * descriptors' {@code next} fields are indexes into {@code descs} (rewritten to slot numbers;
     * out-of-range ones are kept as they are); returns the head, or -1 if the ring has too few
     * free slots.
     */
    int post(int queue, List<Desc> descs) throws IOException {
        ArrayDeque<Integer> free = freeIds.get(queue);
        if (free.size() < descs.size()) return -1;
        int[] ids = new int[descs.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = free.pop();
        MemorySegment table = queues.get(queue).descriptorTable();
        for (int i = 0; i < ids.length; i++) {
            Desc d = descs.get(i);
            int next = d.next() >= 0 && d.next() < ids.length ? ids[d.next()] : d.next() & 0xFFFF;
            write(table, ids[i], new Desc(d.addr(), d.len(), d.flags(), next));
        }
        pending.put(key(queue, ids[0]), ids);
        early.get(queue).remove(ids[0]); // a completion of this head's previous chain, never awaited
        queues.get(queue).publishHandMade(ids[0]);
        kicks.get(queue).signal();
        return ids[0];
    }

    private final Map<Long, int[]> pending = new HashMap<>();

    private static long key(int queue, int head) {
        return ((long) queue << 32) | head;
    }

    /** Waits for the completion of {@code head}; null if none came within {@code millis}. */
    UsedElement await(int queue, int head, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        Map<Integer, UsedElement> seen = early.get(queue);
        while (true) {
            UsedElement e;
            while ((e = queues.get(queue).pollUsed()) != null) {
                int[] ids = pending.remove(key(queue, e.head()));
                if (ids != null) for (int id : ids) freeIds.get(queue).push(id);
                seen.put(e.head(), e);
            }
            UsedElement mine = seen.remove(head);
            if (mine != null) return mine;
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) return null;
            if (Libc.pollOne(calls.get(queue).fd(), Libc.POLLIN, (int) Math.min(left, 50)) != 0)
                calls.get(queue).drain();
        }
    }

    /** Whether queue {@code queue} still has {@code n} free slots. */
    boolean hasRoom(int queue, int n) {
        return freeIds.get(queue).size() >= n;
    }

    int queueSize() {
        return queueSize;
    }

    @Override
    public void close() {
        client.close();
        kicks.forEach(EventFd::close);
        calls.forEach(EventFd::close);
        extraFds.forEach(Fd::close);
        ram.close();
    }
}
