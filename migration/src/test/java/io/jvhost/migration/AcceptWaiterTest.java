package io.jvhost.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A wait for the next connection ends when a handshake thread hands one over ({@code wake}), not
 * when its timeout runs out: each wait here is a minute long, and the test's bound (10 s) is what
 * a wait that ignored the wake-up would overrun.
 */
class AcceptWaiterTest {
    private static final long A_MINUTE = 60_000;
    private static final Duration BOUND = Duration.ofSeconds(10);

    private ServerSocketChannel listener;
    private AcceptWaiter waiter;

    @BeforeEach
    void listen() throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress("127.0.0.1", 0));
        waiter = new AcceptWaiter(listener);
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
        waiter.close();
    }

    @Test
    void aWakeUpDuringTheWaitEndsIt() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        Thread handshake = Thread.ofPlatform().start(() -> {
            try {
                waiting.await();
                Thread.sleep(50); // most likely inside the select by now; either way the wake-up is kept
            } catch (InterruptedException e) {
                return;
            }
            waiter.wake();
        });
        assertTimeoutPreemptively(BOUND, () -> {
            waiting.countDown();
            assertNull(waiter.accept(A_MINUTE));
        });
        handshake.join();
    }

    @Test
    void aWakeUpBeforeTheWaitIsNotLost() {
        waiter.wake();
        assertTimeoutPreemptively(BOUND, () -> assertNull(waiter.accept(A_MINUTE)));
    }

    @Test
    void aConnectionIsAcceptedInBlockingMode() throws Exception {
        try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) listener.getLocalAddress()).getPort())) {
            Socket accepted = assertTimeoutPreemptively(BOUND, () -> waiter.accept(A_MINUTE));
            assertNotNull(accepted);
            try (accepted) {
                assertTrue(accepted.getChannel().isBlocking(), "its streams need blocking mode");
                client.getOutputStream().write(7);
                assertEquals(7, accepted.getInputStream().read());
            }
        }
    }

    @Test
    void aClosedListenerFailsTheWait() throws Exception {
        listener.close();
        waiter.wake();
        assertThrows(IOException.class, () -> waiter.accept(A_MINUTE));
    }
}
