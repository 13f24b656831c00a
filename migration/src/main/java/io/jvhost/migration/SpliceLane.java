package io.jvhost.migration;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Pipe;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One source channel's zero-copy path from the back-end's state pipe to its socket: a run's whole
 * packets are moved from the state pipe into the lane's own pipe with splice(2) (page references,
 * no copy) and from there into the socket, each after its header; the kernel never copies them
 * into user space and the socket never copies them out of it. The CRC32C still needs the bytes:
 * tee(2) duplicates the run into a second pipe first, which is read into the batch's buffer (the
 * one copy left, the one a read(2) of the state pipe would have made).
 *
 * <p>Less than a packet in the state pipe (the back-end is the slower side), or its EOF: the
 * producer reads those bytes the ordinary way ({@link #take} returns 0), so the last packet and
 * the EOF are always read, and a state stream's end handling runs as without splice.
 *
 * <p>The socket's fd is a duplicate (non-blocking); every wait for room is a poll in slices that
 * notices a failed session, so a teardown stops this lane as it stops the copying one, and
 * {@link #close} releases the duplicate before the JDK's close sends the FIN.
 */
final class SpliceLane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpliceLane.class);
    private static final int WAIT_SLICE_MILLIS = 100;

    private final CancellableFd state;
    private final Pipe lane;
    private final Pipe peek;
    private final Fd socket;
    private final FirstFailure failure;

    private SpliceLane(CancellableFd state, Pipe lane, Pipe peek, Fd socket, FirstFailure failure) {
        this.state = state;
        this.lane = lane;
        this.peek = peek;
        this.socket = socket;
        this.failure = failure;
    }

    /**
     * A lane from {@code state} to {@code channel}'s socket; empty if any piece can't be had (no
     * socket fd, pipes refused), and the channel then copies as before.
     */
    static Optional<SpliceLane> open(CancellableFd state, SocketChannel channel, FirstFailure failure) {
        Optional<Fd> socket = SocketFds.dup(channel);
        if (socket.isEmpty()) return Optional.empty();
        Pipe lane = null;
        Pipe peek = null;
        try {
            // As large as the state pipe: a run tee'd or moved from it then always fits (a pipe
            // holds as many buffers as its size in pages, and a run takes at most that many).
            int capacity = Libc.fcntl(state.fd().value(), Libc.F_GETPIPE_SZ, "fcntl(F_GETPIPE_SZ)");
            lane = Pipe.create(capacity);
            peek = Pipe.create(capacity);
            if (grantedSize(lane) >= capacity && grantedSize(peek) >= capacity) {
                Libc.setNonBlocking(socket.get(), true);
                return Optional.of(new SpliceLane(state, lane, peek, socket.get(), failure));
            }
            LOG.debug("state channel copies: no pipe of the state pipe's {} bytes", capacity);
        } catch (NativeException e) {
            LOG.debug("state channel copies (no splice lane): {}", e.getMessage());
        }
        socket.get().close();
        if (lane != null) lane.close();
        if (peek != null) peek.close();
        return Optional.empty();
    }

    private static int grantedSize(Pipe p) throws NativeException {
        return Libc.fcntl(p.writeEnd().value(), Libc.F_GETPIPE_SZ, "fcntl(F_GETPIPE_SZ)");
    }

    /**
     * Under the producer's lock: the whole packets among what the state pipe holds now, at most
     * {@code data}'s capacity, moved into the lane, with their bytes copied into {@code data}
     * (position 0 to limit) for the CRC; 0 if the pipe holds less than a packet or is at EOF.
     */
    int take(ByteBuffer data, int packetSize) throws IOException {
        long held;
        while ((held = Libc.tee(state.fd(), peek.writeEnd(), data.capacity(), Libc.SPLICE_F_NONBLOCK)) < 0) {
            state.awaitReady();
        }
        data.clear();
        MemorySegment into = MemorySegment.ofBuffer(data);
        for (long got = 0; got < held; ) { // all of it: the peek pipe must be empty for the next turn
            long r = Libc.read(peek.readEnd(), into.asSlice(got), held - got);
            if (r <= 0) throw new IOException("the peek pipe gave " + got + " of the " + held + " bytes tee(2) put in");
            got += r;
        }
        int whole = (int) (held / packetSize * packetSize);
        if (whole == 0) return 0;
        for (long moved = 0; moved < whole; ) {
            long r = Libc.splice(
                    state.fd(), lane.writeEnd(), whole - moved, Libc.SPLICE_F_MOVE | Libc.SPLICE_F_NONBLOCK);
            if (r <= 0) {
                throw new IOException(
                        "splice(2) moved " + moved + " of the " + whole + " bytes tee(2) saw in the state pipe");
            }
            moved += r;
        }
        data.limit(whole);
        return whole;
    }

    /** Sends a run {@link #take}n into the lane: each packet's header, then its data from the lane. */
    void send(PacketProducer.Batch batch) throws IOException {
        ByteBuffer[] frames = batch.frames();
        for (int i = 0; i < batch.packets(); i++) {
            ByteBuffer header = frames[2 * i];
            MemorySegment h = MemorySegment.ofBuffer(header);
            for (long sent = 0; sent < h.byteSize(); ) {
                long r = Libc.send(socket, h.asSlice(sent), h.byteSize() - sent, Libc.MSG_MORE | Libc.MSG_NOSIGNAL);
                if (r < 0) awaitRoom();
                else sent += r;
            }
            header.position(header.limit());
            // MORE, except after the run's last packet: nothing would follow to push it out.
            int more = i < batch.packets() - 1 ? Libc.SPLICE_F_MORE : 0;
            ByteBuffer data = frames[2 * i + 1];
            for (long left = data.remaining(); left > 0; ) {
                long r = Libc.splice(lane.readEnd(), socket, left, Libc.SPLICE_F_MOVE | Libc.SPLICE_F_NONBLOCK | more);
                if (r < 0) awaitRoom();
                else if (r == 0)
                    throw new IOException("the lane pipe ran dry with " + left + " bytes of a packet to go");
                else left -= r;
            }
            data.position(data.limit());
        }
    }

    private void awaitRoom() throws IOException {
        while (Libc.pollOne(socket, Libc.POLLOUT, WAIT_SLICE_MILLIS) == 0) {
            if (failure.hasFailed()) throw new InterruptedIOException("the session failed");
        }
        if (failure.hasFailed()) throw new InterruptedIOException("the session failed");
    }

    /** Closes the lane's pipes and its duplicate of the socket (the JDK's close then ends the connection). */
    @Override
    public void close() {
        socket.close();
        lane.close();
        peek.close();
    }
}
