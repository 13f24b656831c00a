package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.rng.RngDevice;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving a device in-process: front-ends one after another, and a stop that ends the current session. */
class BackgroundServerTest {
    @TempDir
    Path dir;

    @Test
    void servesFrontEndsOneAfterAnotherUntilClosed() throws Exception {
        Path socket = dir.resolve("rng.sock");
        BackgroundServer server = BackgroundServer.start(socket, new RngDevice());
        try {
            assertEquals(socket, server.socket());
            for (int i = 0; i < 2; i++) {
                try (FrontendClient c = GuestDriver.connectDevice(server.socket(), 1)) {
                    assertEquals(1, c.getQueueNum());
                }
            }
            assertTrue(server.isServing());
            assertTrue(server.failure().isEmpty());
        } finally {
            server.close();
        }
        assertFalse(server.isServing());
        assertFalse(Files.exists(socket), "the socket file is removed");
    }

    @Test
    void stoppingDisconnectsTheCurrentFrontEnd() throws Exception {
        BackgroundServer server = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
        try (FrontendClient c = GuestDriver.connectDevice(server.socket(), 1)) {
            assertTrue(server.stop(Duration.ofSeconds(5)), "the session ended and the thread with it");
            assertThrows(IOException.class, c::getQueueNum, "the connection is gone (EPIPE or EOF)");
        }
        server.close(); // already stopped: closing again is harmless
    }
}
