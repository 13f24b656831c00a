package io.jvhost.testing.qemu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A socket file is awaited until it listens, not just until bind(2) made it. */
class UnixSocketsTest {
    @TempDir
    Path dir;

    @Test
    void aBoundSocketThatDoesNotListenYetIsToldApartFromAListeningOne() throws Exception {
        Path bound = dir.resolve("bound.sock");
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.bind(UnixDomainSocketAddress.of(bound)); // bound, never listening
            assertTrue(UnixSockets.isSocket(bound));
            assertTrue(UnixSockets.boundNotListening(bound));
        }
        Path listening = dir.resolve("listening.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(listening));
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(listening));
                    SocketChannel accepted = s.accept()) {
                assertTrue(c.isConnected() && accepted.isConnected());
                assertFalse(UnixSockets.boundNotListening(listening), "listening, with an accepted connection beside");
            }
        }
        assertFalse(UnixSockets.boundNotListening(dir.resolve("absent.sock")));
    }
}
