package io.jvhost.frontend;

import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.BufferAllocator;
import io.jvhost.virtqueue.DriverMemory;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import io.jvhost.virtqueue.VringAddresses;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * A guest driver without a VM: negotiates with a back-end as QEMU would, shares a memfd as guest
 * RAM, sets up split rings with kick/call eventfds, posts requests and collects completions.
 * Tests and benchmarks drive any vhost-user back-end (jvhost's or virtiofsd) through it.
 */
public final class GuestDriver implements AutoCloseable {
    /** Transport features the model can drive. */
    static final long DRIVER_FEATURES = VirtioFeatures.mask(
            VirtioFeatures.VERSION_1,
            VirtioFeatures.RING_EVENT_IDX,
            VirtioFeatures.RING_INDIRECT_DESC,
            VirtioFeatures.PROTOCOL_FEATURES);
    /** Protocol features the model uses when offered. */
    static final Set<ProtocolFeature> DRIVER_PROTOCOL_FEATURES = EnumSet.of(
            ProtocolFeature.MQ,
            ProtocolFeature.REPLY_ACK,
            ProtocolFeature.CONFIGURE_MEM_SLOTS,
            ProtocolFeature.CONFIG,
            ProtocolFeature.STATUS,
            ProtocolFeature.RESET_DEVICE,
            ProtocolFeature.LOG_SHMFD,
            ProtocolFeature.DEVICE_STATE);

    /** How to set the device up. */
    public record Options(
            int queues, int queueSize, long ramBytes, long deviceFeatures, boolean indirect, boolean useMemTable) {
        public static Options defaults(int queues) {
            return new Options(queues, 256, 16L << 20, 0, false, false);
        }

        public Options withDeviceFeatures(long f) {
            return new Options(queues, queueSize, ramBytes, f, indirect, useMemTable);
        }

        public Options withMemTable(boolean on) {
            return new Options(queues, queueSize, ramBytes, deviceFeatures, indirect, on);
        }

        public Options withIndirect(boolean on) {
            return new Options(queues, queueSize, ramBytes, deviceFeatures, on, useMemTable);
        }
    }

    private static final long GUEST_PHYS_BASE = 0x1_0000_0000L; // away from 0: catches gpa/offset mix-ups

    private FrontendClient client;
    private final GuestRam ram;
    private final Options options;
    private final List<DriverQueue> queues = new ArrayList<>();
    private final List<EventFd> kicks = new ArrayList<>();
    private final List<EventFd> calls = new ArrayList<>();
    private final long features;
    private long protocolFeatures;
    /** The indices GET_VRING_BASE reported at the last {@link #suspend()}; null while running. */
    private int[] suspendedAt;

    private GuestDriver(FrontendClient client, GuestRam ram, Options options, long features, long protocolFeatures) {
        this.client = client;
        this.ram = ram;
        this.options = options;
        this.features = features;
        this.protocolFeatures = protocolFeatures;
    }

    public static GuestDriver connect(Path socket, Options options) throws IOException {
        return start(new FrontendClient(UnixSocket.connect(socket)), options);
    }

    /** Negotiates, shares memory, and starts every ring, in QEMU's order (vhost_dev_init/start). */
    public static GuestDriver start(FrontendClient client, Options options) throws IOException {
        GuestRam ram = null;
        try {
            long offered = client.getFeatures();
            long wanted = offered & (DRIVER_FEATURES | options.deviceFeatures());
            long pf = connectDevice(client, offered, options.queues());
            client.setFeatures(wanted);
            ram = GuestRam.create(options.ramBytes(), GUEST_PHYS_BASE);
            shareMemory(client, ram, pf, options);
            GuestDriver d = new GuestDriver(client, ram, options, wanted, pf);
            d.startRings(0);
            return d;
        } catch (IOException | RuntimeException e) {
            if (ram != null) ram.close();
            client.close();
            throw e;
        }
    }

    /**
     * A client on {@code socket} that went through {@link #connectDevice(FrontendClient, int)}
     * only, as a migration destination is before its state is loaded.
     */
    public static FrontendClient connectDevice(Path socket, int queues) throws IOException {
        FrontendClient c = FrontendClient.connect(socket);
        try {
            connectDevice(c, queues);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The part of the handshake QEMU does when the device is created (vhost_dev_init): protocol
     * features, queue count, owner. A migration destination then gets its state loaded, before
     * features, memory and rings (vhost_dev_start). Returns the acked protocol features.
     */
    public static long connectDevice(FrontendClient client, int queues) throws IOException {
        return connectDevice(client, client.getFeatures(), queues);
    }

    private static long connectDevice(FrontendClient client, long offered, int queues) throws IOException {
        long pf = 0;
        if (VirtioFeatures.has(offered, VirtioFeatures.PROTOCOL_FEATURES)) {
            pf = client.getProtocolFeatures() & ProtocolFeature.maskOf(DRIVER_PROTOCOL_FEATURES);
            client.setProtocolFeatures(pf);
        }
        if (ProtocolFeature.MQ.isIn(pf)) {
            int n = client.getQueueNum();
            if (n < queues) throw new IOException("back-end has " + n + " queues, need " + queues);
        }
        client.setOwner();
        return pf;
    }

    private static void shareMemory(FrontendClient client, GuestRam ram, long pf, Options options) throws IOException {
        if (ProtocolFeature.CONFIGURE_MEM_SLOTS.isIn(pf) && !options.useMemTable()) {
            client.addMemReg(ram.descriptor(), ram.fd());
        } else {
            client.setMemTable(List.of(ram.descriptor()), List.of(ram.fd()));
        }
    }

    private void startRings(int startIndex) throws IOException {
        boolean eventIdx = VirtioFeatures.has(features, VirtioFeatures.RING_EVENT_IDX);
        long ringBytes = (DriverQueue.ringBytes(options.queueSize()) + 4095) & ~4095L;
        DriverMemory all = ram.asDriverMemory();
        long buffersStart = ringBytes * options.queues();
        BufferAllocator allocator = new BufferAllocator(all.slice(buffersStart, all.byteSize() - buffersStart));
        for (int i = 0; i < options.queues(); i++) {
            DriverQueue q = new DriverQueue(
                    options.queueSize(), all.slice(ringBytes * i, ringBytes), allocator, eventIdx, startIndex);
            EventFd kick = EventFd.create(true);
            EventFd call = EventFd.create(true);
            VringAddresses a = q.addresses(false);
            client.setVringNum(i, options.queueSize());
            client.setVringBase(i, startIndex);
            client.setVringAddr(i, a.flags(), a.descUserAddr(), a.usedUserAddr(), a.availUserAddr(), a.logGuestAddr());
            client.setVringCall(i, call.fd());
            client.setVringKick(i, kick.fd());
            // Spec "Ring states": with PROTOCOL_FEATURES rings start disabled until enabled.
            if (VirtioFeatures.has(features, VirtioFeatures.PROTOCOL_FEATURES)) {
                client.setVringEnable(i, true);
            }
            queues.add(q);
            kicks.add(kick);
            calls.add(call);
        }
    }

    public FrontendClient client() {
        return client;
    }

    public long features() {
        return features;
    }

    /** The shared guest RAM (tests that play a front-end changing it under the back-end). */
    public GuestRam ram() {
        return ram;
    }

    public long protocolFeatures() {
        return protocolFeatures;
    }

    public DriverQueue queue(int i) {
        return queues.get(i);
    }

    /** Posts a request (readable parts, then writable lengths) and kicks if the device wants it. */
    public Submission submit(int queue, List<byte[]> readable, int... writableLengths) throws IOException {
        DriverQueue q = queues.get(queue);
        Submission s = q.submit(readable, writableLengths, options.indirect());
        if (q.kickNeeded()) kicks.get(queue).signal();
        return s;
    }

    /**
     * Posts a request without kicking, so that a batch of chains costs one notification
     * ({@link #kickIfNeeded}), as Linux's virtqueue_add + virtqueue_kick_prepare do.
     */
    public Submission post(int queue, List<byte[]> readable, int... writableLengths) {
        return queues.get(queue).submit(readable, writableLengths, options.indirect());
    }

    /** Kicks {@code queue} if the device asked for it since the last kick (EVENT_IDX / NO_NOTIFY). */
    public void kickIfNeeded(int queue) throws IOException {
        if (queues.get(queue).kickNeeded()) kicks.get(queue).signal();
    }

    /** The next completion on {@code queue} if there is one, without waiting. */
    public UsedElement pollUsed(int queue) {
        return queues.get(queue).pollUsed();
    }

    /** Notifies the device unconditionally (for chains written by hand). */
    public void kick(int queue) throws IOException {
        kicks.get(queue).signal();
    }

    /**
     * The notifications (interrupts) the device sent on {@code queue} since the last call or
     * {@link #awaitUsed}: the call eventfd's counter, which this resets.
     */
    public long takeNotifications(int queue) throws IOException {
        return calls.get(queue).drain();
    }

    /** Waits up to {@code timeout} for a notification on {@code queue} (left counted); true if one came. */
    public boolean awaitNotification(int queue, Duration timeout) throws IOException {
        return Libc.pollOne(calls.get(queue).fd(), Libc.POLLIN, (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE))
                != 0;
    }

    /** Waits for the next completion on {@code queue}. */
    public UsedElement awaitUsed(int queue, Duration timeout) throws IOException, TimeoutException {
        DriverQueue q = queues.get(queue);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            UsedElement e = q.pollUsed();
            if (e != null) return e;
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) throw new TimeoutException("no completion on queue " + queue + " within " + timeout);
            if (Libc.pollOne(calls.get(queue).fd(), Libc.POLLIN, (int) Math.min(left, 100)) != 0) {
                calls.get(queue).drain();
            }
        }
    }

    /** Submit, wait, and return the bytes the device wrote. */
    public byte[] request(int queue, List<byte[]> readable, int writableLength, Duration timeout)
            throws IOException, TimeoutException {
        try (Submission s = writableLength > 0 ? submit(queue, readable, writableLength) : submit(queue, readable)) {
            UsedElement e = awaitUsed(queue, timeout);
            if (e.head() != s.head())
                throw new IOException("completion for head " + e.head() + ", expected " + s.head());
            return s.readWritten(e.length());
        }
    }

    /** Stops every ring (GET_VRING_BASE); returns the indices the back-end reports. */
    public int[] stopRings() throws IOException {
        int[] bases = new int[queues.size()];
        for (int i = 0; i < queues.size(); i++) bases[i] = client.getVringBase(i);
        return bases;
    }

    /**
     * Suspends the device as QEMU does before saving its state: disables and stops every ring
     * and remembers where each stopped, for {@link #resume()} or {@link #moveTo}. The driver's
     * own bookkeeping (requests in flight, free descriptors) is untouched.
     */
    public int[] suspend() throws IOException {
        if (suspendedAt != null) throw new IllegalStateException("already suspended");
        if (VirtioFeatures.has(features, VirtioFeatures.PROTOCOL_FEATURES)) {
            for (int i = 0; i < queues.size(); i++) client.setVringEnable(i, false);
        }
        suspendedAt = stopRings();
        return suspendedAt.clone();
    }

    public boolean isSuspended() {
        return suspendedAt != null;
    }

    /** Starts the rings again on the same back-end from where {@link #suspend()} stopped them. */
    public void resume() throws IOException {
        if (suspendedAt == null) throw new IllegalStateException("not suspended");
        configureRings(suspendedAt);
        suspendedAt = null;
    }

    /**
     * Continues on another back-end whose state was loaded from this one's: same guest RAM and
     * rings, the destination gets the memory table and every ring with SET_VRING_BASE equal to
     * the index the source stopped at, and new kick/call eventfds. Requests in flight stay in
     * flight. The source connection is closed. If the destination's handshake already ran
     * ({@link #connectDevice}, as before a LOAD), it is not repeated.
     */
    public void moveTo(FrontendClient destination) throws IOException {
        if (suspendedAt == null) throw new IllegalStateException("suspend() first: the source must be stopped");
        long offered = destination.getFeatures();
        if ((offered & features) != features) {
            throw new IOException(
                    "the destination lacks features the driver uses: " + VirtioFeatures.describe(features & ~offered));
        }
        long pf = destination.protocolFeaturesSet()
                ? destination.protocolFeatures()
                : connectDevice(destination, offered, options.queues());
        destination.setFeatures(features);
        shareMemory(destination, ram, pf, options);
        FrontendClient source = client;
        client = destination;
        protocolFeatures = pf;
        kicks.forEach(EventFd::close);
        calls.forEach(EventFd::close);
        kicks.clear();
        calls.clear();
        for (int i = 0; i < queues.size(); i++) {
            kicks.add(EventFd.create(true));
            calls.add(EventFd.create(true));
        }
        configureRings(suspendedAt);
        suspendedAt = null;
        source.close();
    }

    /** Ring setup for existing driver queues (QEMU's vhost_virtqueue_start), from {@code bases}. */
    private void configureRings(int[] bases) throws IOException {
        for (int i = 0; i < queues.size(); i++) {
            DriverQueue q = queues.get(i);
            VringAddresses a = q.addresses(false);
            client.setVringNum(i, q.size());
            client.setVringBase(i, bases[i]);
            client.setVringAddr(i, a.flags(), a.descUserAddr(), a.usedUserAddr(), a.availUserAddr(), a.logGuestAddr());
            client.setVringCall(i, calls.get(i).fd());
            client.setVringKick(i, kicks.get(i).fd());
            if (VirtioFeatures.has(features, VirtioFeatures.PROTOCOL_FEATURES)) client.setVringEnable(i, true);
            // Requests posted while suspended got no kick that anyone saw: kick now.
            kicks.get(i).signal();
        }
    }

    @Override
    public void close() {
        client.close();
        kicks.forEach(EventFd::close);
        calls.forEach(EventFd::close);
        ram.close();
    }
}
