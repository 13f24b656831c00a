package io.jvhost.frontend;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Pipe;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import io.jvhost.protocol.ProtocolFeature;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;

/**
 * The front-end's half of "Migrating back-end state" (vhost-user spec): SAVE on the source,
 * LOAD on the destination, each over a pipe (or the back-end's own channel if it returns one),
 * each confirmed with CHECK_DEVICE_STATE. Suspending and resuming rings is the ring owner's
 * job ({@link GuestDriver#suspend()}, {@link GuestDriver#resume()}); {@link #migrateOut} puts
 * the source sequence together, including resuming the source when anything fails.
 */
public final class DeviceStateTransfer {
    private static final int PIPE_CAPACITY = 1 << 20;

    private final FrontendClient client;
    private final Duration idleTimeout;

    /**
     * @param idleTimeout how long the copy waits for the back-end's next byte (save) or for room
     *                    in the channel (load) before giving up: a hung back-end must not hang us
     */
    public DeviceStateTransfer(FrontendClient client, Duration idleTimeout) {
        this.client = client;
        this.idleTimeout = idleTimeout;
    }

    public DeviceStateTransfer(FrontendClient client) {
        this(client, Duration.ofSeconds(30));
    }

    private void requireFeature() throws IOException {
        if (!client.negotiated(ProtocolFeature.DEVICE_STATE)) {
            throw new BackendRefusedException("the back-end did not negotiate DEVICE_STATE");
        }
    }

    /**
     * SAVE: the back-end writes its state (it must be suspended), we copy it to {@code out}
     * until EOF, then CHECK. Returns the number of bytes saved.
     */
    public long save(OutputStream out) throws IOException {
        return copyThenCheck(openSave(), in -> in.transferTo(out)); // a refusal in openSave needs no CHECK
    }

    /**
     * LOAD: we copy {@code in} into the channel until its end, close it (EOF for the back-end),
     * then CHECK, which reports whether the back-end parsed and applied the state. Returns the
     * number of bytes loaded.
     */
    public long load(InputStream in) throws IOException {
        return copyThenCheck(openLoad(), in::transferTo);
    }

    @FunctionalInterface
    private interface Copy<C> {
        long run(C channel) throws IOException;
    }

    /**
     * Copies over {@code channel}, closes it (for a load, the EOF that completes the state), then
     * CHECKs. A failed copy still CHECKs: the back-end may have stopped because the state was
     * bad, and its CHECK says why.
     */
    private <C extends Closeable> long copyThenCheck(C channel, Copy<C> copy) throws IOException {
        long copied;
        try (channel) {
            copied = copy.run(channel);
        } catch (IOException e) {
            checkAfterFailure(e);
            throw e;
        }
        client.checkDeviceState();
        return copied;
    }

    /**
     * SAVE, streamed: starts the transfer and returns the back-end's state as a stream, for a
     * caller that forwards it as it comes instead of collecting it. Read it to EOF, close it,
     * then {@link #check()}. Closing it early abandons the transfer (the back-end sees EPIPE).
     */
    public InputStream openSave() throws IOException {
        return open(
                DeviceStateDirection.SAVE,
                fd -> CancellableFd.forReading(fd, idleTimeout.toMillis()).input());
    }

    /**
     * LOAD, streamed: starts the transfer and returns the channel into the back-end. Closing it
     * is the EOF that completes the state; then {@link #check()}.
     */
    public OutputStream openLoad() throws IOException {
        return open(
                DeviceStateDirection.LOAD,
                fd -> CancellableFd.forWriting(fd, idleTimeout.toMillis()).output());
    }

    @FunctionalInterface
    private interface StreamOver<T> {
        T open(Fd channel) throws IOException;
    }

    /** Starts a transfer and opens a stream over our end of its channel, closing the end if that fails. */
    private <T> T open(DeviceStateDirection direction, StreamOver<T> stream) throws IOException {
        requireFeature();
        Fd end = channel(direction);
        try {
            return stream.open(end);
        } catch (IOException | RuntimeException e) {
            end.close();
            throw e;
        }
    }

    /** CHECK_DEVICE_STATE: whether the back-end completed the last transfer; throws with its reason if not. */
    public void check() throws IOException {
        client.checkDeviceState();
    }

    /** Still asks CHECK after a failed copy, so the back-end's transfer is consumed and its reason reported. */
    private void checkAfterFailure(IOException copyFailure) {
        try {
            client.checkDeviceState();
        } catch (IOException e) {
            copyFailure.addSuppressed(e);
        }
    }

    /**
     * The source side of a migration: suspends {@code source} (GET_VRING_BASE on every ring),
     * saves the back-end's state into {@code out} and checks it. Returns the ring indices the
     * destination must start from. If anything fails, the source's rings are started again
     * from those indices so it keeps serving, and the failure is thrown.
     */
    public static int[] migrateOut(GuestDriver source, OutputStream out) throws IOException {
        int[] bases = source.suspend();
        try {
            new DeviceStateTransfer(source.client()).save(out);
            return bases;
        } catch (IOException | RuntimeException e) {
            try {
                source.resume();
            } catch (IOException | RuntimeException r) {
                e.addSuppressed(r);
            }
            throw e;
        }
    }

    /**
     * Sends SET_DEVICE_STATE_FD with one end of a new pipe and returns the end we use: ours, or
     * the back-end's own channel if it returned one. The end we sent is closed right away: while
     * we held a copy of the write end, a save would never reach EOF.
     */
    private Fd channel(DeviceStateDirection direction) throws IOException {
        Pipe pipe = Pipe.create(PIPE_CAPACITY);
        try {
            Fd sent = direction == DeviceStateDirection.SAVE ? pipe.writeEnd() : pipe.readEnd();
            Fd kept = direction == DeviceStateDirection.SAVE ? pipe.readEnd() : pipe.writeEnd();
            Optional<Fd> theirs = client.setDeviceStateFd(direction, DeviceStatePhase.STOPPED, sent);
            sent.close();
            if (theirs.isPresent()) {
                kept.close();
                return theirs.get();
            }
            return kept;
        } catch (IOException | RuntimeException e) {
            pipe.close();
            throw e;
        }
    }
}
