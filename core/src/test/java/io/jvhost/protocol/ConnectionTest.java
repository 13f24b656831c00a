package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Pipe;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.FrontendMessage.GetFeatures;
import io.jvhost.protocol.FrontendMessage.SetDeviceStateFd;
import io.jvhost.protocol.FrontendMessage.SetMemTable;
import io.jvhost.protocol.FrontendMessage.SetVringKick;
import io.jvhost.protocol.FrontendMessage.SetVringNum;
import io.jvhost.protocol.Reply.DeviceStateFd;
import io.jvhost.protocol.Reply.U64;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Connection over a socketpair: framing, fds, reply checks, EOF and hostile headers. */
class ConnectionTest {
    private static final Duration LIMIT = Duration.ofSeconds(10);
    private long openBefore;
    private Connection<FrontendRequest, FrontendMessage> frontend;
    private Connection<FrontendRequest, FrontendMessage> backend;

    @BeforeEach
    void connect() throws Exception {
        openBefore = TestFds.openCount();
        UnixSocket[] pair = UnixSocket.pair();
        frontend = new Connection<>(pair[0], Direction.FRONTEND);
        backend = new Connection<>(pair[1], Direction.FRONTEND);
    }

    @AfterEach
    void closeAndCheckLeaks() {
        frontend.close();
        backend.close();
        assertEquals(openBefore, TestFds.openCount(), "file descriptors leaked");
    }

