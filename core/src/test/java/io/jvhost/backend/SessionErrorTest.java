package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Device code the session thread runs (config space, state capture, reset) throwing something
 * unexpected: that session ends, cleanly, and the server goes on to the next front-end. Before,
 * the throwable left the session thread through BackendServer.serve, so nobody accepted again.
 */
class SessionErrorTest {
    @TempDir
    Path dir;

    static final class BadConfig implements Device {
        private final String kind;

        BadConfig(String kind) {
            this.kind = kind;
        }

        @Override
        public String name() {
            return "bad-config";
        }

        @Override
        public int queueCount() {
            return 1;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1);
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) {
            return 0;
        }

        @Override
        public byte[] config() {
            if (kind.equals("error")) throw new StackOverflowError();
            throw new IllegalStateException("a bug in the device");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"error", "runtime"})
    void anUnexpectedThrowableEndsThatSessionOnly(String kind) throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("c.sock"), new BadConfig(kind))) {
            try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
                assertThrows(IOException.class, () -> c.getConfig(0, 4), "the connection ends");
            }
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try (FrontendClient next = FrontendClient.connect(s.socket())) {
                    assertTrue(next.getFeatures() != 0, "the next front-end is served");
                }
            });
        }
    }
}
