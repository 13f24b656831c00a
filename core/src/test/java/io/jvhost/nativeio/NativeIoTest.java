package io.jvhost.nativeio;

import static org.junit.jupiter.api.Assertions.*;

import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeIoTest {

    @Test
    void errnoIsCapturedAndNamesTheCall(@TempDir Path dir) {
        NativeException e = assertThrows(NativeException.class, () -> UnixSocket.connect(dir.resolve("absent.sock")));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("connect("), e.getMessage());
        assertTrue(e.getMessage().contains("No such file or directory"), e.getMessage());
    }

    @Test
    void fdClosesOnceAndRefusesUseAfterClose() throws Exception {
        Fd fd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        assertTrue(fd.isOpen());
        fd.close();
        fd.close();
        assertFalse(fd.isOpen());
        assertThrows(IllegalStateException.class, fd::value);
    }

    @Test
    @SuppressWarnings("try") // closes a mapping early: what a closed mapping does is under test
    void memfdMappingIsSharedBetweenTwoMappings() throws Exception {
        try (Fd memfd = Libc.memfdCreate("jvhost-test", Libc.MFD_CLOEXEC)) {
            Libc.ftruncate(memfd, 8192);
            try (Mapping a = Mapping.map(memfd, 0, 8192, true);
                    Mapping b = Mapping.map(memfd, 4096, 4096, false)) {
                a.segment().set(ValueLayout.JAVA_LONG, 4096, 0x1122334455667788L);
                assertEquals(0x1122334455667788L, b.segment().get(ValueLayout.JAVA_LONG, 0));
                a.close();
                assertThrows(IllegalStateException.class, () -> a.segment().get(ValueLayout.JAVA_BYTE, 0));
            }
        }
    }

    @Test
    void socketPairPassesFileDescriptorsWithData() throws Exception {
        UnixSocket[] p = UnixSocket.pair();
        try (UnixSocket a = p[0];
                UnixSocket b = p[1];
                EventFd ev = EventFd.create(true)) {
            a.sendMsg(ByteBuffer.wrap(new byte[] {1, 2, 3}), List.of(ev.fd()));
            ByteBuffer dst = ByteBuffer.allocate(16);
            UnixSocket.Received r = b.recvMsg(dst, UnixSocket.MAX_FDS);
            assertEquals(3, r.bytes());
            assertEquals(1, r.fds().size());
            assertFalse(r.controlTruncated());
            try (EventFd received = EventFd.adopt(r.fds().get(0))) {
                received.signal();
                received.signal();
                assertEquals(2, ev.drain());
                assertEquals(0, ev.drain());
            }
        }
    }

    @Test
    void tooManyFdsForTheReceiverAreReportedAsTruncated() throws Exception {
        UnixSocket[] p = UnixSocket.pair();
        try (UnixSocket a = p[0];
                UnixSocket b = p[1];
                EventFd e1 = EventFd.create(true);
                EventFd e2 = EventFd.create(true);
                EventFd e3 = EventFd.create(true)) {
            a.sendMsg(ByteBuffer.wrap(new byte[] {9}), List.of(e1.fd(), e2.fd(), e3.fd()));
            UnixSocket.Received r = b.recvMsg(ByteBuffer.allocate(4), 1);
            assertTrue(r.controlTruncated());
            r.fds().forEach(Fd::close);
        }
    }

    @Test
    @SuppressWarnings("try") // closes the client early: the EOF it leaves is under test
    void listenAcceptConnectAndEof(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("s.sock");
        try (UnixSocket server = UnixSocket.listen(path, 1)) {
            assertTrue(Files.exists(path));
            try (UnixSocket client = UnixSocket.connect(path);
                    UnixSocket conn = server.accept()) {
                client.sendMsg(ByteBuffer.wrap("hello".getBytes()), List.of());
                ByteBuffer dst = ByteBuffer.allocate(5);
                conn.recvFully(dst);
                assertEquals("hello", new String(dst.array()));
                client.close();
                assertThrows(EOFException.class, () -> conn.recvFully(ByteBuffer.allocate(1)));
            }
        }
    }

    @Test
    void theSocketFileAppearsListeningAndAloneAndAnExistingFileIsKept(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("s.sock");
        try (UnixSocket server = UnixSocket.listen(path, 1)) {
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(path), files.toList(), "no staging name left beside the socket");
            }
            NativeException taken = assertThrows(NativeException.class, () -> UnixSocket.listen(path, 1));
            assertEquals(Errno.EEXIST, taken.errno());
            try (UnixSocket _ = UnixSocket.connect(path);
                    UnixSocket conn = server.accept()) {
                assertTrue(conn.fd().value() >= 0, "the first server still owns the name");
            }
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(path), files.toList(), "a refused listen leaves nothing behind");
            }
        }
    }

    @Test
    void epollReportsTheTokenOfTheReadyFd() throws Exception {
        try (Epoll ep = Epoll.create();
                EventFd a = EventFd.create(true);
                EventFd b = EventFd.create(true);
                Epoll.Events ev = new Epoll.Events(4)) {
            ep.add(a.fd(), Epoll.EPOLLIN, 7);
            ep.add(b.fd(), Epoll.EPOLLIN, 0xdead_beef_cafeL);
            assertEquals(0, ep.await(ev, 0));
            b.signal();
            assertEquals(1, ep.await(ev, 1000));
            assertEquals(0xdead_beef_cafeL, ev.token(0));
            assertEquals(Epoll.EPOLLIN, ev.events(0) & Epoll.EPOLLIN);
        }
    }

    @Test
    void pipeStreamsCarryBytesToEof() throws Exception {
        Pipe pipe = Pipe.create(1 << 20);
        byte[] data = new byte[300_000];
        new java.util.Random(1).nextBytes(data);
        Thread writer = Thread.ofPlatform().start(() -> {
            try (OutputStream out = FdStreams.output(pipe.writeEnd(), true)) {
                out.write(data);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (InputStream in = FdStreams.input(pipe.readEnd(), true)) {
            assertArrayEquals(data, in.readAllBytes());
        }
        writer.join();
    }

    @Test
    void vmspliceAndSpliceMoveBytesThroughPipes() throws Exception {
        try (Pipe p1 = Pipe.create(0);
                Pipe p2 = Pipe.create(0);
                Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4096);
            src.fill((byte) 0x5a);
            assertEquals(4096, Libc.vmsplice(p1.writeEnd(), src, 4096, 0));
            assertEquals(4096, Libc.splice(p1.readEnd(), p2.writeEnd(), 4096, 0));
            MemorySegment dst = arena.allocate(4096);
            assertEquals(4096, Libc.read(p2.readEnd(), dst, 4096));
            assertEquals(-1L, dst.mismatch(src));
        }
    }
}
