package io.jvhost.migration;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The destination's listening socket, accepted from with a wait that a handshake thread can end
 * ({@link #wake}): each newcomer's preamble is read on a thread of its own, and the accepting
 * thread must see the one it was waiting for at once, not when its accept times out (a blocking
 * accept with a timeout slice cost every migration the rest of the slice: 50 ms for the main
 * channel, 20 for each state channel).
 */
final class AcceptWaiter implements AutoCloseable {
    private final ServerSocketChannel channel;
    private final Selector selector;

    AcceptWaiter(ServerSocketChannel channel) throws IOException {
        this.channel = channel;
        Selector s = Selector.open();
        try {
            channel.configureBlocking(false);
            channel.register(s, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        this.selector = s;
    }

    /**
     * A new connection, in blocking mode; or null once {@code timeoutMillis} (at least 1) passed,
     * or {@link #wake} was called (also before this call: a wake-up is never lost).
     *
     * @throws IOException if the listening socket is closed, or accept fails
     */
    Socket accept(long timeoutMillis) throws IOException {
        SocketChannel c = channel.accept();
        if (c == null) {
            try {
                selector.select(Math.max(1, timeoutMillis));
                selector.selectedKeys().clear();
            } catch (ClosedSelectorException e) {
                throw new ClosedChannelException(); // closed meanwhile, as the listening socket was first
            }
            c = channel.accept();
        }
        return c == null ? null : c.socket(); // accepted channels are blocking whatever the listener's mode
    }

    /** Ends a wait in {@link #accept} now, or the next one at once. */
    void wake() {
        selector.wakeup();
    }

    /** Closes the selector (the listening channel stays the caller's) and wakes a wait. */
    @Override
    public void close() throws IOException {
        selector.close();
    }
}
