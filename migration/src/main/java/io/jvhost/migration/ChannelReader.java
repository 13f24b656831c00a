package io.jvhost.migration;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * Reads one state channel's socket on the destination into (direct) buffers, the socket's
 * SO_TIMEOUT kept as an idle timeout: a blocking {@link SocketChannel} reads a direct buffer
 * without the JDK's copy through a temporary buffer, but ignores SO_TIMEOUT, so the channel is
 * non-blocking and waits for data in a selector of its own, only when the socket is empty.
 */
final class ChannelReader implements Closeable {
    /** A wait is cut into slices this long, so a channel closed by another thread is noticed. */
    private static final long SLICE_MILLIS = 100;

    private final SocketChannel channel;
    private final long idleNanos;
    private final Selector selector;

    /** Takes over {@code channel} (made non-blocking); no stream of its socket may be used after. */
    ChannelReader(SocketChannel channel, Duration idleTimeout) throws IOException {
        this.channel = channel;
        this.idleNanos = idleTimeout.toNanos();
        channel.configureBlocking(false);
        this.selector = Selector.open();
        try {
            channel.register(selector, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            selector.close();
            throw e;
        }
    }

    /**
     * Reads until {@code dst} is full or the peer closed: the bytes read, fewer than
     * {@code dst.remaining()} only at EOF.
     *
     * @throws SocketTimeoutException if no byte came for the idle timeout
     */
    int readFully(ByteBuffer dst) throws IOException {
        int start = dst.position();
        while (dst.hasRemaining()) {
            int n = channel.read(dst);
            if (n < 0) break;
            if (n == 0) awaitReadable();
        }
        return dst.position() - start;
    }

    /**
     * Reads at least {@code atLeast} bytes into {@code dst}, and whatever more the socket holds up
     * to {@code dst}'s limit (a non-blocking read takes all there is): the bytes read, fewer than
     * {@code atLeast} only at EOF.
     *
     * @throws SocketTimeoutException if no byte came for the idle timeout
     */
    int readAtLeast(ByteBuffer dst, int atLeast) throws IOException {
        int start = dst.position();
        while (dst.position() - start < atLeast && dst.hasRemaining()) {
            int n = channel.read(dst);
            if (n < 0) break;
            if (n == 0) awaitReadable();
        }
        return dst.position() - start;
    }

    private void awaitReadable() throws IOException {
        long deadline = System.nanoTime() + idleNanos;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException("no data for " + Duration.ofNanos(idleNanos));
            }
            int ready = selector.select(Math.max(1, Math.min(SLICE_MILLIS, left / 1_000_000)));
            selector.selectedKeys().clear();
            if (ready > 0) return;
            if (!channel.isOpen()) throw new ClosedChannelException();
        }
    }

    /** Closes the selector; the channel is closed by its socket's owner. */
    @Override
    public void close() throws IOException {
        selector.close();
    }
}