    /** Writes raw bytes (and fds) from the front-end's socket, bypassing the codec. */
    private void sendRaw(Header h, byte[] payload, List<Fd> fds) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(Header.SIZE + payload.length);
        h.write(b);
        b.put(payload).flip();
        frontend.socket().sendMsg(b, fds);
    }

    @Test
    void messageWithFdArrivesWithHeaderAndTheSameEventfd() throws Exception {
        Fd kick = TestFds.eventfd();
        try {
            frontend.send(new SetVringKick(3, Optional.of(kick)), true);
            ReceivedMessage<FrontendMessage> r = assertTimeoutPreemptively(LIMIT, () -> backend.receive());
            assertTrue(r.needsReply());
            assertEquals(Header.forRequest(FrontendRequest.SET_VRING_KICK, true, 8), r.header());
            SetVringKick k = assertInstanceOf(SetVringKick.class, r.message());
            assertEquals(3, k.index());
            TestFds.assertSameEventfd(kick, k.fd().orElseThrow());
            k.closeFds();
            assertTrue(kick.isOpen(), "sending does not close the sender's fd");
        } finally {
            kick.close();
        }
    }

    @Test
    void eightFdsOfAMemoryTableArriveInOrder() throws Exception {
        List<Fd> fds = TestFds.eventfds(8);
        SetMemTable sent =
                new SetMemTable(IntStream.range(0, 8).mapToObj(Samples::region).toList(), fds);
        try {
            frontend.send(sent, false);
            FrontendMessage got =
                    assertTimeoutPreemptively(LIMIT, () -> backend.receive().message());
            MessageAssertions.assertSameMessage(sent, (Record) got);
            got.closeFds();
        } finally {
            sent.closeFds();
        }
    }

    @Test
    void callSendsAndReceivesTheReply() throws Exception {
        CompletableFuture<Void> server = CompletableFuture.runAsync(() -> {
            try {
                ReceivedMessage<FrontendMessage> r = backend.receive();
                assertInstanceOf(GetFeatures.class, r.message());
                backend.sendReply(FrontendRequest.GET_FEATURES, new U64(0x1_4000_0000L));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Reply reply = assertTimeoutPreemptively(LIMIT, () -> frontend.call(new GetFeatures(), false));
        assertEquals(new U64(0x1_4000_0000L), reply);
        server.get();
    }

    @Test
    void deviceStateExchangeWithAPipeAndABackendProvidedFd() throws Exception {
        try (Pipe frontendPipe = Pipe.create(0);
                Pipe backendPipe = Pipe.create(0)) {
            CompletableFuture<Void> server = CompletableFuture.runAsync(() -> {
                try {
                    ReceivedMessage<FrontendMessage> r = backend.receive();
                    SetDeviceStateFd m = assertInstanceOf(SetDeviceStateFd.class, r.message());
                    assertEquals(Optional.of(DeviceStateDirection.SAVE), m.knownDirection());
                    assertEquals(Optional.of(DeviceStatePhase.STOPPED), m.knownPhase());
                    m.closeFds(); // the back-end chose its own channel instead
                    backend.sendReply(
                            FrontendRequest.SET_DEVICE_STATE_FD, DeviceStateFd.acceptedWith(backendPipe.readEnd()));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Reply reply = assertTimeoutPreemptively(
                    LIMIT,
                    () -> frontend.call(
                            new SetDeviceStateFd(
                                    DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, frontendPipe.writeEnd()),
                            false));
            server.get();
            DeviceStateFd d = assertInstanceOf(DeviceStateFd.class, reply);
            assertTrue(d.succeeded());
            Fd received = d.fd().orElseThrow();
            // What the back-end writes into its pipe comes out of the fd we received.
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 7, (byte) 8, (byte) 9);
                assertEquals(3, Libc.write(backendPipe.writeEnd(), out, 3));
                MemorySegment in = arena.allocate(3);
                assertEquals(3, Libc.read(received, in, 3));
                assertEquals(9, in.get(ValueLayout.JAVA_BYTE, 2));
            }
            d.closeFds();
        }
    }

    @Test
    void backendChannelLookupWithFdInTheReply() throws Exception {
        Fd dmabuf = TestFds.eventfd();
        UnixSocket[] channel = UnixSocket.pair();
        // On the back-end channel the roles flip: the back-end sends, the front-end replies.
        try (var backendEnd = new Connection<>(channel[0], Direction.BACKEND);
                var frontendEnd = new Connection<>(channel[1], Direction.BACKEND)) {
            CompletableFuture<Void> frontendSide = CompletableFuture.runAsync(() -> {
                try {
                    ReceivedMessage<BackendMessage> r = frontendEnd.receive();
                    BackendMessage.SharedObjectLookup l =
                            assertInstanceOf(BackendMessage.SharedObjectLookup.class, r.message());
                    assertEquals(Samples.UUID_SAMPLE, l.uuid());
                    frontendEnd.sendReply(
                            BackendRequest.SHARED_OBJECT_LOOKUP, new Reply.SharedObjectLookup(0, Optional.of(dmabuf)));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Reply reply = assertTimeoutPreemptively(
                    LIMIT, () -> backendEnd.call(new BackendMessage.SharedObjectLookup(Samples.UUID_SAMPLE), false));
            frontendSide.get();
            Reply.SharedObjectLookup l = assertInstanceOf(Reply.SharedObjectLookup.class, reply);
            TestFds.assertSameEventfd(dmabuf, l.fd().orElseThrow());
            l.closeFds();
        } finally {
            dmabuf.close();
        }
    }

    @Test
    void replyWithWrongFlagsOrRequestIsRefusedButTheStreamStaysUsable() throws Exception {
        byte[] eight = new byte[8];
        sendRaw(new Header(1, 0x1, 8), eight, List.of()); // REPLY bit missing
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> backend.receiveReply(FrontendRequest.GET_FEATURES));
        assertTrue(e.getMessage().contains("reply flags 0x1"), e.getMessage());
        assertTrue(e.streamInSync());

        Fd fd = TestFds.eventfd();
        sendRaw(new Header(15, 0x5, 8), eight, List.of(fd)); // reply to another request, with a stray fd
        fd.close();
        e = assertThrows(ProtocolException.class, () -> backend.receiveReply(FrontendRequest.GET_FEATURES));
        assertTrue(e.getMessage().contains("request id 15"), e.getMessage());

        sendRaw(new Header(1, 0x5, 8), new byte[] {1, 0, 0, 0, 0, 0, 0, 0}, List.of());
        Reply ok = assertTimeoutPreemptively(LIMIT, () -> backend.receiveReply(FrontendRequest.GET_FEATURES));
        assertEquals(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 1L : 1L << 56, ((U64) ok).value());
    }

    @Test
    void unknownRequestIsRefusedWithItsHeaderAndTheNextMessageStillArrives() throws Exception {
        Fd fd = TestFds.eventfd();
        sendRaw(new Header(77, Header.VERSION_1 | Header.NEED_REPLY, 16), new byte[16], List.of(fd));
        fd.close();
        frontend.send(new SetVringNum(0, 256), false);
        ProtocolException e = assertThrows(ProtocolException.class, () -> backend.receive());
        assertTrue(e.getMessage().contains("unknown front-end request id 77"), e.getMessage());
        assertTrue(e.streamInSync());
        assertTrue(e.header().orElseThrow().needsReply(), "a handler can still answer with an error ack");
        assertEquals(
                new SetVringNum(0, 256),
                assertTimeoutPreemptively(LIMIT, () -> backend.receive().message()));
    }

    @Test
    void cleanEofIsPeerClosed() {
        frontend.close();
        assertThrows(PeerClosedException.class, () -> assertTimeoutPreemptively(LIMIT, () -> backend.receive()));
    }

    @Test
    void eofInTheMiddleOfTheHeaderIsAProtocolError() throws Exception {
        Fd fd = TestFds.eventfd();
        frontend.socket().sendMsg(ByteBuffer.wrap(new byte[] {1, 0, 0, 0, 1}), List.of(fd));
        fd.close();
        frontend.close();
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> assertTimeoutPreemptively(LIMIT, () -> backend.receive()));
        assertTrue(e.getMessage().contains("after 5 of 12 header bytes"), e.getMessage());
        assertFalse(e.streamInSync());
    }

    @Test
    void eofInTheMiddleOfThePayloadIsAProtocolError() throws Exception {
        sendRaw(new Header(9, 0x1, 40), new byte[10], List.of());
        frontend.close();
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> assertTimeoutPreemptively(LIMIT, () -> backend.receive()));
        assertTrue(
                e.getMessage().contains("SET_VRING_ADDR") && e.getMessage().contains("after 10 of 40 payload bytes"),
                e.getMessage());
    }

    @Test
    void oversizedHeaderIsRefusedAtOnceAndItsFdsClosed() throws Exception {
        // No payload follows: the reader must not wait for the 1 MiB it announces.
        List<Fd> fds = TestFds.eventfds(2);
        sendRaw(new Header(5, 0x1, 1 << 20), new byte[0], fds);
        fds.forEach(Fd::close);
        long before = TestFds.openCount();
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> assertTimeoutPreemptively(LIMIT, () -> backend.receive()));
        assertTrue(
                e.getMessage().contains("SET_MEM_TABLE") && e.getMessage().contains("exceeds the maximum of 4096"),
                e.getMessage());
        assertFalse(e.streamInSync());
        assertEquals(before, TestFds.openCount(), "the two received fds were closed");
    }

    @Test
    void badVersionIsRefusedBeforeReadingThePayload() throws Exception {
        sendRaw(new Header(1, 0x2, 0), new byte[0], List.of());
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> assertTimeoutPreemptively(LIMIT, () -> backend.receive()));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
        assertFalse(e.streamInSync());
    }

    @Test
    void concurrentSendersNeverInterleaveMessages() throws Exception {
        int threads = 4;
        int perThread = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                senders.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        frontend.send(new SetVringNum(thread, i), false);
                        frontend.send(new FrontendMessage.SetConfig(thread, 0, Samples.bytes(200, i)), false);
                    }
                    return null;
                }));
            }
            Set<String> seen = new HashSet<>();
            assertTimeoutPreemptively(LIMIT, () -> {
                for (int n = 0; n < threads * perThread * 2; n++) {
                    FrontendMessage m = backend.receive().message();
                    switch (m) {
                        case SetVringNum s -> assertTrue(seen.add("num " + s.index() + "/" + s.num()));
                        case FrontendMessage.SetConfig c -> {
                            int i = Byte.toUnsignedInt(c.data()[0]); // Samples.bytes(n, seed) starts with seed
                            assertEquals(
                                    new FrontendMessage.SetConfig(c.offset(), 0, Samples.bytes(200, i)),
                                    c,
                                    "payload intact");
                            assertTrue(seen.add("config " + c.offset() + "/" + i));
                        }
                        default -> throw new AssertionError("unexpected " + m);
                    }
                }
            });
            for (Future<?> f : senders) f.get();
            assertEquals(threads * perThread * 2, seen.size());
        } finally {
            pool.shutdownNow();
        }
    }
}
