package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.BackendMessage;
import io.jvhost.protocol.BackendRequest;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.Direction;
import io.jvhost.protocol.FrontendMessage.SetBackendReqFd;
import io.jvhost.protocol.FrontendRequest;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.ReceivedMessage;
import io.jvhost.protocol.Reply;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.VirtqueueException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DeviceContext a device gets on activation, driven through jvhost's front-end: the back-end
 * request channel, event sources on the queue's worker, the read-only guest memory view.
 */
class DeviceContextTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private BackgroundServer served;

    /** Two queues on workers of their own; keeps its context and the thread of each queue. */
    static final class ContextDevice implements Device {
        final boolean configSpace;
        final BlockingQueue<DeviceContext> activated = new ArrayBlockingQueue<>(4);
        final String[] queueThread = new String[2];

        ContextDevice(boolean configSpace) {
            this.configSpace = configSpace;
        }

        @Override
        public String name() {
            return "context";
        }

        @Override
        public int queueCount() {
            return 2;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1);
        }

        @Override
        public Set<ProtocolFeature> protocolFeatures() {
            return Set.of(ProtocolFeature.BACKEND_REQ);
        }

        @Override
        public boolean hasConfigSpace() {
            return configSpace;
        }

        @Override
        public byte[] config() {
            return configSpace ? new byte[8] : new byte[0];
        }

        @Override
        public int workerFor(int queue) {
            return queue;
        }

        @Override
        public void activate(DeviceContext context) {
            activated.add(context);
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) throws VirtqueueException {
            queueThread[queueIndex] = Thread.currentThread().getName();
            chain.writer().write(new byte[] {(byte) queueIndex});
            return 1;
        }

        DeviceContext context() throws InterruptedException {
            DeviceContext c = activated.poll(T.toSeconds(), TimeUnit.SECONDS);
            assertNotNull(c, "the device was not activated");
            return c;
        }
    }

    private BackgroundServer serve(Device device) throws Exception {
        served = BackgroundServer.start(dir.resolve("context.sock"), device);
        return served;
    }

    @AfterEach
    void stop() throws Exception {
        if (served != null) served.close();
    }

    /** Negotiates {@code protocolFeatures} (of those offered) and hands over a back-end channel; returns our end. */
    private static UnixSocket handshake(FrontendClient c, long protocolFeatures, boolean sendChannel) throws Exception {
        c.getFeatures();
        c.setProtocolFeatures(c.getProtocolFeatures() & protocolFeatures);
        c.getFeatures(); // a round trip: SET_PROTOCOL_FEATURES has no reply, but has been applied now
        if (!sendChannel) return null;
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket theirs = pair[1]) {
            c.sendRaw(new SetBackendReqFd(theirs.fd()), true);
            Reply ack = c.connection().receiveReply(FrontendRequest.SET_BACKEND_REQ_FD);
            assertEquals(Reply.U64.SUCCESS, ack);
        }
        return pair[0];
    }

    private static final long CHANNEL_FEATURES = ProtocolFeature.maskOf(
            Set.of(ProtocolFeature.BACKEND_REQ, ProtocolFeature.CONFIG, ProtocolFeature.REPLY_ACK));

    @Test
    void aConfigChangeReachesTheFrontEndThroughTheBackendChannel() throws Exception {
        ContextDevice device = new ContextDevice(true);
        try (FrontendClient c = FrontendClient.connect(serve(device).socket());
                UnixSocket ours = handshake(c, CHANNEL_FEATURES, true);
                Connection<BackendRequest, BackendMessage> channel = new Connection<>(ours, Direction.BACKEND)) {
            device.context().notifyConfigChange();
            assertTrue(
                    (Libc.pollOne(ours.fd(), Libc.POLLIN, (int) T.toMillis()) & Libc.POLLIN) != 0,
                    "nothing arrived on the back-end channel");
            ReceivedMessage<BackendMessage> m = channel.receive();
            assertInstanceOf(BackendMessage.ConfigChange.class, m.message());
            assertFalse(m.needsReply(), "a worker must not wait for the front-end's ack");
        }
    }

    @Test
    void aConfigChangeIsRefusedWithoutTheChannelOrItsFeatures() throws Exception {
        ContextDevice device = new ContextDevice(true);
        try (FrontendClient c = FrontendClient.connect(serve(device).socket())) {
            handshake(c, ProtocolFeature.maskOf(Set.of(ProtocolFeature.CONFIG)), false);
            DeviceContext context = device.context();
            DeviceException e = assertThrows(DeviceException.class, context::notifyConfigChange);
            assertTrue(e.getMessage().contains("BACKEND_REQ"), e.getMessage());
            c.setProtocolFeatures(CHANNEL_FEATURES);
            c.getFeatures();
            e = assertThrows(DeviceException.class, context::notifyConfigChange);
            assertTrue(e.getMessage().contains("SET_BACKEND_REQ_FD"), e.getMessage());
        }
        stop();
        served = null;
        // A device without a config space: CONFIG is not even offered.
        ContextDevice plain = new ContextDevice(false);
        try (FrontendClient c = FrontendClient.connect(serve(plain).socket());
                UnixSocket _ = handshake(c, CHANNEL_FEATURES, true)) {
            DeviceException e = assertThrows(DeviceException.class, plain.context()::notifyConfigChange);
            assertTrue(e.getMessage().contains("CONFIG was not negotiated"), e.getMessage());
        }
    }

    @Test
    void theContextRefusesOnceTheSessionEnded() throws Exception {
        ContextDevice device = new ContextDevice(true);
        DeviceContext context;
        try (FrontendClient c = FrontendClient.connect(serve(device).socket());
                UnixSocket _ = handshake(c, CHANNEL_FEATURES, true)) {
            context = device.context();
        }
        stop(); // the server stops only after the session closed
        served = null;
        DeviceException e = assertThrows(DeviceException.class, context::notifyConfigChange);
        assertTrue(e.getMessage().contains("session ended"), e.getMessage());
        try (EventFd fd = EventFd.create(true)) {
            assertThrows(DeviceException.class, () -> context.watch(0, fd.fd(), () -> {}));
        }
    }

    @Test
    void anEventSourceRunsOnTheWorkerOfItsQueue() throws Exception {
        ContextDevice device = new ContextDevice(false);
        BlockingQueue<String> ran = new ArrayBlockingQueue<>(16);
        try (EventFd own = EventFd.create(true);
                GuestDriver d = GuestDriver.connect(serve(device).socket(), GuestDriver.Options.defaults(2))) {
            DeviceContext.Registration r = device.context().watch(1, own.fd(), () -> {
                own.drain();
                ran.add(Thread.currentThread().getName());
            });
            d.request(1, List.of(), 1, T);
            own.signal();
            assertEquals("jvhost-context-rings-1", device.queueThread[1]);
            assertEquals(device.queueThread[1], ran.poll(T.toSeconds(), TimeUnit.SECONDS), "queue 1's thread");
            own.signal();
            assertNotNull(ran.poll(T.toSeconds(), TimeUnit.SECONDS), "a second event is handled too");
            r.close();
            r.close(); // idempotent
            d.request(1, List.of(), 1, T); // the worker goes on
        }
    }

    @Test
    void aNotifierRunsItsHandlerOnTheWorkerOfItsQueueWithoutAnFdOfTheDevices() throws Exception {
        ContextDevice device = new ContextDevice(false);
        BlockingQueue<String> ran = new ArrayBlockingQueue<>(16);
        try (GuestDriver d = GuestDriver.connect(serve(device).socket(), GuestDriver.Options.defaults(2))) {
            DeviceContext.Notifier n = device.context()
                    .notifier(1, () -> ran.add(Thread.currentThread().getName()));
            d.request(1, List.of(), 1, T);
            Thread timer = Thread.ofPlatform().start(() -> {
                try {
                    n.signal(); // from another thread, as a timer or a host-side reader would
                } catch (DeviceException e) {
                    throw new IllegalStateException(e);
                }
            });
            timer.join();
            assertEquals(device.queueThread[1], ran.poll(T.toSeconds(), TimeUnit.SECONDS), "queue 1's thread");
            n.signal();
            n.signal(); // folded into one run, or two: never more runs than signals, and at least one
            assertNotNull(ran.poll(T.toSeconds(), TimeUnit.SECONDS), "signalled again, it runs again");
            n.close();
            n.close(); // idempotent
            assertThrows(DeviceException.class, n::signal, "a closed notifier refuses");
            assertEquals(1, d.request(1, List.of(), 1, T)[0], "the worker goes on");
        }
    }

    @Test
    void aFailingHandlerIsNoLongerRunAndTheWorkerGoesOn() throws Exception {
        ContextDevice device = new ContextDevice(false);
        AtomicInteger failures = new AtomicInteger();
        BlockingQueue<Long> good = new ArrayBlockingQueue<>(16);
        try (EventFd failing = EventFd.create(true);
                EventFd fine = EventFd.create(true);
                GuestDriver d = GuestDriver.connect(serve(device).socket(), GuestDriver.Options.defaults(2))) {
            DeviceContext context = device.context();
            context.watch(0, failing.fd(), () -> {
                failures.incrementAndGet();
                throw new IllegalStateException("handler bug (test)"); // and the fd stays readable
            });
            context.watch(0, fine.fd(), () -> good.add(fine.drain()));
            failing.signal();
            fine.signal();
            assertNotNull(good.poll(T.toSeconds(), TimeUnit.SECONDS));
            fine.signal(); // a later pass of the same worker, with the failing fd still readable
            assertNotNull(good.poll(T.toSeconds(), TimeUnit.SECONDS));
            assertEquals(1, failures.get(), "a failed handler ran again");
            assertEquals(0, d.request(0, List.of(), 1, T)[0]);
        }
    }

    @Test
    void theMemoryViewReadsWhatTheFrontEndSharedAndRefusesTheRest() throws Exception {
        ContextDevice device = new ContextDevice(false);
        try (GuestDriver d = GuestDriver.connect(serve(device).socket(), GuestDriver.Options.defaults(2))) {
            GuestMemoryView memory = device.context().memory();
            MemorySegment ram = d.ram().asDriverMemory().segment();
            long base = d.ram().guestPhysBase();
            long at = ram.byteSize() - 4096;
            byte[] pattern = {9, 8, 7, 6, 5, 4, 3, 2};
            MemorySegment.copy(MemorySegment.ofArray(pattern), 0, ram, at, pattern.length);

            assertArrayEquals(pattern, memory.read(base + at, pattern.length));
            byte[] into = new byte[12];
            memory.read(base + at + 2, into, 4, 6);
            assertArrayEquals(new byte[] {0, 0, 0, 0, 7, 6, 5, 4, 3, 2, 0, 0}, into);

            assertThrows(DeviceException.class, () -> memory.read(base + ram.byteSize() - 4, 8), "past the end");
            assertThrows(DeviceException.class, () -> memory.read(base - 1, 1), "below the region");
            assertThrows(DeviceException.class, () -> memory.read(-8, 16), "wrapping around");
            assertThrows(IndexOutOfBoundsException.class, () -> memory.read(base, into, 8, 8));
            assertThrows(IllegalArgumentException.class, () -> memory.read(base, -1));
        }
    }
}
