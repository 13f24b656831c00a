package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.UnixSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;

/**
 * A framed vhost-user channel over a Unix socket, the same class at both ends and for both
 * channels (as rust-vmm's {@code Endpoint<R>}): the main socket carries {@link Direction#FRONTEND}
 * requests (the front-end sends, the back-end replies); the back-end channel set up by
 * SET_BACKEND_REQ_FD carries {@link Direction#BACKEND} requests (the back-end sends, the
 * front-end replies).
 *
 * <p>Reading: the 12-byte header is read together with any fds (SCM_RIGHTS arrives with the
 * first byte of a message), then exactly {@code size} payload bytes. A clean close between
 * messages is a {@link PeerClosedException}; anything else wrong is a {@link ProtocolException},
 * thrown only after every fd received for the message has been closed. A header that claims
 * more than {@link Header#MAX_PAYLOAD} bytes is refused before reading the payload, so a hostile
 * peer cannot make us allocate or wait for more. (A peer that stops sending halfway through a
 * message and keeps the socket open does block the reader; shut the connection down to unblock.)
 *
 * <p>Threads: sends are serialized by a lock, so a back-end may reply from its dispatch thread
 * while another thread sends too; receives are serialized by another lock. Replies are matched
 * to requests by order only, so a caller that needs a reply should use {@link #call} (which
 * holds both for the exchange) when other threads share the connection.
 *
 * <p>Sending never closes the message's fds: the sender still owns them.
 */
public final class Connection<R extends Enum<R> & Request, M extends Message<R>> implements AutoCloseable {
    private final UnixSocket socket;
    private final Direction<R, M> direction;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock receiveLock = new ReentrantLock();
    private final ReentrantLock exchangeLock = new ReentrantLock();

    /** A channel on which requests travel in {@code direction}, at either end of it. */
    public Connection(UnixSocket socket, Direction<R, M> direction) {
        this.socket = Objects.requireNonNull(socket, "socket");
        this.direction = Objects.requireNonNull(direction, "direction");
    }

    public UnixSocket socket() {
        return socket;
    }

    public Direction<R, M> direction() {
        return direction;
    }

    /** Sends a request; NEED_REPLY only makes sense once REPLY_ACK is negotiated (see {@link ReplyRule}). */
    public void send(M message, boolean needReply) throws IOException {
        write(MessageCodec.encode(message, needReply));
    }

    /** Replies to a request received on this connection; flags are exactly version|REPLY (0x5). */
    public void sendReply(R request, Reply reply) throws IOException {
        write(MessageCodec.encodeReply(request, reply));
    }

    /** The next request (the receiving end's side). Throws {@link PeerClosedException} at a clean EOF. */
    public ReceivedMessage<M> receive() throws IOException {
        return receiving(() -> {
            Frame f = readFrame(direction::describe);
            return new ReceivedMessage<>(f.header(), MessageCodec.decode(direction, f.header(), f.payload(), f.fds()));
        });
    }

    /**
     * The reply to {@code expected}: its flags must be exactly 0x5 and its request id the
     * expected one; anything else is a ProtocolException (as QEMU treats it: a wrong reply
     * means the peer is out of step).
     */
    public Reply receiveReply(R expected) throws IOException {
        return receiving(() -> {
            Frame f = readFrame(id -> "reply to " + expected.describe());
            return MessageCodec.decodeReply(expected, f.header(), f.payload(), f.fds());
        });
    }

    /** Sends {@code message} and waits for its reply, atomically with respect to other {@code call}s. */
    public Reply call(M message, boolean needReply) throws IOException {
        exchangeLock.lock();
        try {
            send(message, needReply);
            return receiveReply(message.request());
        } finally {
            exchangeLock.unlock();
        }
    }

    /** Wakes a thread blocked in a receive (it then sees EOF or an error). */
    public void shutdown() {
        socket.shutdown();
    }

    @Override
    public void close() {
        socket.close();
    }

    private void write(EncodedMessage m) throws IOException {
        sendLock.lock();
        try {
            socket.sendMsg(m.frame(), m.fds());
        } finally {
            sendLock.unlock();
        }
    }

    @FunctionalInterface
    private interface Receive<T> {
        T run() throws IOException;
    }

    private <T> T receiving(Receive<T> receive) throws IOException {
        receiveLock.lock();
        try {
            return receive.run();
        } finally {
            receiveLock.unlock();
        }
    }

    private record Frame(Header header, ByteBuffer payload, List<Fd> fds) {}

    /**
     * Reads one message's header, payload and fds. On any failure the fds received so far are
     * closed before the exception leaves.
     */
    private Frame readFrame(IntFunction<String> describe) throws IOException {
        List<Fd> fds = new ArrayList<>();
        boolean ok = false;
        try {
            ByteBuffer headerBytes = ByteBuffer.allocate(Header.SIZE);
            boolean truncated = receive(headerBytes, fds, null, "header");
            Header header = Header.read(headerBytes.flip());
            String what = describe.apply(header.request());
            header.checkFraming(what, false);
            ByteBuffer payload = ByteBuffer.allocate(header.size());
            truncated |= receive(payload, fds, header, what);
            if (truncated) {
                throw new ProtocolException(
                        what + ": more than " + Header.MAX_FDS + " fds attached (control data truncated)", header);
            }
            ok = true;
            return new Frame(header, payload.flip(), fds);
        } finally {
            if (!ok) fds.forEach(Fd::close);
        }
    }

    /**
     * Fills {@code dst}, collecting fds. Returns whether the kernel truncated the control data.
     * EOF before the first header byte is a clean close; any later EOF truncates a message.
     */
    private boolean receive(ByteBuffer dst, List<Fd> fds, Header header, String what) throws IOException {
        boolean truncated = false;
        while (dst.hasRemaining()) {
            UnixSocket.Received r = socket.recvMsg(dst, Header.MAX_FDS);
            fds.addAll(r.fds());
            truncated |= r.controlTruncated();
            if (r.bytes() == 0) {
                if (header == null && dst.position() == 0) {
                    throw new PeerClosedException("peer closed the connection");
                }
                throw new ProtocolException(
                        header == null
                                ? "peer closed the connection after " + dst.position() + " of " + Header.SIZE
                                        + " header bytes"
                                : what + ": peer closed the connection after " + dst.position() + " of "
                                        + dst.capacity() + " payload bytes",
                        header,
                        false);
            }
        }
        return truncated;
    }
}
