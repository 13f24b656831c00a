package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.UnixSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * main listens before parsing only where the fs daemon will listen on that same path, and a
 * socket nobody takes is closed and its file removed.
 */
class EarlyListenerTest {
    private static Optional<Path> of(String... args) {
        return EarlyListener.socketPathOf(List.of(args));
    }

    @Test
    void theFsDaemonsSocketPathInEitherSpelling() {
        assertEquals(
                Optional.of(Path.of("/run/a.sock")), of("fs", "--socket-path", "/run/a.sock", "--shared-dir", "/x"));
        assertEquals(Optional.of(Path.of("/run/a.sock")), of("fs", "--shared-dir", "/x", "--socket-path=/run/a.sock"));
    }

    @Test
    void theVirtiofsdSpellingsSocket() {
        assertEquals(
                Optional.of(Path.of("/run/a.sock")),
                of("virtiofsd", "--socket-path", "/run/a.sock", "-o", "source=/x"));
        assertEquals(Optional.of(Path.of("/run/a.sock")), of("virtiofsd", "--socket-path=/run/a.sock"));
        assertEquals(Optional.of(Path.of("/run/a.sock")), of("virtiofsd", "--socket", "/run/a.sock"));
        assertEquals(Optional.of(Path.of("/run/a.sock")), of("virtiofsd", "--socket=/run/a.sock"));
        // Both: which one the daemon takes is its own rule; no early socket.
        assertEquals(Optional.empty(), of("virtiofsd", "--socket", "/run/a.sock", "--socket-path", "/run/b.sock"));
        assertEquals(Optional.empty(), of("virtiofsd", "--socket-path", "/run/a.sock", "--print-capabilities"));
        assertEquals(Optional.empty(), of("virtiofsd", "--fd", "3"));
        // --socket is virtiofsd's only.
        assertEquals(Optional.empty(), of("fs", "--socket", "/run/a.sock"));
    }

    @Test
    void nothingWhereTheDaemonWouldNotListenThere() {
        assertEquals(Optional.empty(), of("rng", "--socket-path", "/run/a.sock"));
        assertEquals(Optional.empty(), of("fs", "--fd", "3"));
        assertEquals(Optional.empty(), of("fs", "--fd=3", "--socket-path", "/run/a.sock"));
        assertEquals(Optional.empty(), of("fs", "--socket-path", "/run/a.sock", "--print-capabilities"));
        assertEquals(Optional.empty(), of("fs", "--socket-path", "/run/a.sock", "--help"));
        assertEquals(Optional.empty(), of("fs", "-V", "--socket-path", "/run/a.sock"));
        // picocli refuses these; the daemon says why, with no socket made first.
        assertEquals(Optional.empty(), of("fs", "--socket-path", "/a", "--socket-path", "/b"));
        assertEquals(Optional.empty(), of("fs", "--socket-path"));
        assertEquals(Optional.empty(), of("fs", "--socket-path", "--shared-dir", "/x"));
        assertEquals(Optional.empty(), of("fs", "--socket-path="));
        assertEquals(Optional.empty(), of("fs", "--", "--socket-path", "/a"));
        assertEquals(Optional.empty(), of());
    }

    @Test
    void aSocketNotTakenIsRemoved(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("s.sock");
        EarlyListener.listenOn(sock);
        assertTrue(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
        SocketChannel.open(UnixDomainSocketAddress.of(sock)).close(); // listening: connect queues
        assertEquals(Optional.empty(), EarlyListener.take(dir.resolve("other.sock")));
        EarlyListener.discard();
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aSocketTakenIsTheCallersOnce(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("s.sock");
        EarlyListener.listenOn(sock);
        Optional<UnixSocket> s = EarlyListener.take(sock);
        assertTrue(s.isPresent());
        assertEquals(Optional.empty(), EarlyListener.take(sock));
        EarlyListener.discard(); // not the discarded one's: the file stays
        assertTrue(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
        s.get().close();
    }

    @Test
    void aConnectionQueuedBeforeTheHandOverIsAcceptedAfterIt(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("s.sock");
        EarlyListener.listenOn(sock);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(sock), files.toList()); // no staging name left
        }
        try (SocketChannel front = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            front.write(ByteBuffer.wrap(new byte[] {42}));
            try (UnixSocket server = EarlyListener.take(sock).orElseThrow();
                    UnixSocket peer = server.accept()) {
                ByteBuffer b = ByteBuffer.allocate(1);
                peer.recvFully(b);
                assertEquals(42, b.get(0));
            }
        }
    }

    @Test
    void theDaemonsOptionsAndTheseTestsLetItListenThroughTheJdk() throws Exception {
        // Without the export it still listens, through nativeio's FFM downcalls: slower by most of a start.
        assertTrue(Files.readAllLines(Path.of("..", "scripts", "jvm.options"))
                .contains("--add-exports=java.base/sun.nio.ch=io.jvhost.app"));
        // Here too (the build exports it to the tests), so the tests above take the JDK's channel.
        assertTrue(Object.class.getModule().isExported("sun.nio.ch", EarlyListener.class.getModule()));
    }

    @Test
    void aFileThatIsNotASocketIsLeftAlone(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("s.sock"), "data");
        EarlyListener.listenOn(file);
        assertEquals(Optional.empty(), EarlyListener.take(file));
        assertEquals("data", Files.readString(file));
    }
}
